"""Partners of every kind against the demo for a while, with operators failing.

    make bench-soak                      # or: python -m bench.soak
    BENCH_SOAK_SECONDS=60 make bench-soak  # or: python -m bench.soak --seconds 60

Starts `tonle demo` in a fresh data directory, then: MoI's system is down (an outage), PCA's
is slow (past its subgraph's timeout), IDPoor's flaps (half its answers fail), NSSF's is
healthy. Six partners ask what their agreements allow, each at a steady rate under its own
limits, while NSSF and IDPoor register the same new people concurrently (and send some
registrations twice). At the end it prints requests, status counts and p50/p99 per partner;
the same for the requests that touch only healthy systems; the gateway's memory at the first
and the last minute; the registry's counts before and after; and whether every submitted
registration has exactly one SPID. The last lines say PASS or FAIL for each target of issue 10.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tonle.demo import DemoPorts

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "300"))
PEOPLE = int(os.environ.get("BENCH_SOAK_PEOPLE", "2000"))
NEW_PEOPLE = int(os.environ.get("BENCH_SOAK_REGISTRATIONS", "300"))


@dataclass
class Tally:
    """What one kind of request met."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)

    def add(self, status: int, seconds: float, body: Any) -> None:
        self.statuses[status] += 1
        self.latencies.append(seconds)
        for error in (body or {}).get("errors", []) if isinstance(body, dict) else []:
            self.codes[str(error.get("extensions", {}).get("code"))] += 1

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class Ask:
    """One kind of request a partner makes, and whether it touches only healthy systems."""

    partner: str
    purpose: str
    query: str
    healthy_only: bool
    per_second: float


def asks(village: str, province: str, members: list[str]) -> list[Ask]:
    node = "spid familyName"
    return [
        Ask("registry", "grievance",
            f'{{ people(villageCode: "{village}", first: 20) {{ edges {{ node {{ {node} '
            "nssf { active schemes } } } } }", True, 4),
        Ask("registry", "grievance",
            f'{{ people(villageCode: "{village}", first: 20) {{ edges {{ node {{ {node} '
            "idpoor { level } nssf { status } pcaPayments { amountKhr } "
            "khmerIdVerification { result } } } } }", False, 1),
        Ask("idpoor", "enrolment",
            f'{{ people(provinceCode: "{province}", first: 50) {{ edges {{ node {{ spid '
            "household { householdId idpoor { level } } } } } }", False, 2),
        Ask("ngo-cash", "eligibility_check",
            '{ people(provinceCode: "21", first: 50) { edges { node { spid khmerId birthDate '
            "idpoor { level cardValidToday } } } } }", False, 1),
        Ask("ngo-cash", "eligibility_check",
            '{ v: verifyKhmerId(khmerId: "123456789", familyName: "Sok", givenName: "Dara", '
            'birthDate: "1990-01-01") { result } }', False, 0.3),
        Ask("nspc", "statistics",
            f'{{ people(provinceCode: "{province}", first: 500) {{ edges {{ node {{ spid sex '
            "birthDate villageCode nssf { schemes } idpoor { level } pcaPayments { amountKhr } "
            "} } } }", False, 0.5),
        Ask("pca", "payment_reconciliation",
            f'{{ people(villageCode: "{village}", first: 20) {{ edges {{ node {{ spid '
            "pcaPayments { programme period amountKhr } } } } }", False, 2),
    ] + [
        # NSSF checks its own members' cover, one member after another: only NSSF's system.
        Ask("nssf", "eligibility_check",
            f'{{ person(spid: "{spid}") {{ spid status nssf {{ active schemes }} }} }}',
            True, 2 / len(members))
        for spid in members
    ]  # fmt: skip


REGISTER = """
mutation R($r: RegistrationInput!) { registerPerson(input: $r) { spid decision replayed } }
"""


