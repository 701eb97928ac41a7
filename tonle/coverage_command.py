"""``tonle coverage``: a coverage report of an area, counted through the gateway as the analyst.

    tonle coverage --area 12 --period 2026-10 --by district --out report/ --demo-partner nspc

Writes CSV and Parquet tables, PNG and SVG charts and one self-contained HTML report, every
figure suppressed below 10 (docs/analysts.md). Credentials as for ``tonle export``:
``TONLE_API_KEY``, ``--key-file FILE`` or ``--demo-partner CODE``, never on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from analysts.coverage import BREAKDOWNS, CoverageError, CoverageReport
from analysts.coverage_files import write_report
from analysts.coverage_run import PAGE_SIZE, count_coverage
from analysts.export import Progress
from analysts.gateway_client import Caller, GatewayClient, GatewayRefused
from tonle.export_command import add_caller_arguments, caller_from_args


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    coverage = sub.add_parser(
        "coverage",
        help="a coverage report of an area: tables, charts and an HTML report",
        description=(
            "Counts, per area, people registered, in IDPoor households by level, active in "
            "NSSF by scheme, paid by PCA in the period by programme, and their overlaps, "
            "fetched page by page through the gateway as your partner. No figure under 10 "
            "is shown (docs/analysts.md)."
        ),
    )
    coverage.add_argument("--area", required=True, help="a province, district, commune or village")
    coverage.add_argument("--period", required=True, help="the month of payments, YYYY-MM")
    coverage.add_argument("--by", choices=BREAKDOWNS, help="one row per district, commune, ...")
    coverage.add_argument("--out", type=Path, required=True, help="the directory to write into")
    coverage.add_argument("--page-size", type=int, default=PAGE_SIZE)
    coverage.add_argument("--quiet", action="store_true", help="no progress bar")
    add_caller_arguments(coverage)
    coverage.set_defaults(func=coverage_command)


def coverage_command(args: argparse.Namespace) -> int:
    caller = caller_from_args(args)
    if not 1 <= args.page_size <= 10000:
        raise SystemExit("--page-size: give 1 to 10000 people a page")
    try:
        written = asyncio.run(_coverage(caller, args))
    except CoverageError as error:
        print(f"tonle coverage: {error}", file=sys.stderr)
        return 2
    except GatewayRefused as error:
        print(f"tonle coverage: the gateway refused: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} files; open {args.out / 'coverage.html'}", file=sys.stderr)
    return 0


async def _coverage(caller: Caller, args: argparse.Namespace) -> tuple[Path, ...]:
    async with GatewayClient(caller) as client:
        if args.quiet or not sys.stderr.isatty():
            counts = await count_coverage(
                client, args.area, args.period, args.by, page_size=args.page_size
            )
            report = counts.publish()
        else:
            report = await _with_bar(client, args)
    return write_report(report, args.out).files


async def _with_bar(client: GatewayClient, args: argparse.Namespace) -> CoverageReport:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f} people/s"),
        TimeRemainingColumn(),
    )
    with Bar(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"coverage of {args.area}", total=None, rate=0.0)

        def report(progress: Progress) -> None:
            bar.update(task, completed=progress.nodes, total=progress.total, rate=progress.rate)

        counts = await count_coverage(
            client, args.area, args.period, args.by, page_size=args.page_size, on_page=report
        )
    return counts.publish()
