"""Send one planned member request and turn what happens into a Sample.

The client timeout runs from the *scheduled* send time, as a member's
patience would: a request the generator sends late has less time left, and
its `X-Deadline-Ms` carries what is left. Latency is measured from the
scheduled time too, so queueing anywhere (in the generator, the connection
pool or the service) shows in it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import aiohttp

from chaos.load.journeys import PlannedRequest
from chaos.load.outcome import Sample, outcome_of_status
from services.common.context import COHORT_HEADER, DEADLINE_HEADER, REQUEST_ID_HEADER
from services.vocabulary.devices import DEVICE_TYPE_HEADER

__all__ = ["IDEMPOTENCY_HEADER", "send"]

IDEMPOTENCY_HEADER = "Idempotency-Key"


async def send(
    session: aiohttp.ClientSession,
    planned: PlannedRequest,
    scheduled_at: float,
    timeout: float,
    clock: Callable[[], float],
) -> Sample:
    lag = clock() - scheduled_at
    remaining = timeout - lag
    status: int | None = None
    if remaining <= 0:
        outcome = "timeout"
    else:
        headers = {
            REQUEST_ID_HEADER: uuid.uuid4().hex,
            COHORT_HEADER: planned.cohort,
            DEADLINE_HEADER: str(max(1, int(remaining * 1000))),
        }
        if planned.device_type:
            headers[DEVICE_TYPE_HEADER] = planned.device_type
        if planned.idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = planned.idempotency_key
        try:
            async with asyncio.timeout(remaining):
                async with session.request(
                    planned.method, planned.url, json=planned.body, headers=headers
                ) as response:
                    await response.read()
                    status = response.status
            outcome = outcome_of_status(status)
        except TimeoutError:
            outcome = "timeout"
        except aiohttp.ClientConnectorError:
            outcome = "unreachable"
        except aiohttp.ClientError:
            outcome = "error"
    return Sample(
        journey=planned.journey,
        service=planned.service,
        cohort=planned.cohort,
        outcome=outcome,
        status=status,
        scheduled_at=scheduled_at,
        latency=max(0.0, clock() - scheduled_at),
        lag=lag,
        member=planned.member,
    )