def new_people(count: int, village: str) -> list[dict[str, Any]]:
    rng = random.Random(7)
    families = ["Sok", "Chan", "Keo", "Heng", "Lim", "Mao", "Nuon", "Pich", "Ros", "Seng"]
    given = ["Dara", "Sophea", "Vanna", "Rithy", "Bopha", "Kanha", "Sokha", "Vuthy"]
    people = []
    for i in range(count):
        people.append(
            {
                "familyName": rng.choice(families),
                "givenName": f"{rng.choice(given)}{chr(65 + i % 26)}{i}",
                "birthDate": f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 28):02d}",
                "sex": rng.choice(["MALE", "FEMALE"]),
                "villageCode": village,
                "khmerId": f"{900000000 + i}",
            }
        )
    return people


class Soak:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.ports = DemoPorts.from_gateway(port)
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.credentials: dict[str, Any] = {}
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.healthy = Tally()
        self.memory: list[tuple[float, int]] = []
        self.submitted: list[tuple[str, str]] = []
        self.registration_errors: Counter[str] = Counter()
        self.faults = True  # False: every operator healthy, the baseline run

    def key(self, partner: str) -> str:
        return str(self.credentials["partners"][partner]["api_key"])

    async def post(
        self, session: aiohttp.ClientSession, partner: str, purpose: str, query: str,
        variables: dict[str, Any] | None = None,
    ) -> tuple[int, Any, float]:  # fmt: skip
        started = time.perf_counter()
        headers = {"Authorization": f"Bearer {self.key(partner)}", "X-Purpose": purpose}
        try:
            async with session.post(
                self.url, json={"query": query, "variables": variables or {}}, headers=headers
            ) as response:
                body = await response.json(content_type=None)
                return response.status, body, time.perf_counter() - started
        except (aiohttp.ClientError, TimeoutError) as error:
            return (
                599,
                {"errors": [{"message": type(error).__name__}]},
                (time.perf_counter() - started),
            )

    async def partner_loop(self, session: aiohttp.ClientSession, ask: Ask, until: float) -> None:
        name = f"{ask.partner} {'healthy' if ask.healthy_only else 'mixed'}"
        interval = 1 / ask.per_second
        # Each loop starts at its own moment: loops in step would arrive as bursts (NSSF's ten
        # members all at once every 5 s), measuring the queue rather than the requests.
        next_at = time.monotonic() + random.Random(ask.query).uniform(0, interval)
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        while time.monotonic() < until:
            status, body, seconds = await self.post(session, ask.partner, ask.purpose, ask.query)
            self.tallies[name].add(status, seconds, body)
            if ask.healthy_only:
                self.healthy.add(status, seconds, body)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def registrations(
        self, session: aiohttp.ClientSession, village: str, until: float
    ) -> None:
        people = new_people(NEW_PEOPLE, village)
        rng = random.Random(11)
        jobs = []
        for index, person in enumerate(people):
            for partner, programme in (("nssf", "pension"), ("idpoor", "idpoor")):
                local = f"{partner.upper()}-SOAK-{index}"
                jobs.append((partner, {**person, "programme": programme, "localId": local}))
                if rng.random() < 0.2:  # sent twice: a retry after a timeout, say
                    jobs.append((partner, {**person, "programme": programme, "localId": local}))
        rng.shuffle(jobs)
        pace = max(SECONDS * 0.8, 1) / max(len(jobs), 1)
        semaphore = asyncio.Semaphore(8)

        async def one(partner: str, registration: dict[str, Any]) -> None:
            async with semaphore:
                for _ in range(5):
                    status, body, seconds = await self.post(
                        session, partner, "enrolment", REGISTER, {"r": registration}
                    )
                    self.tallies[f"{partner} registration"].add(status, seconds, body)
                    if status == 200 and isinstance(body, dict) and body.get("data"):
                        return
                    if status == 429:
                        await asyncio.sleep(1)
                        continue
                    self.registration_errors[str(status)] += 1
                    return

        tasks = []
        for partner, registration in jobs:
            if time.monotonic() >= until:
                break
            self.submitted.append((partner, registration["localId"]))
            tasks.append(asyncio.create_task(one(partner, registration)))
            await asyncio.sleep(pace)
        await asyncio.gather(*tasks)

    async def watch_memory(self, session: aiohttp.ClientSession, until: float) -> None:
        started = time.monotonic()
        token = self.credentials.get("operations", {}).get("metrics_token")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        while time.monotonic() < until:
            try:
                async with session.get(
                    self.url.replace("/graphql", "/metrics"), headers=headers
                ) as response:
                    text = await response.text()
                found = re.search(r"^process_resident_memory_bytes ([0-9.e+]+)$", text, re.M)
                if found:
                    self.memory.append((time.monotonic() - started, int(float(found.group(1)))))
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(5)

    async def set_faults(self, session: aiohttp.ClientSession) -> None:
        token = self.credentials.get("operations", {}).get("sandbox_admin_token")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        faults = {
            "moi": {"outage": True},
            "pca": {"latency_ms": 15000},
            "idpoor": {"error_rate": 0.5},
        }
        for name, config in faults.items():
            port = self.ports.sandboxes[name]
            async with session.post(
                f"http://127.0.0.1:{port}/admin/config", json=config, headers=headers
            ) as response:
                if response.status != 200:
                    raise SystemExit(f"could not set faults on {name}: HTTP {response.status}")

    async def run(self, village: str, province: str, members: list[str]) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            if self.faults:
                await self.set_faults(session)
            until = time.monotonic() + SECONDS
            loops = [
                asyncio.create_task(self.partner_loop(session, ask, until))
                for ask in asks(village, province, members)
            ]
            loops.append(asyncio.create_task(self.registrations(session, village, until)))
            loops.append(asyncio.create_task(self.watch_memory(session, until)))
            await asyncio.gather(*loops)


