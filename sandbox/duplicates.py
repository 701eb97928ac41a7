"""Operator registrations with injected duplicates, and the truth about who is who.

Programmes register the people they serve, each in its own way: one romanizes Sokh where
another writes Sok, one writes the given name first, one knows only the birth year, one
registered the person before they moved, few record the Khmer ID. This module turns a
synthetic population into such registrations, deterministically per seed, and records
which registrations are the same person, so that de-duplication can be measured.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path
from typing import TextIO

from identity_store.matching import DatePrecision, MatchRecord
from sandbox.population import (
    FEMALE_NAMES,
    MALE_NAMES,
    SyntheticPerson,
    all_village_codes,
    generate_population,
)

OPERATORS = ("nssf", "idpoor", "cash_transfer", "health_equity_fund")

# Spelling variants people actually write (each folds to the same romanization key,
# except where the typo generator adds an error on top).
_VARIANTS: tuple[tuple[str, str], ...] = (
    (r"k$", "kh"),
    (r"kh", "k"),
    (r"chh", "ch"),
    (r"ch(?!h)", "chh"),
    (r"ea", "ia"),
    (r"ia", "ea"),
    (r"ou", "u"),
    (r"(?<!o)u", "ou"),
    (r"y$", "i"),
    (r"ey$", "ei"),
    (r"oeu", "eu"),
    (r"th", "t"),
    (r"ph", "p"),
    (r"nn", "n"),
    (r"(?<=[aeiou])n(?=[aeiou])", "nn"),
    (r"ao$", "au"),
    (r"v", "w"),
)
_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


@dataclass(frozen=True)
class Registration:
    """One operator's registration of one person, as the operator recorded it."""

    rec_id: str
    operator: str
    person_spid: str  # the truth: who this is
    family_name: str | None
    given_name: str | None
    family_name_km: str | None
    given_name_km: str | None
    birth_date: dt.date | None
    birth_precision: DatePrecision | None
    sex: str | None
    village_code: str | None
    phone: str | None
    khmer_id: str | None
    perturbations: tuple[str, ...] = ()  # what was done to this copy (empty: a first one)

    def match_record(self) -> MatchRecord:
        return MatchRecord(
            family_name=self.family_name,
            given_name=self.given_name,
            family_name_km=self.family_name_km,
            given_name_km=self.given_name_km,
            birth_date=self.birth_date,
            birth_precision=self.birth_precision,
            sex=self.sex,
            village_code=self.village_code,
            phone=self.phone,
            khmer_id=self.khmer_id,
        )


@dataclass(frozen=True)
class Registrations:
    """Registrations in arrival order, and the people they belong to."""

    records: tuple[Registration, ...]
    people: tuple[SyntheticPerson, ...]

    def true_pairs(self) -> frozenset[tuple[str, str]]:
        """Every pair of registrations (rec_id order) that are the same person."""
        return true_pairs(self.records)


def true_pairs(records: Iterable[Registration]) -> frozenset[tuple[str, str]]:
    by_person: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_person[record.person_spid].append(record.rec_id)
    return frozenset(
        (min(a, b), max(a, b)) for ids in by_person.values() for a, b in combinations(ids, 2)
    )


def romanization_variant(name: str, rng: random.Random) -> str:
    """Another common romanization of ``name`` (the name itself if none applies)."""
    lower = name.lower()
    options = [(p, r) for p, r in _VARIANTS if re.search(p, lower)]
    if not options:
        return name
    pattern, replacement = rng.choice(options)
    return _capitalize(re.sub(pattern, replacement, lower, count=1))


def typo(name: str, rng: random.Random) -> str:
    """``name`` with one keying error after its first letter: dropped, doubled,
    swapped with the next, or a different letter."""
    if len(name) < 3:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        out = name[:i] + name[i + 1 :]
    elif kind == "double":
        out = name[:i] + name[i] + name[i:]
    elif kind == "swap":
        out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    else:
        out = name[:i] + rng.choice(_KEYBOARD) + name[i + 1 :]
    return out


