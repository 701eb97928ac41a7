"""Reading a sandbox request's JSON body: strictly, and refusing in words, never with a 500.

Starlette's ``request.json()`` uses the standard library: a deeply nested body raises
``RecursionError``, ``NaN`` and ``Infinity`` are accepted, and a lone surrogate
(``"\\ud800"``) comes through to SQLite, which cannot encode it. orjson refuses all three
(its nesting limit is 1,024), so every bad body gets a 400 that says what to send.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# A sandbox batch of 100 items is a few kilobytes; a megabyte is not a request.
MAX_BODY_BYTES = 1_048_576


def bad_request(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def read_json(request: Request, expected: str) -> object | Response:
    """The body's JSON value, or a 400 (413 when too large) that names ``expected``.

    Any content type is read as JSON, as before (``curl -d`` sends a form's).
    """
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return bad_request(f"the body is over {MAX_BODY_BYTES:,} bytes; split the batch", 413)
    try:
        value: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        return bad_request(
            f"the body is not JSON (UTF-8, no NaN or Infinity, no lone surrogates, nested "
            f"at most 1,024 levels); send {expected}"
        )
    return value
