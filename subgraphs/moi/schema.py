"""The moi subgraph: Khmer ID verification, live from the Ministry of Interior.

``Person.khmerIdVerification`` checks the registry's Khmer ID, names and birth date
against MoI's record (``@requires`` brings them from the identity subgraph); a partner
may give its own names or birth date instead, to check what a beneficiary declared.
``Query.verifyKhmerId`` checks a Khmer ID for someone not (yet) registered. MoI answers
match, mismatch per field, or not found; its record itself is never returned.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from subgraphs.fast_path import batch_resolver
from subgraphs.operator import (
    OperatorCall,
    OperatorSchema,
    OperatorSubgraph,
    load_each,
    operator_loader,
)
from subgraphs.scalars import parse_date

VERIFICATIONS_PATH = "/v1/verifications"

# (khmer_id, family_name, given_name, birth_date as YYYY-MM-DD)
Check = tuple[str, str, str, str]


@strawberry.enum(description="What the Ministry of Interior answered.")
class KhmerIdCheck(enum.Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"
    NO_KHMER_ID = "no_khmer_id"  # the registry has no Khmer ID for the person: not asked


@strawberry.enum(description="An identity field that MoI compared.")
class IdentityField(enum.Enum):
    FAMILY_NAME = "family_name"
    GIVEN_NAME = "given_name"
    BIRTH_DATE = "birth_date"


@strawberry.type(description="MoI's answer to one verification; it never includes MoI's record.")
class KhmerIdVerification:
    result: KhmerIdCheck
    mismatched_fields: list[IdentityField] = strawberry.field(
        description="The fields that differ from MoI's record (empty unless MISMATCH)."
    )


NO_KHMER_ID = KhmerIdVerification(result=KhmerIdCheck.NO_KHMER_ID, mismatched_fields=[])


def _verification(answer: dict[str, Any]) -> KhmerIdVerification:
    return KhmerIdVerification(
        result=KhmerIdCheck(answer["result"]),
        mismatched_fields=[IdentityField(f) for f in answer["mismatches"]],
    )


@dataclass
class MoiContext:
    verifications: DataLoader[Check, KhmerIdVerification | None]

    async def verify(
        self, khmer_id: str, family_name: str, given_name: str, birth_date: dt.date | str
    ) -> KhmerIdVerification | None:
        return await self.verifications.load(_check(khmer_id, family_name, given_name, birth_date))


def _check(khmer_id: str, family_name: str, given_name: str, birth_date: dt.date | str) -> Check:
    birth = birth_date.isoformat() if isinstance(birth_date, dt.date) else birth_date
    return (khmer_id, family_name, given_name, birth)


def make_context(call: OperatorCall) -> MoiContext:
    async def verify(checks: Sequence[Check]) -> list[KhmerIdVerification | None]:
        body = [
            {"khmer_id": k, "family_name": f, "given_name": g, "birth_date": b}
            for k, f, g, b in checks
        ]
        answers = await call.client.batch(
            VERIFICATIONS_PATH, "checks", body, caller=call.caller, cache_key=_key
        )
        return [_verification(a) for a in answers]

    return MoiContext(operator_loader(verify))


def _key(check: dict[str, str]) -> Check:
    return (check["khmer_id"], check["family_name"], check["given_name"], check["birth_date"])


async def _verifications(
    people: Sequence[Person],
    info: strawberry.Info[MoiContext, Any],
    family_name: str | None = None,
    given_name: str | None = None,
    birth_date: dt.date | None = None,
) -> list[KhmerIdVerification | BaseException | None]:
    """``Person.khmerIdVerification`` for many people: one batch of checks for all of them."""
    checks = {
        index: _check(
            person.khmer_id,
            family_name if family_name is not None else person.family_name,
            given_name if given_name is not None else person.given_name,
            birth_date if birth_date is not None else person.birth_date,
        )
        for index, person in enumerate(people)
        if person.khmer_id
    }
    found = await load_each(info.context.verifications, list(checks.values()))
    answers = dict(zip(checks, found, strict=True))
    return [answers.get(index, NO_KHMER_ID) for index in range(len(people))]


@strawberry.federation.type(keys=["spid"])
class Person:
    spid: str
    khmer_id: str | None = strawberry.federation.field(external=True, default=None)
    family_name: str = strawberry.federation.field(external=True, default="")
    given_name: str = strawberry.federation.field(external=True, default="")
    birth_date: dt.date = strawberry.federation.field(external=True, default=dt.date.min)

    @strawberry.federation.field(
        requires=["khmerId", "familyName", "givenName", "birthDate"],
        description="Whether MoI's Khmer ID record matches this person. By default the "
        "registry's names and birth date are checked; give any of them to check those "
        "instead. Null when MoI cannot be reached.",
        metadata=batch_resolver(_verifications),
    )
    async def khmer_id_verification(
        self,
        info: strawberry.Info[MoiContext, Any],
        family_name: str | None = None,
        given_name: str | None = None,
        birth_date: dt.date | None = None,
    ) -> KhmerIdVerification | None:
        if not self.khmer_id:
            return NO_KHMER_ID
        return await info.context.verify(
            self.khmer_id,
            family_name if family_name is not None else self.family_name,
            given_name if given_name is not None else self.given_name,
            birth_date if birth_date is not None else self.birth_date,
        )

    @classmethod
    def resolve_reference(
        cls,
        spid: str,
        khmerId: str | None = None,  # representation keys, as the gateway sends them
        familyName: str = "",
        givenName: str = "",
        birthDate: str | None = None,
    ) -> Person:
        return cls(
            spid=spid,
            khmer_id=khmerId,
            family_name=familyName,
            given_name=givenName,
            birth_date=parse_date(birthDate) if birthDate else dt.date.min,
        )


@strawberry.type
class Query:
    @strawberry.field(
        description="Check a Khmer ID against a name and birth date with MoI, for someone "
        "the registry may not know. Null when MoI cannot be reached."
    )
    async def verify_khmer_id(
        self,
        info: strawberry.Info[MoiContext, Any],
        khmer_id: str,
        family_name: str,
        given_name: str,
        birth_date: dt.date,
    ) -> KhmerIdVerification | None:
        return await info.context.verify(khmer_id, family_name, given_name, birth_date)


schema = OperatorSchema(query=Query, types=[Person])
MOI = OperatorSubgraph("moi", "the MoI Khmer ID service", schema, make_context, port=4004)
