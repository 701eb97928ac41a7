"""Printing supergraph SDL the way Apollo's composition does: layout, strings, ordering."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from graphql import DirectiveNode, print_ast
from graphql.language.block_string import print_block_string

from gateway.composition.subgraph import ArgFacts


def quote(text: str) -> str:
    """A GraphQL string literal."""
    return json.dumps(text, ensure_ascii=False)


def sort_key(name: str) -> tuple[tuple[tuple[int, str], ...], tuple[int, ...]]:
    """Orders names like JavaScript's ``localeCompare``, which Apollo sorts definitions with.

    Case is ignored first (``join__Graph`` before ``Person``), ``_`` sorts before digits and
    digits before letters; lowercase comes before uppercase only to break ties.
    """
    primary = tuple(
        (0, c) if not c.isalnum() else (1, c) if c.isdigit() else (2, c.lower()) for c in name
    )
    return primary, tuple(0 if c.islower() else 1 for c in name)


def sort_names(names: Iterable[str]) -> list[str]:
    return sorted(names, key=sort_key)


def description(text: str | None, indent: str = "", *, first: bool = True) -> list[str]:
    """The lines of a description block, as graphql-js prints it."""
    if text is None:
        return []
    lines = [indent + line if line else line for line in print_block_string(text).split("\n")]
    # Inside a block, a described element after the first is set off by a blank line.
    return lines if first else ["", *lines]


def marks(inaccessible: bool, tags: Iterable[str], deprecated: DirectiveNode | None) -> list[str]:
    """The directives that travel from subgraphs to the supergraph, in Apollo's order."""
    out = []
    if deprecated is not None:
        out.append(print_ast(deprecated))
    if inaccessible:
        out.append("@inaccessible")
    out.extend(f"@tag(name: {quote(tag)})" for tag in sorted(set(tags)))
    return out


def arguments(args: Sequence[ArgFacts], indent: str) -> str:
    """An argument list: on one line, or one per line when any has a description."""
    if not args:
        return ""
    if not any(arg.description for arg in args):
        return "(" + ", ".join(_argument(arg) for arg in args) + ")"
    lines = ["("]
    for index, arg in enumerate(args):
        lines.extend(description(arg.description, indent + "  ", first=index == 0))
        lines.append(f"{indent}  {_argument(arg)}")
    lines.append(f"{indent})")
    return "\n".join(lines)


def _argument(arg: ArgFacts) -> str:
    text = f"{arg.name}: {arg.type}"
    if arg.default is not None:
        text += f" = {arg.default}"
    return " ".join([text, *marks(arg.inaccessible, arg.tags, arg.deprecated)])


def block(head: str, directives: Sequence[str], body: Sequence[str] | None) -> str:
    """A type definition: directives one per line, then the body in braces when there is one."""
    lines = [head, *(f"  {d}" for d in directives)]
    if body is None:
        return "\n".join(lines)
    if directives:
        return "\n".join([*lines, "{", *body, "}"])
    return "\n".join([f"{head} {{", *body, "}"])
