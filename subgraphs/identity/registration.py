"""Registration and review types: the input an operator sends, the outcome, review cases."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from identity_store import (
    Registration,
    RegistrationResult,
    ReviewCaseRecord,
    normalize_phone,
    parse_birth_date,
)
from subgraphs.identity.context import Info, visible_spid
from subgraphs.identity.types import MatchReason, PageInfo, Person, Sex


@strawberry.enum(description="How a registration was decided.")
class RegistrationDecision(enum.Enum):
    KHMER_ID = "khmer_id"
    MATCH = "match"
    REVIEW = "review"
    NEW = "new"


@strawberry.enum(description="Whether a review case is open or how it was decided.")
class ReviewStatus(enum.Enum):
    OPEN = "open"
    SAME_PERSON = "same_person"
    DIFFERENT_PEOPLE = "different_people"


@strawberry.type(description="A registration the matcher could not decide alone.")
class ReviewCase:
    id: strawberry.ID
    spid: str = strawberry.field(description="The provisional SPID the registration got.")
    candidate_spid: str = strawberry.field(description="The registered person it may be.")
    probability: float
    weight: float
    reasons: list[MatchReason]
    status: ReviewStatus
    opened_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None
    resolution_reason: str | None

    @classmethod
    def of(cls, case: ReviewCaseRecord) -> ReviewCase:
        return cls(
            id=strawberry.ID(str(case.id)),
            spid=case.spid,
            candidate_spid=case.candidate_spid,
            probability=case.probability,
            weight=case.weight,
            reasons=MatchReason.of(case.reasons),
            status=ReviewStatus(case.status),
            opened_at=case.opened_at,
            resolved_by=case.resolved_by,
            resolved_at=case.resolved_at,
            resolution_reason=case.resolution_reason,
        )

    @strawberry.field(description="The person of the provisional SPID (the survivor if merged).")
    async def person(self, info: Info) -> Person | None:
        record = await info.context.people.load(self.spid)
        return Person.from_record(record) if record is not None else None

    @strawberry.field(description="The registered person the registration may be.")
    async def candidate(self, info: Info) -> Person | None:
        record = await info.context.people.load(self.candidate_spid)
        return Person.from_record(record) if record is not None else None


@strawberry.type
class ReviewCaseConnection:
    nodes: list[ReviewCase]
    page_info: PageInfo


@strawberry.input(description="An operator registering a person it serves.")
class RegistrationInput:
    operator: str | None = strawberry.field(
        default=None,
        description=(
            "The registering operator, e.g. nssf. Taken from your credentials: leave it "
            "out (a different one is refused). Required only from a gateway run --open."
        ),
    )
    programme: str
    local_id: str = strawberry.field(description="The operator's own ID for the person.")
    family_name: str
    given_name: str
    birth_date: str = strawberry.field(
        description="YYYY-MM-DD, or YYYY-MM or YYYY when only the month or year is known."
    )
    sex: Sex
    village_code: str
    khmer_id: str | None = None
    family_name_km: str | None = None
    given_name_km: str | None = None
    phone: str | None = None
    since: dt.date | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Sending the same request with the same key registers once."
    )
    registered_by: str | None = strawberry.field(
        default=None,
        description=(
            "The operator's user who registered, for the history. Taken from your "
            "credentials (your request's end user): leave it out; a different one is refused."
        ),
    )

    def to_registration(self, operator: str, registered_by: str | None) -> Registration:
        """The registration, made as ``operator`` by ``registered_by`` (the credentials')."""
        birth_date, precision = parse_birth_date(self.birth_date)
        return Registration(
            operator=operator,
            programme=self.programme,
            local_id=self.local_id,
            family_name=self.family_name,
            given_name=self.given_name,
            birth_date=birth_date,
            birth_precision=precision,
            sex=self.sex.value,
            village_code=self.village_code,
            khmer_id=self.khmer_id,
            family_name_km=self.family_name_km,
            given_name_km=self.given_name_km,
            phone=normalize_phone(self.phone) if self.phone else None,
            since=self.since,
            idempotency_key=self.idempotency_key,
            registered_by=registered_by,
        )


async def _visible_candidate(root: RegistrationOutcome, info: Info) -> str | None:
    return await visible_spid(info, root.candidate)


@strawberry.type(description="The SPID a registration got, the decision, and why.")
class RegistrationOutcome:
    spid: str
    decision: RegistrationDecision
    probability: float | None
    weight: float | None
    reasons: list[MatchReason]
    # Null when the candidate is outside the caller's scope (or the record claimed
    # their Khmer ID): a registration names no one the caller may not see.
    candidate_spid: str | None = strawberry.field(
        description="For REVIEW: the registered person the record may be.",
        resolver=_visible_candidate,
    )
    review_case_id: strawberry.ID | None
    replayed: bool = strawberry.field(
        description="The same request was answered before; this is that answer, nothing new."
    )
    candidate: strawberry.Private[str | None]

    @classmethod
    def of(cls, result: RegistrationResult) -> RegistrationOutcome:
        return cls(
            spid=result.spid,
            decision=RegistrationDecision(result.decision),
            probability=result.probability,
            weight=result.weight,
            reasons=MatchReason.of(result.reasons),
            candidate=result.candidate_spid,
            review_case_id=(
                strawberry.ID(str(result.review_case_id)) if result.review_case_id else None
            ),
            replayed=result.replayed,
        )

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        record = await info.context.people.load(self.spid)
        return Person.from_record(record) if record is not None else None
