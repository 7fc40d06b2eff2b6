"""`python -m services.profiles`: run profiles with settings from the environment."""

from __future__ import annotations

from services.common import configure_logging, run_service
from services.profiles.app import create_app
from services.profiles.settings import ProfilesSettings


def main() -> None:
    configure_logging()
    settings = ProfilesSettings.from_env()
    run_service(create_app(settings), settings.service)


if __name__ == "__main__":
    main()
