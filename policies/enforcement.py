"""The gateway's access control from the policy store: who calls, for what, seeing what.

In the order of DESIGN.md's request flow: authenticate (API key by hash, or the CamDX
client from a trusted security server), check the declared purpose against the
partner's agreements and their dates, take a request from the partner's rate budget, and
hand the gateway the partner's view (cached per partner, purpose and policy version).
Before anything is fetched the admission checks the request's limits; after shaping it
checks what the response holds against them, and writes the access log record — the
response leaves only once that record is committed.

This module implements ``gateway.access``'s protocol; it is the one place where policies
import the gateway, and only that protocol module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, cast

from graphql import (
    GraphQLSchema,
)
from starlette.requests import Request

from gateway.access import (
    AccessRefused,
    AccessView,
    Grants,
    Mask,
    ResponseFacts,
)
from policies.audit import HOUSEHOLD, PERSON, AccessEntry, AccessLogUnavailable, Outcome
from policies.caller import Caller
from policies.delegation import (
    DELEGATING_FIELDS,
    DELEGATION_HEADER,
    SCHEME,
    VIA,
    DelegationError,
    DelegationUses,
)
from policies.errors import PolicyError
from policies.keys import key_id_of, same_key
from policies.masks import MASKS
from policies.model import Agreement
from policies.ratelimit import Budget, Limiter, RateLimiter
from policies.repository import PartnerRecord
from policies.store import PolicyState, PolicyStore
from policies.usage import int_value, usage_of
from policies.views import View, decide_view

if TYPE_CHECKING:
    from gateway.runtime import PreparedRequest

PURPOSE_HEADER = "x-purpose"
END_USER_HEADER = "x-tonle-end-user"
XROAD_CLIENT_HEADER = "x-road-client"
XROAD_USER_HEADER = "x-road-userid"
MAX_OPERATION_NAME = 200  # the access log's column
# The request headers admission reads (raw header names are lower-case bytes).
_READ = frozenset(
    name.encode()
    for name in (
        PURPOSE_HEADER,
        END_USER_HEADER,
        XROAD_CLIENT_HEADER,
        XROAD_USER_HEADER,
        "x-api-key",
        "authorization",
    )
)
_NO_DOCUMENTS: Mapping[str, str] = {}
# The partner's own user: printable, no control characters, a sensible length.
_END_USER = re.compile(r"^[\w.@+:/ -]{1,200}$")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AccessLogWriter(Protocol):
    async def append(self, entry: AccessEntry) -> int: ...


def _refuse(message: str, code: str, status: int, **kw: Any) -> AccessRefused:
    return AccessRefused(message, code, status, **kw)


@dataclass(frozen=True)
class PreparedView:
    """A view and what the gateway needs of it, built once."""

    policy: View
    access: AccessView
    caller_without_end_user: Caller

    def caller(self, end_user: str | None) -> tuple[Caller, Mapping[str, str]]:
        """The caller and the headers its subgraph requests carry."""
        if end_user is None:
            return self.caller_without_end_user, self._headers
        caller = replace(self.caller_without_end_user, end_user=end_user)
        return caller, caller.headers()

    @cached_property
    def _headers(self) -> Mapping[str, str]:
        return self.caller_without_end_user.headers()


class PolicyAccess:
    """Admits partners to the gateway under the published policy."""

    def __init__(
        self,
        store: PolicyStore,
        api_schema: GraphQLSchema,
        *,
        access_log: AccessLogWriter | None,
        pseudonym_key: bytes | None = None,
        security_servers: Sequence[Network] = (),
        limiter: Limiter | None = None,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
        delegation: DelegationUses | None = None,
        delegating_fields: frozenset[str] = DELEGATING_FIELDS,
    ) -> None:
        self.store = store
        self.api_schema = api_schema
        self.access_log = access_log
        self.pseudonym_key = pseudonym_key
        self.security_servers = tuple(security_servers)
        self.limiter: Limiter = limiter or RateLimiter()
        self.today = today
        # Issues and checks the tokens of subgraphs that ask again as the partner (coverage);
        # None (no gateway secret): those fields answer that they cannot.
        self.delegation = delegation
        self.delegating_fields = delegating_fields
        self._views: dict[tuple[Any, ...], PreparedView] = {}

    # -- admission ------------------------------------------------------------------------

    async def admit(self, request: Request) -> PartnerAdmission:
        state = self.store.state
        # One pass over the raw headers (Starlette's lookups each scan them all), read as
        # UTF-8: an end user's name may be written in Khmer.
        try:
            headers = {
                name.decode("ascii"): value.decode("utf-8")
                for name, value in request.scope["headers"]
                if name in _READ
            }
        except UnicodeDecodeError:
            raise _refuse("Header values must be UTF-8.", "BAD_REQUEST", 400) from None
        auth = headers.get("authorization", "")
        delegated = auth[: len(SCHEME) + 1] == SCHEME + " "
        if delegated:
            partner, end_user = await self._delegated(auth[len(SCHEME) + 1 :], headers, state)
        else:
            partner, end_user = self._authenticate(request, headers, state)
        purpose = headers.get(PURPOSE_HEADER, "").strip()
        document = state.published.document if state.published else None
        if not purpose:
            purposes = document.purposes_of(partner.code) if document else []
            raise _refuse(
                "Declare why you ask: send the X-Purpose header with one of your purposes ("
                + (", ".join(purposes) or "none is agreed yet; ask the registry")
                + ").",
                "BAD_REQUEST",
                400,
                extensions={"purposes": purposes},
            )
        if document is None or state.cedar is None:
            raise _refuse(
                "No access policy is published yet, so no partner can be served; "
                "a policy admin must publish one (tonle policies publish).",
                "FORBIDDEN_PURPOSE",
                403,
            )
        agreement = document.agreement(partner.code, purpose)
        if agreement is None:
            purposes = document.purposes_of(partner.code)
            raise _refuse(
                f"You have no agreement for the purpose {purpose[:64]!r}; your purposes: "
                + (", ".join(purposes) or "none")
                + ".",
                "FORBIDDEN_PURPOSE",
                403,
                extensions={"purposes": purposes},
            )
        today = self.today()
        if not agreement.valid_on(today):
            span = (
                f"from {agreement.valid_from or 'the start'} to {agreement.valid_until or 'no end'}"
            )
            raise _refuse(
                f"Your agreement for {purpose!r} is valid {span}, not today ({today}); "
                "ask the registry to renew it.",
                "FORBIDDEN_PURPOSE",
                403,
            )
        await self._take_request(partner.code, end_user, agreement)
        prepared = self._view(state, partner, agreement)
        caller, caller_headers = prepared.caller(end_user)
        return PartnerAdmission(
            access=self,
            view=prepared.access,
            policy=prepared.policy,
            caller=caller,
            subgraph_headers=caller_headers,
            documents=state.documents.get(partner.code, _NO_DOCUMENTS),
            trusted_only=agreement.requires_trusted_documents,
            delegated=delegated,
        )

    async def _delegated(
        self, credential: str, headers: Mapping[str, str], state: PolicyState
    ) -> tuple[PartnerRecord, str | None]:
        """The partner a subgraph asks as, from a use of a token this gateway issued."""
        end_user = headers.get(END_USER_HEADER)
        if end_user is not None and not _END_USER.match(end_user):
            raise _refuse("X-Tonle-End-User is malformed.", "BAD_REQUEST", 400)
        try:
            if self.delegation is None:
                raise DelegationError("this gateway issues no delegations (no gateway secret)")
            use = await self.delegation.accept(
                credential, headers.get(PURPOSE_HEADER, "").strip(), end_user
            )
        except DelegationError as error:
            raise _refuse(
                f"Delegation refused: {error}.",
                "UNAUTHENTICATED",
                401,
                headers={"WWW-Authenticate": f'{SCHEME} realm="tonle"'},
            ) from None
        partner = state.partners.get(use.partner)
        if partner is None:
            raise _refuse("Delegation refused: no such partner.", "UNAUTHENTICATED", 401)
        return partner, end_user

    async def _take_request(self, partner: str, end_user: str | None, agreement: Agreement) -> None:
        """One request from the partner's budget and, when it names one, its end user's."""
        limits = agreement.limits
        budgets: list[Budget] = [((partner, "requests"), limits.requests_per_minute)]
        if end_user is not None:
            # By a digest: the buckets (in Redis, say) never hold the partner's user names.
            user = hashlib.sha256(end_user.encode()).hexdigest()[:24]
            budgets.append(((partner, "end-user", user), limits.requests_per_minute_per_end_user))
        wait = await self.limiter.take_all(budgets)
        if wait is None:
            return
        seconds = max(1, math.ceil(wait.seconds))
        if wait.budget == 0:
            limit, cap = "requests_per_minute", limits.requests_per_minute
            what = f"Too many requests: your agreement allows {cap} a minute"
        else:
            limit, cap = "requests_per_minute_per_end_user", limits.requests_per_minute_per_end_user
            what = (
                f"Too many requests for this end user (X-Tonle-End-User): your agreement "
                f"allows {cap} a minute for each"
            )
        raise _refuse(
            f"{what}. Retry after {seconds} s.",
            "RATE_LIMITED",
            429,
            headers={"Retry-After": str(seconds)},
            extensions={"limit": limit, "cap": cap},
        )

    def _authenticate(
        self, request: Request, headers: Mapping[str, str], state: PolicyState
    ) -> tuple[PartnerRecord, str | None]:
        end_user = headers.get(END_USER_HEADER)
        client = headers.get(XROAD_CLIENT_HEADER)
        given = headers.get("x-api-key")
        auth = headers.get("authorization", "")
        if not given and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        partner: PartnerRecord | None = None
        if given:
            partner = self._by_key(given, state)
        elif client and self._from_security_server(request):
            code = state.by_xroad_client.get(client)
            partner = state.partners.get(code) if code else None
            end_user = end_user or headers.get(XROAD_USER_HEADER)
        if partner is None:
            hint = (
                " X-Road-Client is trusted only from the configured CamDX security servers."
                if client and not given
                else ""
            )
            raise _refuse(
                "No valid partner credentials: send your API key as "
                "'Authorization: Bearer <key>' or 'X-Api-Key: <key>'; a key that is unknown, "
                "expired or revoked is refused." + hint,
                "UNAUTHENTICATED",
                401,
                headers={"WWW-Authenticate": 'Bearer realm="tonle"'},
            )
        if end_user is not None and not _END_USER.match(end_user):
            raise _refuse(
                "X-Tonle-End-User must be 1 to 200 letters, digits, spaces or . @ + : / _ -.",
                "BAD_REQUEST",
                400,
            )
        return partner, end_user

    def _by_key(self, given: str, state: PolicyState) -> PartnerRecord | None:
        key_id = key_id_of(given)
        key = state.keys.get(key_id) if key_id else None
        if key is None or not same_key(given, key.key_hash):
            return None
        if not key.usable(dt.datetime.now(dt.UTC)):
            return None
        return state.partners.get(key.partner)

    def _from_security_server(self, request: Request) -> bool:
        if request.client is None or not self.security_servers:
            return False
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(address in network for network in self.security_servers)

    # -- views ----------------------------------------------------------------------------

    def _view(
        self, state: PolicyState, partner: PartnerRecord, agreement: Agreement
    ) -> PreparedView:
        assert state.published is not None and state.cedar is not None
        key = (partner.facts, agreement.purpose, state.published.number)
        found = self._views.get(key)
        if found is not None:
            return found
        view = decide_view(state.cedar, partner.facts, agreement, state.published.number)
        masks: dict[tuple[str, str], Mask] = {}
        for (type_name, field_name), mask in view.masks().items():
            type_ = self.api_schema.get_type(type_name)
            definition = getattr(type_, "fields", {}).get(field_name)
            if definition is None:
                continue
            try:
                masks[(type_name, field_name)] = MASKS[mask].function(
                    definition.type, partner=partner.code, pseudonym_key=self.pseudonym_key
                )
            except ValueError:
                raise _refuse(
                    "This gateway cannot serve your view: it has no pseudonym key "
                    "(TONLE_PSEUDONYM_KEY). Tell the registry's operations team.",
                    "INTERNAL_SERVER_ERROR",
                    503,
                ) from None
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:12]
        access = AccessView(
            key=f"{view.key}#{digest}",
            filter=view,
            grants=Grants(
                authenticated=True,
                scopes=agreement.scopes,
                policies=agreement.policies,
            ),
            masks=masks,
            subjects=view.subjects,
            notes={
                key: f"Masked for you ({mask}): {MASKS[mask].description}."
                for key, mask in view.masks().items()
            },
            limits=agreement.limits.operation_limits(),
            counted=frozenset(
                (name.partition(".")[0], name.partition(".")[2]) for name in view.verifications
            ),
        )
        if len(self._views) > 4096:
            self._views.clear()
        caller = Caller(
            partner=partner.code,
            purpose=agreement.purpose,
            scope=view.scope,
            operator=partner.operator,
            programmes=agreement.programmes,
        )
        prepared = self._views[key] = PreparedView(view, access, caller)
        return prepared


@dataclass
class PartnerAdmission:
    """One admitted request: the partner's view, its headers, its documents and its limits."""

    access: PolicyAccess
    view: AccessView
    policy: View
    caller: Caller
    subgraph_headers: Mapping[str, str] = field(default_factory=dict)
    # the partner's trusted documents (SHA-256 -> document), and whether only they may run
    documents: Mapping[str, str] = field(default_factory=dict)
    trusted_only: bool = False
    # made by a subgraph on the partner's behalf (policies/delegation.py), not by the partner
    delegated: bool = False

    def persisted_document(self, sha256: str) -> str | None:
        return self.documents.get(sha256)

    def approve_document(self, sha256: str) -> None:
        if not self.trusted_only or sha256 in self.documents:
            return
        # 403, not 400: the request is well formed and the same document may run for
        # another partner; it is this partner's agreement that does not allow it.
        raise _refuse(
            f"Your agreement for {self.caller.purpose!r} runs only the operations you "
            f"registered (trusted documents), and this document (SHA-256 {sha256[:12]}...) is "
            "not one of them. Send one you registered, or ask the registry to register this "
            "one (tonle partners documents add).",
            "PERSISTED_QUERY_NOT_ALLOWED",
            403,
            extensions={"sha256": sha256},
        )

    def check(self, prepared: PreparedRequest, variables: Mapping[str, Any]) -> None:
        limits = self.policy.limits
        usage = usage_of(prepared)
        self._delegate([name for name in self.access.delegating_fields if usage.fields.get(name)])
        sizes = [size for node in usage.page_sizes if (size := int_value(node, variables))]
        for size in sizes:
            if size > limits.max_people_per_request:
                raise _limit(
                    f"first: {size} asks for more than the {limits.max_people_per_request} "
                    "people your agreement allows per request; ask for fewer and page on.",
                    "max_people_per_request",
                    size,
                    limits.max_people_per_request,
                )
        # Pages under aliases add up: refused before anything is fetched, rather than fetched
        # and withheld (the answer's own count, in complete(), still holds for the rest).
        if sum(sizes) > limits.max_people_per_request:
            raise _limit(
                f"the pages of this request ask for {sum(sizes)} people together "
                f"({' + '.join(map(str, sizes))}); your agreement allows "
                f"{limits.max_people_per_request} per request. Ask for fewer, or page on in "
                "separate requests.",
                "max_people_per_request",
                sum(sizes),
                limits.max_people_per_request,
            )
        verifications = sum(usage.fields.get(name, 0) for name in self.policy.verifications)
        if verifications > limits.verifications_per_request:
            raise _limit(
                f"this request asks for {verifications} verifications; your agreement allows "
                f"{limits.verifications_per_request} per request.",
                "verifications_per_request",
                verifications,
                limits.verifications_per_request,
            )

    def _delegate(self, fields: Sequence[str]) -> None:
        """Give the subgraphs of a delegating field a token to ask again as this partner."""
        if not fields:
            return
        if self.delegated:
            raise _refuse(
                f"A request made on your behalf by {', '.join(sorted(fields))} cannot ask for "
                "it again.",
                "UNAUTHORIZED_FIELD_OR_TYPE",
                403,
            )
        delegation = self.access.delegation
        caller = self.caller
        if delegation is None or caller.partner is None or caller.purpose is None:
            return  # the subgraph answers that it has no delegation
        token = delegation.issue(caller.partner, caller.purpose, caller.end_user)
        self.subgraph_headers = {**self.subgraph_headers, DELEGATION_HEADER: token}

    async def complete(self, prepared: PreparedRequest, facts: ResponseFacts, outcome: str) -> None:
        limits = self.policy.limits
        kinds = self.policy.subject_kinds
        found: dict[str, set[str]] = {}
        for type_name, ids in facts.subjects.items():
            found.setdefault(kinds.get(type_name, ""), set()).update(ids)
        people = len(found.get(PERSON, ()))
        if people > limits.max_people_per_request:
            raise _limit(
                f"the answer holds {people} people; your agreement allows "
                f"{limits.max_people_per_request} per request. Ask for fewer.",
                "max_people_per_request",
                people,
                limits.max_people_per_request,
            )
        verifications = sum(facts.counts.get(name, 0) for name in self.policy.verifications)
        if verifications > limits.verifications_per_request:
            raise _limit(
                f"the answer holds {verifications} verifications; your agreement allows "
                f"{limits.verifications_per_request} per request. Ask about fewer people.",
                "verifications_per_request",
                verifications,
                limits.verifications_per_request,
            )
        if verifications:
            wait = await self.access.limiter.take(
                (self.caller.partner or "", "verifications"),
                limits.verifications_per_minute,
                verifications,
            )
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                raise _refuse(
                    f"Too many verifications: your agreement allows "
                    f"{limits.verifications_per_minute} a minute. Retry after {seconds} s.",
                    "RATE_LIMITED",
                    429,
                    headers={"Retry-After": str(seconds)},
                )
        if not facts.fields or self.access.access_log is None:
            return
        operation = prepared.operation.name
        if self.delegated:
            operation = VIA + (operation or "anonymous")
        if operation is not None and len(operation) > MAX_OPERATION_NAME:
            operation = operation[: MAX_OPERATION_NAME - 1] + "…"
        try:
            entry = AccessEntry(
                at=dt.datetime.now(dt.UTC),
                partner=self.caller.partner or "",
                purpose=self.caller.purpose or "",
                end_user=self.caller.end_user,
                operation_name=operation,
                document_hash=prepared.document_hash,
                policy_version=self.policy.version,
                fields=tuple(sorted(facts.fields)),
                spids=tuple(sorted(found.get(PERSON, ()))),
                household_ids=tuple(sorted(found.get(HOUSEHOLD, ()))),
                outcome=cast(Outcome, outcome),
            )
        except ValueError:
            # Something the log cannot hold (a subject key longer than a SPID could be):
            # no record, so no data.
            raise _refuse(
                "This answer cannot be recorded in the access log, so it is not sent.",
                "INTERNAL_SERVER_ERROR",
                500,
            ) from None
        try:
            await self.access.access_log.append(entry)
        except AccessLogUnavailable:
            raise _refuse(
                "The access log cannot be written, so no data is returned; try again later.",
                "INTERNAL_SERVER_ERROR",
                503,
            ) from None


def _limit(message: str, limit: str, value: int, cap: int) -> AccessRefused:
    return _refuse(
        message[:1].upper() + message[1:],
        "LIMIT_EXCEEDED",
        400,
        extensions={"limit": limit, "value": value, "cap": cap},
    )


def parse_networks(value: str) -> list[Network]:
    """``10.0.0.5,10.1.0.0/16`` → networks; raises PolicyError naming a bad item."""
    networks = []
    for item in filter(None, (p.strip() for p in value.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise PolicyError(
                f"{item!r} is not an IP address or network; write them like 10.0.0.5,10.1.0.0/16"
            ) from None
    return networks
