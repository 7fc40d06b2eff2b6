"""Reading a request's JSON body, and the 400 that answers bad input.

Every service reads a body with `read_json` and answers an `InvalidField`
with `bad_request`, so every 400 has the same shape:
``{"error": "<field>: <what is wrong>", "status": 400, "field": "<field>"}``.
"""

from __future__ import annotations

import json

from aiohttp import web

from .corrupt import DIGEST_HEADER, digest_matches
from .errors import InvalidField
from .keys import FAULTS
from .middleware import CORRUPT_REQUEST, json_error


async def read_json(request: web.Request) -> object:
    """The body parsed as JSON; `InvalidField("body")` when it cannot be.

    The text is decoded with the charset the request declares (UTF-8 when it
    declares none). Refused: a body over the app's ``client_max_size`` (1 MiB
    by default), bytes that do not decode, an unknown charset, text that is
    not JSON, an integer beyond Python's digit limit, nesting deeper than
    the parser goes, and a body that does not match the ``Content-Digest``
    it came with (corrupted in flight; the field named is
    ``Content-Digest``). A corrupt rule on the route (message ``request``)
    mangles the body here, as it arrives, before the digest is checked.
    """
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:  # a 400 naming the body, like every bad body
        raise InvalidField("body", f"is too large ({exc.text})") from None
    rule = request.get(CORRUPT_REQUEST)
    if rule is not None:
        raw = request.app[FAULTS].corrupted(rule, raw)
    if not digest_matches(raw, request.headers):
        raise InvalidField(
            DIGEST_HEADER, "does not match the body: it was corrupted on the way here"
        )
    try:
        text = raw.decode(request.charset or "utf-8")
    except LookupError:
        raise InvalidField("body", f"unknown charset {request.charset!r}") from None
    except ValueError as exc:
        raise InvalidField("body", f"is not valid text ({exc})") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidField("body", f"is not valid JSON ({exc})") from None


def bad_request(exc: InvalidField) -> web.Response:
    """The 400 answering `exc`: its message, and `field` naming what is wrong."""
    return json_error(400, str(exc), field=exc.field)
