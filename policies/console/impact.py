"""Impact (a dry run): the last N days of the access log replayed against a draft.

Each logged request is asked again, in the gateway's order, what the draft would do with it
today: is there still an agreement for its partner and purpose, valid today; may it still
run that document (trusted documents); does its partner still see every field it was
answered (a field the draft hides fails the whole request's validation, so the request is
refused and the field is lost); would its answer hold more people than the draft allows.
A request that would still run may still change: a field it saw as it is now comes masked
(or masked otherwise), and people it saw may now lie outside the agreement's row scope.

What the log cannot tell is not guessed: it holds no arguments and no values, so a hidden
argument or a verification limit cannot be replayed. Records of console previews
(``admin:<username>``) are not partners' requests and are left out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from graphql import GraphQLSchema
from sqlalchemy import and_, func, not_, select

from identity_store.models import Person
from identity_store.scope import Scope, in_scope
from policies.audit import PERSON
from policies.audit.records import utc
from policies.cedar import Catalogue, CedarPolicies, PartnerFacts
from policies.console.preview import ADMIN_PREFIX
from policies.errors import PolicyError
from policies.model import HIDDEN, VISIBLE, Agreement, PolicyDocument
from policies.models import AccessRecord, AccessSubject
from policies.repository import Sessions, list_partners, version_document
from policies.trusted_documents import documents_by_partner
from policies.views import View, decide_view, row_scope

_LOG = AccessRecord.metadata.tables["access_log"]
_SUBJECTS = AccessSubject.metadata.tables["access_subject"]

REFUSED = "refused"
MASKED = "masked"
FEWER_PEOPLE = "fewer_people"
EXAMPLES = 5
MAX_DAYS = 366
MAX_RECORDS = 500_000
PAGE = 2000


@dataclass(frozen=True)
class LoggedRequest:
    """One access-log record, as much of it as a replay needs (no subjects)."""

    seq: int
    at: dt.datetime
    partner: str
    purpose: str
    operation_name: str | None
    document_hash: str
    policy_version: int | None
    fields: tuple[str, ...]
    people: int


@dataclass(frozen=True)
class Verdict:
    """What the draft does to one logged request."""

    refused: tuple[str, ...] = ()  # why, in the gateway's order
    hidden: tuple[str, ...] = ()  # fields it was answered that the draft hides
    masked: tuple[str, ...] = ()  # "Person.familyName: visible → initial"


@dataclass(frozen=True)
class Example:
    seq: int
    at: dt.datetime
    operation_name: str | None
    detail: str


@dataclass
class PairImpact:
    """What the draft does to one partner's requests for one purpose."""

    partner: str
    purpose: str
    requests: int = 0
    refused: int = 0
    masked: int = 0
    fewer_people: int = 0
    people_lost: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    lost_fields: Counter[str] = field(default_factory=Counter)
    masked_fields: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Example]] = field(default_factory=dict)

    @property
    def affected(self) -> int:
        return self.refused + self.masked + self.fewer_people

    def example(self, kind: str, request: LoggedRequest, detail: str) -> None:
        found = self.examples.setdefault(kind, [])
        if len(found) < EXAMPLES:
            found.append(Example(request.seq, request.at, request.operation_name, detail))


@dataclass(frozen=True)
class ImpactReport:
    """The replay of ``[since, until)``: every partner and purpose with requests in it."""

    since: dt.datetime
    until: dt.datetime
    requests: int
    previews: int  # console previews in the window, left out
    pairs: tuple[PairImpact, ...]
    truncated: bool  # more than MAX_RECORDS records: the newest were replayed

    @property
    def affected(self) -> int:
        return sum(p.affected for p in self.pairs)