def nssf_members(database: Path, count: int) -> list[str]:
    """SPIDs of people NSSF registered (the demo registers its members at first start)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT DISTINCT spid FROM program_link WHERE operator = 'nssf' ORDER BY spid LIMIT ?",
            (count,),
        ).fetchall()
    if not rows:
        raise SystemExit("the demo registry holds no NSSF members: was it started afresh?")
    return [spid for (spid,) in rows]


def registry_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("person", "program_link", "review_case", "access_log")
        }


def registrations_kept(database: Path, submitted: list[tuple[str, str]]) -> tuple[int, int, int]:
    """(submitted, with exactly one SPID, with none or several)."""
    wanted = set(submitted)
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT operator, local_id, count(DISTINCT spid) FROM program_link "
            "WHERE local_id LIKE '%-SOAK-%' GROUP BY operator, local_id"
        ).fetchall()
    found = {(operator, local): count for operator, local, count in rows}
    exactly = sum(1 for key in wanted if found.get(key) == 1)
    return len(wanted), exactly, len(wanted) - exactly


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Partners of every kind against the demo while operators fail; "
        "prints figures and PASS/FAIL for each target.",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=SECONDS,
        help="how long partners keep asking (BENCH_SOAK_SECONDS, default 300)",
    )
    parser.add_argument(
        "--people",
        type=int,
        default=PEOPLE,
        help="people in the demo registry (BENCH_SOAK_PEOPLE, default 2000)",
    )
    parser.add_argument(
        "--registrations",
        type=int,
        default=NEW_PEOPLE,
        help="new people NSSF and IDPoor both register (BENCH_SOAK_REGISTRATIONS)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("BENCH_SOAK_PORT", "24600")),
        help="the demo gateway's port (BENCH_SOAK_PORT, default 24600)",
    )
    parser.add_argument(
        "--without-faults",
        action="store_true",
        help="every operator healthy: the baseline for the healthy requests' figures",
    )
    return parser.parse_args()


def main() -> int:
    global SECONDS, PEOPLE, NEW_PEOPLE
    options = arguments()
    SECONDS, PEOPLE, NEW_PEOPLE = options.seconds, options.people, options.registrations
    data = Path(tempfile.mkdtemp(prefix="tonle-soak-"))
    port = options.port
    print(
        f"soak: {SECONDS:g} s, demo of {PEOPLE} people in {data}, gateway on port {port}, "
        + ("every operator healthy (baseline)" if options.without_faults else
           "MoI down, PCA slow, IDPoor failing half its calls")
    )  # fmt: skip
    # The demo's output goes to a file, never a pipe nobody reads: a full pipe would stop
    # every part of the demo at its next log line.
    output = data / "demo.log"
    demo = subprocess.Popen(
        [sys.executable, "-m", "tonle.cli", "demo", "--data-dir", str(data), "--port", str(port),
         "--people", str(PEOPLE)],
        stdout=output.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    printed = ""
    try:
        deadline = time.monotonic() + 180
        while "Ctrl-C stops everything" not in printed:
            if demo.poll() is not None or time.monotonic() > deadline:
                print(output.read_text(), file=sys.stderr)
                print("FAILED: the demo did not start", file=sys.stderr)
                return 1
            time.sleep(0.5)
            printed = output.read_text()
        village = re.search(r'villageCode: \\"(\d{8})\\"', printed)
        assert village is not None
        soak = Soak(data, port)
        soak.faults = not options.without_faults
        soak.credentials = json.loads((data / "demo-credentials.json").read_text())
        before = registry_counts(data / "registry.db")
        soak_started = time.monotonic()
        members = nssf_members(data / "registry.db", 10)
        asyncio.run(soak.run(village.group(1), village.group(1)[:2], members))
        elapsed = time.monotonic() - soak_started
        after = registry_counts(data / "registry.db")
        return report(soak, before, after, elapsed, data / "registry.db")
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)


def report(
    soak: Soak, before: dict[str, int], after: dict[str, int], elapsed: float, database: Path
) -> int:
    print(f"\n{'partner / kind':<28}{'requests':>9}  {'p50 ms':>7}{'p99 ms':>8}  statuses; codes")
    for name, tally in sorted(soak.tallies.items()):
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
        codes = ", ".join(f"{c} {n}" for c, n in tally.codes.most_common(4))
        print(
            f"{name:<28}{len(tally.latencies):>9}  {tally.quantile(0.5) * 1000:>7.0f}"
            f"{tally.quantile(0.99) * 1000:>8.0f}  {statuses}; {codes}"
        )
    healthy = soak.healthy
    total = sum(len(t.latencies) for t in soak.tallies.values())
    print(f"\n{total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s)")
    five = sum(n for s, n in healthy.statuses.items() if s >= 500)
    print(
        f"healthy-only requests: {len(healthy.latencies)}, 5xx {five}, "
        f"errors {dict(healthy.codes) or 0}, p99 {healthy.quantile(0.99) * 1000:.0f} ms"
    )
    first = [m for t, m in soak.memory if t <= 60]
    last = [m for t, m in soak.memory if t >= max(t for t, _ in soak.memory) - 60]
    growth = (max(last) / max(first) - 1) if first and last else 0.0
    if first and last:
        print(
            f"gateway memory: {max(first) / 2**20:.0f} MB in the first minute, "
            f"{max(last) / 2**20:.0f} MB in the last ({growth:+.0%})"
        )
    print(f"registry before: {before}\nregistry after:  {after}")
    submitted, exactly, wrong = registrations_kept(database, soak.submitted)
    print(
        f"registrations: {submitted} submitted (operator, local ID), {exactly} with exactly "
        f"one SPID, {wrong} with none or several; errors {dict(soak.registration_errors)}"
    )
    failing = {"moi": "OPERATOR_UNAVAILABLE", "pca": "OPERATOR_TIMEOUT"}
    seen: Counter[str] = Counter()
    for tally in soak.tallies.values():
        seen.update(tally.codes)
    checks = [
        ("zero 5xx on requests touching only healthy systems", five == 0),
        ("and not one error in their answers", not healthy.codes),
        ("p99 of those requests under 1 s", healthy.quantile(0.99) < 1.0),
        ("failing operators' fields null with their codes", all(seen[c] for c in failing.values()))
        if soak.faults else ("no error in any answer", not seen),
        ("gateway memory grows less than 20% from the first to the last minute", growth < 0.2),
        ("every submitted registration has exactly one SPID", wrong == 0 and submitted > 0),
    ]  # fmt: skip
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
