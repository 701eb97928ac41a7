"""The one client every operator subgraph uses to call its operator's system.

Batches are split at the operator's maximum and sent in parallel over one pooled
aiohttp session. Each call has one time budget (``timeout_s``) that its retries share,
so a slow operator costs a query at most its timeout. Only idempotent reads are retried,
with exponential backoff, and only after failures that may pass (no connection, 5xx,
429). A circuit breaker makes a dead operator fail fast; an opt-in cache spares it
repeated lookups for a few seconds.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import aiohttp
import orjson

from policies import Caller
from subgraphs.operator.breaker import CircuitBreaker
from subgraphs.operator.cache import TtlCache
from subgraphs.operator.errors import OPERATOR_TIMEOUT, OPERATOR_UNAVAILABLE, OperatorError
from subgraphs.operator.settings import OperatorSettings
from subgraphs.operator.xroad import direct_headers

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class _Transient(Exception):
    """A failure worth another attempt if the call is idempotent and time remains."""


def ssl_context(settings: OperatorSettings) -> ssl.SSLContext | None:
    """The TLS context for https operators: their CA if given, our client certificate."""
    if not settings.url.startswith("https://"):
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.client_cert and settings.client_key:
        context.load_cert_chain(settings.client_cert, settings.client_key)
    return context


class OperatorClient:
    """Calls one operator's system as its :class:`OperatorSettings` say."""

    def __init__(
        self,
        settings: OperatorSettings,
        *,
        on_request: Callable[[], None] | None = None,
        on_answer: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.on_request = on_request
        # (outcome, seconds) after every HTTP attempt: "ok", "error" or "timeout"
        self.on_answer = on_answer
        self.clock = clock
        self.breaker = CircuitBreaker(
            settings.breaker_failures, settings.breaker_reset_s, clock=clock
        )
        self.cache = TtlCache(settings.cache_ttl_s, settings.cache_max_entries, clock=clock)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Create the process's one HTTP session (called from the app's lifespan)."""
        self.session()

    def session(self) -> aiohttp.ClientSession:
        # Created lazily too, so that an app run without lifespan events still works.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=100, keepalive_timeout=30, ssl=ssl_context(self.settings) or True
            )
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            if self.settings.api_key:
                headers[self.settings.api_key_header] = self.settings.api_key
            self._session = aiohttp.ClientSession(connector=connector, headers=headers)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session and its pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def batch(
        self,
        path: str,
        key: str,
        items: Sequence[Any],
        *,
        caller: Caller | None = None,
        cache_key: Callable[[Any], Hashable] = lambda item: item,
    ) -> list[Any]:
        """``POST path {key: [...]}`` in chunks of the maximum; the results, in item order.

        The operator answers ``{"results": [...]}``, one result per item in request order.
        A batch lookup is a read, so it is retried like one. ``caller`` is who the call is
        made for, passed on in ``X-Road-*`` headers.
        """
        results: list[Any] = [None] * len(items)
        missing: list[int] = []
        for i, item in enumerate(items):
            hit, value = self._cached(path, cache_key(item))
            if hit:
                results[i] = value
            else:
                missing.append(i)
        size = self.settings.max_batch
        chunks = [missing[i : i + size] for i in range(0, len(missing), size)]
        answers = await asyncio.gather(
            *(
                self.request(
                    "POST",
                    path,
                    {key: [items[i] for i in chunk]},
                    idempotent=True,
                    caller=caller,
                )
                for chunk in chunks
            )
        )
        for chunk, answer in zip(chunks, answers, strict=True):
            found = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(found, list) or len(found) != len(chunk):
                raise OperatorError(
                    f"{self.settings.title} answered something that is not its API",
                    OPERATOR_UNAVAILABLE,
                )
            for i, result in zip(chunk, found, strict=True):
                results[i] = result
                if self.settings.cache_ttl_s > 0:
                    self.cache.put((path, cache_key(items[i])), result)
        return results

    def _answered(self, outcome: str, started: float) -> None:
        if self.on_answer is not None:
            self.on_answer(outcome, time.perf_counter() - started)

    def _cached(self, path: str, key: Hashable) -> tuple[bool, Any]:
        if self.settings.cache_ttl_s <= 0:
            return False, None
        return self.cache.get((path, key))

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        idempotent: bool,
        caller: Caller | None = None,
    ) -> Any:
        """One call to the operator, retried when ``idempotent``; its JSON answer."""
        settings = self.settings
        deadline = self.clock() + settings.timeout_s
        attempt = 0
        while True:
            if not self.breaker.allow():
                raise OperatorError(
                    f"{settings.title} is failing; calls to it are suspended for "
                    f"{self.breaker.retry_after_s():.0f} s (circuit open)",
                    OPERATOR_UNAVAILABLE,
                )
            try:
                answer = await self._attempt(method, path, body, deadline, caller)
            except _Transient as failure:
                self.breaker.failed()
                pause = settings.backoff_s * 2**attempt * random.uniform(0.8, 1.2)
                attempt += 1
                if not idempotent or attempt > settings.retries or self.clock() + pause >= deadline:
                    raise OperatorError(str(failure), OPERATOR_UNAVAILABLE) from None
                await asyncio.sleep(pause)
                continue
            except OperatorError as error:
                if error.code == OPERATOR_TIMEOUT:
                    self.breaker.failed()
                else:
                    self.breaker.succeeded()  # it answered; the fault is in what we sent
                raise
            self.breaker.succeeded()
            return answer

    async def _attempt(
        self, method: str, path: str, body: Any, deadline: float, caller: Caller | None
    ) -> Any:
        settings = self.settings
        remaining = deadline - self.clock()
        if remaining <= 0:
            raise OperatorError(
                f"{settings.title} did not answer within {settings.timeout_s:g} s",
                OPERATOR_TIMEOUT,
            )
        if settings.xroad is not None:
            url = settings.url + settings.xroad.path(path)
            headers = settings.xroad.headers(caller)
        else:
            url = settings.url + path
            headers = direct_headers(caller)
        if self.on_request is not None:
            self.on_request()
        started = time.perf_counter()
        try:
            async with self.session().request(
                method,
                url,
                data=orjson.dumps(body) if body is not None else None,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=remaining),
            ) as response:
                payload = await response.read()
                status = response.status
        except TimeoutError:
            self._answered("timeout", started)
            raise OperatorError(
                f"{settings.title} did not answer within {settings.timeout_s:g} s",
                OPERATOR_TIMEOUT,
            ) from None
        except aiohttp.ClientError as error:
            self._answered("error", started)
            raise _Transient(
                f"{settings.title} cannot be reached ({error.__class__.__name__})"
            ) from None
        self._answered("ok" if status == 200 else "error", started)
        if status in TRANSIENT_STATUSES:
            raise _Transient(f"{settings.title} answered HTTP {status}")
        if status != 200:
            raise OperatorError(f"{settings.title} answered HTTP {status}", OPERATOR_UNAVAILABLE)
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise OperatorError(
                f"{settings.title} answered something that is not its API", OPERATOR_UNAVAILABLE
            ) from None
