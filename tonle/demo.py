"""``tonle demo``: every part on 127.0.0.1 with synthetic data, each a process of its own.

First start: generate a synthetic population, migrate and seed the registry database
and each operator sandbox's own database (IDPoor, NSSF, MoI, PCA) under the data
directory. Later starts reuse them. Then this process becomes a supervisor, as an
orchestrator would be in production: it starts the four sandboxes, the identity subgraph
and the four operator subgraphs (``python -m sandbox.<op>``, ``python -m subgraphs.<name>``),
waits for each to be healthy, composes the supergraph from them, sets up the demo's
partners and policy, and starts the gateway (``tonle gateway``). Each start makes a fresh
gateway secret (subgraphs accept only the gateway), fresh partner keys, and fresh tokens
for ``/metrics`` and the sandboxes' ``/admin``, written to ``<data dir>/demo-credentials.json``.

Ctrl-C (or SIGTERM) stops every process within 5 s, requests hanging or not. A process
that dies is reported, and the others are stopped: the demo never runs half a system.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tonle.supervisor import Child, ChildFailed, Supervisor

DEMO_SEED = 20261124


# Operator subgraphs listen on gateway port + 2, 3, ...; their sandboxes on + 101, 102, ...
OPERATORS = ("idpoor", "nssf", "moi", "pca")
TITLES = {"idpoor": "IDPoor", "nssf": "NSSF", "moi": "MoI", "pca": "PCA"}


@dataclass(frozen=True)
class DemoPorts:
    gateway: int
    identity: int
    subgraphs: dict[str, int]
    sandboxes: dict[str, int]
    coverage: int

    @classmethod
    def from_gateway(cls, port: int) -> DemoPorts:
        return cls(
            gateway=port,
            identity=port + 1,
            subgraphs={name: port + 2 + i for i, name in enumerate(OPERATORS)},
            sandboxes={name: port + 101 + i for i, name in enumerate(OPERATORS)},
            coverage=port + 2 + len(OPERATORS),
        )


FIRST_QUERY = (
    '{{ people(villageCode: "{village}", first: 5) {{ edges {{ node {{ spid familyName '
    "idpoor {{ level }} nssf {{ status schemes }} "
    "pcaPayments {{ programme period amountKhr }} "
    "khmerIdVerification {{ result }} }} }} }} }}"
)


def run_demo(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_demo(data_dir, DemoPorts.from_gateway(args.port), args.people))


# Each child lets its requests in flight finish for this long after SIGTERM, then cancels
# them; the supervisor kills whatever is left at its deadline: a stop stays within 5 s.
CHILD_GRACE_S = 1
STOP_DEADLINE_S = 3.0


async def _demo(data_dir: Path, ports: DemoPorts, people: int) -> int:
    supervisor = Supervisor(data_dir / "logs", stop_deadline_s=STOP_DEADLINE_S)
    supervisor.install_signal_handlers()
    starting = asyncio.create_task(_start(supervisor, data_dir, ports, people))
    stop = asyncio.create_task(supervisor.stopping.wait())
    failure: str | None = None
    try:
        first: set[asyncio.Future[Any]] = {starting, stop, supervisor.failed}
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        if supervisor.failed.done():
            failure = supervisor.failed.result()
        elif starting.done():
            starting.result()  # a fault of the launcher itself is raised as it is
            failure = await supervisor.run_until_stopped()
    except ChildFailed as error:
        failure = str(error)
    finally:
        stop.cancel()
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, ChildFailed):
            await starting
        await supervisor.stop(say)
    if failure is not None:
        print(f"\n{failure}\nStopped every other part of the demo.", file=sys.stderr, flush=True)
        return 1
    say("Stopped.")
    return 0


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


async def _start(supervisor: Supervisor, data_dir: Path, ports: DemoPorts, people: int) -> None:
    from tonle.demo_data import SANDBOXES, demo_village, prepare_data

    secret = secrets.token_hex(32)
    operations: dict[str, Any] = {
        "metrics_token": secrets.token_urlsafe(24),
        "sandbox_admin_token": secrets.token_urlsafe(24),
        "logs": str(supervisor.log_dir),
    }
    say(f"Tonle demo: data in {data_dir}")
    stores = await prepare_data(data_dir, people, DEMO_SEED, say)

    # What every child shares; settings that would make children collide (one metrics
    # port for all, subgraph URLs of another system, open mode) are cleared.
    common = {
        "TONLE_SHUTDOWN_GRACE_S": str(CHILD_GRACE_S),
        "TONLE_METRICS_TOKEN": operations["metrics_token"],
        "TONLE_METRICS_ADDRESS": "",
    }
    signed = {**common, "TONLE_GATEWAY_SECRET": secret}
    subgraphs = {"identity": f"http://127.0.0.1:{ports.identity}"}
    children = [
        Child(
            "identity subgraph",
            _python(
                *("subgraphs.identity", "--port", str(ports.identity)),
                *("--database-url", stores.registry_url),
            ),
            subgraphs["identity"] + "/health",
            signed,
        )
    ]
    for name in OPERATORS:
        sandbox = f"http://127.0.0.1:{ports.sandboxes[name]}"
        children.append(
            Child(
                f"{TITLES[name]} sandbox",
                _python(
                    *(f"sandbox.{name}", "--database", str(stores.sandbox_databases[name])),
                    *("--port", str(ports.sandboxes[name]), "--people", "0"),
                ),
                sandbox + "/health",
                {**common, "TONLE_SANDBOX_ADMIN_TOKEN": operations["sandbox_admin_token"]},
            )
        )
        # The subgraph reads its other settings (timeouts, auth, X-Road, cache) from
        # TONLE_<OPERATOR>_*; in the demo it calls its sandbox directly.
        subgraphs[name] = f"http://127.0.0.1:{ports.subgraphs[name]}"
        children.append(
            Child(
                f"{name} subgraph",
                _python(
                    *(f"subgraphs.{name}", "--port", str(ports.subgraphs[name])),
                    *("--operator-url", sandbox),
                ),
                subgraphs[name] + "/health",
                signed,
            )
        )
    # The coverage subgraph pages through the gateway as each caller (docs/analysts.md).
    subgraphs["coverage"] = f"http://127.0.0.1:{ports.coverage}"
    children.append(
        Child(
            "coverage subgraph",
            _python("subgraphs.coverage", "--port", str(ports.coverage)),
            subgraphs["coverage"] + "/health",
            {**signed, "TONLE_COVERAGE_GATEWAY_URL": f"http://127.0.0.1:{ports.gateway}/graphql"},
        )
    )
    assert set(SANDBOXES) == set(OPERATORS)
    for child in children:
        await supervisor.start(child)
    # The partners and the policy are set up while the children start.
    partners_ready = asyncio.create_task(_partners(data_dir, stores.registry_url))
    await supervisor.wait_healthy([c.name for c in children])
    supergraph = await _compose(data_dir, secret, subgraphs)
    partners, admins, pseudonym_key, signing_key = await partners_ready

    gateway_url = f"http://127.0.0.1:{ports.gateway}"
    gateway = Child(
        "gateway",
        _python(
            *("tonle.cli", "gateway", "--supergraph", str(supergraph)),
            *("--database", stores.registry_url, "--port", str(ports.gateway)),
            "--admin",
            "--analyst",
        ),
        gateway_url + "/health",
        {
            **signed,
            "TONLE_PSEUDONYM_KEY": pseudonym_key,
            "TONLE_AUDIT_SIGNING_KEY": str(signing_key),
            "TONLE_POLICY_POLL_S": "1",
            "TONLE_ANALYST_JOBS_DIR": str(data_dir / "analyst-jobs"),
            "TONLE_GATEWAY_OPEN": "",
            "TONLE_SUBGRAPH_URLS": "",
            # a coverage report pages through this gateway: within its 30 s, not 10 s
            "TONLE_SUBGRAPH_TIMEOUTS": "coverage=25",
        },
    )
    await supervisor.start(gateway)
    await supervisor.wait_healthy([gateway.name])

    from tonle.demo_partners import write_credentials

    operations["processes"] = {
        name: {"pid": running.process.pid, "url": running.child.health_url.removesuffix("/health")}
        for name, running in supervisor.children.items()
    }
    console: dict[str, object] = {"url": gateway_url + "/admin/", "accounts": admins}
    credentials = write_credentials(
        data_dir, gateway_url + "/graphql", partners, operations, console=console
    )
    village = await demo_village(stores.registry_url)
    _print_welcome(data_dir, ports, gateway_url, partners, credentials, village, supervisor)


async def _compose(data_dir: Path, secret: str, subgraphs: dict[str, str]) -> Path:
    """The supergraph of the running subgraphs, each asked for its SDL as the gateway would."""
    import aiohttp

    from gateway.composition import SubgraphSource, compose, fetch_subgraph_sdl
    from policies import request_signer

    sources = []
    async with aiohttp.ClientSession() as session:
        for name, base in subgraphs.items():
            url = base + "/graphql"
            sdl = await fetch_subgraph_sdl(session, url, sign=request_signer(secret, name))
            sources.append(SubgraphSource(name=name, url=url, sdl=sdl))
    path = data_dir / "supergraph.graphql"
    path.write_text(compose(sources), encoding="utf-8")
    return path


async def _partners(
    data_dir: Path, registry_url: str
) -> tuple[dict[str, dict[str, object]], dict[str, dict[str, object]], str, Path]:
    """The demo partners with fresh keys, the published demo policy, the console's admins
    with fresh passwords, and the gateway's keys."""
    from identity_store import create_engine, session_factory
    from tonle.demo_admins import set_up_admins
    from tonle.demo_partners import demo_secrets, set_up_partners

    pseudonym_key, signing_key = demo_secrets(data_dir)
    engine = create_engine(registry_url)
    try:
        sessions = session_factory(engine)
        partners = await set_up_partners(sessions)
        admins = await set_up_admins(sessions)
    finally:
        await engine.dispose()
    return partners, admins, pseudonym_key, signing_key


