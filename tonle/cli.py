"""The ``tonle`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _read_text(value: str, what: str) -> str:
    if what == "query" and "{" in value:
        return value  # an inline document, not a file name
    path = Path(value)
    try:
        if path.exists() and not path.is_dir():
            return path.read_text(encoding="utf-8")
    except OSError as error:
        raise SystemExit(f"cannot read {what} file {value!r}: {error.strerror}") from None
    if what == "query":
        return value
    raise SystemExit(f"{what} file {value!r} does not exist; give the path of an existing file.")


def _load_gateway(supergraph: str, settings: Any = None) -> Any:
    from gateway import Gateway, GatewayError

    options = {}
    if settings is not None:
        options = {
            "plan_cache_size": settings.plan_cache_size,
            "plan_cache_bytes": settings.plan_cache_bytes,
            "limits": settings.limits,
        }
    try:
        return Gateway.from_sdl(_read_text(supergraph, "supergraph"), **options)
    except GatewayError as error:
        raise SystemExit(f"{supergraph}: {error}") from None


def cmd_gateway(args: argparse.Namespace) -> int:
    from gateway import GatewaySettings, create_app
    from tonle.serving import Service, ServiceGroup
    from tonle.serving import run as serve_forever

    settings = GatewaySettings.from_env()
    supergraph = args.supergraph or settings.supergraph_path
    if not supergraph:
        raise SystemExit(
            "give the supergraph: tonle gateway --supergraph FILE (or TONLE_SUPERGRAPH)"
        )
    gateway = _load_gateway(supergraph, settings)
    open_mode = args.open or settings.open_mode
    access = lifespan = None
    if open_mode:
        print(
            "WARNING: --open: partner authentication and access policies are OFF. "
            "Every client sees every field. Use this only for conformance runs and "
            "single-tenant development.",
            file=sys.stderr,
        )
    else:
        from policies.errors import PolicyError
        from policies.service import PolicySettings, policy_enforcement, preflight

        try:
            policy_settings = PolicySettings.from_env(args.database)
            version = preflight(policy_settings)
            access, lifespan = policy_enforcement(gateway.api_schema, policy_settings)
        except PolicyError as error:
            raise SystemExit(f"tonle gateway: {error}") from None
        print(
            f"Enforcing access policy version {version} (and any published later)", file=sys.stderr
        )
    extra_routes: list[Any] = []
    if args.admin:
        if open_mode:
            raise SystemExit(
                "tonle gateway: --admin needs the policies (it edits them): drop --open"
            )
        mount, lifespan = _with_console(args.database, supergraph, lifespan)
        extra_routes.append(mount)
    if args.analyst:
        from tonle.analyst_command import analyst_mount

        mount, lifespan = analyst_mount(f"http://127.0.0.1:{args.port}/graphql", lifespan)
        extra_routes.append(mount)
    persisted = None
    if settings.redis_url:
        from gateway.persisted import RedisPersistedQueries

        persisted = RedisPersistedQueries(settings.redis_url, prefix=settings.redis_prefix)
    try:
        app = create_app(
            gateway,
            open_mode=open_mode,
            access=access,
            background=lifespan,
            subgraph_timeout_s=settings.subgraph_timeout_s,
            subgraph_timeouts=settings.subgraph_timeouts,
            gateway_secret=settings.gateway_secret,
            metrics_token=settings.metrics_token,
            subgraph_urls=settings.subgraph_urls,
            http_limits=settings.http,
            persisted_queries=persisted,
            extra_routes=extra_routes,
        )
    except ValueError as error:
        raise SystemExit(f"tonle gateway: {error}") from None

    async def run() -> None:
        group = ServiceGroup()
        group.install_signal_handlers()
        url = await group.start_process(Service("gateway", app, args.port, args.host))
        print(f"Tonle gateway on {url}/graphql", file=sys.stderr)
        if args.admin:
            print(f"Policy console on {url}/admin/", file=sys.stderr)
        if args.analyst:
            print(f"Analyst page on {url}/analyst/", file=sys.stderr)
        await group.wait()

    serve_forever(run())
    return 0


def _with_console(database: str | None, supergraph: str, lifespan: Any) -> tuple[Any, Any]:
    """The console mounted at /admin beside the gateway, its lifespan run with the policies'."""
    from contextlib import AsyncExitStack, asynccontextmanager
    from dataclasses import replace

    from policies.console import ConsoleConfig
    from tonle.admin_commands import console_mount

    config = replace(ConsoleConfig.from_env(database), supergraph_path=supergraph)
    mount, console_lifespan = console_mount(config)

    @asynccontextmanager
    async def both() -> Any:
        async with AsyncExitStack() as stack:
            if lifespan is not None:
                await stack.enter_async_context(lifespan())
            await stack.enter_async_context(console_lifespan())
            yield

    return mount, both


