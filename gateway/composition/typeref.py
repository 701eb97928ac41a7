"""Merging field types across subgraphs: ``String`` and ``String!`` merge to ``String``."""

from __future__ import annotations

from graphql import ListTypeNode, NamedTypeNode, NonNullTypeNode, TypeNode, parse_type


def _merge(a: TypeNode, b: TypeNode, output: bool) -> TypeNode | None:
    a_nn, b_nn = isinstance(a, NonNullTypeNode), isinstance(b, NonNullTypeNode)
    if a_nn and b_nn:
        inner = _merge(a.type, b.type, output)  # type: ignore[attr-defined]
        return NonNullTypeNode(type=inner) if inner is not None else None  # type: ignore[arg-type]
    if a_nn or b_nn:
        a_inner = a.type if a_nn else a  # type: ignore[attr-defined]
        b_inner = b.type if b_nn else b  # type: ignore[attr-defined]
        inner = _merge(a_inner, b_inner, output)
        if inner is None:
            return None
        # Outputs may be null if any subgraph may give null; inputs must satisfy all.
        return inner if output else NonNullTypeNode(type=inner)  # type: ignore[arg-type]
    if isinstance(a, ListTypeNode) and isinstance(b, ListTypeNode):
        inner = _merge(a.type, b.type, output)
        return ListTypeNode(type=inner) if inner is not None else None
    if isinstance(a, NamedTypeNode) and isinstance(b, NamedTypeNode):
        return a if a.name.value == b.name.value else None
    return None


def merge_types(types: list[str], *, output: bool = True) -> str | None:
    """The merged type of a field, or None when the subgraphs' types conflict."""
    from graphql import print_ast

    merged: TypeNode = parse_type(types[0])
    for text in types[1:]:
        result = _merge(merged, parse_type(text), output)
        if result is None:
            return None
        merged = result
    return print_ast(merged)


def base_name(type_text: str) -> str:
    return type_text.replace("[", "").replace("]", "").replace("!", "").strip()
