"""An export: page through the gateway as the analyst, flatten each page, write it, checkpoint.

Memory holds one page at a time. The gateway records every page in the access log under the
analyst's partner, as for any other request. Fields the analyst's agreement masks arrive
masked; a field an operator could not answer arrives null with an error, which is counted
and reported at the end (``--strict`` stops at the first instead).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import build_client_schema, get_introspection_query

from analysts.export_query import ExportQuery, ExportQueryError, ListMode, read_export_query
from analysts.flatten import rows_of
from analysts.gateway_client import GatewayClient, GatewayRefused
from analysts.sinks import Checkpoint, ExportFileError, Sink, open_sink


@dataclass
class Progress:
    """What an export has done so far, for a progress bar or a job's status."""

    pages: int = 0
    nodes: int = 0
    rows: int = 0
    total: int | None = None  # the connection's totalCount, when the schema has one
    started: float = field(default_factory=time.monotonic)
    errors: Counter[str] = field(default_factory=Counter)  # code -> fields left null
    resumed_from: int = 0  # nodes written before this run (a resumed export)

    @property
    def rate(self) -> float:
        """Nodes per second since this run started."""
        elapsed = time.monotonic() - self.started
        return (self.nodes - self.resumed_from) / elapsed if elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """At this rate, how long the rest takes (None without a total)."""
        if self.total is None or self.rate <= 0:
            return None
        return max(self.total - self.nodes, 0) / self.rate


@dataclass(frozen=True)
class ExportRequest:
    """An export as asked: the query, its variables, the file and how to write it."""

    query: ExportQuery
    variables: dict[str, Any]  # besides first/after: area, period, …
    out: Path
    format: str = "csv"
    page_size: int = 1000
    resume: bool = False
    strict: bool = False


async def prepare_export(
    client: GatewayClient, text: str, variables: dict[str, Any], lists: ListMode = "json"
) -> ExportQuery:
    """``text`` read against the schema the caller may see (asked of the gateway), with
    ``variables`` checked against what it declares."""
    introspection = await client.query(get_introspection_query(), {})
    schema = build_client_schema(introspection.data)  # type: ignore[arg-type]
    query = read_export_query(text, schema, lists)
    unknown = sorted(set(variables) - set(query.variables))
    if unknown:
        raise ExportQueryError(
            f"the query does not declare ${', $'.join(unknown)}; declare it or leave it out"
        )
    return query


async def run_export(
    client: GatewayClient,
    request: ExportRequest,
    on_page: Callable[[Progress], None] = lambda _: None,
) -> Progress:
    """Run ``request`` to the end (or from its checkpoint) and return what it did."""
    query, out = request.query, request.out
    asked = {**request.variables, "first": request.page_size}
    checkpoint = Checkpoint.read(out) if request.resume else None
    if request.resume and checkpoint is None:
        raise ExportFileError(f"there is no checkpoint beside {out}: nothing to resume")
    if checkpoint is not None:
        if checkpoint.digest != query.digest or checkpoint.variables != asked:
            raise ExportFileError(
                f"the checkpoint beside {out} belongs to another query or other variables; "
                "run it as it was started, or start again without --resume"
            )
        if checkpoint.format != request.format:
            raise ExportFileError(
                f"the checkpoint beside {out} is for {checkpoint.format}, not {request.format}"
            )
    elif not request.resume and Checkpoint.path_for(out).exists():
        raise ExportFileError(
            f"an interrupted export of {out} is waiting: add --resume to finish it, or "
            f"delete {Checkpoint.path_for(out)} to start again"
        )
    progress = Progress()
    cursor = None
    if checkpoint is not None:
        progress.pages, progress.nodes, progress.rows = (
            checkpoint.pages,
            checkpoint.nodes,
            checkpoint.rows,
        )
        progress.resumed_from = checkpoint.nodes
        cursor = checkpoint.cursor
    if checkpoint is not None and checkpoint.done:
        # Killed while putting the finished file in place: finish that, ask for nothing.
        if out.exists():
            shutil.rmtree(out.with_name(out.name + ".parts"), ignore_errors=True)
            Checkpoint.path_for(out).unlink(missing_ok=True)
            return progress
        return _finish(
            open_sink(out, request.format, query.columns, checkpoint.length), out, progress
        )
    sink = open_sink(out, request.format, query.columns, checkpoint.length if checkpoint else None)
    while True:
        answer = await client.query(query.document, {**asked, "after": cursor})
        for error in answer.errors:
            code = (error.get("extensions") or {}).get("code", "ERROR")
            if request.strict:
                raise GatewayRefused(code, str(error.get("message", "")))
            progress.errors[code] += 1
        connection = answer.data.get(query.connection)
        if not isinstance(connection, dict):
            raise GatewayRefused("BAD_ANSWER", f"{query.connection} came back null")
        nodes = _nodes(connection, query.node_path)
        rows = [row for node in nodes for row in rows_of(node, query.node)]
        sink.write(rows)
        page_info = connection.get(query.page_info) or {}
        cursor = page_info.get("endCursor") or cursor
        progress.pages += 1
        progress.nodes += len(nodes)
        progress.rows += len(rows)
        if query.total is not None and isinstance(connection.get(query.total), int):
            progress.total = connection[query.total]
        more = bool(page_info.get("hasNextPage")) and bool(nodes)
        Checkpoint(
            query.digest,
            asked,
            request.format,
            cursor,
            progress.pages,
            progress.nodes,
            progress.rows,
            sink.length(),
            done=not more,
        ).write(out)
        on_page(progress)
        if not more:
            return _finish(sink, out, progress)


def _finish(sink: Sink, out: Path, progress: Progress) -> Progress:
    sink.finish()
    Checkpoint.path_for(out).unlink(missing_ok=True)
    return progress


def _nodes(connection: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    if len(path) == 1:
        found = connection.get(path[0]) or []
        return list(found)
    edges = connection.get(path[0]) or []
    return [edge.get(path[1]) if isinstance(edge, dict) else None for edge in edges]
