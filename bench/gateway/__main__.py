"""Tonle's gateway against @apollo/gateway: same subgraphs, same query, same machine, one run.

    make bench-gateway            # or: python -m bench.gateway
    BENCH_DURATION=20 BENCH_CONNECTIONS=32 make bench-gateway

Prints requests/s, p50 and p99 latency per gateway, the CPU each process used while
it was measured (so that the subgraphs' share shows they are not the bottleneck),
and last a line ``ratio: N`` = Tonle's throughput / Apollo's.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
SUBGRAPHS = ("accounts", "products", "inventory", "reviews")
QUERY = """
query Bench {
  users {
    id name username
    reviews {
      id body
      product {
        upc name price weight inStock shippingEstimate
        reviews {
          id body
          author {
            id username name
            reviews { id body product { upc name price } }
          }
        }
      }
    }
  }
  topProducts {
    upc name price
    reviews {
      id body
      author {
        id username name
        reviews { id body product { upc name price inStock } }
      }
    }
  }
}
"""
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLK_TCK


def post(url: str, body: dict[str, Any], timeout: float = 10) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(check: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not come up within {timeout:g} s")


@contextmanager
def process(args: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
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


def ensure_node_modules() -> None:
    if (HERE / "node_modules" / "@apollo" / "gateway").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed for @apollo/gateway and autocannon; install Node.js")
    command = "ci" if (HERE / "package-lock.json").exists() else "install"
    print(f"npm {command} (first run only)…", flush=True)
    subprocess.run([npm, command, "--no-audit", "--no-fund"], cwd=HERE, check=True)


def subgraph_count(ports: dict[str, int]) -> int:
    total = 0
    for port in ports.values():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=5) as r:
            total += json.loads(r.read())["count"]
    return total


def reset_counts(ports: dict[str, int]) -> None:
    for port in ports.values():
        urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/reset", data=b"", method="POST"),
            timeout=5,
        ).read()


@dataclass
class Run:
    name: str
    rps: float
    p50: float
    p99: float
    errors: int
    cpu_gateway: float
    cpu_subgraphs: float
    cpu_load: float
    fetches: int

    @property
    def subgraph_share(self) -> float:
        total = self.cpu_gateway + self.cpu_subgraphs + self.cpu_load
        return self.cpu_subgraphs / total if total else 0.0


def measure(
    name: str,
    url: str,
    gateway_pid: int,
    subgraph_pid: int,
    ports: dict[str, int],
    body: Path,
    connections: int,
    duration: int,
) -> Run:
    reset_counts(ports)
    post(url, {"query": QUERY})
    fetches = subgraph_count(ports)
    # warm up: JIT (Node), caches and connection pools
    subprocess.run(
        ["node", str(HERE / "load.mjs"), url, str(connections), "3", str(body)],
        cwd=HERE,
        check=True,
        capture_output=True,
    )
    gateway_before = cpu_seconds(gateway_pid)
    subgraphs_before = cpu_seconds(subgraph_pid)
    children_before = os.times()
    started = time.monotonic()
    result = subprocess.run(
        ["node", str(HERE / "load.mjs"), url, str(connections), str(duration), str(body)],
        cwd=HERE,
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    children_after = os.times()
    figures = json.loads(result.stdout)
    # The load generator has exited and been waited for: its CPU is in our children's times.
    load_cpu = (children_after.children_user + children_after.children_system) - (
        children_before.children_user + children_before.children_system
    )
    return Run(
        name=name,
        rps=figures["rps"],
        p50=figures["p50"],
        p99=figures["p99"],
        errors=int(figures["non2xx"]) + int(figures["errors"]) + int(figures["timeouts"]),
        cpu_gateway=(cpu_seconds(gateway_pid) - gateway_before) / elapsed,
        cpu_subgraphs=(cpu_seconds(subgraph_pid) - subgraphs_before) / elapsed,
        cpu_load=load_cpu / elapsed,
        fetches=fetches,
    )


def main() -> int:
    duration = int(os.environ.get("BENCH_DURATION", "15"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "32"))
    ensure_node_modules()
    WORK.mkdir(exist_ok=True)
    body = WORK / "query.json"
    body.write_text(json.dumps({"query": QUERY}))
    ports = {name: free_port() for name in SUBGRAPHS}
    tonle_port, apollo_port = free_port(), free_port()
    print(f"Gateway benchmark: {duration} s per gateway, {connections} connections, 127.0.0.1")

    with process(
        ["node", str(HERE / "subgraphs.mjs"), json.dumps(ports)], cwd=HERE, stdout=subprocess.PIPE
    ) as subgraphs:
        assert subgraphs.stdout is not None
        if subgraphs.stdout.readline().strip() != "ready":
            raise SystemExit("the subgraphs did not start")
        composed = subprocess.run(
            ["node", str(HERE / "compose.mjs"), json.dumps(ports)],
            cwd=HERE,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        supergraph = WORK / "supergraph.graphql"
        supergraph.write_text(composed)

        tonle_args = [
            sys.executable, "-m", "tonle.cli", "gateway",
            "--supergraph", str(supergraph), "--port", str(tonle_port), "--open",
        ]  # fmt: skip
        with (
            process(tonle_args, stderr=subprocess.DEVNULL) as tonle,
            process(
                ["node", str(HERE / "apollo-gateway.mjs"), str(supergraph), str(apollo_port)],
                cwd=HERE,
                stdout=subprocess.DEVNULL,
            ) as apollo,
        ):
            tonle_url = f"http://127.0.0.1:{tonle_port}/graphql"
            apollo_url = f"http://127.0.0.1:{apollo_port}/graphql"
            wait_for(lambda: post(tonle_url, {"query": "{ __typename }"}), "Tonle's gateway")
            wait_for(lambda: post(apollo_url, {"query": "{ __typename }"}), "@apollo/gateway")

            ours, theirs = post(tonle_url, {"query": QUERY}), post(apollo_url, {"query": QUERY})
            if ours != theirs:
                (WORK / "tonle.json").write_text(json.dumps(ours, indent=2))
                (WORK / "apollo.json").write_text(json.dumps(theirs, indent=2))
                raise SystemExit(
                    "the gateways answered differently; see bench/gateway/.work/tonle.json "
                    "and apollo.json"
                )
            print("responses: identical", flush=True)

            runs = []
            for name, url, proc in (("tonle", tonle_url, tonle), ("apollo", apollo_url, apollo)):
                run = measure(
                    name, url, proc.pid, subgraphs.pid, ports, body, connections, duration
                )
                runs.append(run)
                print(f"measured {name}", flush=True)

    print()
    print(f"{'gateway':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
          f"{'fetches':>9}{'cpu gw':>8}{'cpu sub':>9}{'cpu load':>10}{'sub %':>8}")  # fmt: skip
    for run in runs:
        print(
            f"{run.name:<10}{run.rps:>10.1f}{run.p50:>10.1f}{run.p99:>10.1f}{run.errors:>8}"
            f"{run.fetches:>9}{run.cpu_gateway:>8.2f}{run.cpu_subgraphs:>9.2f}"
            f"{run.cpu_load:>10.2f}{run.subgraph_share:>7.0%}"
        )
    print("(cpu columns: cores used on average while measured; 'sub share' is the subgraphs'")
    print(" share of all CPU used by gateway, subgraphs and load generator)")
    ratio = runs[0].rps / runs[1].rps if runs[1].rps else float("inf")
    print(f"ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
