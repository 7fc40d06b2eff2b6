"""Errors of the catalog service.

The tree::

    CatalogError
    └── InvalidParameter   a query or path parameter is unusable (names it)
"""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every error raised by services.catalog."""


class InvalidParameter(CatalogError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message
