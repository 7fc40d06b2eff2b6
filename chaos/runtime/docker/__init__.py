"""The docker runtime: the compose project in compose/, driven through the docker SDK.

    runtime.py           DockerRuntime: up (optionally building the images), down, status,
                         and the Runtime interface
    instances.py         process-layer faults on containers: kill, hold, stop/start, pause, restart
    netns.py             the containers' network namespaces (the runtime's `network`)
    engine.py            the Docker Engine through the SDK: images, containers, actions
    container_status.py  `docker inspect` data in the runtimes' words (pure functions)
    compose_project.py   running `docker compose` on the project
    images.py            the images the stack needs (chaos.runtime.image_build builds them)

Importing this package does not contact the engine; `up`, `down`, `status`
and the fault methods do.
"""

from .compose_project import PROJECT, ComposeProject, default_compose_file
from .images import IMAGES, build_images
from .runtime import PROMETHEUS, DockerRuntime, host_port_variables

__all__ = [
    "IMAGES",
    "PROJECT",
    "PROMETHEUS",
    "ComposeProject",
    "DockerRuntime",
    "build_images",
    "default_compose_file",
    "host_port_variables",
]
