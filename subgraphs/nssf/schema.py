"""The nssf subgraph: ``Person.nssf``, live from the National Social Security Fund's system."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from identity_store.spid import is_valid_spid
from subgraphs.fast_path import batch_resolver
from subgraphs.operator import (
    OperatorCall,
    OperatorSchema,
    OperatorSubgraph,
    load_each,
    operator_loader,
)

BY_SPID_PATH = "/v1/members/by-spid"


@strawberry.enum(description="The NSSF schemes a member is covered by.")
class NssfScheme(enum.Enum):
    OCCUPATIONAL_RISK = "occupational_risk"
    HEALTH_CARE = "health_care"
    PENSION = "pension"


@strawberry.enum(description="Whether contributions are being paid for the member.")
class NssfMemberStatus(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


@strawberry.type(description="The employer that declared the member to the NSSF.")
class NssfEmployer:
    employer_id: str
    name: str


@strawberry.type(description="The person's membership of the NSSF, from the fund's own system.")
class NssfMembership:
    member_id: str = strawberry.field(description="The NSSF's own member ID.")
    employer: NssfEmployer
    schemes: list[NssfScheme]
    status: NssfMemberStatus
    months_of_contributions: int
    last_contribution_date: dt.date

    @strawberry.field(description="Whether the person is an active member (contributions paid).")
    def active(self) -> bool:
        return self.status is NssfMemberStatus.ACTIVE


def _membership(member: dict[str, Any] | None) -> NssfMembership | None:
    if member is None:
        return None
    return NssfMembership(
        member_id=member["member_id"],
        employer=NssfEmployer(
            employer_id=member["employer"]["employer_id"], name=member["employer"]["name"]
        ),
        schemes=[NssfScheme(s) for s in member["schemes"]],
        status=NssfMemberStatus(member["status"]),
        months_of_contributions=int(member["months_of_contributions"]),
        last_contribution_date=dt.date.fromisoformat(member["last_contribution_date"]),
    )


@dataclass
class NssfContext:
    members: DataLoader[str, NssfMembership | None]


def make_context(call: OperatorCall) -> NssfContext:
    async def members(spids: Sequence[str]) -> list[NssfMembership | None]:
        results = await call.client.batch(BY_SPID_PATH, "spids", spids, caller=call.caller)
        return [_membership(r["member"]) for r in results]

    return NssfContext(operator_loader(members, valid=is_valid_spid))


async def _memberships(
    people: Sequence[Person], info: strawberry.Info[NssfContext, Any]
) -> list[NssfMembership | BaseException | None]:
    return await load_each(info.context.members, [person.spid for person in people])


@strawberry.federation.type(keys=["spid"])
class Person:
    spid: str

    @strawberry.field(
        description="NSSF membership; null when the person is not a member.",
        metadata=batch_resolver(_memberships),
    )
    async def nssf(self, info: strawberry.Info[NssfContext, Any]) -> NssfMembership | None:
        return await info.context.members.load(self.spid)

    @classmethod
    def resolve_reference(cls, spid: str) -> Person:
        return cls(spid=spid)


schema = OperatorSchema(types=[Person])
NSSF = OperatorSubgraph("nssf", "the NSSF system", schema, make_context, port=4003)
