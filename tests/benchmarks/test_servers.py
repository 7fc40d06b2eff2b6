"""The benchmarks' helper servers that stand in for a failing leaf."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from pytest_aiohttp import AiohttpClient

from benchmarks.servers import build
from services.common.context import REQUEST_ID_HEADER


async def test_the_hanging_leaf_never_answers_and_counts_member_requests(
    aiohttp_client: AiohttpClient,
) -> None:
    client = await aiohttp_client(build("hang-leaf", 0, ""))

    with pytest.raises(asyncio.TimeoutError):
        await client.get(
            "/titles/1",
            headers={REQUEST_ID_HEADER: "r-1"},
            timeout=aiohttp.ClientTimeout(total=0.2),
        )

    counts = await (await client.get("/_bench/count")).json()
    assert counts == {"member": 1}


async def test_the_dead_leaf_answers_503_and_counts_member_and_background_requests(
    aiohttp_client: AiohttpClient,
) -> None:
    client = await aiohttp_client(build("dead-leaf", 0, ""))

    member = await client.get("/titles/1", headers={REQUEST_ID_HEADER: "r-1"})
    background = await client.get("/popular")

    assert (member.status, background.status) == (503, 503)
    assert await (await client.get("/_bench/count")).json() == {"member": 1, "background": 1}
