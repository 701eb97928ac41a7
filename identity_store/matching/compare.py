"""Comparison functions: each turns a pair of records into a named agreement level.

Every comparison is one ordered list of levels; the first level whose test holds is the
outcome. Each level carries its test twice, once in Python (the online matcher) and once
in SQL over the same normalized columns (batch de-duplication with splink), written side
by side so that they stay the same rule; a test checks that both agree on real pairs.
The first level of each comparison is "missing": it carries no weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from identity_store.matching.features import Features, features
from identity_store.matching.record import MatchRecord

Comparison = Callable[[MatchRecord, MatchRecord], str]
LevelTest = Callable[[Features, Features], bool]

NAME_FUZZY = 0.88  # Jaro-Winkler of romanization keys: one typo in a short name
TEXT_FUZZY = 0.9


@dataclass(frozen=True)
class Level:
    """One agreement level: its name, its test in Python, and the same test in SQL.

    A level that ``is_missing`` carries no weight (splink's null level). The SQL reads
    ``<column>_l`` and ``<column>_r`` of :class:`Features` and may call
    ``{jw}`` (Jaro-Winkler similarity) and ``{dl}`` (Damerau-Levenshtein distance), which
    each SQL dialect names differently.
    """

    name: str
    test: LevelTest
    sql: str
    is_missing: bool = False


@dataclass(frozen=True)
class ComparisonDefinition:
    """A comparison: ordered levels, then "different" when none holds."""

    name: str
    description: str
    levels: tuple[Level, ...]

    def level(self, a: Features, b: Features) -> str:
        for level in self.levels:
            if level.test(a, b):
                return level.name
        return "different"

    def compare(self, a: MatchRecord, b: MatchRecord) -> str:
        return self.level(features(a), features(b))


def _eq(x: object, y: object) -> bool:
    return x is not None and x == y


def _jw(x: str | None, y: str | None, threshold: float) -> bool:
    return x is not None and y is not None and JaroWinkler.similarity(x, y) >= threshold


def _dl(x: str | None, y: str | None, limit: int) -> bool:
    return x is not None and y is not None and DamerauLevenshtein.distance(x, y) <= limit


def _missing(*columns: str) -> Level:
    """Missing when, for every one of ``columns``, either side lacks it."""

    def test(a: Features, b: Features) -> bool:
        return all(getattr(a, c) is None or getattr(b, c) is None for c in columns)

    sql = " AND ".join(f"({c}_l IS NULL OR {c}_r IS NULL)" for c in columns)
    return Level("missing", test, sql, is_missing=True)


def _exact(column: str, name: str = "exact") -> Level:
    return Level(
        name, lambda a, b: _eq(getattr(a, column), getattr(b, column)), f"{column}_l = {column}_r"
    )


def _name(own: str, other: str) -> ComparisonDefinition:
    """A name part in Latin and Khmer script, with romanization, swap and typo levels."""
    lat, key, km = f"{own}_lat", f"{own}_key", f"{own}_km"
    other_key, other_km = f"{other}_key", f"{other}_km"

    def exact(a: Features, b: Features) -> bool:
        return _eq(getattr(a, lat), getattr(b, lat)) or _eq(getattr(a, km), getattr(b, km))

    def romanization(a: Features, b: Features) -> bool:
        return _eq(getattr(a, key), getattr(b, key))

    def swapped(a: Features, b: Features) -> bool:
        # both names agree crosswise, allowing one typo in each
        latin = _jw(getattr(a, key), getattr(b, other_key), NAME_FUZZY) and _jw(
            getattr(a, other_key), getattr(b, key), NAME_FUZZY
        )
        khmer = _jw(getattr(a, km), getattr(b, other_km), NAME_FUZZY) and _jw(
            getattr(a, other_km), getattr(b, km), NAME_FUZZY
        )
        return latin or khmer

    def fuzzy(a: Features, b: Features) -> bool:
        return _jw(getattr(a, key), getattr(b, key), NAME_FUZZY) or _jw(
            getattr(a, km), getattr(b, km), NAME_FUZZY
        )

    label = "family" if own == "fam" else "given"
    return ComparisonDefinition(
        f"{label}_name",
        f"{label} name, Latin or Khmer script",
        (
            _missing(lat, km),
            Level("exact", exact, f"{lat}_l = {lat}_r OR {km}_l = {km}_r"),
            Level("romanization", romanization, f"{key}_l = {key}_r"),
            # The family name comparison weighs a swap for both names; the given name
            # comparison would count the same evidence twice, so it weighs nothing here.
            Level(
                "swapped",
                swapped,
                f"({{jw}}({key}_l, {other_key}_r) >= {NAME_FUZZY}"
                f" AND {{jw}}({other_key}_l, {key}_r) >= {NAME_FUZZY})"
                f" OR ({{jw}}({km}_l, {other_km}_r) >= {NAME_FUZZY}"
                f" AND {{jw}}({other_km}_l, {km}_r) >= {NAME_FUZZY})",
                is_missing=own == "giv",
            ),
            Level(
                "fuzzy",
                fuzzy,
                f"{{jw}}({key}_l, {key}_r) >= {NAME_FUZZY}"
                f" OR {{jw}}({km}_l, {km}_r) >= {NAME_FUZZY}",
            ),
        ),
    )


def _transposed(a: Features, b: Features) -> bool:
    return _eq(a.dob_y, b.dob_y) and _eq(a.dob_m, b.dob_d) and _eq(a.dob_d, b.dob_m)


def _month(a: Features, b: Features) -> bool:
    return _eq(a.dob_y, b.dob_y) and _eq(a.dob_m, b.dob_m)


def _year(a: Features, b: Features) -> bool:
    return _eq(a.dob_y, b.dob_y) and (a.dob_m is None or b.dob_m is None)


def _day_month(a: Features, b: Features) -> bool:
    return _eq(a.dob_m, b.dob_m) and _eq(a.dob_d, b.dob_d)


BIRTH_DATE = ComparisonDefinition(
    "birth_date",
    "birth date with its precision (day, month or year)",
    (
        _missing("dob_y"),
        _exact("dob"),
        Level(
            "transposed",
            _transposed,
            "dob_y_l = dob_y_r AND dob_m_l = dob_d_r AND dob_d_l = dob_m_r",
        ),
        Level("month", _month, "dob_y_l = dob_y_r AND dob_m_l = dob_m_r"),
        Level("year", _year, "dob_y_l = dob_y_r AND (dob_m_l IS NULL OR dob_m_r IS NULL)"),
        Level("day_month", _day_month, "dob_m_l = dob_m_r AND dob_d_l = dob_d_r"),
    ),
)

SEX = ComparisonDefinition("sex", "sex", (_missing("sex"), _exact("sex")))

VILLAGE = ComparisonDefinition(
    "village",
    "gazetteer code: village, commune, district, province",
    (
        _missing("province"),
        _exact("village"),
        _exact("commune", "commune"),
        _exact("district", "district"),
        _exact("province", "province"),
    ),
)


def _identifier(name: str, column: str, description: str) -> ComparisonDefinition:
    return ComparisonDefinition(
        name,
        description,
        (
            _missing(column),
            _exact(column),
            Level(
                "typo",
                lambda a, b: _dl(getattr(a, column), getattr(b, column), 1),
                f"{{dl}}({column}_l, {column}_r) <= 1",
            ),
        ),
    )


def _text(name: str, column: str, description: str) -> ComparisonDefinition:
    return ComparisonDefinition(
        name,
        description,
        (
            _missing(column),
            _exact(column),
            Level(
                "fuzzy",
                lambda a, b: _jw(getattr(a, column), getattr(b, column), TEXT_FUZZY),
                f"{{jw}}({column}_l, {column}_r) >= {TEXT_FUZZY}",
            ),
        ),
    )


DEFINITIONS: tuple[ComparisonDefinition, ...] = (
    _name("fam", "giv"),
    _name("giv", "fam"),
    BIRTH_DATE,
    SEX,
    VILLAGE,
    _identifier("phone", "phone", "phone number without +855 or 0"),
    _identifier("khmer_id", "khmer_id", "Khmer ID number"),
    _identifier("external_id", "external_id", "an operator's identifier for the person"),
    _text("address", "address", "free-text address"),
    _text("locality", "locality", "free-text locality, romanization key or its own script"),
    _identifier("postcode", "postcode", "postcode"),
)

COMPARISONS: dict[str, Comparison] = {d.name: d.compare for d in DEFINITIONS}


def level_names(name: str) -> tuple[str, ...]:
    """Every level of one comparison, "missing" first and "different" last."""
    definition = next(d for d in DEFINITIONS if d.name == name)
    return (*(level.name for level in definition.levels), "different")
