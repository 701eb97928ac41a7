"""The analyst page (``/analyst``) and its HTTP API: export and coverage jobs for a partner key.

Every API request carries the analyst partner's own credentials (``Authorization: Bearer``,
``X-Purpose``, optionally ``X-Tonle-End-User``), which the jobs use to ask the gateway: the
partner's agreement decides what a job may read, and the gateway's access log records each
page. Nothing here holds a key beyond the job that uses it, and no cookie is set, so no other
site can start a job in an analyst's name (no ambient credential to ride on). The page keeps
the key in the tab's session storage, the way the explorer does.

    POST /api/exports   {"query": "...", "area": "12", "format": "csv"|"parquet",
                         "lists": "json"|"rows", "variables": {...}}        -> 202 job
    POST /api/coverage  {"area": "12", "period": "2026-10", "by": "commune"} -> 202 job
    GET  /api/jobs/ID                  -> the job: status, progress, files
    GET  /api/jobs/ID/files/NAME       -> one of its files
    GET  /api/areas?parent=CODE        -> the gazetteer's areas under CODE (provinces without)
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from analysts.areas import children_of
from analysts.coverage import CoverageError, CoverageReport
from analysts.coverage_files import WrittenReport, write_report
from analysts.coverage_run import count_coverage
from analysts.export import ExportRequest, Progress, prepare_export, run_export
from analysts.export_query import ExportQueryError
from analysts.gateway_client import Caller, GatewayClient, GatewayRefused
from analysts.jobs import Job, JobRefused, Jobs, owner_of
from analysts.sinks import ExportFileError

HERE = Path(__file__).parent
MAX_QUERY_BYTES = 64 * 1024
AREA = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{2})?)?)?$")
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TOLD = (GatewayRefused, ExportQueryError, ExportFileError, CoverageError)

# matplotlib's pyplot keeps global state: one report is drawn at a time.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class AnalystConfig:
    """Where the gateway is, where job files go, and how long they stay."""

    gateway_url: str  # the gateway's /graphql
    jobs_dir: Path
    keep_s: float = 3600.0
    per_key: int = 2
    # The most one job may write: with per_key jobs at once, what one key can fill the disk with.
    max_job_bytes: int = 2 * 1024**3


def create_analyst_app(config: AnalystConfig) -> Starlette:
    """The analyst page and API, to serve alone or mount at ``/analyst``."""
    jobs = Jobs(config.jobs_dir, told=TOLD, per_owner=config.per_key, keep_s=config.keep_s)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await jobs.close()

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/api/areas", areas),
            Route("/api/exports", start_export, methods=["POST"]),
            Route("/api/coverage", start_coverage, methods=["POST"]),
            Route("/api/jobs/{job_id}", job_status),
            Route("/api/jobs/{job_id}/files/{name}", job_file),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.analysts = config
    app.state.jobs = jobs
    return app


async def page(request: Request) -> Response:
    html = (HERE / "templates" / "analyst.html").read_text(encoding="utf-8")
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'self'; style-src 'self'; "
                "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def areas(request: Request) -> Response:
    parent = request.query_params.get("parent") or None
    if parent is not None and not AREA.fullmatch(parent):
        return problem(400, "parent: give a province (2 digits), district (4) or commune (6) code")
    return JSONResponse({"areas": [a.__dict__ for a in children_of(parent)]})


def problem(status: int, message: str, code: str = "BAD_REQUEST") -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def caller_of(request: Request) -> Caller | JSONResponse:
    """The partner the request speaks for, or the answer that says what is missing."""
    config: AnalystConfig = request.app.state.analysts
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else request.headers.get("x-api-key", "")
    if not key:
        return problem(
            401, "send your partner API key: Authorization: Bearer <key>", "UNAUTHENTICATED"
        )
    purpose = request.headers.get("x-purpose", "").strip()
    if not purpose:
        return problem(400, "send the purpose of this work: X-Purpose (e.g. statistics)")
    end_user = request.headers.get("x-tonle-end-user") or None
    return Caller(config.gateway_url, key, purpose, end_user)


async def body_of(request: Request) -> dict[str, Any] | JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_QUERY_BYTES:
        return problem(413, f"the request is over {MAX_QUERY_BYTES // 1024} KiB")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return problem(400, "send a JSON object (Content-Type: application/json)")
    if not isinstance(body, dict):
        return problem(400, "send a JSON object")
    return body


async def asked(request: Request) -> tuple[Caller, dict[str, Any]] | JSONResponse:
    """Who asks and what they sent, or the answer that says what is wrong with it."""
    caller = caller_of(request)
    if isinstance(caller, JSONResponse):
        return caller
    body = await body_of(request)
    return body if isinstance(body, JSONResponse) else (caller, body)


async def start_export(request: Request) -> Response:
    got = await asked(request)
    if isinstance(got, JSONResponse):
        return got
    caller, body = got
    text = body.get("query")
    fmt = body.get("format", "csv")
    lists = body.get("lists", "json")
    variables = body.get("variables") or {}
    area = body.get("area")
    if not isinstance(text, str) or not text.strip():
        return problem(400, "query: give the GraphQL query to export")
    if fmt not in ("csv", "parquet") or lists not in ("json", "rows"):
        return problem(400, "format is csv or parquet; lists is json or rows")
    if not isinstance(variables, dict):
        return problem(400, "variables: give a JSON object")
    if area is not None:
        if not isinstance(area, str) or not AREA.fullmatch(area):
            return problem(400, "area: a gazetteer code of 2, 4, 6 or 8 digits")
        variables = {**variables, "area": area}
    page_size = body.get("pageSize", 1000)
    if not isinstance(page_size, int) or not 1 <= page_size <= 10000:
        return problem(400, "pageSize: 1 to 10000")

    async def work(job: Job) -> dict[str, Path]:
        out = job.directory / f"export.{fmt}"
        cap = request.app.state.analysts.max_job_bytes

        def update(progress: Progress) -> None:
            job.progress.update(progress_view(progress))
            written = job.written_bytes()
            if written > cap:
                raise ExportFileError(
                    f"the export passed {_size(cap)} after {progress.nodes} rows and was "
                    "stopped: narrow it (an area, fewer fields) or run tonle export, which "
                    "writes to your own disk"
                )

        async with GatewayClient(caller) as client:
            query = await prepare_export(client, text, variables, lists)
            export = ExportRequest(query, variables, out, fmt, page_size)
            await run_export(client, export, update)
        return {out.name: out}

    return started(request, caller, "export", work)


async def start_coverage(request: Request) -> Response:
    got = await asked(request)
    if isinstance(got, JSONResponse):
        return got
    caller, body = got
    area, period, by = body.get("area"), body.get("period"), body.get("by") or None
    if not isinstance(area, str) or not AREA.fullmatch(area):
        return problem(400, "area: a gazetteer code of 2, 4, 6 or 8 digits")
    if not isinstance(period, str) or not PERIOD.fullmatch(period):
        return problem(400, "period: a month as YYYY-MM, e.g. 2026-10")
    if by not in (None, "district", "commune", "village"):
        return problem(400, "by: district, commune or village (or leave it out)")

    async def work(job: Job) -> dict[str, Path]:
        def update(progress: Progress) -> None:
            job.progress.update(progress_view(progress))

        async with GatewayClient(caller) as client:
            counts = await count_coverage(client, area, period, by, on_page=update)
        report = counts.publish()
        written = await asyncio.to_thread(_draw, report, job.directory)
        return {path.name: path for path in written.files}

    return started(request, caller, "coverage", work)


def _draw(report: CoverageReport, directory: Path) -> WrittenReport:
    with _DRAWING:
        return write_report(report, directory)


def started(
    request: Request, caller: Caller, kind: str, work: Callable[[Job], Awaitable[dict[str, Path]]]
) -> Response:
    jobs: Jobs = request.app.state.jobs
    try:
        job = jobs.start(owner_of(caller.key), kind, work)
    except JobRefused as error:
        return problem(429, str(error), "TOO_MANY_JOBS")
    location = request.url.path.rsplit("/", 1)[0] + f"/jobs/{job.id}"
    return JSONResponse(job.view(), status_code=202, headers={"Location": location})


def _size(count: int) -> str:
    return f"{count / 1024**2:.0f} MiB" if count >= 1024**2 else f"{count / 1024:.0f} KiB"


def progress_view(progress: Progress) -> dict[str, Any]:
    return {
        "pages": progress.pages,
        "nodes": progress.nodes,
        "rows": progress.rows,
        "total": progress.total,
        "rate": round(progress.rate, 1),
        "secondsLeft": None if progress.seconds_left is None else round(progress.seconds_left),
        "nullFields": dict(progress.errors),
    }


def own_job(request: Request) -> Job | JSONResponse:
    caller = caller_of(request)
    if isinstance(caller, JSONResponse):
        return caller
    jobs: Jobs = request.app.state.jobs
    job = jobs.get(request.path_params["job_id"], owner_of(caller.key))
    if job is None:
        return problem(
            404, "no such job for this key (jobs end an hour after they finish)", "NOT_FOUND"
        )
    return job


async def job_status(request: Request) -> Response:
    job = own_job(request)
    return job if isinstance(job, JSONResponse) else JSONResponse(job.view())


async def job_file(request: Request) -> Response:
    job = own_job(request)
    if isinstance(job, JSONResponse):
        return job
    path = job.files.get(request.path_params["name"])
    if path is None:
        return problem(404, f"the job has no file {request.path_params['name']!r}", "NOT_FOUND")
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})
