"""``_entities`` representations checked before strawberry resolves them.

Strawberry hands a representation's fields to ``resolve_reference`` as keyword arguments:
one without ``__typename`` is a ``KeyError``, an unknown type name another, a missing or
extra field a ``TypeError`` — faults of ours in the client's eyes, with Python's wording.
:class:`CheckedEntities` answers each malformed representation with ``BAD_USER_INPUT``
at its own path (``_entities.N``), saying what a representation of that type holds, and
resolves the others as before.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

from graphql import GraphQLError
from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition

from subgraphs.fast_path import ColumnarExecutor, fast_path_enabled

_SCALARS = (str, int, float, bool, type(None))


def bad_representation(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


@cache
def _reference_fields(resolve_reference: Any) -> tuple[frozenset[str], frozenset[str]]:
    """The (required, accepted) representation fields of a ``resolve_reference``."""
    required: set[str] = set()
    accepted: set[str] = set()
    for name, parameter in inspect.signature(resolve_reference).parameters.items():
        if name in ("cls", "info") or parameter.kind is not parameter.POSITIONAL_OR_KEYWORD:
            continue
        accepted.add(name)
        if parameter.default is parameter.empty:
            required.add(name)
    return frozenset(required), frozenset(accepted)


def representation_problem(schema: Schema, index: int, representation: object) -> str | None:
    """What is wrong with one representation, or None."""
    where = f"representation {index + 1}"
    if not isinstance(representation, dict):
        return f"{where} is not an object; send {{'__typename': ..., and the type's key}}."
    type_name = representation.get("__typename")
    if not isinstance(type_name, str):
        return f"{where} has no __typename naming its type."
    type_ = schema.schema_converter.type_map.get(type_name)
    definition = getattr(type_, "definition", None) if type_ is not None else None
    if not isinstance(definition, StrawberryObjectDefinition) or not hasattr(
        definition.origin, "resolve_reference"
    ):
        return f"{where}: this subgraph has no entity type {type_name!r}."
    required, accepted = _reference_fields(definition.origin.resolve_reference)
    given = set(representation) - {"__typename"}
    missing, unknown = sorted(required - given), sorted(given - accepted)
    if missing or unknown:
        return (
            f"{where} of {type_name} "
            + (f"lacks {', '.join(missing)}" if missing else "")
            + ("; " if missing and unknown else "")
            + (f"has fields it does not take: {', '.join(unknown)}" if unknown else "")
            + f". A {type_name} representation holds {', '.join(sorted(accepted))}."
        )
    for name, value in representation.items():
        if not isinstance(value, _SCALARS):
            return f"{where} of {type_name}: {name} must be a string, a number or null."
    return None


class CheckedEntities(Schema):
    """A federation schema whose ``_entities`` refuses malformed representations one by one.

    Lists of objects are completed a column at a time (:mod:`subgraphs.fast_path`) unless
    ``TONLE_SUBGRAPH_FAST_PATH=0``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if fast_path_enabled():
            kwargs.setdefault("execution_context_class", ColumnarExecutor)
        super().__init__(*args, **kwargs)

    # Strawberry builds the _entities field from these annotations: keep them as they are.
    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        problems = [
            representation_problem(self, index, item) for index, item in enumerate(representations)
        ]
        if not any(problems):
            return super().entities_resolver(info, representations)
        pairs = zip(representations, problems, strict=True)
        good = [item for item, problem in pairs if not problem]
        resolved = iter(super().entities_resolver(info, good) if good else [])
        return [
            FederationAny(bad_representation(problem)) if problem else next(resolved)
            for problem in problems
        ]
