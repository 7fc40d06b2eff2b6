"""The generated catalog: deterministic, ids 1..N, values from the closed sets."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.catalog.data import DEFAULT_SIZE, MAX_SIZE, generate_catalog
from services.vocabulary import GENRES, MATURITY_RATINGS, REGIONS, Title

REPO = Path(__file__).resolve().parents[3]


def digest(titles: tuple[Title, ...]) -> str:
    payload = json.dumps([title.to_json() for title in titles], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def test_same_seed_gives_the_same_catalog() -> None:
    assert generate_catalog(500, seed=7) == generate_catalog(500, seed=7)


def test_different_seeds_give_different_catalogs() -> None:
    assert generate_catalog(500, seed=7) != generate_catalog(500, seed=8)


def test_a_smaller_catalog_is_a_prefix_of_a_larger_one_with_the_same_seed() -> None:
    assert generate_catalog(1000, seed=3)[:200] == generate_catalog(200, seed=3)


def test_catalog_is_the_same_under_any_hash_seed() -> None:
    script = (
        "import hashlib, json\n"
        "from services.catalog.data import generate_catalog\n"
        "titles = generate_catalog(300, seed=11)\n"
        "payload = json.dumps([t.to_json() for t in titles], sort_keys=True)\n"
        "print(hashlib.sha256(payload.encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(result.stdout.strip())
    assert digests == {digest(generate_catalog(300, seed=11))}


def test_default_catalog_has_five_thousand_titles_with_ids_one_to_n() -> None:
    titles = generate_catalog()
    assert len(titles) == DEFAULT_SIZE == 5000
    assert [title.id for title in titles] == list(range(1, 5001))


def test_every_value_comes_from_the_closed_sets() -> None:
    for title in generate_catalog(2000, seed=1):
        assert 1 <= len(title.genres) <= 3
        assert len(set(title.genres)) == len(title.genres)
        assert set(title.genres) <= set(GENRES)
        assert title.maturity_rating in MATURITY_RATINGS
        assert title.regions and set(title.regions) <= set(REGIONS)
        assert list(title.regions) == [r for r in REGIONS if r in title.regions]
        assert 0.0 <= title.popularity <= 100.0
        assert 1950 <= title.year <= 2025
        assert 22 <= title.runtime_minutes <= 180
        assert title.name


def test_every_genre_region_and_rating_is_represented() -> None:
    titles = generate_catalog()
    assert {genre for title in titles for genre in title.genres} == set(GENRES)
    assert {region for title in titles for region in title.regions} == set(REGIONS)
    assert {title.maturity_rating for title in titles} == set(MATURITY_RATINGS)


@pytest.mark.parametrize("size", [0, -1, MAX_SIZE + 1])
def test_size_out_of_range_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="catalog size"):
        generate_catalog(size)
