"""What must hold for every answer, whatever was asked, and the fuzzing budget.

- no 5xx: a client's request, however odd, is never a fault of ours (the connection
  closed without an answer counts as one);
- nothing of our insides: no stack trace, no path of ours (``/work/``, ``site-packages``,
  ``.py"``), no SQL or driver name (``SELECT``, ``INSERT``, ``sqlite3.``, ``asyncpg.``),
  unless the request itself carried those words and the answer quotes them back;
- every GraphQL error has a message and an ``extensions.code``; every JSON error of a
  sandbox has its ``error`` message.

Budgets: each test names its examples for ``make test``; ``TONLE_FUZZ_EXAMPLES`` (``make
fuzz``) gives every test that many instead.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, settings

from tests.fuzz.wire import CLOSED_EARLY, RawReply

LEAKS = (
    "Traceback",
    'File "',
    "/work/",
    "site-packages",
    '.py"',
    ".py:",
    "SELECT ",
    "INSERT ",
    "sqlite3.",
    "asyncpg.",
    "sqlalchemy",
    "psycopg",
)
EXAMPLES_ENV = "TONLE_FUZZ_EXAMPLES"


def budget(examples: int) -> settings:
    """Hypothesis settings for a fuzz test: ``examples`` in ``make test``, more in ``make fuzz``.

    No deadline (a request over HTTP varies with the machine's load), no shrinking past a
    few hundred steps under the small budget (a failure still prints its seed and example).
    """
    wanted = os.environ.get(EXAMPLES_ENV)
    return settings(
        max_examples=int(wanted) if wanted else examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        print_blob=True,
    )


def check_reply(
    reply: RawReply, sent: bytes, *, graphql: bool = True, method: bytes = b"POST"
) -> Any:
    """Assert the properties of the module for one answer; return its JSON body (or None)."""
    assert reply.status != 0, "the server closed the connection without answering"
    if reply.status == CLOSED_EARLY:
        return None
    assert reply.status < 500, f"HTTP {reply.status}: {reply.text[:500]}"
    if method == b"HEAD":
        return None  # an answer to HEAD has headers only
    text = reply.text
    asked = sent.decode("utf-8", "replace")
    for marker in LEAKS:
        assert marker not in text or marker in asked, f"{marker!r} in {text[:800]}"
    content_type = reply.header("content-type") or ""
    if "json" not in content_type or not reply.body:
        # Only the HTTP layer answers in plain text: a request it could not parse, a path
        # or method no route has.
        assert reply.status in (400, 404, 405, 413, 415, 431) or reply.status < 400, (
            reply.status,
            text[:300],
        )
        return None
    body = orjson.loads(reply.body)
    if graphql and isinstance(body, dict) and "errors" in body:
        assert body["errors"], body
        for error in body["errors"]:
            assert isinstance(error.get("message"), str) and error["message"], error
            assert isinstance(error.get("extensions", {}).get("code"), str), error
    elif not graphql and reply.status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    return body
