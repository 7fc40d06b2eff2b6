"""`python -m services.catalog`: run the catalog with settings from the environment."""

from __future__ import annotations

from services.catalog.app import create_app
from services.catalog.settings import CatalogSettings
from services.common import configure_logging, run_service


def main() -> None:
    configure_logging()
    settings = CatalogSettings.from_env()
    run_service(create_app(settings), settings.service)


if __name__ == "__main__":
    main()
