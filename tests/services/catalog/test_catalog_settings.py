"""Catalog settings from the environment."""

from __future__ import annotations

import pytest

from services.catalog.settings import CatalogSettings
from services.common import SettingsError


def test_defaults_without_environment() -> None:
    settings = CatalogSettings.from_env({})
    assert (settings.size, settings.seed) == (5000, 42)
    assert (settings.service.name, settings.service.port) == ("catalog", 8081)


def test_size_and_seed_come_from_the_environment() -> None:
    settings = CatalogSettings.from_env(
        {"CHAOSBED_CATALOG_SIZE": "1200", "CHAOSBED_CATALOG_SEED": "7", "CHAOSBED_PORT": "9001"}
    )
    assert (settings.size, settings.seed, settings.service.port) == (1200, 7, 9001)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CHAOSBED_CATALOG_SIZE", "many"),
        ("CHAOSBED_CATALOG_SIZE", "0"),
        ("CHAOSBED_CATALOG_SEED", "-1"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        CatalogSettings.from_env({key: value})
