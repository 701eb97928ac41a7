"""The consolidated view at the design's scale, on the demo: 10,000 people with all four
operators' fields in one request, and a province of 200,000 people streamed page by page.

    make bench-consolidated                 # or: python -m bench.consolidated
    BENCH_RUNS=3 BENCH_BASELINE=0 make bench-consolidated   # quicker, no baseline

1. Seeds a demo data directory (``bench/consolidated/.work/``, kept between runs) with
   ``BENCH_PEOPLE`` people (200,000) living in province ``BENCH_PROVINCE`` (21, Takeo):
   the registry in bulk, each operator's sandbox from the same population.
2. Starts ``tonle demo`` on it — every part a process of its own, the operators'
   sandboxes at their default latency and batch size — and asks, as the registry's staff
   (the demo partner allowed every operator's fields), ``people(provinceCode:, first:
   10000)`` with ``idpoor``, ``nssf``, ``pcaPayments`` and ``khmerIdVerification``
   (the demo's own consolidated query), ``BENCH_RUNS`` times after one warm-up; each
   answer is checked (10,000 people, every field there, no error) and the operators'
   calls are counted from the operator subgraphs' ``tonle_operator_requests_total``.
3. Streams the whole province as the analysts (``nspc``, statistics: pseudonyms, places to
   the commune, IDPoor, NSSF and PCA — an analyst's agreement has no identity
   verification) in pages of 10,000 with cursors, and checks that every person came
   once and ``totalCount`` agrees.
4. Unless ``BENCH_BASELINE=0``, starts the demo again with ``TONLE_SUBGRAPH_FAST_PATH=0``
   (the subgraphs complete lists through graphql-core field by field, as before the
   column path) and measures the same request and the first ``BENCH_BASELINE_PAGES``
   pages of the stream, for the figures side by side.

Prints seconds, people/s and calls per operator, then PASS or FAIL for each target of
issue 12: the 10,000-person request in 2 s or less (the median of the runs), one batch call
per operator per batch of ``TONLE_<OPERATOR>_MAX_BATCH`` people, the stream at 5,000
people/s or more. Exit status 1 when a target fails or an answer is wrong.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.consolidated.seed import seed, seeded

HERE = Path(__file__).resolve().parent
PEOPLE = int(os.environ.get("BENCH_PEOPLE", "200000"))
PROVINCE = os.environ.get("BENCH_PROVINCE", "21")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BASELINE = os.environ.get("BENCH_BASELINE", "1") != "0"
BASELINE_RUNS = int(os.environ.get("BENCH_BASELINE_RUNS", "3"))
BASELINE_PAGES = int(os.environ.get("BENCH_BASELINE_PAGES", "5"))
PORT = int(os.environ.get("BENCH_PORT", "4700"))
DATA = Path(os.environ.get("BENCH_DATA", str(HERE / ".work" / "data")))
SEED = 20261124
PAGE = 10_000
OPERATORS = ("idpoor", "nssf", "pca", "moi")
TARGET_SECONDS = 2.0
TARGET_RATE = 5_000.0

CONSOLIDATED = """query Consolidated($p: String!) {
  people(provinceCode: $p, first: 10000) {
    edges { node {
      spid familyName
      idpoor { level }
      nssf { status schemes }
      pcaPayments { programme period amountKhr }
      khmerIdVerification { result }
    } }
  }
}"""
STREAM = """query Stream($p: String!, $after: String, $count: Boolean!) {
  people(provinceCode: $p, first: 10000, after: $after) {
    totalCount @include(if: $count)
    pageInfo { hasNextPage endCursor }
    edges { node {
      spid sex birthDate villageCode
      idpoor { level }
      nssf { status schemes }
      pcaPayments { programme period amountKhr }
    } }
  }
}"""


class WrongAnswer(Exception):
    """The demo answered something other than the benchmark expects."""


@dataclass
class Figures:
    """What one configuration (fast path on or off) measured."""

    label: str
    seconds: list[float] = field(default_factory=list)
    calls: list[dict[str, int]] = field(default_factory=list)
    expected_calls: list[dict[str, int]] = field(default_factory=list)
    fetches: list[dict[str, int]] = field(default_factory=list)
    stream_people: int = 0
    stream_seconds: float = 0.0
    stream_pages: int = 0
    stream_complete: bool = False

    @property
    def rate(self) -> float:
        return self.stream_people / self.stream_seconds if self.stream_seconds else 0.0


class Demo:
    """``tonle demo`` on the benchmark's data directory, as a child process group."""

    def __init__(self, port: int, fast_path: bool) -> None:
        self.port = port
        self.fast_path = fast_path
        self.process: subprocess.Popen[bytes] | None = None
        self.log = DATA.parent / ("demo.log" if fast_path else "demo-baseline.log")
        self.credentials: dict[str, Any] = {}

    def start(self) -> None:
        env = {**os.environ, "TONLE_SUBGRAPH_FAST_PATH": "1" if self.fast_path else "0"}
        # Output to a file, never a pipe nobody reads (a full pipe stops every part).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tonle.cli", "demo", "--data-dir", str(DATA),
             "--port", str(self.port)],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 300
        while "Ctrl-C stops everything" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                print(self.log.read_text(), file=sys.stderr)
                raise RuntimeError("the demo did not start (its output is above)")
            time.sleep(0.5)
        self.credentials = json.loads((DATA / "demo-credentials.json").read_text())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def gateway(self) -> str:
        return str(self.credentials["gateway"])

    def key(self, partner: str) -> str:
        return str(self.credentials["partners"][partner]["api_key"])

    def url_of(self, process: str) -> str:
        return str(self.credentials["operations"]["processes"][process]["url"])


