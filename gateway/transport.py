"""The subgraph client: one pooled aiohttp session, per-subgraph timeouts, signing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp.payload import BytesPayload
from yarl import URL

from gateway.executor import JSON, SubgraphFetchError
from policies import SIGNATURE_HEADER, Signer

ACCEPT = "application/graphql-response+json, application/json;q=0.9"


@dataclass(frozen=True, slots=True)
class _Route:
    """What sending to one subgraph needs, worked out on its first request."""

    url: URL  # parsed once: aiohttp would parse a str URL on every request
    timeout: aiohttp.ClientTimeout
    # Bound to the subgraph's name (the audience) and its URL's path and query string.
    signer: Signer | None


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
        self._routes: dict[str, _Route] = {}

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

    def _route(self, service: str) -> _Route:
        if service not in self.urls:
            raise SubgraphFetchError(service, "no routing URL is configured for it")
        url = URL(self.urls[service])
        seconds = self.timeouts.get(service, self.timeout_s)
        signer = None
        if self.gateway_secret:
            # raw_path_qs is the request target aiohttp sends, so the subgraph sees it as signed.
            signer = Signer(self.gateway_secret, audience=service, target=url.raw_path_qs)
        route = self._routes[service] = _Route(url, aiohttp.ClientTimeout(total=seconds), signer)
        return route

    async def send(
        self, service: str, payload: bytes, headers: Mapping[str, str] | None = None
    ) -> JSON:
        """POST ``payload`` to ``service`` with ``headers``, signed when there is a secret."""
        route = self._routes.get(service) or self._route(service)
        url, timeout = route.url, route.timeout
        if route.signer is not None:
            headers = {**(headers or {}), SIGNATURE_HEADER: route.signer.sign(payload, headers)}
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
