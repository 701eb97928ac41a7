"""Batch de-duplication over the registry itself: its people in, review cases out.

Online matching decides one registration at a time; a batch run over the whole registry
(``tonle dedup --registry``) finds what slipped through — people registered side by side
before a better model, or by operators with poorer data. Merging is a person's decision,
so the pairs it finds become review cases, never merges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store.matching import MatchModel, MatchRecord
from identity_store.models import Person, RegistrationEvent, ReviewCase
from identity_store.repository import match_record, person_record

# Pairs are looked up and written in chunks, so a large run never builds one huge statement.
_CHUNK = 500


@dataclass(frozen=True)
class RegistryRecords:
    """Every person still standing (merged SPIDs left out), as the matcher sees them."""

    spids: tuple[str, ...]
    records: tuple[MatchRecord, ...]


async def registry_records(sessions: async_sessionmaker[AsyncSession]) -> RegistryRecords:
    """The registry's people in SPID order, streamed from the database."""
    spids: list[str] = []
    records: list[MatchRecord] = []
    async with sessions() as session:
        rows = await session.stream_scalars(
            select(Person)
            .where(Person.status != "merged")
            .order_by(Person.spid)
            .execution_options(yield_per=5_000)
        )
        async for row in rows:
            spids.append(row.spid)
            records.append(match_record(person_record(row)))
    return RegistryRecords(tuple(spids), tuple(records))


async def open_review_cases(
    sessions: async_sessionmaker[AsyncSession],
    pairs: Sequence[tuple[str, str]],
    people: RegistryRecords,
    model: MatchModel,
) -> int:
    """Open a review case for each pair not already under review; how many were opened.

    The person registered first is the candidate (the survivor, should reviewers merge);
    the reasons are the online matcher's, so reviewers see one kind of explanation.
    """
    by_spid = dict(zip(people.spids, people.records, strict=True))
    opened = 0
    for start in range(0, len(pairs), _CHUNK):
        chunk = [tuple(sorted(p)) for p in pairs[start : start + _CHUNK]]
        async with sessions.begin() as session:
            known = await _pairs_under_review(session, chunk)
            created = {
                row.spid: row.created_at
                for row in await session.execute(
                    select(Person.spid, Person.created_at).where(
                        Person.spid.in_({s for pair in chunk for s in pair})
                    )
                )
            }
            for a, b in chunk:
                if (a, b) in known or a not in created or b not in created:
                    continue
                older, newer = sorted((a, b), key=lambda s: (created[s], s))
                score = model.score(by_spid[newer], by_spid[older])
                reasons = [
                    {"comparison": r.comparison, "level": r.level, "weight": r.weight}
                    for r in score.reasons
                ]
                session.add(
                    ReviewCase(
                        spid=newer,
                        candidate_spid=older,
                        probability=score.probability,
                        weight=score.weight,
                        reasons={"reasons": reasons, "candidate": older, "source": "batch"},
                    )
                )
                session.add(
                    RegistrationEvent(
                        spid=newer,
                        kind="review_opened",
                        actor="tonle dedup",
                        other_spid=older,
                        detail={"source": "batch", "probability": round(score.probability, 6)},
                    )
                )
                known.add((a, b))
                opened += 1
    return opened


async def _pairs_under_review(
    session: AsyncSession, pairs: list[tuple[str, ...]]
) -> set[tuple[str, ...]]:
    """The pairs of ``pairs`` that already have a case, open or decided, either way round."""
    forward = tuple_(ReviewCase.spid, ReviewCase.candidate_spid)
    backward = tuple_(ReviewCase.candidate_spid, ReviewCase.spid)
    rows = await session.execute(
        select(ReviewCase.spid, ReviewCase.candidate_spid).where(
            or_(forward.in_(pairs), backward.in_(pairs))
        )
    )
    return {tuple(sorted(row)) for row in rows}
