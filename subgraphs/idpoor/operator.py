"""The live connection to the IDPoor system: batched lookups by SPID over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import orjson

BY_MEMBER_PATH = "/v1/households/by-member"


class OperatorError(Exception):
    """The operator's system failed; ``code`` says how (unavailable or timed out)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class IdPoorClient:
    """Looks households up by members' SPIDs, one HTTP call per batch."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        max_batch: int = 100,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_batch = max_batch
        self.on_request = on_request
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Create the process's one HTTP session (called from the app's lifespan)."""
        self.session()

    def session(self) -> aiohttp.ClientSession:
        # Created lazily too, so that an app run without lifespan events still works.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session and its pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def households(self, spids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """The household of each SPID (None when not identified poor)."""
        chunks = [spids[i : i + self.max_batch] for i in range(0, len(spids), self.max_batch)]
        results = await asyncio.gather(*(self._call(chunk) for chunk in chunks))
        merged: dict[str, dict[str, Any] | None] = {}
        for result in results:
            merged.update(result)
        return merged

    async def _call(self, spids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        if self.on_request is not None:
            self.on_request()
        url = self.base_url + BY_MEMBER_PATH
        try:
            async with self.session().post(
                url,
                data=orjson.dumps({"spids": list(spids)}),
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            ) as response:
                body = await response.read()
                status = response.status
        except TimeoutError:
            raise OperatorError(
                f"the IDPoor system did not answer within {self.timeout_s:g} s",
                "OPERATOR_TIMEOUT",
            ) from None
        except aiohttp.ClientError as error:
            raise OperatorError(
                f"the IDPoor system cannot be reached ({error.__class__.__name__})",
                "OPERATOR_UNAVAILABLE",
            ) from None
        if status != 200:
            raise OperatorError(f"the IDPoor system answered HTTP {status}", "OPERATOR_UNAVAILABLE")
        try:
            results = orjson.loads(body)["results"]
            return {item["spid"]: item["household"] for item in results}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise OperatorError(
                "the IDPoor system answered something that is not its API", "OPERATOR_UNAVAILABLE"
            ) from None
