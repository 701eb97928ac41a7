"""The access log for auditors (``/access-log``): who saw this person, a partner's or a
purpose's requests in chosen days, the daily volume as a chart, the chain's state (and a
full verification on request), and the search as CSV (``/access-log.csv``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from policies.audit import InvalidAccessCursor, public_key_from_env
from policies.console.accesslog import (
    MAX_DAYS,
    Search,
    chain_state,
    csv_lines,
    daily_volume,
    every_match,
    find,
    read_search,
    verify_chain,
    volume_chart,
    volume_series,
)
from policies.console.auth import requires
from policies.console.preview import ADMIN_PREFIX
from policies.console.rendering import NO_STORE, render
from policies.console.state import console, url
from policies.console.trail import record

NAV = ("Access log", "/access-log", 60)
NAV_ROLES = ("auditor",)
PAGE = 50
CHART_DAYS = 30


def chart_window(search: Search, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days the chart covers: the search's, at most a year, else the last 30."""
    until = min(search.until or today, today)
    since = search.since or until - dt.timedelta(days=CHART_DAYS - 1)
    if since > until:
        since = until
    if (until - since).days >= MAX_DAYS:
        since = until - dt.timedelta(days=MAX_DAYS - 1)
    return since, until


@requires("auditor")
async def access_log_page(request: Request) -> Response:
    sessions = console(request).sessions
    search, problems = read_search(request.query_params)
    try:
        page = await find(sessions, search, first=PAGE, after=request.query_params.get("after"))
    except InvalidAccessCursor:
        problems.append("That page link is not one of this log's; showing the newest records.")
        page = await find(sessions, search, first=PAGE)
    since, until = chart_window(search, dt.datetime.now(dt.UTC).date())
    days, series = volume_series(await daily_volume(sessions, since, until, search), since, until)
    report = None
    if request.query_params.get("verify") == "1":
        key = public_key_from_env()
        report = await verify_chain(sessions, [key] if key else [])
        await record(
            request,
            "access_log_verify",
            "access log",
            {"intact": report.intact, "records": report.records, "findings": report.total_findings},
        )
    params = search.params()
    return render(
        request,
        "access_log.html",
        title="Access log",
        search=search,
        problems=problems,
        page=page,
        next_link=url(request, "/access-log?" + urlencode({**params, "after": page.end_cursor}))
        if page.has_next_page and page.end_cursor
        else None,
        csv_link=url(request, "/access-log.csv" + ("?" + urlencode(params) if params else "")),
        verify_link=url(request, "/access-log?" + urlencode({**params, "verify": "1"})),
        chart=volume_chart(days, series),
        days=days,
        series=series,
        state=await chain_state(sessions),
        report=report,
        key_known=public_key_from_env() is not None,
        admin_prefix=ADMIN_PREFIX,
    )


@requires("auditor")
async def access_log_csv(request: Request) -> Response:
    sessions = console(request).sessions
    search, _ = read_search(request.query_params)
    params = search.params()
    # The search, without the person it was about: the trail names no registered person.
    said = {k: v for k, v in params.items() if k != "subject"}
    if search.subject:
        said["for_one"] = search.kind
    await record(request, "access_log_export", "access log", said)

    async def lines() -> AsyncIterator[str]:
        yield next(csv_lines(()))
        async for access in every_match(sessions, search):
            for line in csv_lines((access,), header=False):
                yield line

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="access-log-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )


routes: list[BaseRoute] = [
    Route("/access-log", access_log_page, methods=["GET"]),
    Route("/access-log.csv", access_log_csv, methods=["GET"]),
]
