"""What a batch run compares, blocks on and trains with, from the fields a backlog has.

A backlog maps some fields and not others, and fills them unevenly: one operator has
villages and no phone numbers, another street addresses and postcodes and no village.
The plan keeps the comparisons and blocking keys that have values, and chooses the
training rules (the prior's deterministic rules and the EM sessions) among those that
give record pairs, so that every comparison kept is estimated by some session. When
that cannot be done it says which fields to add, instead of a splink traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from identity_store.matching.blocking import BLOCKING_KEY_TYPES
from identity_store.matching.compare import DEFINITIONS
from identity_store.matching.errors import InputError

_LATIN = ("fam_key", "giv_key")
_SCRIPT = ("fam_km", "giv_km")  # Khmer, or any script other than Latin
MIN_EM_PAIRS = 10  # fewer pairs than this estimate nothing worth keeping
_COLUMN = re.compile(r"\b([a-z][a-z_]*?)_[lr]\b")
# Fields that, beside the names, make blocking keys and training rules: --map's name of
# each, and the comparison that reads it.
_ANCHORS = {
    "birth_date": "birth_date",
    "village_code": "village",
    "address": "address",
    "locality": "locality",
    "postcode": "postcode",
    "phone": "phone",
    "khmer_id": "khmer_id",
    "external_id": "external_id",
}


def _anchors_besides(present: tuple[str, ...]) -> str:
    return ", ".join(field for field, name in _ANCHORS.items() if name not in present)


@dataclass(frozen=True)
class Rule:
    """Record pairs that agree exactly on every one of ``columns``."""

    description: str
    columns: tuple[str, ...]

    @property
    def sql(self) -> str:
        return " AND ".join(f"l.{c} = r.{c}" for c in self.columns)


def _names(description: str, *others: str) -> tuple[Rule, Rule]:
    return (
        Rule(f"the same names{description}", (*_LATIN, *others)),
        Rule(f"the same names in their own script{description}", (*_SCRIPT, *others)),
    )


# Tried in this order. The first ones select blocks where most pairs are the same
# person, so EM does not take neighbours who share a name for duplicates.
EM_RULES: tuple[Rule, ...] = (
    Rule("the same birth date", ("dob",)),
    *_names(" and village", "village"),
    *_names(" and postcode", "postcode"),
    *_names(" and locality", "locality"),
    Rule("the same Khmer ID", ("khmer_id",)),
    Rule("the same external id", ("external_id",)),
    Rule("the same phone number", ("phone",)),
    Rule("the same address", ("address",)),
    *_names(""),
)
PRIOR_RULES: tuple[Rule, ...] = (
    Rule("the same Khmer ID", ("khmer_id",)),
    Rule("the same external id", ("external_id",)),
    Rule("the same names and birth date", (*_LATIN, "dob")),
    Rule("the same names in their own script and birth date", (*_SCRIPT, "dob")),
    Rule("the same names and address", (*_LATIN, "address")),
)


@dataclass(frozen=True)
class TrainingPlan:
    """The comparisons and blocking keys a backlog can use, and the rules to train with."""

    fill: Mapping[str, float]  # comparison -> share of records with a value for it
    comparisons: tuple[str, ...]
    blocking: tuple[str, ...]  # blocking key types that give record pairs
    prior_rules: tuple[Rule, ...]
    em_rules: tuple[Rule, ...]
    em_pairs: tuple[int, ...] = ()  # how many pairs each EM rule selects

    def describe_fill(self) -> str:
        return ", ".join(f"{name} {share:.0%}" for name, share in self.fill.items() if share)


@cache
def comparison_columns() -> dict[str, frozenset[str]]:
    """The feature columns each comparison reads, from the SQL of its levels.

    splink reads them the same way: an EM session cannot estimate a comparison that
    reads a column of its blocking rule.
    """
    return {
        d.name: frozenset(m for level in d.levels for m in _COLUMN.findall(level.sql))
        for d in DEFINITIONS
    }


@cache
def _value_columns() -> dict[str, frozenset[str]]:
    # A record has a value for a comparison unless its "missing" level says otherwise.
    return {
        d.name: frozenset(
            m for level in d.levels if level.name == "missing" for m in _COLUMN.findall(level.sql)
        )
        for d in DEFINITIONS
    }


def _has_value(table: pa.Table, columns: frozenset[str]) -> pa.ChunkedArray:
    valid = [pc.is_valid(table.column(c)) for c in sorted(columns)]
    result = valid[0]
    for other in valid[1:]:
        result = pc.or_(result, other)
    return result


def pair_count(table: pa.Table, columns: tuple[str, ...]) -> int:
    """How many record pairs agree on every one of ``columns`` (none of them missing)."""
    keep = pc.is_valid(table.column(columns[0]))
    for column in columns[1:]:
        keep = pc.and_(keep, pc.is_valid(table.column(column)))
    rows = table.select(list(columns)).filter(keep)
    if rows.num_rows < 2:
        return 0
    sizes = rows.group_by(list(columns)).aggregate([([], "count_all")]).column("count_all")
    return sum(n * (n - 1) // 2 for n in sizes.to_pylist())


def plan(table: pa.Table, *, training: bool, blocking_columns: Mapping[str, str]) -> TrainingPlan:
    """The plan for ``table`` (:func:`batch.input_table`'s columns).

    ``blocking_columns`` names the column of each blocking key type. Raises
    :class:`InputError` naming the fields to add when the backlog cannot be matched or,
    with ``training``, trained on.
    """
    size = max(table.num_rows, 1)
    columns = comparison_columns()
    fill = {
        name: pc.sum(_has_value(table, cols).cast(pa.int64())).as_py() / size
        for name, cols in _value_columns().items()
    }
    comparisons = tuple(name for name, share in fill.items() if share * size >= 2)
    blocking = tuple(k for k in BLOCKING_KEY_TYPES if pair_count(table, (blocking_columns[k],)))
    if not any(pc.any(pc.is_valid(table.column(c))).as_py() for c in blocking_columns.values()):
        raise InputError(
            f"nothing to block on: the fields with values ({', '.join(comparisons) or 'none'})"
            " give no blocking key. A key pairs the names (family_name and given_name, or the"
            f" Khmer names) with one of {_anchors_besides(comparisons)}, or is an identifier"
            " (khmer_id, phone, external_id): map one more"
        )
    if not training:
        return TrainingPlan(fill, comparisons, blocking, (), ())
    prior = tuple(rule for rule in PRIOR_RULES if pair_count(table, rule.columns))
    chosen: dict[Rule, int] = {}
    estimated: set[str] = set()
    for rule in EM_RULES:
        if estimated >= set(comparisons):
            break
        trains = {c for c in comparisons if not columns[c] & set(rule.columns)}
        if trains - estimated and (pairs := pair_count(table, rule.columns)) >= MIN_EM_PAIRS:
            chosen[rule] = pairs
            estimated |= trains
    missing = [c for c in comparisons if c not in estimated]
    if missing:
        raise InputError(
            f"too little to train on: {', '.join(missing)} cannot be estimated from the"
            f" fields mapped, because no other field agrees on enough pairs of records. Map"
            f" at least one more of {_anchors_besides(comparisons)}, or give a trained --model"
        )
    return TrainingPlan(fill, comparisons, blocking, prior, tuple(chosen), tuple(chosen.values()))
