"""The pca subgraph: ``Person.pcaPayments``, live from the Payment Certification Authority."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

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

BY_BENEFICIARY_PATH = "/v1/payments/by-beneficiary"


@strawberry.enum(description="Where a payment stands with the PCA.")
class PaymentStatus(enum.Enum):
    CERTIFIED = "certified"
    PENDING = "pending"
    REJECTED = "rejected"


@strawberry.type(description="A benefit payment as the Payment Certification Authority holds it.")
class CertifiedPayment:
    payment_id: str
    programme: str = strawberry.field(
        description='The paying programme, e.g. "family_package", "disability_allowance".'
    )
    period: str = strawberry.field(description="The month paid for, YYYY-MM.")
    amount_khr: int = strawberry.field(description="Amount in riel (KHR).")
    certified_at: dt.datetime
    status: PaymentStatus


def _payment(p: dict[str, Any]) -> CertifiedPayment:
    return CertifiedPayment(
        payment_id=p["payment_id"],
        programme=p["programme"],
        period=p["period"],
        amount_khr=int(p["amount_khr"]),
        certified_at=dt.datetime.fromisoformat(p["certified_at"]),
        status=PaymentStatus(p["status"]),
    )


@dataclass
class PcaContext:
    payments: DataLoader[str, list[CertifiedPayment] | None]


def make_context(call: OperatorCall) -> PcaContext:
    async def payments(spids: Sequence[str]) -> list[list[CertifiedPayment] | None]:
        results = await call.client.batch(BY_BENEFICIARY_PATH, "spids", spids, caller=call.caller)
        return [[_payment(p) for p in r["payments"]] for r in results]

    return PcaContext(operator_loader(payments, valid=is_valid_spid, absent=[]))


def _matching(
    payments: list[CertifiedPayment] | None, programme: str | None, since_period: str | None
) -> list[CertifiedPayment] | None:
    if payments is None or (programme is None and since_period is None):
        return payments
    return [
        p
        for p in payments
        if (programme is None or p.programme == programme)
        and (since_period is None or p.period >= since_period)
    ]


async def _payments_of_each(
    people: Sequence[Person],
    info: strawberry.Info[PcaContext, Any],
    programme: str | None = None,
    since_period: str | None = None,
) -> list[list[CertifiedPayment] | BaseException | None]:
    found = await load_each(info.context.payments, [person.spid for person in people])
    return [
        answer if isinstance(answer, BaseException) else _matching(answer, programme, since_period)
        for answer in found
    ]


@strawberry.federation.type(keys=["spid"])
class Person:
    spid: str

    @strawberry.field(
        description="Payments the PCA certified for the person, oldest period first; "
        "empty when none, null when the PCA cannot be reached.",
        metadata=batch_resolver(_payments_of_each),
    )
    async def pca_payments(
        self,
        info: strawberry.Info[PcaContext, Any],
        programme: str | None = None,
        since_period: Annotated[
            str | None, strawberry.argument(description="Only periods from this month on.")
        ] = None,
    ) -> list[CertifiedPayment] | None:
        return _matching(await info.context.payments.load(self.spid), programme, since_period)

    @classmethod
    def resolve_reference(cls, spid: str) -> Person:
        return cls(spid=spid)


schema = OperatorSchema(types=[Person])
PCA = OperatorSubgraph("pca", "the PCA system", schema, make_context, port=4005)