class Judge:
    """Decides, for one logged request, what the draft would do with it (pure, cached)."""

    def __init__(
        self,
        draft: PolicyDocument,
        catalogue: Catalogue,
        partners: Mapping[str, PartnerFacts],
        versions: Mapping[int, PolicyDocument],
        documents: Mapping[str, frozenset[str]],
        today: dt.date,
    ) -> None:
        self.draft = draft
        self.catalogue = catalogue
        self.partners = partners
        self.versions = versions
        self.documents = documents
        self.today = today
        self._cedar: dict[int | None, CedarPolicies] = {}
        self._views: dict[tuple[int | None, str, str], View | None] = {}
        self._verdicts: dict[tuple[object, ...], Verdict] = {}

    def facts(self, partner: str) -> PartnerFacts:
        return self.partners.get(partner) or PartnerFacts(partner, "")

    def view(self, version: int | None, partner: str, purpose: str) -> View | None:
        """The view under ``version`` (None: the draft); None without an agreement."""
        key = (version, partner, purpose)
        if key not in self._views:
            document = self.draft if version is None else self.versions.get(version)
            agreement = document.agreement(partner, purpose) if document else None
            view = None
            if document is not None and agreement is not None:
                if version not in self._cedar:
                    self._cedar[version] = CedarPolicies(document, self.catalogue)
                view = decide_view(self._cedar[version], self.facts(partner), agreement, 0)
            self._views[key] = view
        return self._views[key]

    def agreement(self, partner: str, purpose: str) -> Agreement | None:
        return self.draft.agreement(partner, purpose)

    def verdict(self, request: LoggedRequest) -> Verdict:
        agreement = self.agreement(request.partner, request.purpose)
        trusted = agreement is not None and agreement.requires_trusted_documents
        key = (
            request.partner,
            request.purpose,
            request.policy_version,
            request.fields,
            request.document_hash if trusted else None,
            request.people,
        )
        found = self._verdicts.get(key)
        if found is None:
            found = self._verdicts[key] = self._decide(request, agreement)
        return found

    def _decide(self, request: LoggedRequest, agreement: Agreement | None) -> Verdict:
        if agreement is None:
            return Verdict(refused=(f"no agreement for {request.purpose} in the draft",))
        if not agreement.valid_on(self.today):
            return Verdict(
                refused=(
                    f"the agreement is valid from {agreement.valid_from or 'the start'} to "
                    f"{agreement.valid_until or 'no end'}, not today",
                )
            )
        if agreement.requires_trusted_documents and request.document_hash not in (
            self.documents.get(request.partner, frozenset())
        ):
            return Verdict(refused=("the draft runs only registered documents; this is not one",))
        view = self.view(None, request.partner, request.purpose)
        assert view is not None
        hidden = tuple(f for f in request.fields if view.rule(*f.split(".", 1)) == HIDDEN)
        refused: list[str] = []
        if hidden:
            refused.append(f"asks for {', '.join(hidden)}, which the draft hides")
        cap = agreement.limits.max_people_per_request
        if request.people > cap:
            refused.append(f"its answer held {request.people} people; the draft allows {cap}")
        if refused:
            return Verdict(refused=tuple(refused), hidden=hidden)
        before = (
            self.view(request.policy_version, request.partner, request.purpose)
            if request.policy_version is not None
            else None
        )
        masked = []
        if before is not None:
            for name in request.fields:
                old, new = before.rule(*name.split(".", 1)), view.rule(*name.split(".", 1))
                if old != new and new != VISIBLE:
                    masked.append(f"{name}: {old} → {new}")
        return Verdict(masked=tuple(masked))

    def scope_changed(self, partner: str, purpose: str, version: int | None) -> Scope | None:
        """The draft's row scope when it differs from the one ``version`` applied."""
        agreement = self.agreement(partner, purpose)
        if agreement is None:
            return None
        now = row_scope(agreement, self.facts(partner))
        document = self.versions.get(version) if version is not None else None
        old_agreement = document.agreement(partner, purpose) if document else None
        if old_agreement is not None and row_scope(old_agreement, self.facts(partner)) == now:
            return None
        if now.areas is None and now.operator is None:
            return None
        return Scope(areas=now.areas, operator=now.operator)


