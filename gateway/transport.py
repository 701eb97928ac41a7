"""The subgraph client: one pooled aiohttp session, per-subgraph timeouts, signing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import orjson
from aiohttp.payload import BytesPayload
from yarl import URL

from gateway.executor import JSON, SubgraphFetchError
from policies import SIGNATURE_HEADER, sign

ACCEPT = "application/graphql-response+json, application/json;q=0.9"


class AiohttpTransport:
    """Sends subgraph requests over one keep-alive connection pool."""

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout_s: float = 10.0,
        timeouts: Mapping[str, float] | None = None,
        gateway_secret: str | None = None,
        on_request: Callable[[str], None] | None = None,
        connections: int = 200,
    ) -> None:
        self.urls = dict(urls)
        self.timeout_s = timeout_s
        self.timeouts = dict(timeouts or {})
        self.gateway_secret = gateway_secret
        self.on_request = on_request
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[str, aiohttp.ClientTimeout] = {}
        # Parsed once: aiohttp would parse a str URL on every request.
        self._parsed_urls: dict[str, URL] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.connections, keepalive_timeout=30, ttl_dns_cache=300
            )
            # Session-wide headers, no cookie jar and no decompression keep the
            # per-request work aiohttp does to a minimum on this hot path.
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"Content-Type": "application/json", "Accept": ACCEPT},
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                json_serialize=lambda o: orjson.dumps(o).decode(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, service: str, payload: bytes) -> JSON:
        url = self._parsed_urls.get(service)
        if url is None:
            if service not in self.urls:
                raise SubgraphFetchError(service, "no routing URL is configured for it")
            url = self._parsed_urls[service] = URL(self.urls[service])
        headers = (
            {SIGNATURE_HEADER: sign(self.gateway_secret, payload)} if self.gateway_secret else None
        )
        timeout = self._timeouts.get(service)
        if timeout is None:
            seconds = self.timeouts.get(service, self.timeout_s)
            timeout = self._timeouts[service] = aiohttp.ClientTimeout(total=seconds)
        if self.on_request is not None:
            self.on_request(service)
        try:
            async with self._get_session().post(
                url,
                data=BytesPayload(payload, content_type="application/json"),
                headers=headers,
                timeout=timeout,
            ) as response:
                body = await response.read()
                status = response.status
        except TimeoutError:
            raise SubgraphFetchError(service, f"no answer within {timeout.total:g} s") from None
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientError as error:
            raise SubgraphFetchError(
                service, f"request failed ({error.__class__.__name__})"
            ) from None
        if status in (401, 403):
            raise SubgraphFetchError(
                service,
                f"HTTP {status}: it refused the gateway's credentials "
                "(do the gateway and the subgraph share TONLE_GATEWAY_SECRET?)",
            )
        try:
            parsed: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SubgraphFetchError(
                service, f"HTTP {status} with a body that is not JSON"
            ) from None
        if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
            raise SubgraphFetchError(service, f"HTTP {status} with no GraphQL response")
        if status >= 500 and parsed.get("data") is None and not parsed.get("errors"):
            raise SubgraphFetchError(service, f"HTTP {status}")
        return parsed
