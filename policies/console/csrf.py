"""CSRF protection: every request that may change something carries the session's token.

A POST (or any method but GET, HEAD, OPTIONS) must bring the token of its session — the
signed-in session's, or before sign-in the pre-session cookie's — as the form field
``csrf_token`` or the header ``X-CSRF-Token``; it must also not come from another site
(``Origin`` and ``Sec-Fetch-Site``, where the browser sends them). Otherwise it is refused
with a 403 page before any endpoint runs. SameSite=Strict cookies already keep other
sites' forms from arriving signed in; the token also covers browsers and proxies that
do not honour it.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs, urlsplit

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELD = "csrf_token"
HEADER = "x-csrf-token"
MAX_FORM_BYTES = 2 * 1024 * 1024
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def csrf_field(token: str) -> Markup:
    """The hidden form field every form carries (``{{ csrf_field() }}`` in templates)."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))


class CSRFProtection:
    """Refuses unsafe requests without the session's token, or from another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        expected: str = scope.get("state", {}).get("csrf_token", "")
        if _cross_site(request):
            await self._refuse(scope, receive, send, "it came from another site")
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_FORM_BYTES:
                await self._refuse(scope, receive, send, "the form is too large", status=413)
                return
        given = request.headers.get(HEADER) or await _form_token(scope, body)
        if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
            await self._refuse(
                scope, receive, send, "the form's security token is missing or stale"
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, why: str, status: int = 403
    ) -> None:
        from policies.console.rendering import render

        request = Request(scope, receive)
        response = render(
            request,
            "forbidden.html",
            status=status,
            title="Form refused",
            message=f"The form was refused: {why}. Nothing was changed. Go back, reload the "
            "page and send it again.",
        )
        await response(scope, receive, send)


def _cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != request.headers.get("host", "")


async def _form_token(scope: Scope, body: bytes) -> str | None:
    kind = Request(scope).headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FIELD)
        return values[0] if values else None
    if kind.startswith("multipart/form-data"):
        sent = False

        async def once() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            async with Request(scope, once).form() as form:
                value = form.get(FIELD)
        except Exception:  # a malformed body: no token
            return None
        return value if isinstance(value, str) else None
    return None
