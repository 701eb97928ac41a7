"""Reading a live subgraph's SDL through ``_service { sdl }``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import aiohttp
import orjson
from yarl import URL

from gateway.composition.errors import CompositionError, CompositionIssue

SDL_QUERY = orjson.dumps({"query": "{ _service { sdl } }"})


async def fetch_subgraph_sdl(
    session: aiohttp.ClientSession,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    sign: Callable[[str, str, bytes, Mapping[str, str]], Mapping[str, str]] | None = None,
    timeout_s: float = 10.0,
) -> str:
    """The SDL a subgraph serves.

    ``sign(method, target, body, headers)`` returns headers to add (the gateway's signature,
    e.g. ``policies.request_signer(secret, name)``); ``target`` is the path and query
    string of ``url`` as sent.
    """
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if sign is not None:
        target = URL(url).raw_path_qs
        all_headers.update(sign("POST", target, SDL_QUERY, all_headers))

    def fail(reason: str) -> CompositionError:
        return CompositionError(
            [
                CompositionIssue(
                    "SUBGRAPH_UNREACHABLE",
                    f"could not read the SDL of {url}: {reason}. Check the URL and that the "
                    "subgraph is running.",
                )
            ]
        )

    try:
        async with session.post(
            url,
            data=SDL_QUERY,
            headers=all_headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        raise fail(error.__class__.__name__) from None
    try:
        sdl = orjson.loads(body)["data"]["_service"]["sdl"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise fail(f"HTTP {status} without a _service {{ sdl }} answer") from None
    if not isinstance(sdl, str):
        raise fail("the sdl is not a string")
    return sdl