def cmd_plan(args: argparse.Namespace) -> int:
    from gateway import GatewayError, print_plan

    gateway = _load_gateway(args.supergraph)
    try:
        variables = json.loads(args.variables) if args.variables else {}
    except ValueError:
        raise SystemExit("--variables must be a JSON object, e.g. '{\"first\": 100}'") from None
    try:
        prepared = gateway.prepare(_read_text(args.query, "query"), args.operation_name)
        coerced = gateway.coerce_variables(prepared, variables)
    except GatewayError as error:
        raise SystemExit(str(error)) from None
    print(print_plan(prepared.plan))
    limits = gateway.limits
    shape = prepared.shape
    print(
        f"estimated cost: {gateway.estimate(prepared, coerced)} (cap {limits.max_cost}); "
        f"depth {shape.depth} (cap {limits.max_depth}), aliases {shape.aliases} "
        f"(cap {limits.max_aliases}), root fields {shape.root_fields} "
        f"(cap {limits.max_root_fields})"
    )
    return 0


def cmd_compose(args: argparse.Namespace) -> int:
    from tonle.compose import compose_command

    return compose_command(args)


def cmd_migrate(args: argparse.Namespace) -> int:
    import asyncio

    from identity_store import RegistryError, database_url, migrate

    url = args.database or database_url()
    try:
        asyncio.run(migrate(url))
    except RegistryError as error:
        raise SystemExit(f"tonle migrate: {error}") from None
    print("the registry database is at the latest revision", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tonle.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tonle",
        description="Tonle: a federated GraphQL layer for social protection registries.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gw = sub.add_parser("gateway", help="run the federation gateway")
    gw.add_argument("--supergraph", help="supergraph SDL file")
    gw.add_argument("--port", type=int, default=4000)
    gw.add_argument("--host", default="127.0.0.1")
    gw.add_argument(
        "--open",
        action="store_true",
        help="turn off partner authentication and policies (conformance runs, development)",
    )
    gw.add_argument(
        "--database",
        metavar="URL",
        help="the registry database holding partners, policies and the access log "
        "(default: TONLE_DATABASE_URL, else the demo's .tonle/registry.db)",
    )
    gw.add_argument(
        "--admin",
        action="store_true",
        help="also serve the policy console at /admin on this port (tonle demo does)",
    )
    gw.add_argument(
        "--analyst",
        action="store_true",
        help="also serve the analyst page and its jobs API at /analyst (tonle demo does)",
    )
    gw.set_defaults(func=cmd_gateway)

    plan = sub.add_parser("plan", help="print the query plan of an operation")
    plan.add_argument("--supergraph", required=True, help="supergraph SDL file")
    plan.add_argument("--query", required=True, help="a GraphQL document, or a file holding one")
    plan.add_argument("--operation-name")
    plan.add_argument("--variables", help="a JSON object: page sizes (first:) change the cost")
    plan.set_defaults(func=cmd_plan)

    compose = sub.add_parser("compose", help="compose subgraphs into a supergraph SDL")
    compose.add_argument(
        "--subgraph",
        action="append",
        required=True,
        metavar="NAME=SOURCE[@ROUTING_URL]",
        help="a subgraph: SOURCE is a live GraphQL URL (its _service { sdl } is read) or an "
        "SDL file; ROUTING_URL is where the gateway will reach it (default: SOURCE if a URL)",
    )
    compose.add_argument("-o", "--output", help="write the supergraph here (default: stdout)")
    compose.set_defaults(func=cmd_compose)

    migrate = sub.add_parser(
        "migrate", help="create or upgrade the registry database (registry, policies, access log)"
    )
    migrate.add_argument(
        "--database",
        metavar="URL",
        help="default: TONLE_DATABASE_URL, else the demo's sqlite+aiosqlite:///.tonle/registry.db",
    )
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="run every part on 127.0.0.1 with synthetic data")
    demo.add_argument("--data-dir", default=".tonle")
    demo.add_argument("--port", type=int, default=4000, help="the gateway's port")
    demo.add_argument("--people", type=int, default=2000, help="synthetic population size")
    demo.set_defaults(func=cmd_demo)

    from tonle.admin_commands import add_parser as add_admin
    from tonle.analyst_command import add_parser as add_analyst
    from tonle.audit import add_parser as add_audit
    from tonle.coverage_command import add_parser as add_coverage
    from tonle.dedup import add_parser as add_dedup
    from tonle.export_command import add_parser as add_export
    from tonle.partner_commands import add_parser as add_partners
    from tonle.policy_commands import add_parser as add_policies

    add_dedup(sub)
    add_partners(sub)
    add_policies(sub)
    add_audit(sub)
    add_admin(sub)
    add_export(sub)
    add_analyst(sub)
    add_coverage(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
