"""Tonle's gateway against @apollo/gateway: same subgraphs, same query, same machine, one run.

    make bench-gateway            # or: python -m bench.gateway
    BENCH_DURATION=20 BENCH_CONNECTIONS=32 make bench-gateway

Prints requests/s, p50 and p99 latency per gateway, the subgraph fetches each makes per
request, the CPU each process used while it was measured (so that the subgraphs' share shows
they are not the bottleneck), and last a line ``ratio: N`` = Tonle's throughput / Apollo's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from .expected import QUERY, expected_response
from .policy import masked as masked_expected
from .policy import prepare as prepare_policy

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
# The classic query nests lists without page sizes (estimated cost 142,140, over the default
# 100,000); both Tonle gateways allow it, as the policy's agreement does.
BENCH_MAX_COST = 1_000_000
SUBGRAPHS = ("accounts", "products", "inventory", "reviews")
WARM_UP_SECONDS = 3
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The benchmark could not produce trustworthy figures."""


@dataclass(frozen=True)
class Gateway:
    name: str
    url: str
    pid: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    name: str
    rps: float
    p50: float
    p99: float
    errors: int
    fetches: dict[str, int]
    cpu_gateway: float
    cpu_subgraphs: float
    cpu_load: float

    @property
    def gateway_cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_gateway / self.rps if self.rps else 0.0

    @property
    def subgraph_share(self) -> float:
        total = self.cpu_gateway + self.cpu_subgraphs + self.cpu_load
        return self.cpu_subgraphs / total if total else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLK_TCK


def children_cpu_seconds() -> float:
    times = os.times()
    return times.children_user + times.children_system


