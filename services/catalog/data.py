"""Generate the catalog: a pure function of its size and seed.

The same (size, seed) always gives the same titles, on any machine and under
any PYTHONHASHSEED: everything comes from one `random.Random(seed)` and no
set or dict ordering is involved. Title ids run from 1 to size.

The shape is loosely realistic so that rankings and filters have something to
chew on: one to three genres per title, maturity ratings that lean with the
genre (family titles towards "all", horror towards "18+"), about a third of
the titles available everywhere and the rest in a subset of regions, and a
popularity score with a long tail (a few hits, many niche titles).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from services.vocabulary import GENRES, MATURITY_RATINGS, MAX_TITLE_ID, REGIONS, Title

DEFAULT_SIZE = 5_000
DEFAULT_SEED = 42
MAX_SIZE = MAX_TITLE_ID

_ADJECTIVES = (
    "Silent", "Crimson", "Hidden", "Last", "Broken", "Golden", "Midnight", "Distant",
    "Frozen", "Electric", "Wild", "Lost", "Burning", "Hollow", "Iron", "Velvet",
    "Secret", "Endless", "Northern", "Paper", "Restless", "Shattered", "Quiet", "Savage",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Empire", "Garden", "Signal", "Kingdom", "River", "Witness", "Orbit",
    "Station", "Mirror", "Frontier", "Storm", "Island", "Protocol", "Circus", "Citadel",
    "Machine", "Summer", "Shadow", "Horizon", "Lantern", "Verdict", "Tide", "Atlas",
)  # fmt: skip
_SEQUELS = ("II", "III", "IV", "Returns", "Reborn")

# Weights over MATURITY_RATINGS ("all", "7+", "13+", "16+", "18+") by primary genre.
_MATURITY_WEIGHTS_BY_GENRE: dict[str, Sequence[int]] = {
    "animation": (45, 35, 15, 5, 0),
    "family": (55, 35, 10, 0, 0),
    "horror": (0, 0, 15, 40, 45),
    "crime": (0, 5, 25, 40, 30),
    "thriller": (0, 5, 30, 40, 25),
}
_DEFAULT_MATURITY_WEIGHTS = (15, 15, 30, 25, 15)
_GLOBAL_SHARE = 0.3


def generate_catalog(size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> tuple[Title, ...]:
    """Titles 1..size, deterministic in (size, seed)."""
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"catalog size must be between 1 and {MAX_SIZE}, not {size}")
    rng = random.Random(seed)
    return tuple(_generate_title(rng, title_id) for title_id in range(1, size + 1))


def _generate_title(rng: random.Random, title_id: int) -> Title:
    genres = tuple(rng.sample(GENRES, rng.choice((1, 1, 2, 2, 2, 3))))
    weights = _MATURITY_WEIGHTS_BY_GENRE.get(genres[0], _DEFAULT_MATURITY_WEIGHTS)
    return Title(
        id=title_id,
        name=_generate_name(rng),
        genres=genres,
        maturity_rating=rng.choices(MATURITY_RATINGS, weights=weights)[0],
        regions=_generate_regions(rng),
        popularity=round(100.0 * rng.random() ** 4, 3),
        year=max(1950, 2025 - int(abs(rng.gauss(0.0, 15.0)))),
        runtime_minutes=rng.randint(22, 60) if rng.random() < 0.4 else rng.randint(80, 180),
    )


def _generate_name(rng: random.Random) -> str:
    adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
    pattern = rng.randrange(4)
    if pattern == 0:
        name = f"The {adjective} {noun}"
    elif pattern == 1:
        name = f"{noun} of the {adjective} {rng.choice(_NOUNS)}"
    elif pattern == 2:
        name = f"{adjective} {noun}"
    else:
        name = f"The {noun}"
    if rng.random() < 0.08:
        name = f"{name} {rng.choice(_SEQUELS)}"
    return name


def _generate_regions(rng: random.Random) -> tuple[str, ...]:
    if rng.random() < _GLOBAL_SHARE:
        return REGIONS
    chosen = rng.sample(REGIONS, rng.randint(3, len(REGIONS) - 1))
    return tuple(region for region in REGIONS if region in chosen)
