"""The HTTP app of an operator subgraph: its schema, its operator client, its metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import GraphQLError
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp
from strawberry.dataloader import DataLoader
from strawberry.federation import Schema

from policies import Caller
from subgraphs.collector import settle_long_lived
from subgraphs.operator.client import OperatorClient
from subgraphs.operator.errors import OperatorError
from subgraphs.operator.metrics import OperatorStateCollector
from subgraphs.operator.settings import OperatorSettings
from subgraphs.server import build_subgraph_app

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class OperatorCall:
    """What a resolver needs to call the operator for the request at hand."""

    client: OperatorClient
    caller: Caller  # as the gateway signed it; passed on to the operator (docs/operators.md)


def operator_loader(
    fetch: Callable[[Sequence[K]], Awaitable[Sequence[V | None]]],
    *,
    valid: Callable[[K], bool] | None = None,
    absent: V | None = None,
) -> DataLoader[K, V | None]:
    """A per-request loader: every key asked for in a request becomes one batch.

    When the operator fails, every key of the batch resolves to the same GraphQL error
    carrying the operator error's code, so the fields are null and the errors have paths.
    A key ``valid`` refuses (a malformed SPID in a representation) resolves to ``absent``,
    the operator's answer for an unknown key, without reaching the operator: an operator's
    system may refuse a whole batch for one malformed key, failing every other person in it.
    """

    async def load(keys: list[K]) -> list[V | BaseException | None]:
        wanted = keys if valid is None else [key for key in keys if valid(key)]
        try:
            found = list(await fetch(wanted)) if wanted else []
        except OperatorError as error:
            failure = GraphQLError(str(error), extensions={"code": error.code})
            return [failure if valid is None or valid(key) else absent for key in keys]
        if valid is None:
            return list(found)
        answers = dict(zip(wanted, found, strict=True))
        return [answers.get(key, absent) for key in keys]

    return DataLoader(load_fn=load)


async def load_each(loader: DataLoader[K, V], keys: Sequence[K]) -> list[V | BaseException]:
    """Every key's value through ``loader`` (one batch), a failed key's error in its place.

    What a field's batch resolver (``subgraphs.fast_path``) uses to answer many people
    with the same loader, and so the same values and errors, as the field's resolver.
    """
    return await asyncio.gather(*(loader.load(key) for key in keys), return_exceptions=True)


@dataclass(frozen=True)
class OperatorSubgraph:
    """One operator's subgraph: its schema and context, and how its operator is named."""

    operator: str  # short name and settings prefix: TONLE_<OPERATOR>_*
    title: str  # for messages: "the NSSF system"
    schema: Schema
    make_context: Callable[[OperatorCall], Any]
    port: int  # the default port of ``python -m subgraphs.<operator>``

    def settings(self, operator_url: str | None = None, **overrides: Any) -> OperatorSettings:
        return OperatorSettings.from_env(self.operator, self.title, url=operator_url, **overrides)

    def create_app(
        self,
        operator_url: str | None = None,
        *,
        gateway_secret: str | None = None,
        **overrides: Any,
    ) -> ASGIApp:
        """The subgraph, calling the operator at ``operator_url`` (or ``TONLE_<OPERATOR>_URL``).

        ``overrides`` are :class:`OperatorSettings` fields (``timeout_s``, ``max_batch``,
        ``cache_ttl_s``, ...) that win over the environment.
        """
        settings = self.settings(operator_url, **overrides)
        return create_operator_app(
            settings, self.schema, self.make_context, gateway_secret=gateway_secret
        )

    def main(self, argv: list[str] | None = None) -> None:
        """``python -m subgraphs.<operator>``: serve the subgraph until interrupted."""
        import argparse

        from subgraphs.serve import run

        parser = argparse.ArgumentParser(
            prog=f"python -m subgraphs.{self.operator}",
            description=f"Run the {self.operator} subgraph (settings: TONLE_"
            f"{self.operator.upper()}_*, see docs/operators.md).",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=self.port)
        parser.add_argument(
            "--operator-url", help=f"{self.title} (default: TONLE_{self.operator.upper()}_URL)"
        )
        args = parser.parse_args(argv)
        run(self.create_app(args.operator_url), host=args.host, port=args.port)


def create_operator_app(
    settings: OperatorSettings,
    schema: Schema,
    make_context: Callable[[OperatorCall], Any],
    *,
    gateway_secret: str | None = None,
) -> ASGIApp:
    """A subgraph serving ``schema``, whose resolvers call the operator of ``settings``.

    Each outgoing HTTP call counts in ``tonle_operator_requests_total{operator}`` and is
    timed in ``tonle_operator_request_seconds{operator,outcome}``; the circuit breaker's
    state and the opt-in cache's hits and misses are read at each scrape.
    """
    # A registry per app, so that several apps in one process (tests, the demo) each
    # count their own calls.
    registry = CollectorRegistry()
    calls = Counter(
        "tonle_operator_requests",
        "Requests sent to each operator's system.",
        ["operator"],
        registry=registry,
    )
    seconds = Histogram(
        "tonle_operator_request_seconds",
        "How long each call to an operator's system took, by outcome (ok, error, timeout).",
        ["operator", "outcome"],
        registry=registry,
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )

    def answered(outcome: str, elapsed: float) -> None:
        seconds.labels(operator=settings.operator, outcome=outcome).observe(elapsed)

    client = OperatorClient(
        settings,
        on_request=calls.labels(operator=settings.operator).inc,
        on_answer=answered,
    )
    registry.register(OperatorStateCollector(client))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await client.open()
        # The schema and the imports, frozen, are no longer walked by every full collection:
        # that halved the time of an _entities request of 10,000 people.
        settle_long_lived()
        try:
            yield
        finally:
            await client.close()

    def context(request: Request) -> Any:
        return make_context(OperatorCall(client, Caller.from_headers(request.headers)))

    return build_subgraph_app(
        schema,
        name=settings.operator,
        context_getter=context,
        lifespan=lifespan,
        registry=registry,
        gateway_secret=gateway_secret,
    )
