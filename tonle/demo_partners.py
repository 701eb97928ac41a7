"""The demo's partners, their fresh keys, and its access policy, set up at every start.

Partners are created once; their keys are revoked and issued anew at each start (the
demo's credentials live only as long as the demo), and the demo policy is imported and
published whenever the published version differs from it. The secrets the gateway needs
(a pseudonym key, the access log's signing key) are made once per data directory, so
pseudonyms stay stable and old checkpoints stay verifiable across restarts.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from policies.audit import generate_key_pair
from policies.audit.keys import PRIVATE_KEY_FILE
from policies.document import parse_policy
from policies.errors import PolicyError
from policies.model import PolicyDocument
from policies.repository import (
    Sessions,
    add_version,
    create_partner,
    issue_key,
    list_partners,
    publish,
    published,
    revoke_key,
)


@dataclass(frozen=True)
class DemoPartner:
    code: str
    name: str
    kind: str
    description: str
    operator: str | None = None
    xroad_client: str | None = None


DEMO_PARTNERS = (
    DemoPartner(
        "registry",
        "Social Protection Registry staff",
        "registry_staff",
        "registry staff handling grievances: everything, review cases and merges",
    ),
    DemoPartner(
        "nssf",
        "National Social Security Fund",
        "operator",
        "NSSF enrolling members: identity and its own fields, registration for its schemes, "
        "only the people it registered",
        operator="nssf",
        xroad_client="CAMBODIA/GOV/NSSF/MEMBERS",
    ),
    DemoPartner(
        "idpoor",
        "Ministry of Planning, IDPoor",
        "operator",
        "IDPoor: households and poverty identification nationwide, registration for idpoor",
        operator="idpoor",
    ),
    DemoPartner(
        "ngo-cash",
        "Cash for Families (NGO)",
        "development_partner",
        "an NGO's cash transfers in Phnom Penh and Takeo: IDPoor level, Khmer ID last 4 digits, "
        "birth year, no NSSF; verifications answer only MATCH or MISMATCH",
    ),
    DemoPartner(
        "nspc",
        "National Social Protection Council analysts",
        "analyst",
        "statistics: pseudonyms instead of SPIDs, no names, every programme field, "
        "places to the commune",
    ),
    DemoPartner(
        "pca",
        "Payment Certification Authority",
        "operator",
        "payment reconciliation: names and certified payments",
        operator="pca",
    ),
)
KEY_DAYS = 30


def demo_policy() -> tuple[PolicyDocument, str]:
    text = resources.files("tonle").joinpath("demo-policy.yaml").read_text("utf-8")
    return parse_policy(text, "tonle/demo-policy.yaml"), text


def demo_secrets(data_dir: Path) -> tuple[str, Path]:
    """The pseudonym key and the access log's signing key file, made once per data dir."""
    folder = data_dir / "secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    pseudonym = folder / "pseudonym.key"
    if not pseudonym.exists():
        pseudonym.write_text(secrets.token_hex(32), encoding="utf-8")
        pseudonym.chmod(0o600)
    signing = folder / PRIVATE_KEY_FILE
    if not signing.exists():
        generate_key_pair(folder)
    return pseudonym.read_text(encoding="utf-8").strip(), signing


async def set_up_partners(sessions: Sessions) -> dict[str, dict[str, object]]:
    """Every demo partner with one fresh key (older ones revoked); code -> credentials."""
    document, text = demo_policy()
    existing = {p.code: p for p in await list_partners(sessions)}
    out: dict[str, dict[str, object]] = {}
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=KEY_DAYS)
    for partner in DEMO_PARTNERS:
        record = existing.get(partner.code)
        if record is None:
            record = await create_partner(
                sessions,
                partner.code,
                partner.name,
                partner.kind,
                operator=partner.operator,
                xroad_client=partner.xroad_client,
            )
        for key in record.keys:
            if key.revoked_at is None:
                await revoke_key(sessions, key.key_id)
        issued = await issue_key(sessions, partner.code, expires_at=until, label="tonle demo")
        out[partner.code] = {
            "api_key": issued.key,
            "purposes": document.purposes_of(partner.code),
            "description": partner.description,
        }
    try:
        current = await published(sessions)
    except PolicyError:
        # A registry left by an older Tonle whose published policy this one cannot read: the
        # demo's own policy replaces it (a real registry would be migrated, not overwritten).
        print(
            "Note: this registry's published policy is in a form this Tonle cannot read "
            "(left by an older version); publishing the demo policy in its place.",
            flush=True,
        )
        current = None
    if current is None or current.document.digest() != document.digest():
        number = await add_version(
            sessions, document, created_by="tonle demo", reason="the demo policy", source=text
        )
        await publish(sessions, number, by="tonle demo", reason="the demo policy")
    return out


def write_credentials(
    data_dir: Path,
    gateway_url: str,
    partners: dict[str, dict[str, object]],
    operations: dict[str, object] | None = None,
    *,
    console: dict[str, object] | None = None,
) -> dict[str, object]:
    """Where the README says they are: a first partner and purpose, and every partner;
    ``operations``: what operators of the demo need (the tokens for /metrics and the
    sandboxes' /admin, the processes and their logs); ``console``: the policy console's
    address and its demo admins' passwords."""
    credentials: dict[str, object] = {
        "partner": "registry",
        "api_key": partners["registry"]["api_key"],
        "purpose": "grievance",
        "gateway": gateway_url,
        "partners": partners,
    }
    if console is not None:
        credentials["console"] = console
    if operations is not None:
        credentials["operations"] = operations
    path = data_dir / "demo-credentials.json"
    path.write_text(json.dumps(credentials, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return credentials