async def replay(
    sessions: Sessions,
    draft: PolicyDocument,
    schema: GraphQLSchema,
    *,
    days: int,
    now: dt.datetime | None = None,
) -> ImpactReport:
    """Replay the access log's last ``days`` days against ``draft``."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    until = now or dt.datetime.now(dt.UTC)
    since = until - dt.timedelta(days=days)
    partners = {p.code: p.facts for p in await list_partners(sessions)}
    documents = {k: frozenset(v) for k, v in (await documents_by_partner(sessions)).items()}
    versions: dict[int, PolicyDocument] = {}
    pairs: dict[tuple[str, str], PairImpact] = {}
    # The judge reads versions as they are loaded (each record names the version it ran under).
    judge = Judge(draft, Catalogue.of(schema), partners, versions, documents, until.date())
    requests = previews = 0
    truncated = False
    scoped: dict[tuple[str, str, int | None], list[LoggedRequest]] = {}
    async for request in logged_requests(sessions, since, until):
        if request.partner.startswith(ADMIN_PREFIX):
            previews += 1
            continue
        if requests >= MAX_RECORDS:
            truncated = True
            break
        requests += 1
        version = request.policy_version
        if version is not None and version not in versions:
            with contextlib.suppress(PolicyError):  # a version number no longer stored
                versions[version] = (await version_document(sessions, version)).document
        pair = pairs.setdefault(
            (request.partner, request.purpose), PairImpact(request.partner, request.purpose)
        )
        pair.requests += 1
        verdict = judge.verdict(request)
        if verdict.refused:
            pair.refused += 1
            pair.reasons.update(verdict.refused)
            pair.lost_fields.update(verdict.hidden)
            pair.example(REFUSED, request, "; ".join(verdict.refused))
            continue
        if verdict.masked:
            pair.masked += 1
            pair.masked_fields.update(verdict.masked)
            pair.example(MASKED, request, "; ".join(verdict.masked))
        if request.people:
            scoped.setdefault((request.partner, request.purpose, version), []).append(request)
    for (partner, purpose, version), logged in scoped.items():
        scope = judge.scope_changed(partner, purpose, version)
        if scope is None:
            continue
        lost = await people_outside(sessions, [r.seq for r in logged], scope)
        pair = pairs[(partner, purpose)]
        for request in logged:
            count = lost.get(request.seq, 0)
            if count:
                pair.fewer_people += 1
                pair.people_lost += count
                pair.example(
                    FEWER_PEOPLE,
                    request,
                    f"{count} of its {request.people} people are outside the draft's row scope",
                )
    ordered = sorted(pairs.values(), key=lambda p: (-p.affected, p.partner, p.purpose))
    return ImpactReport(since, until, requests, previews, tuple(ordered), truncated)


async def logged_requests(
    sessions: Sessions, since: dt.datetime, until: dt.datetime
) -> AsyncIterator[LoggedRequest]:
    """The records of ``[since, until)``, newest first, a page at a time."""
    c = _LOG.c
    before: int | None = None
    while True:
        query = (
            select(
                c.seq,
                c.at,
                c.partner,
                c.purpose,
                c.operation_name,
                c.document_hash,
                c.policy_version,
                c.fields,
            )
            .where(c.at >= since, c.at < until)
            .order_by(c.seq.desc())
            .limit(PAGE)
        )
        if before is not None:
            query = query.where(c.seq < before)
        async with sessions() as session:
            rows = (await session.execute(query)).all()
            if not rows:
                return
            seqs = [r.seq for r in rows]
            counts: dict[int, int] = dict(
                (
                    await session.execute(
                        select(_SUBJECTS.c.seq, func.count())
                        .where(_SUBJECTS.c.seq.in_(seqs), _SUBJECTS.c.kind == PERSON)
                        .group_by(_SUBJECTS.c.seq)
                    )
                ).all()
            )
        for row in rows:
            yield LoggedRequest(
                seq=row.seq,
                at=utc(row.at),
                partner=row.partner,
                purpose=row.purpose,
                operation_name=row.operation_name,
                document_hash=row.document_hash,
                policy_version=row.policy_version,
                fields=tuple(row.fields),
                people=int(counts.get(row.seq, 0)),
            )
        before = rows[-1].seq
        if len(rows) < PAGE:
            return


async def people_outside(sessions: Sessions, seqs: Sequence[int], scope: Scope) -> dict[int, int]:
    """For each record, how many of the people it returned ``scope`` would not reach."""
    s = _SUBJECTS.c
    out: dict[int, int] = {}
    for start in range(0, len(seqs), PAGE):
        chunk = seqs[start : start + PAGE]
        query = (
            select(s.seq, func.count())
            .select_from(_SUBJECTS.join(Person, Person.spid == s.subject_id))
            .where(and_(s.seq.in_(chunk), s.kind == PERSON, not_(in_scope(scope))))
            .group_by(s.seq)
        )
        async with sessions() as session:
            out.update(dict((await session.execute(query)).all()))
    return out