async def metric(
    session: aiohttp.ClientSession, url: str, token: str, name: str, label: str
) -> dict[str, int]:
    """``name{label="..."}`` counters of one process's /metrics, by label value."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(url + "/metrics", headers=headers) as response:
        text = await response.text()
    found: dict[str, int] = {}
    for match in re.finditer(rf'^{name}{{[^}}]*{label}="([^"]+)"[^}}]*}} ([0-9.e+]+)$', text, re.M):
        found[match.group(1)] = int(float(match.group(2)))
    return found


async def operator_calls(session: aiohttp.ClientSession, demo: Demo) -> dict[str, int]:
    token = demo.credentials["operations"]["metrics_token"]
    calls: dict[str, int] = {}
    for name in OPERATORS:
        counted = await metric(
            session,
            demo.url_of(f"{name} subgraph"),
            token,
            "tonle_operator_requests_total",
            "operator",
        )
        calls[name] = counted.get(name, 0)
    return calls


async def gateway_fetches(session: aiohttp.ClientSession, demo: Demo) -> dict[str, int]:
    token = demo.credentials["operations"]["metrics_token"]
    return await metric(
        session, demo.gateway.removesuffix("/graphql"), token,
        "tonle_subgraph_requests_total", "subgraph",
    )  # fmt: skip


async def ask(
    session: aiohttp.ClientSession,
    demo: Demo,
    partner: str,
    purpose: str,
    query: str,
    variables: dict[str, Any],
) -> tuple[float, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {demo.key(partner)}", "X-Purpose": purpose}
    started = time.perf_counter()
    async with session.post(
        demo.gateway, json={"query": query, "variables": variables}, headers=headers
    ) as response:
        body = await response.json()
    elapsed = time.perf_counter() - started
    if response.status != 200 or body.get("errors"):
        raise WrongAnswer(f"HTTP {response.status}: {json.dumps(body.get('errors'))[:600]}")
    return elapsed, body


def max_batch(operator: str) -> int:
    return int(os.environ.get(f"TONLE_{operator.upper()}_MAX_BATCH") or "100")


def check_consolidated(body: dict[str, Any]) -> dict[str, int]:
    """The answer holds 10,000 people with every field; the calls each operator owes."""
    nodes = [edge["node"] for edge in body["data"]["people"]["edges"]]
    if len(nodes) != PAGE or len({n["spid"] for n in nodes}) != PAGE:
        raise WrongAnswer(f"{len(nodes)} people in the answer, not {PAGE} different ones")
    wanted = ("idpoor", "nssf", "pcaPayments", "khmerIdVerification")
    for node in nodes:
        if any(name not in node for name in wanted) or node["pcaPayments"] is None:
            raise WrongAnswer(f"a person without every operator's field: {sorted(node)}")
        if node["khmerIdVerification"] is None:
            raise WrongAnswer("a null khmerIdVerification: MoI did not answer")
    verified = sum(1 for n in nodes if n["khmerIdVerification"]["result"] != "NO_KHMER_ID")
    owed = {name: math.ceil(PAGE / max_batch(name)) for name in ("idpoor", "nssf", "pca")}
    owed["moi"] = math.ceil(verified / max_batch("moi"))
    return owed


async def measure(demo: Demo, figures: Figures, runs: int, pages: int | None) -> None:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        variables = {"p": PROVINCE}
        await ask(session, demo, "registry", "grievance", CONSOLIDATED, variables)  # warm-up
        for run in range(runs):
            calls_before = await operator_calls(session, demo)
            fetches_before = await gateway_fetches(session, demo)
            seconds, body = await ask(
                session, demo, "registry", "grievance", CONSOLIDATED, variables
            )
            calls_after = await operator_calls(session, demo)
            fetches_after = await gateway_fetches(session, demo)
            owed = check_consolidated(body)
            calls = {name: calls_after[name] - calls_before[name] for name in OPERATORS}
            fetched = {k: v - fetches_before.get(k, 0) for k, v in fetches_after.items()}
            figures.seconds.append(seconds)
            figures.calls.append(calls)
            figures.expected_calls.append(owed)
            figures.fetches.append({k: v for k, v in fetched.items() if v})
            print(
                f"  {figures.label}: run {run + 1}: {seconds:.2f} s, "
                f"{PAGE / seconds:,.0f} people/s; operator calls "
                + ", ".join(f"{n} {calls[n]} (owed {owed[n]})" for n in OPERATORS),
                flush=True,
            )
        await stream(session, demo, figures, pages)


async def stream(
    session: aiohttp.ClientSession, demo: Demo, figures: Figures, pages: int | None
) -> None:
    seen: set[str] = set()
    total: int | None = None
    after: str | None = None
    started = time.perf_counter()
    while pages is None or figures.stream_pages < pages:
        variables = {"p": PROVINCE, "after": after, "count": after is None}
        _, body = await ask(session, demo, "nspc", "statistics", STREAM, variables)
        page = body["data"]["people"]
        if after is None:
            total = page["totalCount"]
        for edge in page["edges"]:
            spid = edge["node"]["spid"]
            if spid in seen:
                raise WrongAnswer("a person came twice in the stream")
            seen.add(spid)
        figures.stream_pages += 1
        figures.stream_people = len(seen)
        figures.stream_seconds = time.perf_counter() - started
        print(
            f"  {figures.label}: stream page {figures.stream_pages}: {len(seen):,} people, "
            f"{figures.rate:,.0f} people/s",
            flush=True,
        )
        if not page["pageInfo"]["hasNextPage"]:
            figures.stream_complete = True
            break
        after = page["pageInfo"]["endCursor"]
    if figures.stream_complete and len(seen) != total:
        raise WrongAnswer(f"the stream held {len(seen)} people; totalCount said {total}")


def run_configuration(fast_path: bool) -> Figures:
    figures = Figures("fast path" if fast_path else "baseline (TONLE_SUBGRAPH_FAST_PATH=0)")
    demo = Demo(PORT, fast_path)
    print(f"\nStarting the demo ({figures.label}) on port {PORT}…", flush=True)
    demo.start()
    try:
        if fast_path:
            asyncio.run(measure(demo, figures, RUNS, None))
        else:
            asyncio.run(measure(demo, figures, BASELINE_RUNS, BASELINE_PAGES))
    finally:
        demo.stop()
    return figures


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} s (range {min(values):.2f}-{max(values):.2f})"


def report(fast: Figures, baseline: Figures | None) -> int:
    print(f"\nConsolidated view, {PEOPLE:,} people in province {PROVINCE}, {os.cpu_count()} cores")
    print(f"{'':<40}{'10,000 people, 4 operators':>34}{'stream (people/s)':>20}")
    for figures in (fast, baseline):
        if figures is None:
            continue
        streamed = f"{figures.rate:,.0f}" + ("" if figures.stream_complete else "*")
        print(f"{figures.label:<40}{spread(figures.seconds):>34}{streamed:>20}")
    if baseline is not None and baseline.seconds and fast.seconds:
        ratio = statistics.median(baseline.seconds) / statistics.median(fast.seconds)
        rate_ratio = fast.rate / baseline.rate if baseline.rate else 0.0
        print(f"ratio: {ratio:.1f}x faster request, {rate_ratio:.1f}x the stream rate")
        if not baseline.stream_complete:
            print(f"* the baseline streamed its first {baseline.stream_pages} pages only")
    fetches = fast.fetches[-1] if fast.fetches else {}
    print(
        "gateway fetches per request: " + ", ".join(f"{k} {v}" for k, v in sorted(fetches.items()))
    )
    calls_ok = all(c == o for c, o in zip(fast.calls, fast.expected_calls, strict=True))
    last = fast.calls[-1] if fast.calls else {}
    owed = fast.expected_calls[-1] if fast.expected_calls else {}
    print(
        "operator calls per request: "
        + ", ".join(f"{n} {last.get(n)} (owed {owed.get(n)})" for n in OPERATORS)
    )
    median = statistics.median(fast.seconds) if fast.seconds else math.inf
    verdicts = [
        (median <= TARGET_SECONDS, f"10,000 people with all four operators' fields: median "
         f"{median:.2f} s, target {TARGET_SECONDS:g} s or less"),
        (calls_ok, "one batch call per operator per batch of people (every run)"),
        (fast.stream_complete and fast.rate >= TARGET_RATE, f"province of {fast.stream_people:,} "
         f"people streamed at {fast.rate:,.0f} people/s, target {TARGET_RATE:,.0f} or more"),
    ]  # fmt: skip
    for ok, what in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}: {what}")
    return 0 if all(ok for ok, _ in verdicts) else 1


def main() -> int:
    print(f"bench.consolidated: {PEOPLE:,} people in province {PROVINCE}, data in {DATA}")
    if seeded(DATA, PEOPLE, PROVINCE, SEED):
        print("Reusing the seeded data directory.")
    else:
        print("Seeding (once; kept for later runs)…", flush=True)
        took = asyncio.run(seed(DATA, PEOPLE, PROVINCE, SEED))
        print(f"Seeded in {took:.0f} s.")
    try:
        fast = run_configuration(True)
        baseline = run_configuration(False) if BASELINE else None
    except WrongAnswer as error:
        print(f"FAILED: wrong answer: {error}", file=sys.stderr)
        return 1
    return report(fast, baseline)


if __name__ == "__main__":
    sys.exit(main())
