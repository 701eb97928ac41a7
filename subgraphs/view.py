"""Strawberry's ASGI view as every subgraph serves it: strict JSON, refusals as GraphQL errors.

Strawberry reads bodies with the standard library's ``json``: a deeply nested body raises
``RecursionError``, invalid UTF-8 ``UnicodeDecodeError`` and a body that is not an object
``AttributeError`` — each a 500. It answers its own refusals (a wrong content type, an
unknown operation name) in plain text. Here bodies are read with orjson (a nesting limit,
UTF-8 checked, no lone surrogates, no NaN), anything but one object is refused, and every
refusal is a JSON GraphQL error with ``extensions.code``.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

NOT_AN_OBJECT = (
    'the body must be one JSON object: {"query": "...", "variables": {...}}; '
    "batches (a JSON array) are not accepted"
)


def refusal(message: str, status: int, code: str = "BAD_REQUEST") -> Response:
    """A request refused before any GraphQL ran, as a GraphQL error."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


class GraphQLView(GraphQL[Any, None]):
    """Strawberry's ASGI view, reading JSON strictly and refusing in JSON."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = refusal(error.reason, error.status_code)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise HTTPException(
                400, "the body is not valid JSON (UTF-8, nested at most 1,024 levels)"
            ) from None
        if isinstance(value, list):
            return value  # strawberry refuses batches itself
        if not isinstance(value, dict):
            raise HTTPException(400, NOT_AN_OBJECT)
        return value

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