def post(
    url: str, body: dict[str, Any], timeout: float = 10, headers: dict[str, str] | None = None
) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(gateway: Gateway, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{gateway.name} exited; see {WORK}/{gateway.name}.log")
        try:
            post(gateway.url, {"query": "{ __typename }"}, timeout=2, headers=gateway.headers)
            return
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchError(f"{gateway.name} did not come up within 30 s")


@contextmanager
def process(args: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    """A child in its own process group, ended with its children however we leave."""
    proc = subprocess.Popen(args, text=True, start_new_session=True, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def log(name: str, stack: ExitStack) -> IO[str]:
    return stack.enter_context((WORK / f"{name}.log").open("w"))


def ensure_node_modules() -> None:
    if (HERE / "node_modules" / "@apollo" / "gateway").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BenchError("npm is needed for @apollo/gateway and autocannon; install Node.js")
    print("npm ci (first run only)…", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=600)


def node(script: str, *args: str, timeout: float = 60) -> str:
    return subprocess.run(
        ["node", str(HERE / script), *args],
        cwd=HERE,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    ).stdout


def subgraph_counts(ports: dict[str, int]) -> dict[str, int]:
    counts = {}
    for name, port in ports.items():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=5) as response:
            counts[name] = int(json.loads(response.read())["count"])
    return counts


def reset_subgraphs(ports: dict[str, int]) -> None:
    """Zero the request counts and empty the answer caches."""
    for port in ports.values():
        request = urllib.request.Request(f"http://127.0.0.1:{port}/reset", data=b"")
        urllib.request.urlopen(request, timeout=5).read()


def check_answer(gateway: Gateway, answer: Any, expected: dict[str, Any], when: str) -> None:
    if answer == expected:
        if json.dumps(answer) != json.dumps(expected):
            print(f"note: {gateway.name} orders response fields unlike the query ({when})")
        return
    (WORK / f"{gateway.name}.json").write_text(json.dumps(answer, indent=2))
    (WORK / "expected.json").write_text(json.dumps(expected, indent=2))
    raise BenchError(
        f"{gateway.name} answered the benchmark query wrongly ({when}); compare "
        f"{WORK}/{gateway.name}.json with {WORK}/expected.json"
    )


def verify(gateway: Gateway, ports: dict[str, int], expected: dict[str, Any]) -> dict[str, int]:
    """Check the answer from freshly computed subgraph answers, then from cached ones.

    Returns the subgraph fetches one request made, by subgraph.
    """
    reset_subgraphs(ports)
    ask = {"query": QUERY}
    answer = post(gateway.url, ask, headers=gateway.headers)
    check_answer(gateway, answer, expected, "subgraphs uncached")
    fetches = subgraph_counts(ports)
    answer = post(gateway.url, ask, headers=gateway.headers)
    check_answer(gateway, answer, expected, "subgraphs cached")
    return fetches


def measure(
    gateway: Gateway,
    subgraphs_pid: int,
    fetches: dict[str, int],
    body: Path,
    connections: int,
    duration: int,
) -> Run:
    load = ("load.mjs", gateway.url, str(connections))
    headers = json.dumps(gateway.headers)
    # warm up: Node's JIT, caches, connection pools
    node(*load, str(WARM_UP_SECONDS), str(body), headers, timeout=WARM_UP_SECONDS + 60)
    gateway_before = cpu_seconds(gateway.pid)
    subgraphs_before = cpu_seconds(subgraphs_pid)
    load_before = children_cpu_seconds()
    started = time.monotonic()
    figures = json.loads(node(*load, str(duration), str(body), headers, timeout=duration + 60))
    elapsed = time.monotonic() - started
    # The load generator has exited and been waited for: its CPU is in our children's times.
    load_cpu = children_cpu_seconds() - load_before
    return Run(
        name=gateway.name,
        rps=figures["rps"],
        p50=figures["p50"],
        p99=figures["p99"],
        errors=int(figures["non2xx"]) + int(figures["errors"]) + int(figures["timeouts"]),
        fetches=fetches,
        cpu_gateway=(cpu_seconds(gateway.pid) - gateway_before) / elapsed,
        cpu_subgraphs=(cpu_seconds(subgraphs_pid) - subgraphs_before) / elapsed,
        cpu_load=load_cpu / elapsed,
    )


def report(runs: list[Run]) -> None:
    print()
    print(f"{'gateway':<14}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}{'fetches':>9}"
          f"{'cpu gw':>8}{'cpu sub':>9}{'cpu load':>10}{'sub share':>11}"
          f"{'gw cpu ms/req':>15}")  # fmt: skip
    for run in runs:
        print(
            f"{run.name:<14}{run.rps:>8.0f}{run.p50:>8.1f}{run.p99:>8.1f}{run.errors:>8}"
            f"{sum(run.fetches.values()):>9}{run.cpu_gateway:>8.2f}{run.cpu_subgraphs:>9.2f}"
            f"{run.cpu_load:>10.2f}{run.subgraph_share:>11.0%}"
            f"{run.gateway_cpu_ms_per_request:>15.2f}"
        )
    print()
    for run in runs:
        by_subgraph = ", ".join(f"{name} {n}" for name, n in run.fetches.items())
        print(f"{run.name} fetches per request: {by_subgraph}")
    print("cpu gw/sub/load: cores used on average while measured; sub share: the subgraphs'")
    print("share of all CPU used by gateway, subgraphs and load generator; gw cpu ms/req: the")
    print("gateway's CPU time per request")
    for run in runs:
        if run.errors:
            print(f"WARNING: {run.name} had {run.errors} failed requests under load")


def run_benchmark(stack: ExitStack, duration: int, connections: int) -> list[Run]:
    ensure_node_modules()
    WORK.mkdir(exist_ok=True)
    body = WORK / "query.json"
    body.write_text(json.dumps({"query": QUERY}))
    ports = {name: free_port() for name in SUBGRAPHS}
    tonle_port, apollo_port, policy_port = free_port(), free_port(), free_port()
    print(f"gateway benchmark: {duration} s per gateway after {WARM_UP_SECONDS} s warm-up, "
          f"{connections} connections, 127.0.0.1")  # fmt: skip

    subgraphs = stack.enter_context(
        process(
            ["node", str(HERE / "subgraphs.mjs"), json.dumps(ports)],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=log("subgraphs", stack),
        )
    )
    assert subgraphs.stdout is not None
    if subgraphs.stdout.readline().strip() != "ready":
        raise BenchError(f"the subgraphs did not start; see {WORK}/subgraphs.log")
    supergraph = WORK / "supergraph.graphql"
    supergraph.write_text(node("compose.mjs", json.dumps(ports)))

    tonle_args = [
        sys.executable, "-m", "tonle.cli", "gateway",
        "--supergraph", str(supergraph), "--port", str(tonle_port), "--open",
    ]  # fmt: skip
    tonle = stack.enter_context(
        process(
            tonle_args,
            stdout=subprocess.DEVNULL,
            stderr=log("tonle", stack),
            env={**os.environ, "TONLE_MAX_COST": str(BENCH_MAX_COST)},
        )
    )
    setup = prepare_policy(WORK)
    policy_args = [
        sys.executable, "-m", "tonle.cli", "gateway",
        "--supergraph", str(supergraph), "--port", str(policy_port),
        "--database", setup.database_url,
    ]  # fmt: skip
    with_policy = stack.enter_context(
        process(
            policy_args,
            stdout=subprocess.DEVNULL,
            stderr=log("tonle-policy", stack),
            env={**os.environ, **setup.env},
        )
    )
    apollo = stack.enter_context(
        process(
            ["node", str(HERE / "apollo-gateway.mjs"), str(supergraph), str(apollo_port)],
            cwd=HERE,
            stdout=subprocess.DEVNULL,
            stderr=log("apollo", stack),
        )
    )
    partner = {"Authorization": f"Bearer {setup.api_key}", "X-Purpose": "benchmark"}
    gateways = [
        Gateway("tonle", f"http://127.0.0.1:{tonle_port}/graphql", tonle.pid),
        Gateway("apollo", f"http://127.0.0.1:{apollo_port}/graphql", apollo.pid),
        Gateway(
            "tonle-policy", f"http://127.0.0.1:{policy_port}/graphql", with_policy.pid, partner
        ),
    ]
    for gateway, proc in zip(gateways, (tonle, apollo, with_policy), strict=True):
        wait_for(gateway, proc)

    expected = expected_response()
    answers = {"tonle": expected, "apollo": expected, "tonle-policy": masked_expected(expected)}
    fetches = {gateway.name: verify(gateway, ports, answers[gateway.name]) for gateway in gateways}
    print("responses: every gateway returns the expected JSON (the partner's masked), from "
          "uncached and cached subgraphs")  # fmt: skip

    runs = []
    # Tonle with and without policies one after the other: their ratio is the figure that
    # matters, and the machine drifts less between neighbours.
    order = {"tonle": 0, "tonle-policy": 1, "apollo": 2}
    for gateway in sorted(gateways, key=lambda g: order[g.name]):
        runs.append(
            measure(gateway, subgraphs.pid, fetches[gateway.name], body, connections, duration)
        )
        print(f"measured {gateway.name}", flush=True)
    return runs


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    duration = int(os.environ.get("BENCH_DURATION", "15"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "32"))
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    # Even when started where SIGINT is ignored (a background job), Ctrl-C must clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with ExitStack() as stack:
            runs = run_benchmark(stack, duration, connections)
    except BenchError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; every process the benchmark started is stopped", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError as error:
        print(f"FAILED: {' '.join(map(str, error.cmd))}\n{error.stderr or ''}", file=sys.stderr)
        return 1
    report(runs)
    by_name = {run.name: run for run in runs}
    tonle, apollo, policy = by_name["tonle"], by_name["apollo"], by_name["tonle-policy"]
    print(
        f"policies: {policy.rps:.0f} req/s as a partner (restricted view, masks, access log) "
        f"against {tonle.rps:.0f} --open: ratio {policy.rps / tonle.rps:.2f}, "
        f"overhead {1 - policy.rps / tonle.rps:.0%}"
    )
    ratio = tonle.rps / apollo.rps if apollo.rps else float("inf")
    print(f"ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
