"""Query plans as plain data: Sequence, Parallel, Fetch and Flatten, and their printed form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# A path into the response; "@" stands for every item of a list.
ResponsePath = tuple[str, ...]


@dataclass(frozen=True)
class ProjectedField:
    """One field to copy from a fetched object into an entity representation."""

    response_key: str
    name: str
    children: tuple[ProjectedField, ...] | None = None
    # A field under a type condition of the @requires (``... on Qux { qux }``) is copied
    # only from objects whose ``__typename`` is one of ``only_for``; ``condition`` is the
    # type condition as written, for printing. Both are resolved when planning.
    condition: str | None = None
    only_for: frozenset[str] | None = None


@dataclass(frozen=True)
class RequiresSelection:
    """The representation shape for objects of one runtime type."""

    type_name: str
    fields: tuple[ProjectedField, ...]
    # what to send as __typename when it differs from the runtime type (an
    # @interfaceObject subgraph knows the interface, not the implementation)
    sent_typename: str | None = None


@dataclass(frozen=True)
class KeyRename:
    """A field the subgraph request aliases, to be put back under its own key.

    Two fields with one response key but different types (``id: ID!`` on one member
    type, ``id: ID`` on another) cannot share a selection set, so the request asks for
    one of them under ``alias``; the objects at ``path`` get ``alias`` renamed to
    ``key`` before the response is merged.
    """

    path: ResponsePath
    alias: str
    key: str


@dataclass(frozen=True)
class FetchNode:
    """One request to one subgraph.

    A root fetch (``requires`` is None) sends ``operation`` as is; an entity fetch
    builds ``representations`` from the objects at its Flatten path.
    """

    id: int
    service: str
    operation: str
    operation_kind: str
    variable_usages: tuple[str, ...]
    requires: tuple[RequiresSelection, ...] | None = None
    # top-level response keys a root fetch owes, to report them when it fails
    owed: tuple[str, ...] = ()
    # deepest first; relative to the data of a root fetch or to each entity
    renames: tuple[KeyRename, ...] = ()


@dataclass(frozen=True)
class FlattenNode:
    """Run ``node`` for the objects found at ``path`` and merge its results there."""

    path: ResponsePath
    node: FetchNode


@dataclass(frozen=True)
class SequenceNode:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True)
class ParallelNode:
    nodes: tuple[PlanNode, ...]


PlanNode = Union[FetchNode, FlattenNode, SequenceNode, ParallelNode]  # noqa: UP007


@dataclass(frozen=True)
class QueryPlan:
    """A whole plan; ``node`` is None when nothing needs fetching (e.g. only ``__typename``)."""

    node: PlanNode | None


def print_plan(plan: QueryPlan) -> str:
    """The plan in the indented form Apollo's tools print."""
    lines = ["QueryPlan {"]
    if plan.node is not None:
        _print_node(plan.node, 1, lines)
    lines.append("}")
    return "\n".join(lines)


def _indent(text: str, level: int) -> list[str]:
    pad = "  " * level
    return [pad + line if line else line for line in text.splitlines()]


def _print_node(node: PlanNode, level: int, lines: list[str]) -> None:
    pad = "  " * level
    if isinstance(node, SequenceNode | ParallelNode):
        lines.append(f"{pad}{'Sequence' if isinstance(node, SequenceNode) else 'Parallel'} {{")
        for i, child in enumerate(node.nodes):
            _print_node(child, level + 1, lines)
            if i < len(node.nodes) - 1:
                lines[-1] += ","
        lines.append(f"{pad}}}")
    elif isinstance(node, FlattenNode):
        lines.append(f'{pad}Flatten(path: "{".".join(node.path)}") {{')
        _print_node(node.node, level + 1, lines)
        lines.append(f"{pad}}}")
    else:
        lines.append(f'{pad}Fetch(service: "{node.service}") {{')
        if node.requires is not None:
            lines.append(f"{pad}  {{")
            for requirement in node.requires:
                sent = f" as {requirement.sent_typename}" if requirement.sent_typename else ""
                lines.append(f"{pad}    ... on {requirement.type_name}{sent} {{")
                _print_projection(requirement.fields, level + 3, lines)
                lines.append(f"{pad}    }}")
            lines.append(f"{pad}  }} =>")
        lines.extend(_indent(_pretty(node.operation), level + 1))
        lines.append(f"{pad}}}")


def _pretty(operation: str) -> str:
    from graphql import parse, print_ast

    return print_ast(parse(operation, no_location=True))


def _print_projection(fields: tuple[ProjectedField, ...], level: int, lines: list[str]) -> None:
    pad = "  " * level
    conditions: dict[str, list[ProjectedField]] = {}
    for f in fields:
        if f.condition is not None:
            conditions.setdefault(f.condition, []).append(f)
            continue
        name = f.name if f.response_key == f.name else f"{f.response_key}: {f.name}"
        if f.children is None:
            lines.append(f"{pad}{name}")
        else:
            lines.append(f"{pad}{name} {{")
            _print_projection(f.children, level + 1, lines)
            lines.append(f"{pad}}}")
    for condition, conditioned in conditions.items():
        lines.append(f"{pad}... on {condition} {{")
        plain = tuple(ProjectedField(f.response_key, f.name, f.children) for f in conditioned)
        _print_projection(plain, level + 1, lines)
        lines.append(f"{pad}}}")
