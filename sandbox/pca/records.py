"""PCA certified payments derived from the synthetic population, deterministically.

The heads of identified-poor households receive the Family Package every month (more
for level 1); about 2% of people receive a disability allowance; some poor households
in flood-prone provinces received an emergency payment. Most payments are certified,
a few still pending or rejected.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sandbox.population import REFERENCE_DATE, Population

PROGRAMMES = ("family_package", "disability_allowance", "flood_emergency")
MONTHS = 6
FAMILY_PACKAGE_KHR = {1: 120_000, 2: 80_000}
DISABILITY_KHR = 40_000
FLOOD_KHR = 200_000
ICT = dt.timezone(dt.timedelta(hours=7))


@dataclass(frozen=True)
class CertifiedPayment:
    payment_id: str
    spid: str
    programme: str
    period: str  # YYYY-MM
    amount_khr: int
    certified_at: dt.datetime
    status: str  # certified, pending, rejected


def _periods(count: int) -> list[dt.date]:
    first_of_month = REFERENCE_DATE.replace(day=1)
    months = []
    for _ in range(count):
        first_of_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
        months.append(first_of_month)
    return sorted(months)


def _payment(
    rng: random.Random, spid: str, programme: str, month: dt.date, amount: int
) -> CertifiedPayment:
    draw = rng.random()
    status = "certified" if draw < 0.93 else "pending" if draw < 0.97 else "rejected"
    # certified on the 10th of the month after the period
    certified_on = (month + dt.timedelta(days=32)).replace(day=10)
    certified_at = dt.datetime.combine(certified_on, dt.time(9, rng.randrange(60)), tzinfo=ICT)
    return CertifiedPayment(
        payment_id=f"PCA-{programme[:3].upper()}-{month:%Y%m}-{spid}",
        spid=spid,
        programme=programme,
        period=f"{month:%Y-%m}",
        amount_khr=amount,
        certified_at=certified_at,
        status=status,
    )


def certified_payments(population: Population) -> tuple[CertifiedPayment, ...]:
    """Every payment the PCA certified (or has pending) for the population."""
    payments: list[CertifiedPayment] = []
    months = _periods(MONTHS)
    for household in population.idpoor_households:
        head = household.member_spids[0]
        rng = random.Random(f"pca/{household.household_id}")
        for month in months:
            amount = FAMILY_PACKAGE_KHR[household.level]
            payments.append(_payment(rng, head, "family_package", month, amount))
        if household.village_code[:2] in ("03", "08", "14", "21") and rng.random() < 0.5:
            payments.append(_payment(rng, head, "flood_emergency", months[1], FLOOD_KHR))
    for person in population.people:
        rng = random.Random(f"pca/{person.spid}")
        if rng.random() < 0.02:
            for month in months[-3:]:
                payments.append(
                    _payment(rng, person.spid, "disability_allowance", month, DISABILITY_KHR)
                )
    return tuple(payments)
