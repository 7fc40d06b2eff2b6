"""``python -m services.recommendations``: read the environment, serve on 8082."""

from __future__ import annotations

from services.common import configure_logging, run_service

from .app import create_app
from .settings import RecommendationsSettings


def main() -> None:
    configure_logging()
    settings = RecommendationsSettings.from_env()
    run_service(create_app(settings), settings.service)


if __name__ == "__main__":
    main()
