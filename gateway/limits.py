"""Operation limits: what one request may ask for, checked before anything is fetched.

Four are read off the document itself — its tokens (checked while parsing, so a huge
document is refused before it is even held whole), its depth, its aliases and its root
fields. The fifth is an **estimated cost**, after GitHub's node limit: the number of field
values the answer would hold, multiplied through nesting by list sizes (a ``first:`` or
``last:`` argument, the schema's default for it, or an assumed size for a list with
neither), plus every entity the plan sends to another subgraph (an entity jump to an
operator is work on the operator's side). Introspection (``__schema``, ``__type``) is
answered locally from a bounded schema and counts for neither depth nor cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    IntValueNode,
    OperationType,
    VariableNode,
    get_named_type,
)

from gateway.errors import GatewayError
from gateway.operation import FieldSelection, PreparedOperation, Selection
from gateway.query_plan import FetchNode, FlattenNode, ParallelNode, PlanNode, SequenceNode

SLICING_ARGUMENTS = ("first", "last", "limit")
INTROSPECTION = frozenset({"__schema", "__type"})
Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


@dataclass(frozen=True)
class OperationLimits:
    """The most one request may ask for; safe defaults for a national gateway."""

    max_depth: int = 15
    max_aliases: int = 30
    max_root_fields: int = 20
    max_tokens: int = 5_000
    max_cost: int = 100_000
    # the size assumed for a list whose field has no slicing argument
    assumed_list_size: int = 10


@dataclass(frozen=True)
class HttpLimits:
    """What one HTTP request may bring, and how long it may take."""

    max_body_bytes: int = 1024 * 1024
    max_header_bytes: int = 16 * 1024
    max_variables_bytes: int = 256 * 1024
    body_timeout_s: float = 10.0  # a slow client cannot hold its request open longer
    request_timeout_s: float = 30.0  # the whole answer, subgraphs included


class LimitExceeded(GatewayError):
    """A request over one of its limits: 400 ``LIMIT_EXCEEDED`` naming the limit."""

    code = "LIMIT_EXCEEDED"

    def __init__(self, message: str, limit: str, value: int, cap: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.cap = cap

    def as_error(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "extensions": {
                "code": self.code,
                "limit": self.limit,
                "value": self.value,
                "cap": self.cap,
            },
        }


@dataclass(frozen=True)
class Shape:
    """What a document asks for, independent of its variables."""

    depth: int
    aliases: int
    root_fields: int


def shape_of(operation: PreparedOperation) -> Shape:
    """Depth, aliases and root fields of an operation (fragments resolved)."""
    aliases = 0

    def walk(selections: tuple[Selection, ...], depth: int) -> int:
        nonlocal aliases
        deepest = depth
        for selection in selections:
            if isinstance(selection, FieldSelection):
                if selection.alias is not None:
                    aliases += 1
                if selection.name in INTROSPECTION:
                    continue
                if selection.selections:
                    deepest = max(deepest, walk(selection.selections, depth + 1))
                else:
                    deepest = max(deepest, depth + 1)
            else:
                deepest = max(deepest, walk(selection.selections, depth))
        return deepest

    depth = walk(operation.selections, 0)
    roots = sum(1 for _ in _fields(operation.selections))
    return Shape(depth=depth, aliases=aliases, root_fields=roots)


def check_shape(shape: Shape, limits: OperationLimits) -> None:
    """Raise :class:`LimitExceeded` for the first static limit the document goes over."""
    for name, value, cap, what in (
        ("max_depth", shape.depth, limits.max_depth, "fields nested"),
        ("max_aliases", shape.aliases, limits.max_aliases, "aliases"),
        ("max_root_fields", shape.root_fields, limits.max_root_fields, "root fields"),
    ):
        if value > cap:
            raise LimitExceeded(
                f"This operation has {value} {what}; at most {cap} are allowed. "
                "Ask for less in one request.",
                name,
                value,
                cap,
            )


def estimate_cost(
    operation: PreparedOperation,
    schema: GraphQLSchema,
    variables: Mapping[str, Any],
    plan: PlanNode | None,
    limits: OperationLimits,
) -> int:
    """Field values the answer would hold, plus entities sent to other subgraphs."""
    root = schema.get_root_type(OperationType(operation.kind))
    if root is None:
        return 0
    counts: dict[tuple[str, ...], int] = {}
    total = _cost(operation.selections, root, schema, variables, limits, 1, None, (), counts)
    return total + _entities(plan, counts)


def check_cost(cost: int, limits: OperationLimits) -> None:
    if cost > limits.max_cost:
        raise LimitExceeded(
            f"This operation's estimated cost is {cost} (field values it may return, "
            f"multiplied through lists, plus entities fetched from other subgraphs); "
            f"at most {limits.max_cost} is allowed. Ask for smaller pages (first:) or fewer "
            "fields, and page on.",
            "max_cost",
            cost,
            limits.max_cost,
        )


def _fields(selections: tuple[Selection, ...]) -> Any:
    for selection in selections:
        if isinstance(selection, FieldSelection):
            yield selection
        else:
            yield from _fields(selection.selections)


def _slice(
    field: GraphQLField, selection: FieldSelection, variables: Mapping[str, Any]
) -> int | None:
    """The page size a field asks for through a slicing argument, if it has one."""
    given = {argument.name.value: argument.value for argument in selection.arguments}
    for name in SLICING_ARGUMENTS:
        if name not in field.args:
            continue
        node = given.get(name)
        value: Any = None
        if isinstance(node, IntValueNode):
            value = int(node.value)
        elif isinstance(node, VariableNode):
            value = variables.get(node.name.value)
        elif node is None:
            value = field.args[name].default_value
        if isinstance(value, int) and not isinstance(value, bool):
            return max(value, 0)
    return None


def _is_list(type_: GraphQLOutputType) -> bool:
    inner: Any = type_
    while isinstance(inner, GraphQLNonNull):
        inner = inner.of_type
    return isinstance(inner, GraphQLList)


def _cost(
    selections: tuple[Selection, ...],
    parent: Composite,
    schema: GraphQLSchema,
    variables: Mapping[str, Any],
    limits: OperationLimits,
    objects: int,
    pending: int | None,
    path: tuple[str, ...],
    counts: dict[tuple[str, ...], int],
) -> int:
    """Cost of ``selections`` on ``objects`` objects of ``parent``; ``pending`` is a page
    size asked for above (a connection's ``first:``) that the next list takes."""
    total = 0
    for selection in selections:
        if not isinstance(selection, FieldSelection):
            condition = (
                schema.get_type(selection.type_condition) if selection.type_condition else parent
            )
            if isinstance(condition, Composite):
                total += _cost(
                    selection.selections, condition, schema, variables, limits, objects,
                    pending, path, counts,
                )  # fmt: skip
            continue
        if selection.name in INTROSPECTION or selection.name == "__typename":
            continue
        if isinstance(parent, GraphQLUnionType):
            continue
        field = parent.fields.get(selection.name)
        if field is None:
            continue
        size = _slice(field, selection, variables)
        values = objects
        key = (*path, selection.response_key)
        inner_pending = pending if size is None else size
        if _is_list(field.type):
            per_parent = inner_pending if inner_pending is not None else limits.assumed_list_size
            values = objects * per_parent
            inner_pending = None
            key = (*key, "@")
        total += values
        named = get_named_type(field.type)
        if selection.selections and isinstance(named, Composite):
            counts[key] = counts.get(key, 0) + values
            total += _cost(
                selection.selections, named, schema, variables, limits, values, inner_pending,
                key, counts,
            )  # fmt: skip
    return total


def _entities(plan: PlanNode | None, counts: Mapping[tuple[str, ...], int]) -> int:
    if plan is None:
        return 0
    if isinstance(plan, SequenceNode | ParallelNode):
        return sum(_entities(child, counts) for child in plan.nodes)
    if isinstance(plan, FlattenNode):
        return counts.get(tuple(str(p) for p in plan.path), 0)
    assert isinstance(plan, FetchNode)
    return 0
