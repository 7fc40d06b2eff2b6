"""Building the images offline with compose/build-images.sh (the docker and cluster
runtimes' `--build`)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from chaos.project import BUILD_IMAGES_SCRIPT
from chaos.runtime.errors import ImageBuildFailed

from .session import run_in_session

__all__ = ["build_images"]


def build_images(
    environ: Mapping[str, str],
    script: Path = BUILD_IMAGES_SCRIPT,
    *,
    timeout_s: float = 3600.0,
    arguments: Sequence[str] = (),
) -> None:
    """Run the offline build script; its output goes to this process's stderr.

    It needs root and a running engine; the first run takes minutes (it
    debootstraps the base images), later runs seconds. Interrupted, the
    script is stopped with everything it runs (it has a session of its own).
    """
    command: Sequence[str] = ("bash", str(script), *arguments)
    try:
        code, _ = run_in_session(command, environ, timeout_s=timeout_s, capture=False)
    except subprocess.TimeoutExpired:
        raise ImageBuildFailed(command, -1) from None
    if code != 0:
        raise ImageBuildFailed(command, code)
