"""``tonle export``: an analyst's query, paged through the gateway into a CSV or Parquet file.

    tonle export --query people.graphql --area 12 --format parquet --out phnom-penh.parquet \
        --demo-partner nspc
    tonle export … --resume          # after an interruption: continues from the checkpoint

Credentials are never command-line arguments (other users of the machine can read those):
``TONLE_API_KEY``, ``--key-file FILE``, or ``--demo-partner CODE`` for a running demo's
generated keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from analysts.export import ExportRequest, Progress, prepare_export, run_export
from analysts.export_query import ExportQueryError
from analysts.gateway_client import Caller, GatewayClient, GatewayRefused
from analysts.sinks import ExportFileError

KEY_ENV = "TONLE_API_KEY"


def add_caller_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say which gateway to ask, and as whom."""
    parser.add_argument("--gateway", help="the gateway's /graphql URL (default: the demo's)")
    parser.add_argument("--key-file", type=Path, help=f"a file holding the API key ({KEY_ENV})")
    parser.add_argument(
        "--demo-partner", help="use this demo partner's key from <data dir>/demo-credentials.json"
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".tonle"))
    parser.add_argument("--purpose", default="statistics", help="X-Purpose (statistics)")
    parser.add_argument("--end-user", help="your own user name, recorded in the access log")


def caller_from_args(args: argparse.Namespace) -> Caller:
    """Who to ask as, from the options, the environment or the demo's credentials."""
    gateway = args.gateway
    key = os.environ.get(KEY_ENV, "")
    if args.key_file is not None:
        try:
            key = args.key_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise SystemExit(f"cannot read --key-file {args.key_file}: {error.strerror}") from None
    if args.demo_partner:
        path = args.data_dir / "demo-credentials.json"
        try:
            credentials = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SystemExit(f"no demo credentials at {path}: start `make demo` first") from None
        partner = credentials.get("partners", {}).get(args.demo_partner)
        if partner is None:
            known = ", ".join(sorted(credentials.get("partners", {})))
            raise SystemExit(f"the demo has no partner {args.demo_partner!r}; it has {known}")
        key = str(partner["api_key"])
        gateway = gateway or str(credentials.get("gateway", ""))
    if not key:
        raise SystemExit(
            f"give the partner's API key: {KEY_ENV}=…, --key-file FILE, or --demo-partner CODE"
        )
    return Caller(gateway or "http://127.0.0.1:4000/graphql", key, args.purpose, args.end_user)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export",
        help="page a query through the gateway into a CSV or Parquet file",
        description=(
            "Runs a query with one connection (people or households) page by page through "
            "the gateway as your partner, flattening each node into a row: columns are the "
            "fields you select, named by their path (idpoor.level). The query declares "
            "$first and $after (and $area when you give --area)."
        ),
    )
    export.add_argument("--query", type=Path, required=True, help="the .graphql file")
    export.add_argument("--area", help="passed as $area: a province, district, commune or village")
    export.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="another variable"
    )
    export.add_argument("--format", choices=("csv", "parquet"), default="csv")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument(
        "--lists",
        choices=("json", "rows"),
        default="json",
        help="a list field as one JSON column (json), or one row per element (rows)",
    )
    export.add_argument("--page-size", type=int, default=1000)
    export.add_argument("--resume", action="store_true", help="continue an interrupted export")
    export.add_argument(
        "--strict", action="store_true", help="stop at the first field an operator left null"
    )
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    add_caller_arguments(export)
    export.set_defaults(func=export_command)


def export_command(args: argparse.Namespace) -> int:
    caller = caller_from_args(args)
    try:
        text = args.query.read_text(encoding="utf-8")
    except OSError as error:
        raise SystemExit(f"cannot read --query {args.query}: {error.strerror}") from None
    variables: dict[str, Any] = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--var {item!r}: write NAME=VALUE")
        variables[name] = value
    if args.area:
        variables["area"] = args.area
    if not 1 <= args.page_size <= 10000:
        raise SystemExit("--page-size: give 1 to 10000 people a page")
    try:
        return asyncio.run(_export(caller, text, variables, args))
    except (ExportQueryError, ExportFileError) as error:
        print(f"tonle export: {error}", file=sys.stderr)
        return 2
    except GatewayRefused as error:
        print(f"tonle export: the gateway refused: {error}", file=sys.stderr)
        return 1


async def _export(
    caller: Caller, text: str, variables: dict[str, Any], args: argparse.Namespace
) -> int:
    async with GatewayClient(caller) as client:
        query = await prepare_export(client, text, variables, args.lists)
        request = ExportRequest(
            query, variables, args.out, args.format, args.page_size, args.resume, args.strict
        )
        if args.quiet or not sys.stderr.isatty():
            progress = await run_export(client, request, _plain_progress(args.quiet))
        else:
            progress = await _with_bar(client, request)
    print(
        f"{args.out}: {progress.rows} rows from {progress.nodes} nodes in {progress.pages} pages",
        file=sys.stderr,
    )
    for code, count in sorted(progress.errors.items()):
        print(f"  {count} fields left null: {code}", file=sys.stderr)
    return 0


def _plain_progress(quiet: bool) -> Any:
    def report(progress: Progress) -> None:
        if quiet:
            return
        total = f"/{progress.total}" if progress.total is not None else ""
        print(
            f"page {progress.pages}: {progress.nodes}{total} nodes, {progress.rate:.0f}/s",
            file=sys.stderr,
            flush=True,
        )

    return report


async def _with_bar(client: GatewayClient, request: ExportRequest) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as Bar,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f}/s"),
        TimeRemainingColumn(),
    )
    with Bar(*columns, transient=False) as bar:
        task = bar.add_task(f"export {request.out.name}", total=None, rate=0.0)

        def report(progress: Progress) -> None:
            bar.update(task, completed=progress.nodes, total=progress.total, rate=progress.rate)

        return await run_export(client, request, report)
