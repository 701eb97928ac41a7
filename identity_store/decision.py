"""Deciding a registration: which registered person, if any, a new record is.

Pure logic, no I/O: the registration service looks the candidates up and hands them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Literal

from identity_store.matching import MatchModel, MatchRecord, MatchScore

Outcome = Literal["khmer_id", "match", "review", "new"]

# What a Khmer ID card states about its holder and what does not change when they move
# or change phone: the record's other fields must confirm the ID on these alone.
CARD_FIELDS = (
    "family_name",
    "given_name",
    "family_name_km",
    "given_name_km",
    "birth_date",
    "birth_precision",
    "sex",
    "khmer_id",
)


@dataclass(frozen=True)
class Candidate:
    """A registered record a new one may be: its own SPID, and the SPID it stands for.

    A merged record stays a candidate (it is one more known spelling of its survivor),
    but a match on it links to ``resolves_to``, the survivor.
    """

    spid: str
    resolves_to: str
    khmer_id: str | None
    record: MatchRecord


@dataclass(frozen=True)
class RegistrationDecision:
    """What to do with a new record, against whom, and the score that says why."""

    outcome: Outcome
    spid: str | None  # the SPID to link (khmer_id, match) or to review against (review)
    score: MatchScore | None
    # A review because the record claims a registered person's Khmer ID without their
    # names and birth date: the registration must not learn that person's SPID.
    khmer_id_claimed: bool = False


def card_score(model: MatchModel, record: MatchRecord, holder: MatchRecord) -> MatchScore:
    """How well ``record`` fits the holder of the same Khmer ID on the card's fields.

    The model's own comparisons and weights over :data:`CARD_FIELDS` (the Khmer ID's
    agreement counts, with its trained weight); the address and phone, which change
    when a person moves, are left out.
    """
    return model.score(_card(record), _card(holder))


def _card(record: MatchRecord) -> MatchRecord:
    return MatchRecord(**{name: getattr(record, name) for name in CARD_FIELDS})


assert set(CARD_FIELDS) <= {f.name for f in fields(MatchRecord)}


def decide(
    record: MatchRecord,
    khmer_id: str | None,
    candidates: Sequence[Candidate],
    model: MatchModel,
) -> RegistrationDecision:
    """The decision for ``record`` among ``candidates``.

    The same Khmer ID links its holder when the record's names, birth date and sex
    confirm it: :func:`card_score` reaches the model's match threshold. Otherwise the
    record is a review against the holder (a new, provisional SPID), never a link: a
    Khmer ID alone must not hand out its holder's SPID. Two different Khmer IDs are two
    people whatever the names say (the registry holds each ID once), so such a
    candidate is never scored. Otherwise the best-scoring candidate decides by the model's
    thresholds; ties go to the lower SPID so that a decision never depends on row order.
    """
    if khmer_id is not None:
        for candidate in candidates:
            if candidate.khmer_id == khmer_id:
                card = card_score(model, record, candidate.record)
                if model.decide(card) == "match":
                    score = model.score(record, candidate.record)
                    return RegistrationDecision("khmer_id", candidate.resolves_to, score)
                return RegistrationDecision(
                    "review", candidate.resolves_to, card, khmer_id_claimed=True
                )
    best: tuple[float, str, MatchScore] | None = None
    for candidate in candidates:
        if khmer_id is not None and candidate.khmer_id not in (None, khmer_id):
            continue
        score = model.score(record, candidate.record)
        key = (-score.probability, candidate.resolves_to)
        if best is None or key < (-best[0], best[1]):
            best = (score.probability, candidate.resolves_to, score)
    if best is None:
        return RegistrationDecision("new", None, None)
    _, spid, score = best
    verdict = model.decide(score)
    if verdict == "new":
        return RegistrationDecision("new", None, score)
    return RegistrationDecision(verdict, spid, score)
