"""Data corruption, and the digest that catches it in flight.

`mangle` changes one value of a JSON body the way a flipped bit or a bad
buffer would: one leaf chosen at random (a string gets one character
replaced by another of its class, a number a low bit flipped, a boolean
negated), keys and shape untouched, so the result is still JSON and often
still valid to its reader. It serialises as the kit does (``json.dumps``
with its defaults, the form `web.json_response` and the dependency client
send), so an untouched body comes out byte for byte as it went in.

Every JSON body the kit sends, request or answer, carries a
``Content-Digest`` (RFC 9530, ``sha-256``) of its bytes. A receiver that
finds a digest checks it before it reads the body: a body changed after its
sender hashed it (corrupted in flight) is refused. A body corrupted before
it was hashed (a service that stores or serves a bad value) carries a digest
that matches, and only a check of the data itself (validation, the history
checker) can catch it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from collections.abc import Mapping

from . import mutants

__all__ = ["DIGEST_HEADER", "MESSAGES", "digest_of", "digest_matches", "mangle"]

DIGEST_HEADER = "Content-Digest"
#: What a corrupt rule mangles: the request it sees or the answer.
MESSAGES = ("request", "response")
_CLASSES = (string.digits, string.ascii_lowercase, string.ascii_uppercase, string.punctuation)

Leaf = tuple[list[object] | dict[str, object], int | str]


def digest_of(body: bytes) -> str:
    """The ``Content-Digest`` value of `body`: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def digest_matches(body: bytes, headers: Mapping[str, str]) -> bool:
    """False only when `headers` carry a ``Content-Digest`` that `body` does not match.

    A header without a ``sha-256`` member (another algorithm) is not checked.
    """
    declared = headers.get(DIGEST_HEADER)
    if declared is None or "sha-256=" not in declared or mutants.active("digest-not-checked"):
        return True
    return digest_of(body) in (part.strip() for part in declared.split(","))


def _leaves(value: object, out: list[Leaf]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                _leaves(item, out)
            elif item is not None:
                out.append((value, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                _leaves(item, out)
            elif item is not None:
                out.append((value, index))


def _other_char(char: str, rng: random.Random) -> str:
    alphabet = next((c for c in _CLASSES if char in c), string.ascii_letters)
    return rng.choice([c for c in alphabet if c != char])


def _changed(leaf: object, rng: random.Random) -> object:
    if isinstance(leaf, bool):
        return not leaf
    if isinstance(leaf, int):
        return leaf ^ (1 << rng.randrange(4))
    if isinstance(leaf, float):
        return -leaf if leaf else 1.0
    text = str(leaf)
    if not text:
        return "?"
    at = rng.randrange(len(text))
    return text[:at] + _other_char(text[at], rng) + text[at + 1 :]


def mangle(body: bytes, rng: random.Random) -> bytes | None:
    """`body` (JSON) with one leaf value changed; None when there is nothing to
    change (not JSON, or no value that is not null)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    leaves: list[Leaf] = []
    if isinstance(value, dict | list):
        _leaves(value, leaves)
    elif value is not None:
        return json.dumps(_changed(value, rng)).encode()
    if not leaves:
        return None
    container, key = rng.choice(leaves)
    container[key] = _changed(container[key], rng)  # type: ignore[index]
    return json.dumps(value).encode()
