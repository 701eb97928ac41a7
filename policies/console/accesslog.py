"""The access log as an auditor reads it in the console: a search (who saw this person, a
partner, a purpose, days), the daily volume per partner and purpose as a chart, the state
of the chain and its signed checkpoints, and the search as CSV.

Partners write some of what the log holds (their end users' names, their operations'
names), so the CSV defuses cells a spreadsheet would run as a formula, and the chart
escapes every label it draws. Nothing here shows another person's ID: a record is shown
by what it was (who, why, when, which fields), never by the other people it returned.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from policies.audit import (
    HOUSEHOLD,
    MAX_PAGE_SIZE,
    PERSON,
    AccessPage,
    AccessSummary,
    VerifyReport,
    search_accesses,
    verify,
)
from policies.audit.records import utc
from policies.models import AccessCheckpoint, AccessRecord
from policies.repository import Sessions

_LOG = AccessRecord.metadata.tables["access_log"]
_CHECKPOINTS = AccessCheckpoint.metadata.tables["access_checkpoint"]
_SUBJECT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_CODE = re.compile(r"^[a-z][a-z0-9_:.-]{0,63}$")  # partner codes, admin:<username>, purposes
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DAYS = 366
MAX_EXPORT = 100_000
MAX_SERIES = 8


@dataclass(frozen=True)
class Search:
    """What an auditor asks the log: any of a person or household, a partner, a purpose,
    and the days ``since`` to ``until`` (both included, UTC)."""

    subject: str | None = None
    kind: str = PERSON
    partner: str | None = None
    purpose: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def params(self) -> dict[str, str]:
        """The query string that asks this again (for links: the next page, the CSV)."""
        out = {
            "subject": self.subject or "",
            "kind": self.kind,
            "partner": self.partner or "",
            "purpose": self.purpose or "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in out.items() if v and not (k == "kind" and v == PERSON)}

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        since = dt.datetime.combine(self.since, dt.time(), dt.UTC) if self.since else None
        until = (
            dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.UTC)
            if self.until
            else None
        )
        return since, until


def read_search(params: Mapping[str, str]) -> tuple[Search, list[str]]:
    """The search a query string asks for, and what is wrong with it (ignored parts)."""
    problems: list[str] = []

    def text(name: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = (params.get(name) or "").strip()
        if not value:
            return None
        if not pattern.match(value):
            problems.append(f"{what} {value[:40]!r} is not one; it was left out of the search")
            return None
        return value

    def day(name: str, what: str) -> dt.date | None:
        value = (params.get(name) or "").strip()
        if not value:
            return None
        try:
            if not _DATE.match(value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            problems.append(f"{what} {value[:20]!r} is not a date written YYYY-MM-DD")
            return None

    kind = params.get("kind") or PERSON
    if kind not in (PERSON, HOUSEHOLD):
        problems.append("look for a person or a household")
        kind = PERSON
    search = Search(
        subject=text("subject", _SUBJECT, "SPID or household ID"),
        kind=kind,
        partner=text("partner", _CODE, "Partner"),
        purpose=text("purpose", _CODE, "Purpose"),
        since=day("since", "From"),
        until=day("until", "To"),
    )
    if search.since and search.until and search.until < search.since:
        problems.append("'to' is before 'from': nothing can match")
    return search, problems


async def find(
    sessions: Sessions, search: Search, *, first: int = 50, after: str | None = None
) -> AccessPage:
    """A page of the records the search matches, newest first."""
    since, until = search.bounds()
    return await search_accesses(
        sessions,
        partner=search.partner,
        purpose=search.purpose,
        since=since,
        until=until,
        subject=search.subject,
        kind=search.kind,
        first=first,
        after=after,
    )


async def every_match(
    sessions: Sessions, search: Search, *, limit: int = MAX_EXPORT
) -> AsyncIterator[AccessSummary]:
    """Every record the search matches (``limit`` at most), newest first, page by page."""
    after = None
    given = 0
    while given < limit:
        page = await find(sessions, search, first=min(MAX_PAGE_SIZE, limit - given), after=after)
        for access in page.accesses:
            yield access
        given += len(page.accesses)
        if not page.has_next_page:
            return
        after = page.end_cursor


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "seq",
    "at",
    "partner",
    "purpose",
    "end_user",
    "operation_name",
    "document_hash",
    "policy_version",
    "outcome",
    "fields",
)
# What a spreadsheet reads as the start of a formula (OWASP's list) once blanks are skipped.
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def csv_cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows as text: a cell that would start a formula
    (``=HYPERLINK(...)``, ``+1``, ``@SUM``) gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text[:1] in ("\t", "\r", "\n") or text.lstrip(" ")[:1] in _FORMULA:
        return "'" + text
    return text


def csv_lines(accesses: Iterable[AccessSummary], *, header: bool = True) -> Iterator[str]:
    """The header, then one CSV line per record (``fields`` joined with spaces)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Sequence[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(c) for c in cells])
        return buffer.getvalue()

    if header:
        yield line(CSV_COLUMNS)
    for a in accesses:
        yield line(
            (
                a.seq,
                a.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                a.partner,
                a.purpose,
                a.end_user,
                a.operation_name,
                a.document_hash,
                a.policy_version,
                a.outcome,
                " ".join(a.fields),
            )
        )


