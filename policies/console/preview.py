"""See as this partner: its schema under a draft, and a query run as it under the draft.

The schema is the view a gateway would give the partner for that purpose, printed as SDL with
its rows, limits and masks marked, and compared with the published version's. The query runs
through the gateway's own request pipeline — a real :class:`gateway.Gateway` and
:func:`gateway.create_app` in this process, over the live subgraphs, with Tonle's own
:class:`~policies.enforcement.PolicyAccess` enforcing the draft — so purposes, dates, trusted
documents, limits, masks and row scope answer exactly as a gateway would once the draft is
published. Only the identity differs: the access log records the admin (``admin:<username>``)
as the partner, the previewed partner in ``end_user``, and no policy version (a draft is none).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse, print_schema
from starlette.types import ASGIApp, Message

from gateway import AiohttpTransport, Gateway, create_app
from gateway.access import AccessView, Grants
from gateway.limits import OperationLimits
from policies.audit import AccessEntry, AccessLog, signing_key_from_env
from policies.cedar import Catalogue, CedarPolicies, PartnerFacts
from policies.enforcement import PolicyAccess
from policies.errors import PolicyError
from policies.keys import new_key
from policies.model import Agreement, PolicyDocument
from policies.ratelimit import RateLimiter
from policies.repository import (
    KeyRecord,
    Published,
    Sessions,
    list_partners,
)
from policies.store import PolicyState, PolicyStore
from policies.trusted_documents import documents_by_partner
from policies.views import decide_view

ADMIN_PREFIX = "admin:"
_HEADER_SAFE = re.compile(r"[^\w.@+:/ -]")


def admin_partner(username: str) -> str:
    """How the access log names an admin who previewed: ``admin:<username>`` (64 at most).

    No partner code holds a colon, so these never collide with a partner's records."""
    return (ADMIN_PREFIX + _HEADER_SAFE.sub("_", username))[:64]


# -- the partner's schema ---------------------------------------------------------------------


def render_view(
    gateway: Gateway,
    document: PolicyDocument,
    partner: PartnerFacts,
    agreement: Agreement,
    *,
    version: str,
) -> str:
    """The partner's schema as SDL, each masked field marked, its rows and limits on top."""
    cedar = CedarPolicies(document, Catalogue.of(gateway.api_schema))
    view = decide_view(cedar, partner, agreement, 0)
    grants = Grants(True, agreement.scopes, agreement.policies)
    key = f"{view.key}#{document.digest()[:16]}"
    restricted = gateway.schema_for(AccessView(key=key, filter=view, grants=grants))
    masks = view.masks()
    scope = view.scope
    rows = [
        f"areas {', '.join(scope.areas)}" if scope.areas is not None else "",
        "people its operator registered" if scope.operator is not None else "",
    ]
    limits = agreement.limits
    lines = [
        f"# {partner.code} for {agreement.purpose}, {version}",
        "# rows: " + (" and ".join(r for r in rows if r) or "everyone"),
        f"# limits: {limits.max_people_per_request} people per request, "
        f"{limits.requests_per_minute} requests a minute "
        f"({limits.requests_per_minute_per_end_user} per end user), "
        f"{limits.verifications_per_request} verifications per request",
        f"# valid: {agreement.valid_from or 'always'} to {agreement.valid_until or 'no end'}",
    ]
    own = limits.operation_limits()
    if own:
        lines.append(
            "# operation limits of its own (others: the gateway's settings): "
            + ", ".join(f"{name} {value}" for name, value in own.items())
        )
    if agreement.requires_trusted_documents:
        lines.append("# operations: only the partner's registered ones (trusted documents)")
    lines.append("")
    current: str | None = None
    for line in print_schema(restricted).splitlines():
        head = re.match(r"^(?:type|interface|input) (\w+)", line)
        if head:
            current = head.group(1)
        found = re.match(r"^  (\w+)[(:]", line)
        if current and found and (current, found.group(1)) in masks:
            line += f"  # masked: {masks[(current, found.group(1))]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DiffLine:
    """One line of the comparison: ``same``, ``added`` (the draft's) or ``removed``."""

    kind: str
    text: str


