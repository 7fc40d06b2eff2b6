"""``python -m services.playback``: read the environment, serve on 8083."""

from __future__ import annotations

from services.common import configure_logging, run_service

from .app import create_app
from .settings import PlaybackSettings


def main() -> None:
    configure_logging()
    settings = PlaybackSettings.from_env()
    run_service(create_app(settings), settings.service)


if __name__ == "__main__":
    main()
