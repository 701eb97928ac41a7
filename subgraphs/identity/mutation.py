"""The identity subgraph's ``Mutation`` root: registration, review decisions, merges."""

from __future__ import annotations

from typing import Annotated

import strawberry

from identity_store import (
    InvalidInput,
    Registration,
    RegistryError,
    merge_people,
    register_batch,
    resolve_review_case,
    unmerge_person,
)
from policies.caller import Caller
from subgraphs.identity.context import Info
from subgraphs.identity.credentials import (
    check_programme,
    deciding,
    registering_operator,
    registering_user,
)
from subgraphs.identity.registration import RegistrationInput, RegistrationOutcome, ReviewCase
from subgraphs.identity.types import Person

MAX_REGISTRATIONS = 1000

DecidedBy = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "Who decided. Taken from your credentials: leave it out (a different one is "
            "refused). Required only from a gateway run --open."
        )
    ),
]


def _registration(caller: Caller, item: RegistrationInput) -> Registration:
    """``item`` as a registration made as the caller's operator by the caller's user."""
    operator = registering_operator(caller, item.operator)
    check_programme(caller, item.programme)
    return item.to_registration(operator, registering_user(caller, item.registered_by))


def _case_id(value: strawberry.ID) -> int:
    # ASCII digits only (int() would take any script's digits, and signs and spaces), and
    # no more than the database's integers hold.
    text = str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise InvalidInput(
            f"a review case ID is a number, as reviewCases lists it; got {text[:40]!r}."
        )
    return int(text)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Register a person as the operator of your credentials: the same Khmer ID "
            "with agreeing names and birth date, or a confident match, links the existing "
            "SPID; an uncertain one (or a Khmer ID whose names and birth date disagree) "
            "opens a review case with a provisional SPID; otherwise a new SPID. Sending "
            "the same request again answers the same."
        )
    )
    async def register_person(self, info: Info, input: RegistrationInput) -> RegistrationOutcome:
        registration = _registration(info.context.caller, input)
        (result,) = await register_batch(
            info.context.sessions, [registration], info.context.match_model
        )
        return RegistrationOutcome.of(result)

    @strawberry.mutation(
        description=(
            f"Register up to {MAX_REGISTRATIONS} people in one transaction, each matched "
            "against the registry and the earlier ones of the list; a bad record refuses "
            "the whole list, naming it, and stores nothing."
        )
    )
    async def register_people(
        self, info: Info, inputs: list[RegistrationInput]
    ) -> list[RegistrationOutcome]:
        if not 1 <= len(inputs) <= MAX_REGISTRATIONS:
            raise InvalidInput(
                f"send 1 to {MAX_REGISTRATIONS} registrations at once; got {len(inputs)}. "
                "Split a larger backlog into several calls."
            )
        registrations = []
        for index, item in enumerate(inputs):
            try:
                registrations.append(_registration(info.context.caller, item))
            except RegistryError as error:
                raise type(error)(f"registration {index + 1}: {error}") from None
        results = await register_batch(
            info.context.sessions, registrations, info.context.match_model
        )
        return [RegistrationOutcome.of(result) for result in results]

    @strawberry.mutation(
        description="Decide a review case: the same person (merged) or different people."
    )
    async def resolve_review_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        same_person: bool,
        decided_by: DecidedBy = None,
        *,
        reason: str,
    ) -> ReviewCase:
        case = await resolve_review_case(
            info.context.sessions,
            _case_id(case_id),
            same_person,
            deciding(info.context.caller, decided_by),
            reason,
            scope=info.context.scope,
        )
        return ReviewCase.of(case)

    @strawberry.mutation(
        description="Merge two SPIDs of one person; the merged one resolves to the survivor."
    )
    async def merge_people(
        self,
        info: Info,
        survivor_spid: str,
        merged_spid: str,
        decided_by: DecidedBy = None,
        *,
        reason: str,
    ) -> Person:
        record = await merge_people(
            info.context.sessions,
            survivor_spid,
            merged_spid,
            deciding(info.context.caller, decided_by),
            reason,
            scope=info.context.scope,
        )
        return Person.from_record(record)

    @strawberry.mutation(description="Undo a merge: the SPID stands for itself again.")
    async def unmerge_person(
        self, info: Info, spid: str, decided_by: DecidedBy = None, *, reason: str
    ) -> Person:
        record = await unmerge_person(
            info.context.sessions,
            spid,
            deciding(info.context.caller, decided_by),
            reason,
            scope=info.context.scope,
        )
        return Person.from_record(record)
