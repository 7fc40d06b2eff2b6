"""What comes back from a dependency: the `Response`, its body read within a
cap, and the statuses that are the dependency's failure rather than an answer.

Statuses: 5xx raise `DependencyHTTPError` (`UpstreamFailed` when the answer
names an upstream failure, `DeadlineExceeded` for a 504 saying the budget we
sent ran out) and 429 raises `DependencyOverloaded` (all count
against the breaker); every other status, 4xx included, is an answer the
caller reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .errors import (
    DeadlineExceeded,
    DependencyHTTPError,
    DependencyOverloaded,
    ResponseTooLarge,
    UpstreamFailed,
)
from .upstream_failure import DEADLINE_EXCEEDED_HEADER, UPSTREAM_FAILURE_HEADER


@dataclass(frozen=True)
class Response:
    status: int
    data: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def raise_for_status(dependency: str, status: int, headers: Mapping[str, str]) -> None:
    if status == 504 and headers.get(DEADLINE_EXCEEDED_HEADER):
        raise DeadlineExceeded(dependency, "answered 504: the budget sent to it ran out")
    if status >= 500:
        upstream = headers.get(UPSTREAM_FAILURE_HEADER)
        if upstream:
            raise UpstreamFailed(dependency, status, upstream)
        raise DependencyHTTPError(dependency, status)
    if status == 429:
        raise DependencyOverloaded(dependency, status)


async def read_body(resp: aiohttp.ClientResponse, limit: int, dependency: str) -> bytes:
    """The whole body, but never more than `limit` bytes (counted after decompression).

    A declared Content-Length over the cap is refused before reading anything.
    """
    declared = resp.content_length
    if declared is not None and declared > limit:
        message = f"answer of {declared} bytes is over max_body_bytes={limit}"
        raise ResponseTooLarge(dependency, message)
    chunks: list[bytes] = []
    size = 0
    while chunk := await resp.content.read(limit + 1 - size):
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(dependency, f"answer is over max_body_bytes={limit}")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode(raw: bytes) -> Any:
    """JSON when the body is JSON, else its text; None for an empty body."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
