"""Merging a field's type across subgraphs: ``String`` and ``String!`` merge to ``String``."""

from __future__ import annotations

from collections.abc import Callable

from graphql import ListTypeNode, NamedTypeNode, NonNullTypeNode, TypeNode, parse_type, print_ast

# is_subtype(general, specific): may a field of type `specific` stand for one of type `general`?
SubtypeTest = Callable[[str, str], bool]


def _merge(a: TypeNode, b: TypeNode, output: bool, is_subtype: SubtypeTest) -> TypeNode | None:
    if isinstance(a, NonNullTypeNode) and isinstance(b, NonNullTypeNode):
        inner = _merge(a.type, b.type, output, is_subtype)
        return None if inner is None else _non_null(inner)
    if isinstance(a, NonNullTypeNode) or isinstance(b, NonNullTypeNode):
        a_inner = a.type if isinstance(a, NonNullTypeNode) else a
        b_inner = b.type if isinstance(b, NonNullTypeNode) else b
        inner = _merge(a_inner, b_inner, output, is_subtype)
        if inner is None:
            return None
        # Outputs may be null if any subgraph may give null; inputs must satisfy every subgraph.
        return inner if output else _non_null(inner)
    if isinstance(a, ListTypeNode) and isinstance(b, ListTypeNode):
        inner = _merge(a.type, b.type, output, is_subtype)
        return None if inner is None else ListTypeNode(type=inner)
    if isinstance(a, NamedTypeNode) and isinstance(b, NamedTypeNode):
        if a.name.value == b.name.value:
            return a
        if output and is_subtype(a.name.value, b.name.value):
            return a
        if output and is_subtype(b.name.value, a.name.value):
            return b
    return None


def _non_null(inner: TypeNode) -> TypeNode:
    if isinstance(inner, NamedTypeNode | ListTypeNode):
        return NonNullTypeNode(type=inner)
    return inner


def _never(general: str, specific: str) -> bool:
    return False


def merge_types(
    types: list[str], *, output: bool = True, is_subtype: SubtypeTest = _never
) -> str | None:
    """The merged type of a field, or None when the subgraphs' types conflict."""
    merged: TypeNode = parse_type(types[0])
    for text in types[1:]:
        result = _merge(merged, parse_type(text), output, is_subtype)
        if result is None:
            return None
        merged = result
    return print_ast(merged)


def base_name(type_text: str) -> str:
    """``[Person!]!`` → ``Person``."""
    return type_text.replace("[", "").replace("]", "").replace("!", "").strip()