# -- daily volume ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyCount:
    day: dt.date
    partner: str
    purpose: str
    count: int


def _day(column: ColumnElement[dt.datetime], dialect: str) -> ColumnElement[str]:
    # The UTC day of a time: SQLite holds UTC text (YYYY-MM-DD HH:MM:SS...), PostgreSQL
    # a timestamptz whose day depends on the session's zone unless asked in UTC.
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)


async def daily_volume(
    sessions: Sessions, since: dt.date, until: dt.date, search: Search | None = None
) -> list[DailyCount]:
    """Requests a day per partner and purpose, from ``since`` to ``until`` (included)."""
    if (until - since).days >= MAX_DAYS or until < since:
        raise ValueError(f"a chart covers 1 to {MAX_DAYS} days")
    bind = sessions.kw.get("bind")
    dialect = bind.dialect.name if isinstance(bind, AsyncEngine) else "sqlite"
    c = _LOG.c
    day = _day(c.at, dialect).label("day")
    window = Search(
        partner=search.partner if search else None,
        purpose=search.purpose if search else None,
        since=since,
        until=until,
    )
    start, end = window.bounds()
    query = (
        select(day, c.partner, c.purpose, func.count())
        .where(c.at >= start, c.at < end)
        .group_by(day, c.partner, c.purpose)
    )
    if window.partner:
        query = query.where(c.partner == window.partner)
    if window.purpose:
        query = query.where(c.purpose == window.purpose)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return sorted(
        (
            DailyCount(dt.date.fromisoformat(d), partner, purpose, int(n))
            for d, partner, purpose, n in rows
        ),
        key=lambda x: (x.day, x.partner, x.purpose),
    )


@dataclass(frozen=True)
class Series:
    label: str
    counts: tuple[int, ...]  # one per day

    @property
    def total(self) -> int:
        return sum(self.counts)


