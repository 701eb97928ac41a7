"""Splink settings generated from the comparison definitions, for any SQL dialect.

The comparison levels splink evaluates are the SQL halves of :mod:`compare`'s levels, in
the same order and with the same names, and the blocking rules are the blocking key
types, so a model trained by splink scores a pair the way the online matcher does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from identity_store.matching.blocking import BLOCKING_KEY_TYPES
from identity_store.matching.compare import DEFINITIONS
from identity_store.matching.model import LevelParameters, MatchModel

UNIQUE_ID = "unique_id"
M_FLOOR = 1e-4  # an m below this (a level no sampled duplicate fell into) is read as this
UNTRAINED = 0.01  # m = u: a level with no parameters weighs nothing
U_FLOOR = 1e-6  # likewise for u (and splink's own reading of an unobserved u)

# Function names per dialect, as splink's own comparison library uses them.
_FUNCTIONS: dict[str, dict[str, str]] = {
    "duckdb": {"jw": "jaro_winkler_similarity", "dl": "damerau_levenshtein"},
    # Spark: splink registers these from its similarity UDF jar (see docs/deduplication.md)
    "spark": {"jw": "jaro_winkler", "dl": "damerau_levenshtein"},
}


def blocking_column(kind: str) -> str:
    """The input column that holds one blocking key type's values."""
    return f"bk_{kind}"


def blocking_rules(kinds: Iterable[str] | None = None) -> list[str]:
    """One rule per blocking key type (or per one of ``kinds``): records sharing that key
    are compared."""
    chosen = BLOCKING_KEY_TYPES if kinds is None else kinds
    return [f"l.{blocking_column(k)} = r.{blocking_column(k)}" for k in chosen]


def comparisons(
    dialect: str = "duckdb",
    model: MatchModel | None = None,
    names: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Splink comparison dictionaries (all, or those ``names``), with ``model``'s m and u
    where it has them."""
    functions = _FUNCTIONS[dialect]
    out: list[dict[str, Any]] = []
    for definition in DEFINITIONS:
        if names is not None and definition.name not in names:
            continue
        trained = model.levels.get(definition.name, {}) if model is not None else {}
        levels: list[dict[str, Any]] = []
        sqls = [(level.name, level.sql.format(**functions), level.is_missing)
                for level in definition.levels]  # fmt: skip
        for name, sql, is_missing in [*sqls, ("different", "ELSE", False)]:
            level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": name}
            if is_missing:
                level["is_null_level"] = True
            elif name in trained:
                level["m_probability"] = trained[name].m
                level["u_probability"] = trained[name].u
            elif model is not None:
                # The model has nothing for this level, so it weighs nothing; left empty,
                # splink would give it default parameters instead.
                level["m_probability"] = level["u_probability"] = UNTRAINED
            levels.append(level)
        out.append(
            {
                "output_column_name": definition.name,
                "comparison_description": definition.description,
                "comparison_levels": levels,
            }
        )
    return out


def settings(
    dialect: str = "duckdb",
    model: MatchModel | None = None,
    *,
    prior: float = 1e-4,
    comparison_names: Collection[str] | None = None,
    blocking: Iterable[str] | None = None,
) -> dict[str, Any]:
    """A complete splink settings dictionary for de-duplicating one table.

    ``comparison_names`` and ``blocking`` narrow it to the comparisons and blocking key
    types a backlog has values for (:mod:`plan`); left out, a comparison weighs nothing
    and a key selects no pairs, so the pairs and their scores stay the same.
    """
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": UNIQUE_ID,
        "probability_two_random_records_match": model.prior if model is not None else prior,
        "comparisons": comparisons(dialect, model, comparison_names),
        "blocking_rules_to_generate_predictions": blocking_rules(blocking),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


def model_from_splink(splink_model: dict[str, Any], *, upper: float, lower: float) -> MatchModel:
    """A Tonle model from splink's model dictionary (``linker.misc.save_model_to_json()``).

    Levels splink never observed, and "missing", are left out: they weigh nothing. An m
    or u below :data:`M_FLOOR` or :data:`U_FLOOR` is raised to it.
    """
    levels: dict[str, dict[str, LevelParameters]] = {}
    for comparison in splink_model["comparisons"]:
        parameters: dict[str, LevelParameters] = {}
        for level in comparison["comparison_levels"]:
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or not isinstance(m, float | int):
                continue
            if not isinstance(u, float | int):
                u = U_FLOOR  # "level not observed" among random pairs: splink reads 1e-6 too
            # A level no sampled pair fell into would weigh without bound.
            m, u = max(float(m), M_FLOOR), max(float(u), U_FLOOR)
            parameters[level["label_for_charts"]] = LevelParameters(m, u)
        levels[comparison["output_column_name"]] = parameters
    return MatchModel(
        levels=levels,
        prior=float(splink_model["probability_two_random_records_match"]),
        upper=upper,
        lower=lower,
    )
