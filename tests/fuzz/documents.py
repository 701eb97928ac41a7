"""GraphQL documents drawn from a schema: valid ones, wrongly typed ones, and almost-valid ones.

:func:`requests` draws an operation over a ``GraphQLSchema``: random selections (nested
to a few levels), aliases, inline fragments on unions and interfaces, named fragments,
``@skip``/``@include``, and arguments given as literals or as variables, each of the
right type or (sometimes) of a wrong one. :func:`almost_valid` then breaks a document the
way people do: a token changed, a brace dropped, an unknown field, a cut-off end.
String values come from ``hints`` (real SPIDs, village codes, names) as often as from
hypothesis' text, so that documents reach past validation into the resolvers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import strategies as st

from tests.fuzz.values import odd_text, odd_values

NAMES = st.from_regex(r"[a-z][A-Za-z0-9_]{0,8}", fullmatch=True)


@dataclass
class Draft:
    """An operation being drawn: its variables (definitions and values) and fragments."""

    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name: (type, value)
    fragments: list[str] = field(default_factory=list)

    def variable(self, type_text: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.variables[name] = (type_text, value)
        return f"${name}"


@dataclass(frozen=True)
class Drawn:
    """A drawn GraphQL request: its document, variables and operation name."""

    query: str
    variables: dict[str, Any]
    operation_name: str | None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"query": self.query, "variables": self.variables}
        if self.operation_name is not None:
            body["operationName"] = self.operation_name
        return body


@dataclass(frozen=True)
class Enum:
    """An enum value: a literal without quotes, a string in variables."""

    name: str


def type_text(type_: Any) -> str:
    if isinstance(type_, GraphQLNonNull):
        return type_text(type_.of_type) + "!"
    if isinstance(type_, GraphQLList):
        return f"[{type_text(type_.of_type)}]"
    return str(type_.name)


def literal(value: Any) -> str:
    """A Python value (from :func:`typed_value`) as a GraphQL literal."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)  # a GraphQL string takes JSON's escapes
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


@st.composite
def typed_value(
    draw: st.DrawFn, type_: GraphQLInputType, hints: tuple[str, ...], depth: int = 0
) -> Any:
    """A value of ``type_`` (mostly): right-typed, with a wrong one now and then."""
    if isinstance(type_, GraphQLNonNull):
        return draw(typed_value(type_.of_type, hints, depth))
    if draw(st.integers(0, 9)) == 0:
        return draw(odd_values(max_leaves=4))  # any JSON-ish value: often the wrong type
    if isinstance(type_, GraphQLList):
        return draw(st.lists(typed_value(type_.of_type, hints, depth + 1), max_size=3))
    if isinstance(type_, GraphQLEnumType):
        return Enum(draw(st.sampled_from(sorted(type_.values))))
    if isinstance(type_, GraphQLInputObjectType):
        chosen = {}
        for name, input_field in type_.fields.items():
            required = isinstance(input_field.type, GraphQLNonNull)
            if (required or draw(st.booleans())) and depth < 3:
                chosen[name] = draw(typed_value(input_field.type, hints, depth + 1))
        return chosen
    assert isinstance(type_, GraphQLScalarType)
    name = type_.name
    if name == "Int":
        return draw(st.integers(-(2**31), 2**31 - 1) | st.sampled_from([0, 1, 5, 20, 10_001]))
    if name == "Float":
        return draw(st.floats(allow_nan=False, allow_infinity=False))
    if name == "Boolean":
        return draw(st.booleans())
    if name == "Date":
        return draw(st.sampled_from(["1990-05-17", "2024-01-01", "1990-02-30", "0001-01-01"]))
    if name == "DateTime":
        return draw(st.sampled_from(["2026-01-01T00:00:00Z", "2026-13-01T00:00", "now"]))
    if name == "_Any":
        return draw(representations(hints))
    if hints and draw(st.booleans()):
        return draw(st.sampled_from(hints))
    return draw(odd_text())


ENTITY_KEYS = ("spid", "householdId", "khmerId", "familyName", "givenName", "birthDate")


@st.composite
def representations(draw: st.DrawFn, hints: tuple[str, ...]) -> Any:
    """An ``_entities`` representation: mostly well formed, from real keys."""
    if draw(st.integers(0, 4)) == 0:
        return draw(odd_values(max_leaves=4))
    keys = draw(st.lists(st.sampled_from(ENTITY_KEYS), min_size=1, max_size=3, unique=True))
    values = st.sampled_from(hints) if hints else odd_text()
    typename = draw(st.sampled_from(["Person", "Person", "Household", "Nobody"]))
    return {"__typename": typename, **{k: draw(values | odd_text()) for k in keys}}


@st.composite
def arguments(draw: st.DrawFn, args: dict[str, Any], draft: Draft, hints: tuple[str, ...]) -> str:
    given = []
    for name, arg in args.items():
        required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
        if not (required or draw(st.integers(0, 2)) == 0):
            continue
        value = draw(typed_value(arg.type, hints))
        if draw(st.booleans()):
            given.append(f"{name}: {draft.variable(type_text(arg.type), json_value(value))}")
        else:
            given.append(f"{name}: {literal(value)}")
    return f"({', '.join(given)})" if given else ""


