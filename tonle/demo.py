"""``tonle demo``: every part on 127.0.0.1 with synthetic data, in one process.

First start: generate a synthetic population, migrate and seed the registry database
and each operator sandbox's own database (IDPoor, NSSF, MoI, PCA) under the data
directory. Later starts reuse them. Each start makes a fresh gateway secret (subgraphs
accept only the gateway) and a fresh demo partner API key, written to
``<data dir>/demo-credentials.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

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

    @classmethod
    def from_gateway(cls, port: int) -> DemoPorts:
        return cls(
            gateway=port,
            identity=port + 1,
            subgraphs={name: port + 2 + i for i, name in enumerate(OPERATORS)},
            sandboxes={name: port + 101 + i for i, name in enumerate(OPERATORS)},
        )


FIRST_QUERY = (
    '{{ people(villageCode: "{village}", first: 5) {{ edges {{ node {{ spid familyName '
    "idpoor {{ level }} nssf {{ status schemes }} "
    "pcaPayments {{ programme period amountKhr }} "
    "khmerIdVerification {{ result }} }} }} }} }}"
)


def run_demo(args: argparse.Namespace) -> int:
    from tonle.serving import run

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        run(_demo(data_dir, DemoPorts.from_gateway(args.port), args.people))
    return 0


async def _demo(data_dir: Path, ports: DemoPorts, people: int) -> None:
    import aiohttp

    from gateway import Gateway, create_app
    from gateway.composition import SubgraphSource, compose, fetch_subgraph_sdl
    from identity_store import create_engine, session_factory
    from policies import request_signer
    from policies.service import PolicySettings, policy_enforcement
    from tonle.demo_data import demo_village, prepare_data
    from tonle.demo_partners import demo_secrets, set_up_partners, write_credentials
    from tonle.serving import Service, ServiceGroup

    secret = secrets.token_hex(32)
    os.environ["TONLE_GATEWAY_SECRET"] = secret  # read by the subgraphs' HTTP shell

    say(f"Tonle demo: data in {data_dir}")
    stores = await prepare_data(data_dir, people, DEMO_SEED, say)

    from subgraphs import idpoor, moi, nssf, pca
    from subgraphs.identity import create_app as create_identity
    from tonle.demo_data import SANDBOXES

    operator_subgraphs = {
        "idpoor": idpoor.IDPOOR,
        "nssf": nssf.NSSF,
        "moi": moi.MOI,
        "pca": pca.PCA,
    }
    group = ServiceGroup()
    group.install_signal_handlers()
    identity_url = await group.start(
        Service("identity subgraph", create_identity(stores.registry_url), ports.identity)
    )
    subgraphs = {"identity": identity_url + "/graphql"}
    for name in OPERATORS:
        sandbox = SANDBOXES[name].create_app(stores.sandbox_databases[name])
        sandbox_url = await group.start(
            Service(f"{TITLES[name]} sandbox", sandbox, ports.sandboxes[name])
        )
        # The subgraph reads its other settings (timeouts, auth, X-Road, cache) from
        # TONLE_<OPERATOR>_*; in the demo it calls its sandbox directly.
        subgraph = operator_subgraphs[name].create_app(operator_url=sandbox_url)
        url = await group.start(Service(f"{name} subgraph", subgraph, ports.subgraphs[name]))
        subgraphs[name] = url + "/graphql"

    sources = []
    async with aiohttp.ClientSession() as session:
        for name, url in subgraphs.items():
            sdl = await fetch_subgraph_sdl(session, url, sign=request_signer(secret, name))
            sources.append(SubgraphSource(name=name, url=url, sdl=sdl))
    supergraph_sdl = compose(sources)
    (data_dir / "supergraph.graphql").write_text(supergraph_sdl, encoding="utf-8")

    gateway_url = f"http://127.0.0.1:{ports.gateway}"
    gateway = Gateway.from_sdl(supergraph_sdl)
    pseudonym_key, signing_key = demo_secrets(data_dir)
    os.environ["TONLE_AUDIT_SIGNING_KEY"] = str(signing_key)
    engine = create_engine(stores.registry_url)
    try:
        partners = await set_up_partners(session_factory(engine))
    finally:
        await engine.dispose()
    credentials = write_credentials(data_dir, gateway_url + "/graphql", partners)
    access, lifespan = policy_enforcement(
        gateway.api_schema,
        PolicySettings(
            database_url=stores.registry_url,
            pseudonym_key=pseudonym_key.encode(),
            poll_s=1.0,
        ),
    )
    app = create_app(gateway, access=access, background=lifespan, gateway_secret=secret)
    await group.start(Service("gateway", app, ports.gateway))

    village = await demo_village(stores.registry_url)
    query = FIRST_QUERY.format(village=village)
    payload = json.dumps({"query": query})
    say("")
    say(f"Gateway:     {gateway_url}/graphql  (explorer: open it in a browser)")
    say(f"Partners:    (keys also in {data_dir / 'demo-credentials.json'}, new at every start)")
    for code, partner in partners.items():
        purposes = ", ".join(partner["purposes"])  # type: ignore[arg-type]
        say(f"  {code:<9} X-Purpose: {purposes:<30} {partner['api_key']}")
    say("Policy:      .venv/bin/tonle policies view --partner ngo-cash --purpose eligibility_check")
    say(f"Supergraph:  {data_dir / 'supergraph.graphql'}")
    for name in OPERATORS:
        say(
            f"{TITLES[name] + ' sandbox:':<16}http://127.0.0.1:{ports.sandboxes[name]}  "
            "(/openapi.json, /admin/config, /admin/stats)"
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
    await group.wait()
    say("Stopped.")


def say(message: str) -> None:
    print(message, file=sys.stdout, flush=True)
