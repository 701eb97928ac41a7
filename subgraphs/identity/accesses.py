"""Who saw a person's data: the access log, for registry staff answering a resident.

``accessesTo(spid:)`` reads the access log the gateway writes (``policies.audit``) for one
person, newest first. The person is looked up under the caller's row scope first: for a
person out of scope, or unknown, the answer is null, as ``person(spid:)``'s is.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from identity_store import InvalidInput
from policies.audit import MAX_PAGE_SIZE, InvalidAccessCursor, who_saw
from subgraphs.identity.context import Info, checked_spid
from subgraphs.identity.types import PageInfo


@strawberry.type(description="One request that returned a person's data, from the access log.")
class Access:
    seq: strawberry.ID
    at: dt.datetime
    partner: str
    purpose: str
    end_user: str | None
    operation_name: str | None
    policy_version: int | None
    fields: list[str] = strawberry.field(description="Every field returned, as Type.field.")
    outcome: str = strawberry.field(description="ok, partial or error.")


@strawberry.type(description="The requests that returned one person's data, newest first.")
class PersonAccesses:
    spid: str
    accesses: list[Access]
    page_info: PageInfo


async def accesses_to(
    info: Info, spid: str, since: dt.datetime | None, first: int, after: str | None
) -> PersonAccesses | None:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first is 1 to {MAX_PAGE_SIZE}; got {first}.")
    record = await info.context.people.load(checked_spid(spid))
    if record is None:
        return None
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    try:
        page = await who_saw(info.context.sessions, record.spid, since, first=first, after=after)
    except InvalidAccessCursor:
        raise InvalidInput(
            "after is not a cursor this field gave; start again without it."
        ) from None
    return PersonAccesses(
        spid=record.spid,
        accesses=[
            Access(
                seq=strawberry.ID(str(a.seq)),
                at=a.at,
                partner=a.partner,
                purpose=a.purpose,
                end_user=a.end_user,
                operation_name=a.operation_name,
                policy_version=a.policy_version,
                fields=list(a.fields),
                outcome=a.outcome,
            )
            for a in page.accesses
        ],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
    )
