"""NSSF members derived from the synthetic population, deterministically per person.

The population module knows nothing of NSSF; each person's membership is drawn from a
random generator seeded by the SPID, so the same population always gives the same
members whatever order people are seeded in.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sandbox.population import REFERENCE_DATE, Population

EMPLOYERS = (
    ("E000101", "Phnom Penh Garment Co., Ltd."),
    ("E000102", "Mekong Footwear Manufacturing"),
    ("E000103", "Angkor Rice Mill"),
    ("E000104", "Tonle Sap Logistics"),
    ("E000105", "Kampot Pepper Cooperative"),
    ("E000106", "Siem Reap Hospitality Group"),
    ("E000107", "Battambang Construction Co."),
    ("E000108", "Sihanoukville Port Services"),
    ("E000109", "Royal Textile Factory"),
    ("E000110", "Takeo Brick Works"),
)
SCHEMES = ("occupational_risk", "health_care", "pension")
MEMBER_AGES = (18, 60)
MEMBER_SHARE = 0.35


@dataclass(frozen=True)
class NssfMember:
    """One NSSF member: the fund's own ID, employer, schemes and contribution record."""

    spid: str
    member_id: str
    employer_id: str
    employer_name: str
    schemes: tuple[str, ...]
    status: str  # active, suspended, terminated
    months_of_contributions: int
    last_contribution_date: dt.date


def _age(birth_date: dt.date) -> int:
    before_birthday = (REFERENCE_DATE.month, REFERENCE_DATE.day) < (
        birth_date.month,
        birth_date.day,
    )
    return REFERENCE_DATE.year - birth_date.year - before_birthday


def _member_id(spid: str) -> str:
    # The fund's own numbering: unique per SPID (7919 is prime to 10**11) but not the SPID.
    return f"NS{int(spid[:11]) * 7919 % 10**11:011d}"


def nssf_members(population: Population) -> tuple[NssfMember, ...]:
    """About a third of working-age people (18 to 60) are members, most of them active."""
    members = []
    for person in population.people:
        rng = random.Random(f"nssf/{person.spid}")
        if not MEMBER_AGES[0] <= _age(person.birth_date) <= MEMBER_AGES[1]:
            continue
        if rng.random() >= MEMBER_SHARE:
            continue
        employer_id, employer_name = rng.choice(EMPLOYERS)
        schemes = ["occupational_risk", "health_care"]
        if rng.random() < 0.7:
            schemes.append("pension")
        draw = rng.random()
        status = "active" if draw < 0.8 else "suspended" if draw < 0.9 else "terminated"
        months = rng.randint(1, 120)
        last_month = REFERENCE_DATE.replace(day=1) - dt.timedelta(days=1)
        if status != "active":
            last_month -= dt.timedelta(days=30 * rng.randint(3, 24))
        members.append(
            NssfMember(
                spid=person.spid,
                member_id=_member_id(person.spid),
                employer_id=employer_id,
                employer_name=employer_name,
                schemes=tuple(schemes),
                status=status,
                months_of_contributions=months,
                last_contribution_date=last_month.replace(day=min(25, last_month.day)),
            )
        )
    return tuple(members)
