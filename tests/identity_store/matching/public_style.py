"""Backlogs shaped like the public record-linkage benchmarks (FEBRL), generated per seed.

Person records of another country: given name, surname, a street address split over
columns, suburb, postcode, state, birth date as YYYYMMDD and a social security number,
some of them duplicated with typos and missing values, as the public benchmark files
are. Generated here (no third-party data in the repository), so tests can plant dirty
values where they like.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

COLUMNS = (
    "rec_id", "given_name", "surname", "street_number", "address_1", "address_2",
    "suburb", "postcode", "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip

_GIVEN = (
    "aaron", "abbey", "adam", "alana", "alexander", "amelia", "annabel", "benjamin",
    "blake", "brianna", "caitlin", "callum", "charlotte", "chloe", "daniel", "declan",
    "ella", "emily", "ethan", "georgia", "grace", "hannah", "harrison", "isabella",
    "jack", "jacob", "jade", "jessica", "joshua", "kayla", "liam", "lily", "lucas",
    "madison", "matthew", "mia", "nathan", "olivia", "oscar", "paige", "riley", "ruby",
    "samuel", "sarah", "sophie", "thomas", "tyler", "william", "zachary", "zoe",
)  # fmt: skip
_SURNAMES = (
    "anderson", "bailey", "baker", "bell", "bennett", "brown", "campbell", "clarke",
    "cooper", "davies", "dixon", "edwards", "evans", "fisher", "ford", "gibson", "graham",
    "green", "hall", "harris", "hughes", "jackson", "james", "johnson", "jones", "kelly",
    "king", "lee", "lewis", "martin", "mitchell", "moore", "morris", "murphy", "nguyen",
    "oconnor", "parker", "phillips", "reid", "roberts", "robinson", "ryan", "scott",
    "smith", "stewart", "taylor", "thomas", "thompson", "walker", "watson", "white",
    "williams", "wilson", "wood", "wright", "young",
)  # fmt: skip
_STREETS = (
    "banksia", "boronia", "canning", "cleveland", "darling", "elizabeth", "flinders",
    "george", "hawthorn", "jacaranda", "kent", "macquarie", "oxford", "pitt", "stanley",
    "sturt", "victoria", "waratah", "wattle", "york",
)  # fmt: skip
_KINDS = ("street", "road", "avenue", "place", "crescent", "circuit", "close")
_PLACES = (
    "beaconsfield", "belconnen", "carnegie", "dubbo", "frankston", "gosford", "hornsby",
    "ipswich", "kiama", "lismore", "maitland", "mildura", "orange", "penrith", "raymond terrace",
    "richlands", "shellharbour", "tamworth", "toowoomba", "wagga wagga", "winston hills",
)  # fmt: skip
_STATES = ("nsw", "vic", "qld", "wa", "sa", "tas", "act")
_BUILDINGS = ("", "", "", "rosedale", "sunnyside", "the elms", "kooringal", "unit 4")


@dataclass(frozen=True)
class Backlog:
    """The rows written, and which record ids are the same person."""

    rows: list[dict[str, str]]
    true_pairs: frozenset[tuple[str, str]]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == 0:
        return text[:i] + letter + text[i + 1 :]
    if kind == 1:
        return text[:i] + letter + text[i:]
    if kind == 2:
        return text[:i] + text[i + 1 :]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def _original(number: int, rng: random.Random) -> dict[str, str]:
    place = rng.randrange(len(_PLACES))
    return {
        "rec_id": f"rec-{number}-org",
        "given_name": rng.choice(_GIVEN),
        "surname": rng.choice(_SURNAMES),
        "street_number": str(rng.randint(1, 120)),
        "address_1": f"{rng.choice(_STREETS)} {rng.choice(_KINDS)}",
        "address_2": rng.choice(_BUILDINGS),
        "suburb": _PLACES[place],
        "postcode": str(2000 + 97 * place + rng.randrange(3)),
        "state": rng.choice(_STATES),
        "date_of_birth": f"{rng.randint(1920, 1999)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        "soc_sec_id": str(rng.randint(1_000_000, 9_999_999)),
    }


def _duplicate(original: dict[str, str], copy: int, rng: random.Random) -> dict[str, str]:
    row = dict(original, rec_id=original["rec_id"].replace("-org", f"-dup-{copy}"))
    editable = [c for c in COLUMNS if c not in ("rec_id", "state")]
    for column in rng.sample(editable, rng.randint(1, 3)):
        if rng.random() < 0.25:
            row[column] = ""
        elif column == "date_of_birth":  # real dates only: tests plant the impossible ones
            year, month, day = row[column][:4], row[column][4:6], row[column][6:]
            swapped = int(day) <= 12 and rng.random() < 0.5
            row[column] = (
                year + day + month if swapped else year[:2] + year[3] + year[2] + month + day
            )
        else:
            row[column] = _typo(row[column], rng)
    return row


def generate_backlog(originals: int, duplicates: int, seed: int) -> Backlog:
    """``originals`` people, ``duplicates`` of them registered a second time (shuffled)."""
    rng = random.Random(seed)
    people = [_original(n, rng) for n in range(originals)]
    copies = [_duplicate(p, 0, rng) for p in rng.sample(people, duplicates)]
    rows = people + copies
    rng.shuffle(rows)
    truth = frozenset(
        tuple(sorted((c["rec_id"].replace("-dup-0", "-org"), c["rec_id"]))) for c in copies
    )
    return Backlog(rows, truth)  # type: ignore[arg-type]


def write_backlog(backlog: Backlog, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(backlog.rows)
    return path


PUBLIC_MAPPING = [
    "--map", "given_name=given_name", "--map", "family_name=surname",
    "--map", "birth_date=date_of_birth", "--map", "address=address_1",
    "--map", "locality=suburb", "--map", "postcode=postcode", "--map", "external_id=soc_sec_id",
]  # fmt: skip