def _capitalize(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(("12", "15", "16", "17", "77", "78", "85", "89", "92", "97", "10"))
    return prefix + f"{rng.randrange(10**6, 10**7)}"


def _format_phone(number: str, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"0{number[:2]} {number[2:5]} {number[5:]}"
    if style == 1:
        return f"+855{number}"
    if style == 2:
        return f"855 {number}"
    return f"0{number}"


class _Villages:
    def __init__(self) -> None:
        self.codes = all_village_codes()
        self.by_prefix: dict[str, list[str]] = defaultdict(list)
        for code in self.codes:
            self.by_prefix[code[:6]].append(code)
            self.by_prefix[code[:4]].append(code)
            self.by_prefix[code[:2]].append(code)

    def moved(self, code: str, rng: random.Random) -> str:
        roll = rng.random()
        prefix = (
            code[:6] if roll < 0.4 else code[:4] if roll < 0.65 else code[:2] if roll < 0.85 else ""
        )
        choices = [c for c in self.by_prefix.get(prefix, ()) if c != code] or list(self.codes)
        return rng.choice(choices)


def _first_registration(
    rec_id: str, operator: str, person: SyntheticPerson, phone: str | None, rng: random.Random
) -> Registration:
    year_only = rng.random() < 0.05
    return Registration(
        rec_id=rec_id,
        operator=operator,
        person_spid=person.spid,
        family_name=person.family_name,
        given_name=person.given_name,
        family_name_km=person.family_name_km if rng.random() < 0.7 else None,
        given_name_km=person.given_name_km if rng.random() < 0.7 else None,
        birth_date=person.birth_date.replace(month=1, day=1) if year_only else person.birth_date,
        birth_precision="year" if year_only else "day",
        sex=person.sex,
        village_code=person.village_code,
        phone=_format_phone(phone, rng) if phone is not None and rng.random() < 0.6 else None,
        khmer_id=person.khmer_id if rng.random() < 0.7 else None,
    )


def _duplicate(
    first: Registration, rec_id: str, operator: str, villages: _Villages, rng: random.Random
) -> Registration:
    """Another operator's registration of the same person, with one to three changes."""
    record = replace(
        first,
        rec_id=rec_id,
        operator=operator,
        # each operator collects these or not, whatever the first one did
        khmer_id=first.khmer_id if first.khmer_id and rng.random() < 0.4 else None,
    )
    done: list[str] = []
    changes = [
        ("romanization", 0.5),
        ("swapped", 0.2),
        ("typo", 0.15),
        ("year_only", 0.25),
        ("transposed", 0.04),
        ("moved", 0.15),
        ("khmer_script", 0.1),
        ("no_latin", 0.03),
        ("no_sex", 0.05),
        ("date_typo", 0.04),
        ("new_phone", 0.1),
    ]
    while not done:
        for change, probability in changes:
            if rng.random() < probability:
                done.append(change)
    for change in done:
        record = _perturb(record, change, villages, rng)
    return replace(record, perturbations=tuple(done))


def _perturb(
    record: Registration, change: str, villages: _Villages, rng: random.Random
) -> Registration:
    if change == "romanization" and record.family_name and record.given_name:
        if rng.random() < 0.6:
            return replace(record, family_name=romanization_variant(record.family_name, rng))
        return replace(record, given_name=romanization_variant(record.given_name, rng))
    if change == "swapped":
        return replace(
            record,
            family_name=record.given_name,
            given_name=record.family_name,
            family_name_km=record.given_name_km,
            given_name_km=record.family_name_km,
        )
    if change == "typo" and record.family_name and record.given_name:
        if rng.random() < 0.5:
            return replace(record, family_name=typo(record.family_name, rng))
        return replace(record, given_name=typo(record.given_name, rng))
    if change == "year_only" and record.birth_date is not None:
        return replace(record, birth_date=record.birth_date.replace(month=1, day=1),
                       birth_precision="year")  # fmt: skip
    if change == "transposed" and record.birth_date is not None:
        date = record.birth_date
        if record.birth_precision == "day" and date.day <= 12 and date.day != date.month:
            return replace(record, birth_date=date.replace(month=date.day, day=date.month))
    if change == "moved" and record.village_code is not None:
        return replace(record, village_code=villages.moved(record.village_code, rng))
    if change == "khmer_script" and record.given_name_km:
        # typed with a zero-width space, as Khmer word processors insert them
        name = record.given_name_km
        i = rng.randrange(1, len(name)) if len(name) > 1 else 1
        return replace(record, given_name_km=name[:i] + "\u200b" + name[i:])
    if change == "no_latin" and record.family_name_km and record.given_name_km:
        return replace(record, family_name=None, given_name=None)
    if change == "date_typo" and record.birth_date is not None:
        date = record.birth_date
        year = date.year + rng.choice((-1, 1))
        return replace(record, birth_date=date.replace(year=year, day=min(date.day, 28)))
    if change == "new_phone":
        return replace(record, phone=_format_phone(_phone(rng), rng))
    if change == "no_sex":
        return replace(record, sex=None)
    return record


def _distinct_given_names(
    people: Sequence[SyntheticPerson], rng: random.Random
) -> tuple[SyntheticPerson, ...]:
    """Parents do not give two children one name: rename repeats within a household.

    (The population draws given names from a short list, so it repeats them; twins
    named alike would make every de-duplicator look worse than it is.)
    """
    used: dict[str, set[str]] = defaultdict(set)
    out: list[SyntheticPerson] = []
    for person in people:
        taken = used[person.household_id]
        if person.given_name in taken:
            pool = MALE_NAMES if person.sex == "male" else FEMALE_NAMES
            free = [(n, km) for n, km in pool if n not in taken]
            if free:
                name, name_km = rng.choice(free)
                person = replace(person, given_name=name, given_name_km=name_km)
        taken.add(person.given_name)
        out.append(person)
    return tuple(out)


def generate_registrations(
    size: int, seed: int = 0, *, duplicate_rate: float = 0.25
) -> Registrations:
    """Registrations of a population of about ``size`` people, in arrival order.

    About ``duplicate_rate`` of the people are registered again by another operator (a
    few of them twice). The population is :func:`generate_population`'s for the seed.
    """
    rng = random.Random(f"tonle-duplicates-{seed}")
    people = _distinct_given_names(generate_population(size, seed).people, rng)
    villages = _Villages()
    household_phone: dict[str, str | None] = {}
    records: list[Registration] = []
    for person in people:
        if person.household_id not in household_phone:
            household_phone[person.household_id] = _phone(rng) if rng.random() < 0.6 else None
        phone = household_phone[person.household_id]
        if person.relationship != "child" and rng.random() < 0.5:
            phone = _phone(rng)
        operators = rng.sample(OPERATORS, 3)
        first = _first_registration("", operators[0], person, phone, rng)
        if rng.random() < 0.1:
            first = _perturb(first, "romanization", villages, rng)
        copies = [first]
        if rng.random() < duplicate_rate:
            copies.append(_duplicate(first, "", operators[1], villages, rng))
            if rng.random() < 0.2:
                copies.append(_duplicate(first, "", operators[2], villages, rng))
        records.extend(copies)
    rng.shuffle(records)
    numbered = tuple(replace(r, rec_id=f"R{i:07d}") for i, r in enumerate(records))
    return Registrations(numbered, people)


CSV_COLUMNS = (
    "rec_id",
    "operator",
    "surname",
    "given",
    "surname_km",
    "given_km",
    "dob",
    "sex",
    "village_code",
    "phone",
    "khmer_id",
    "true_person",
)
# How ``tonle dedup`` reads that CSV: each MatchRecord field and its column.
CSV_MAPPING: dict[str, str] = {
    "family_name": "surname",
    "given_name": "given",
    "family_name_km": "surname_km",
    "given_name_km": "given_km",
    "birth_date": "dob",
    "sex": "sex",
    "village_code": "village_code",
    "phone": "phone",
    "khmer_id": "khmer_id",
}


def _format_date(record: Registration) -> str:
    date = record.birth_date
    if date is None:
        return ""
    if record.birth_precision == "year":
        return str(date.year)
    style = {"nssf": 0, "idpoor": 1, "cash_transfer": 2}.get(record.operator, 0)
    if style == 1:
        return date.strftime("%d/%m/%Y")
    if style == 2:
        return date.strftime("%Y%m%d")
    return date.isoformat()


def csv_rows(records: Iterable[Registration]) -> Iterator[dict[str, str]]:
    """Rows as operators' exports carry them: dates in each operator's format, sex M/F."""
    for r in records:
        yield {
            "rec_id": r.rec_id,
            "operator": r.operator,
            "surname": r.family_name or "",
            "given": r.given_name or "",
            "surname_km": r.family_name_km or "",
            "given_km": r.given_name_km or "",
            "dob": _format_date(r),
            "sex": {"male": "M", "female": "F"}.get(r.sex or "", ""),
            "village_code": r.village_code or "",
            "phone": r.phone or "",
            "khmer_id": r.khmer_id or "",
            "true_person": r.person_spid,
        }


def write_csv(records: Iterable[Registration], out: TextIO | Path) -> None:
    """Write registrations as a CSV that ``tonle dedup`` reads (``true_person`` is the truth)."""
    if isinstance(out, Path):
        with out.open("w", newline="", encoding="utf-8") as handle:
            write_csv(records, handle)
        return
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(csv_rows(records))