def _fields(type_: GraphQLNamedType) -> dict[str, Any]:
    if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        return {n: f for n, f in type_.fields.items() if not n.startswith("__")}
    return {}


@st.composite
def selection_set(
    draw: st.DrawFn,
    schema: GraphQLSchema,
    type_: GraphQLNamedType,
    draft: Draft,
    hints: tuple[str, ...],
    depth: int,
) -> str:
    """``{ ... }`` for a composite type: fields, aliases, fragments, directives."""
    parts: list[str] = []
    if isinstance(type_, GraphQLUnionType | GraphQLInterfaceType):
        members = (
            type_.types
            if isinstance(type_, GraphQLUnionType)
            else schema.get_implementations(type_).objects
        )
        for member in (
            draw(st.lists(st.sampled_from(members), max_size=2, unique=True)) if members else []
        ):
            inner = draw(selection_set(schema, member, draft, hints, depth))
            parts.append(f"... on {member.name} {inner}")
    fields = _fields(type_)
    names = sorted(fields)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4)) if names else []
    for name in chosen:
        definition = fields[name]
        target = get_named_type(definition.type)
        if not is_leaf_type(target) and depth <= 0:
            continue
        alias = f"{draw(NAMES)}: " if draw(st.integers(0, 3)) == 0 else ""
        text = alias + name + draw(arguments(definition.args, draft, hints))
        if draw(st.integers(0, 7)) == 0:
            directive = draw(st.sampled_from(["skip", "include"]))
            condition = draft.variable("Boolean!", draw(st.booleans()))
            text += f" @{directive}(if: {condition})"
        if not is_leaf_type(target):
            text += " " + draw(selection_set(schema, target, draft, hints, depth - 1))
        parts.append(text)
    if not parts or draw(st.integers(0, 4)) == 0:
        parts.append("__typename")
    if draw(st.integers(0, 5)) == 0:
        name = f"F{len(draft.fragments)}"
        draft.fragments.append(f"fragment {name} on {type_.name} {{ {' '.join(parts)} }}")
        return f"{{ ...{name} }}"
    return "{ " + " ".join(parts) + " }"


@st.composite
def requests(
    draw: st.DrawFn, schema: GraphQLSchema, hints: tuple[str, ...] = (), *, depth: int = 3
) -> Drawn:
    """One request over ``schema``: a query (or a mutation, when it has them)."""
    roots = [("query", schema.query_type)]
    if schema.mutation_type is not None:
        roots.append(("mutation", schema.mutation_type))
    kind, root = draw(st.sampled_from(roots))
    assert root is not None
    draft = Draft()
    body = draw(selection_set(schema, root, draft, hints, depth))
    name = draw(st.none() | NAMES.map(str.capitalize))
    definitions = ", ".join(f"${n}: {t}" for n, (t, _) in draft.variables.items())
    header = kind + (f" {name}" if name else "") + (f"({definitions})" if definitions else "")
    if kind == "query" and not name and not definitions and draw(st.booleans()):
        header = ""  # the shorthand form
    document = " ".join([f"{header} {body}".strip(), *draft.fragments])
    variables = {n: v for n, (_, v) in draft.variables.items()}
    operation_name = name if name and draw(st.booleans()) else None
    return Drawn(document, variables, operation_name)


def _cut(text: str, at: int) -> str:
    return text[: at % (len(text) + 1)]


@st.composite
def almost_valid(draw: st.DrawFn, drawn: Drawn) -> Drawn:
    """``drawn`` broken once: a token changed, a brace or parenthesis dropped, an unknown
    field, a cut-off end, a stray character."""
    text = drawn.query
    how = draw(st.sampled_from(["token", "brace", "unknown", "cut", "stray", "swap"]))
    at = draw(st.integers(0, max(len(text) - 1, 0)))
    if how == "token":
        words = text.split(" ")
        index = at % len(words)
        words[index] = draw(NAMES | st.sampled_from(["query", "on", "...", "$", "null", "1e999"]))
        text = " ".join(words)
    elif how == "brace":
        braces = [i for i, c in enumerate(text) if c in "{}()[]"]
        if braces:
            i = braces[at % len(braces)]
            text = text[:i] + text[i + 1 :]
    elif how == "unknown":
        text = text.replace("{ ", "{ " + draw(NAMES) + " ", 1)
    elif how == "cut":
        text = _cut(text, at)
    elif how == "stray":
        char = draw(st.sampled_from(["\x00", "\ufeff", "\u202e", "#", '"', "\\", "@", "!", "é"]))
        text = text[:at] + char + text[at:]
    else:
        words = text.split(" ")
        i, j = at % len(words), (at * 7 + 3) % len(words)
        words[i], words[j] = words[j], words[i]
        text = " ".join(words)
    return Drawn(text, drawn.variables, drawn.operation_name)
