"""The images the compose stack runs; chaos.runtime.image_build builds them offline."""

from __future__ import annotations

from chaos.runtime.image_build import build_images

__all__ = ["IMAGES", "build_images"]

#: Images the default (no profile) stack runs; compose/build-images.sh builds them.
#: chaosbed/net-helper runs the network faults' iptables and tc (see netns.py).
IMAGES: tuple[str, ...] = (
    "chaosbed/service:latest",
    "chaosbed/prometheus:latest",
    "chaosbed/net-helper:bookworm",
)
