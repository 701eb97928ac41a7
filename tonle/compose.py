"""``tonle compose``: subgraph SDL files or live subgraphs in, a supergraph SDL out."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from gateway.composition import CompositionError, SubgraphSource, compose, fetch_subgraph_sdl
from policies import request_signer


def parse_subgraph_arg(value: str) -> tuple[str, str, str | None]:
    """``name=source[@routing_url]`` → (name, source, routing url or None)."""
    name, sep, rest = value.partition("=")
    if not sep or not name or not rest:
        raise SystemExit(
            f"--subgraph {value!r}: write it as NAME=SOURCE[@ROUTING_URL], e.g. "
            "identity=http://127.0.0.1:4001/graphql or idpoor=idpoor.graphql@http://idpoor/graphql"
        )
    source, at, routing = rest.partition("@")
    if source.startswith(("http://", "https://")) and at and not routing.startswith("http"):
        # an @ inside a URL (user info), not a routing URL
        source, routing, at = rest, "", ""
    return name, source, routing or None


def _from_file(name: str, source: str, routing: str | None) -> SubgraphSource:
    path = Path(source)
    if not path.is_file():
        raise SystemExit(f"subgraph {name!r}: {source} is neither a URL nor a file")
    if routing is None:
        raise SystemExit(
            f"subgraph {name!r} comes from a file: give its routing URL as "
            f"{name}={source}@http://host:port/graphql"
        )
    return SubgraphSource(name, routing, path.read_text(encoding="utf-8"))


async def _from_urls(items: list[tuple[str, str, str | None]]) -> dict[str, SubgraphSource]:
    import aiohttp

    secret = os.environ.get("TONLE_GATEWAY_SECRET")
    found = {}
    async with aiohttp.ClientSession() as session:
        for name, source, routing in items:
            sdl = await fetch_subgraph_sdl(
                session,
                source,
                sign=request_signer(secret, name) if secret else None,
            )
            found[name] = SubgraphSource(name, routing or source, sdl)
    return found


def _sources(items: list[tuple[str, str, str | None]]) -> list[SubgraphSource]:
    live = [i for i in items if i[1].startswith(("http://", "https://"))]
    fetched = asyncio.run(_from_urls(live)) if live else {}
    return [
        fetched.get(name) or _from_file(name, source, routing) for name, source, routing in items
    ]


def compose_command(args: argparse.Namespace) -> int:
    items = [parse_subgraph_arg(v) for v in args.subgraph]
    try:
        supergraph = compose(_sources(items))
    except CompositionError as error:
        print(str(error), file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(supergraph, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(supergraph)
    return 0