def _print_welcome(
    data_dir: Path,
    ports: DemoPorts,
    gateway_url: str,
    partners: dict[str, dict[str, object]],
    credentials: dict[str, object],
    village: str,
    supervisor: Supervisor,
) -> None:
    query = FIRST_QUERY.format(village=village)
    payload = json.dumps({"query": query})
    say("")
    say(f"Gateway:     {gateway_url}/graphql  (explorer: open it in a browser)")
    say(f"Partners:    (keys also in {data_dir / 'demo-credentials.json'}, new at every start)")
    for code, partner in partners.items():
        purposes = ", ".join(partner["purposes"])  # type: ignore[arg-type]
        say(f"  {code:<9} X-Purpose: {purposes:<30} {partner['api_key']}")
    say("Policy:      .venv/bin/tonle policies view --partner ngo-cash --purpose eligibility_check")
    console: Any = credentials.get("console", {})
    say(f"Console:     {console.get('url')}  (policy admins; passwords new at every start)")
    for username, account in console.get("accounts", {}).items():
        say(f"  {username:<9} {', '.join(account['roles']):<30} {account['password']}")
    say(
        f"Analysts:    {gateway_url}/analyst/  (the nspc key, purpose statistics; "
        "or tonle coverage / tonle export --demo-partner nspc)"
    )
    say(f"Supergraph:  {data_dir / 'supergraph.graphql'}")
    for name in OPERATORS:
        say(
            f"{TITLES[name] + ' sandbox:':<16}http://127.0.0.1:{ports.sandboxes[name]}  "
            "(/openapi.json, /admin/config, /admin/stats)"
        )
    say(
        f"Operations:  {len(supervisor.children)} processes, logs in {supervisor.log_dir}; "
        'the tokens for /metrics and the sandboxes\' /admin are under "operations" in '
        "demo-credentials.json"
    )
    say("")
    say("Try:")
    say(
        f"  curl -s {gateway_url}/graphql -H 'Authorization: Bearer {credentials['api_key']}' "
        f"-H 'X-Purpose: {credentials['purpose']}' "
        f"-H 'Content-Type: application/json' -d '{payload}'"
    )
    say("")
    say("Ctrl-C stops everything.")


def say(message: str) -> None:
    print(message, file=sys.stdout, flush=True)
