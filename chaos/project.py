"""Where the chaosbed source tree is, and the files in it that the runner uses.

`PROJECT_ROOT` holds the `chaos` and `services` packages (so that
`python -m services.<name>` finds them whether or not chaosbed is installed)
and `compose/`, the container stack.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BUILD_IMAGES_SCRIPT",
    "CLUSTER_MANIFESTS",
    "COMPOSE_DIR",
    "COMPOSE_FILE",
    "PROJECT_ROOT",
]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_DIR = PROJECT_ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
#: Builds every image the compose stack needs, offline (see compose/README.md).
BUILD_IMAGES_SCRIPT = COMPOSE_DIR / "build-images.sh"
#: The Kubernetes manifests generated from the topology (cluster/generate.py).
CLUSTER_MANIFESTS = PROJECT_ROOT / "cluster" / "kubernetes"