@dataclass(frozen=True)
class SchemaPreview:
    """The partner's schema under the draft and under the published version."""

    partner: str
    purpose: str
    draft: str | None  # None: the draft has no such agreement
    published: str | None  # None: nothing published, or no such agreement there
    diff: tuple[DiffLine, ...]

    @property
    def changed(self) -> bool:
        return any(line.kind != "same" for line in self.diff)


def schema_preview(
    gateway: Gateway,
    partner: PartnerFacts,
    purpose: str,
    draft: PolicyDocument,
    draft_label: str,
    published: PolicyDocument | None,
    published_label: str,
) -> SchemaPreview:
    """The partner's view under ``draft`` and under ``published``, and how they differ."""
    texts: list[str | None] = []
    for document, label in ((draft, draft_label), (published, published_label)):
        agreement = document.agreement(partner.code, purpose) if document else None
        if document is None or agreement is None:
            texts.append(None)
            continue
        try:
            texts.append(render_view(gateway, document, partner, agreement, version=label))
        except PolicyError as error:
            texts.append(f"# {label} cannot be enforced: {error}\n")
    after, before = texts
    return SchemaPreview(partner.code, purpose, after, before, sdl_diff(before, after))


def sdl_diff(before: str | None, after: str | None) -> tuple[DiffLine, ...]:
    """Line by line, the draft's view against the published one: the header's rows, limits
    and dates too, but not its first line, which only names the version."""
    old = (before or "").splitlines()[1:]
    new = (after or "").splitlines()[1:]
    out = []
    for line in difflib.ndiff(old, new):
        tag, text = line[:2], line[2:]
        if tag == "? ":
            continue
        kind = {"+ ": "added", "- ": "removed"}.get(tag, "same")
        out.append(DiffLine(kind, text))
    return tuple(out)


# -- a query as the partner -------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewQuery:
    """What the admin asks, as whom and why."""

    partner: str
    purpose: str
    query: str
    variables: Mapping[str, Any]
    operation_name: str | None = None


@dataclass(frozen=True)
class PreviewAnswer:
    """The gateway's answer (status and GraphQL body) and the access-log record it left."""

    status: int
    body: Mapping[str, Any]
    logged_seq: int | None = None

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors", [])]


def _refusal(status: int, code: str, message: str) -> PreviewAnswer:
    return PreviewAnswer(status, {"errors": [{"message": message, "extensions": {"code": code}}]})


class _AsAdmin:
    """The access log as a preview writes to it: the admin is who saw the data."""

    def __init__(self, log: AccessLog, admin: str, partner: str, draft: str) -> None:
        self.log = log
        self.partner = admin_partner(admin)
        self.end_user = f"preview as {partner} under {draft}"[:200]
        self.seq: int | None = None

    async def append(self, entry: AccessEntry) -> int:
        self.seq = await self.log.append(
            replace(entry, partner=self.partner, end_user=self.end_user, policy_version=None)
        )
        return self.seq


class _DraftStore(PolicyStore):
    """A policy store holding one reading made up for the preview: the draft as published."""

    def __init__(self, sessions: Sessions, catalogue: Catalogue, state: PolicyState) -> None:
        super().__init__(sessions, catalogue)
        self._state = state


