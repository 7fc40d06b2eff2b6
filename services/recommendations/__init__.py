"""Recommendations: ranked homepage rows from a member's preferences and the catalog."""

from .app import create_app
from .settings import RecommendationsSettings

__all__ = ["RecommendationsSettings", "create_app"]