def volume_series(
    counts: Iterable[DailyCount], since: dt.date, until: dt.date
) -> tuple[tuple[dt.date, ...], tuple[Series, ...]]:
    """The days, and one series per partner and purpose (the busiest first; past
    :data:`MAX_SERIES`, the rest summed as "others")."""
    days = tuple(since + dt.timedelta(days=i) for i in range((until - since).days + 1))
    index = {d: i for i, d in enumerate(days)}
    by_pair: dict[str, list[int]] = {}
    for count in counts:
        row = by_pair.setdefault(f"{count.partner} / {count.purpose}", [0] * len(days))
        if count.day in index:
            row[index[count.day]] += count.count
    ranked = sorted(by_pair.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    series = [Series(label, tuple(values)) for label, values in ranked[:MAX_SERIES]]
    rest = ranked[MAX_SERIES:]
    if rest:
        summed = [sum(values[i] for _, values in rest) for i in range(len(days))]
        series.append(Series(f"{len(rest)} others", tuple(summed)))
    return days, tuple(series)


# Distinct with and without colour: each series also has its own dash pattern.
_COLOURS = ("#0b5cad", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#4b5563")
_DASHES = ("", "6 3", "2 3", "8 3 2 3", "", "6 3", "2 3", "8 3 2 3", "1 2")


def volume_chart(days: Sequence[dt.date], series: Sequence[Series]) -> str:
    """The series as an inline SVG line chart (server-drawn; no script)."""
    width, height, left, right, top, bottom = 760, 240, 48, 12, 16, 36
    legend_top = height + 8
    total_height = legend_top + 18 * max(len(series), 1) + 8
    peak = max((max(s.counts) for s in series if s.counts), default=0)
    scale = _nice(peak)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: int) -> float:
        return top + plot_h - (v / scale) * plot_h if scale else top + plot_h

    title = "Requests a day per partner and purpose"
    if days:
        title += f", {days[0]} to {days[-1]} (UTC)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_height}" '
        f'width="100%" role="img" aria-labelledby="volume-title volume-desc" class="chart">',
        f'<title id="volume-title">{escape(title)}</title>',
        f'<desc id="volume-desc">{escape(_describe(series))}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{total_height}" fill="#fff"/>',
    ]
    for fraction in (0, 0.5, 1):
        value = round(scale * fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#d5dae3"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#5b6475">{value:,}</text>'
        )
    if days:
        for i in sorted({0, len(days) // 2, len(days) - 1}):
            anchor = "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="{anchor}" '
                f'font-size="11" fill="#5b6475">{days[i].isoformat()}</text>'
            )
    for n, one in enumerate(series):
        colour, dash = _COLOURS[n % len(_COLOURS)], _DASHES[n % len(_DASHES)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(one.counts))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
            f"{style}><title>{escape(one.label)}: {one.total:,} requests</title></polyline>"
        )
        ly = legend_top + 18 * n + 9
        parts.append(
            f'<line x1="{left}" x2="{left + 28}" y1="{ly}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"{style}/>'
            f'<text x="{left + 36}" y="{ly + 4}" font-size="12" fill="#1d2330">'
            f"{escape(one.label)} ({one.total:,})</text>"
        )
    if not series:
        parts.append(
            f'<text x="{width / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            'font-size="13" fill="#5b6475">No requests in these days.</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _nice(peak: int) -> int:
    """A round top for the axis, at or above ``peak``."""
    if peak <= 0:
        return 0
    magnitude: int = 10 ** (len(str(peak)) - 1)
    for factor in (1, 2, 5, 10):
        if peak <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _describe(series: Sequence[Series]) -> str:
    if not series:
        return "No requests in these days."
    return "; ".join(f"{s.label}: {s.total:,} requests" for s in series)


# -- chain and checkpoints -------------------------------------------------------------------


@dataclass(frozen=True)
class ChainState:
    """The log's tail as the database holds it (cheap: no hash is recomputed)."""

    records: int
    last_seq: int | None
    last_at: dt.datetime | None
    checkpoints: int
    last_checkpoint_seq: int | None
    last_checkpoint_at: dt.datetime | None
    last_checkpoint_key: str | None

    @property
    def unsigned(self) -> int:
        """Records after the last checkpoint (not yet vouched for by a signature)."""
        return (self.last_seq or 0) - (self.last_checkpoint_seq or 0)


async def chain_state(sessions: Sessions) -> ChainState:
    c, k = _LOG.c, _CHECKPOINTS.c
    async with sessions() as session:
        count, last_seq = (await session.execute(select(func.count(), func.max(c.seq)))).one()
        last_at = (
            await session.scalar(select(c.at).where(c.seq == last_seq))
            if last_seq is not None
            else None
        )
        checkpoints = await session.scalar(select(func.count()).select_from(_CHECKPOINTS))
        newest = (
            await session.execute(select(k.seq, k.at, k.key_id).order_by(k.seq.desc()).limit(1))
        ).first()
    return ChainState(
        records=int(count or 0),
        last_seq=last_seq,
        last_at=utc(last_at) if last_at else None,
        checkpoints=int(checkpoints or 0),
        last_checkpoint_seq=newest.seq if newest else None,
        last_checkpoint_at=utc(newest.at) if newest else None,
        last_checkpoint_key=newest.key_id if newest else None,
    )


async def verify_chain(sessions: Sessions, public_keys: Sequence[Ed25519PublicKey]) -> VerifyReport:
    """What ``tonle audit verify`` reports: every hash and every checkpoint checked."""
    return await verify(sessions, list(public_keys) or None)