class PreviewGateway:
    """Runs queries as a partner under a draft through the gateway's request pipeline.

    Keep one per console process: its rate budgets (the agreement's, per partner and per
    admin) hold across previews, so the preview is no way around a partner's limits.
    """

    def __init__(
        self,
        supergraph_sdl: str,
        sessions: Sessions,
        *,
        subgraph_urls: Mapping[str, str] | None = None,
        gateway_secret: str | None = None,
        subgraph_timeout_s: float = 10.0,
        pseudonym_key: bytes | None = None,
        limits: OperationLimits | None = None,
    ) -> None:
        self.sdl = supergraph_sdl
        self.sessions = sessions
        self.subgraph_urls = dict(subgraph_urls or {})
        self.gateway_secret = gateway_secret
        self.subgraph_timeout_s = subgraph_timeout_s
        self.pseudonym_key = pseudonym_key
        self.limits = limits
        self.limiter = RateLimiter()

    def gateway(self) -> Gateway:
        """A gateway of its own for each draft: no schema or plan is shared between drafts."""
        return Gateway.from_sdl(self.sdl, limits=self.limits)

    async def run(
        self, document: PolicyDocument, draft: str, admin: str, asked: PreviewQuery
    ) -> PreviewAnswer:
        """The answer the partner would get under ``document``, logged as ``admin``'s."""
        refused = _only_queries(asked.query)
        if refused is not None:
            return refused
        partners = {p.code: p for p in await list_partners(self.sessions)}
        record = partners.get(asked.partner)
        if record is None:
            return _refusal(
                400,
                "BAD_REQUEST",
                f"No partner has code {asked.partner!r}: a preview runs as a partner the "
                "registry knows (create it under Partners first).",
            )
        gateway = self.gateway()
        try:
            cedar = CedarPolicies(document, Catalogue.of(gateway.api_schema))
        except PolicyError as error:
            return _refusal(400, "BAD_REQUEST", f"The draft cannot be enforced: {error}")
        made = new_key()
        now = dt.datetime.now(dt.UTC)
        key = KeyRecord(
            key_id=made.key_id,
            partner=record.code,
            label="console preview",
            created_at=now,
            expires_at=now + dt.timedelta(minutes=5),
            revoked_at=None,
            key_hash=made.key_hash,
        )
        documents = await documents_by_partner(self.sessions)
        state = PolicyState(
            epoch=0,
            partners={record.code: replace(record, keys=(key,))},
            keys={key.key_id: key},
            by_xroad_client={},
            published=Published(0, document, now),
            cedar=cedar,
            documents={record.code: documents.get(record.code, {})},
        )
        log = AccessLog(self.sessions, signing_key=signing_key_from_env())
        writer = _AsAdmin(log, admin, record.code, draft)
        access = PolicyAccess(
            _DraftStore(self.sessions, Catalogue.of(gateway.api_schema), state),
            gateway.api_schema,
            access_log=writer,
            pseudonym_key=self.pseudonym_key,
            limiter=self.limiter,
        )
        transport = AiohttpTransport(
            {**gateway.subgraph_urls(), **self.subgraph_urls},
            timeout_s=self.subgraph_timeout_s,
            gateway_secret=self.gateway_secret,
        )
        app = create_app(gateway, access=access, transport=transport)
        headers = {
            "authorization": f"Bearer {made.key}",
            "x-purpose": asked.purpose,
            "x-tonle-end-user": admin_partner(admin),
            "accept": "application/graphql-response+json",
            "content-type": "application/json",
        }
        body = {"query": asked.query, "variables": dict(asked.variables)}
        if asked.operation_name:
            body["operationName"] = asked.operation_name
        await log.start()
        try:
            status, raw = await asgi_post(app, "/graphql", headers, orjson.dumps(body))
        finally:
            await log.close()
            await transport.close()
        return PreviewAnswer(status, orjson.loads(raw), writer.seq)


def _only_queries(query: str) -> PreviewAnswer | None:
    """A refusal for a document holding a mutation (it would change the live registry)."""
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return None  # the gateway answers GRAPHQL_PARSE_FAILED, as it would to the partner
    for definition in document.definitions:
        if (
            isinstance(definition, OperationDefinitionNode)
            and definition.operation != OperationType.QUERY
        ):
            return _refusal(
                400,
                "BAD_REQUEST",
                f"The preview runs queries only: this document holds a "
                f"{definition.operation.value}, which would change the live registry.",
            )
    return None


async def asgi_post(
    app: ASGIApp, path: str, headers: Mapping[str, str], body: bytes
) -> tuple[int, bytes]:
    """One POST to an ASGI app in this process: its status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    finished = asyncio.Event()
    delivered = False
    status = 500
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    await app(scope, receive, send)
    finished.set()
    return status, b"".join(chunks)
