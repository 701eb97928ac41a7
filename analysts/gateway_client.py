"""Asking the gateway as the analyst's partner: its key, its purpose, its end user.

Everything the analysts' tools read comes through here, so the partner's agreement decides
what they see (masks, scope) and every page lands in the access log under the partner.
A 429 is waited out (``Retry-After``) rather than failing a long export; any other refusal
stops with the gateway's own code and message, which say what to change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

# How often one page is asked again after a 429 or a gateway that is briefly away.
RETRIES = 8


class GatewayRefused(RuntimeError):
    """The gateway answered with an error: its code and message."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Caller:
    """Who the analysts' tools ask as."""

    url: str  # the gateway's /graphql
    key: str
    purpose: str = "statistics"
    end_user: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}", "X-Purpose": self.purpose}
        if self.end_user:
            headers["X-Tonle-End-User"] = self.end_user
        return headers


@dataclass(frozen=True)
class Answer:
    """A GraphQL answer with data: the data, and the errors beside it (fields left null)."""

    data: dict[str, Any]
    errors: list[dict[str, Any]]


class GatewayClient:
    """One HTTP session to the gateway; ``async with GatewayClient(caller) as client``."""

    def __init__(self, caller: Caller, *, timeout_s: float = 120.0) -> None:
        self.caller = caller
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> GatewayClient:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def query(self, document: str, variables: dict[str, Any]) -> Answer:
        """One answer; raises :class:`GatewayRefused` when the gateway answers no data."""
        assert self._session is not None, "use GatewayClient in an async with block"
        body = {"query": document, "variables": variables}
        for attempt in range(RETRIES + 1):
            try:
                async with self._session.post(
                    self.caller.url, json=body, headers=self.caller.headers()
                ) as response:
                    if response.status == 429 and attempt < RETRIES:
                        await asyncio.sleep(_retry_after(response.headers.get("Retry-After")))
                        continue
                    if response.status in (502, 503, 504) and attempt < RETRIES:
                        await asyncio.sleep(min(2.0**attempt, 30.0))
                        continue
                    answer = await _json(response)
            except aiohttp.ClientConnectionError:
                if attempt == RETRIES:
                    raise GatewayRefused(
                        "GATEWAY_UNREACHABLE", f"no answer from {self.caller.url}"
                    ) from None
                await asyncio.sleep(min(2.0**attempt, 30.0))
                continue
            errors = answer.get("errors") or []
            data = answer.get("data")
            if errors and not data:
                first = errors[0]
                code = (first.get("extensions") or {}).get("code", "ERROR")
                raise GatewayRefused(code, str(first.get("message", "")))
            if not isinstance(data, dict):
                raise GatewayRefused("BAD_ANSWER", "the gateway's answer has no data")
            return Answer(data, list(errors))
        raise GatewayRefused("RATE_LIMITED", "still refused after waiting out Retry-After")


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.1), 60.0)
    except ValueError:
        return 1.0


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        answer = await response.json(content_type=None)
    except ValueError:
        raise GatewayRefused(
            "BAD_ANSWER", f"HTTP {response.status} from the gateway was not JSON"
        ) from None
    if not isinstance(answer, dict):
        raise GatewayRefused("BAD_ANSWER", f"HTTP {response.status}: not a GraphQL answer")
    return answer
