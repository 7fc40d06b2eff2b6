"""Reading a request's JSON body, and the 400 that answers bad input.

Every service reads a body with `read_json` and answers an `InvalidField`
with `bad_request`, so every 400 has the same shape:
``{"error": "<field>: <what is wrong>", "status": 400, "field": "<field>"}``.
"""

from __future__ import annotations

import json

from aiohttp import web

from .errors import InvalidField
from .middleware import json_error


async def read_json(request: web.Request) -> object:
    """The body parsed as JSON; `InvalidField("body")` when it cannot be.

    The text is decoded with the charset the request declares (UTF-8 when it
    declares none). Refused: a body over the app's ``client_max_size`` (1 MiB
    by default), bytes that do not decode, an unknown charset, text that is
    not JSON, an integer beyond Python's digit limit and nesting deeper than
    the parser goes.
    """
    try:
        text = await request.text()
    except web.HTTPRequestEntityTooLarge as exc:  # a 400 naming the body, like every bad body
        raise InvalidField("body", f"is too large ({exc.text})") from None
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
