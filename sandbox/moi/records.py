"""The Ministry of Interior's Khmer ID records, derived from the synthetic population.

MoI's record is the person's identity as MoI holds it. For about 4% of people it differs
from the registry's (another romanization of the given name, or a birth date registered
a year off), so that verification answers mismatches as it would in real life.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass

from sandbox.population import Population

ROMANIZATIONS = {
    "Sophea": "Sopheap",
    "Dara": "Darah",
    "Vannak": "Vanak",
    "Sokha": "Sokhar",
    "Bopha": "Bupha",
    "Chenda": "Chendra",
    "Rithy": "Rithi",
    "Piseth": "Piset",
}
DIFFERENT_SHARE = 0.04


@dataclass(frozen=True)
class KhmerIdRecord:
    khmer_id: str
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str


def khmer_id_records(population: Population) -> tuple[KhmerIdRecord, ...]:
    """One record per person with a Khmer ID."""
    records = []
    for person in population.people:
        if person.khmer_id is None:
            continue
        rng = random.Random(f"moi/{person.spid}")
        given, birth = person.given_name, person.birth_date
        if rng.random() < DIFFERENT_SHARE:
            if given in ROMANIZATIONS and rng.random() < 0.5:
                given = ROMANIZATIONS[given]
            else:
                birth = birth.replace(year=birth.year - 1, day=min(birth.day, 28))
        records.append(KhmerIdRecord(person.khmer_id, person.family_name, given, birth, person.sex))
    return tuple(records)


def same_name(a: str, b: str) -> bool:
    """Names compare without regard to case, accents, spacing or hyphens."""

    def fold(name: str) -> str:
        decomposed = unicodedata.normalize("NFKD", name.casefold())
        kept = (c for c in decomposed if not unicodedata.combining(c))
        return "".join(c for c in kept if c.isalnum())

    return fold(a) == fold(b)
