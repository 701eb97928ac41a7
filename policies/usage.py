"""What an operation asks for: how often each field is selected, and its page sizes.

Worked out once per prepared request (and kept in its memo), from the operation and the
partner's schema, so that limits are checked before anything is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    IntValueNode,
    OperationType,
    VariableNode,
    get_named_type,
)

if TYPE_CHECKING:
    from gateway.runtime import PreparedRequest

PAGE_SIZE_ARGUMENT = "first"


def int_value(node: Any, variables: Mapping[str, Any]) -> int | None:
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, VariableNode):
        value = variables.get(node.name.value)
        return value if isinstance(value, int) else None
    return None


@dataclass(frozen=True)
class Usage:
    """What one operation asks for, computed once per prepared request."""

    fields: Mapping[str, int]  # "Type.field" -> times selected
    page_sizes: tuple[Any, ...]  # the value nodes of every `first:` argument


def usage_of(prepared: PreparedRequest) -> Usage:
    """What ``prepared`` asks for, worked out once and kept with it."""
    found = prepared.memo.get("usage")
    if isinstance(found, Usage):
        return found
    schema = prepared.schema
    assert schema is not None
    root = schema.get_root_type(OperationType(prepared.operation.kind))
    fields: dict[str, int] = {}
    pages: list[Any] = []
    if root is not None:
        _walk(prepared.operation.selections, root, schema, fields, pages)
    usage = Usage(fields=fields, page_sizes=tuple(pages))
    prepared.memo["usage"] = usage
    return usage


def _walk(
    selections: Iterable[Any],
    parent: Any,
    schema: GraphQLSchema,
    fields: dict[str, int],
    pages: list[Any],
) -> None:
    for selection in selections:
        if not hasattr(selection, "name"):  # a fragment
            condition = (
                schema.get_type(selection.type_condition) if selection.type_condition else parent
            )
            _walk(selection.selections, condition or parent, schema, fields, pages)
            continue
        if isinstance(parent, GraphQLUnionType) or not hasattr(parent, "fields"):
            continue
        definition = parent.fields.get(selection.name)
        if definition is None:
            continue
        name = f"{parent.name}.{selection.name}"
        fields[name] = fields.get(name, 0) + 1
        for argument in selection.arguments:
            if argument.name.value == PAGE_SIZE_ARGUMENT:
                pages.append(argument.value)
        named = get_named_type(definition.type)
        if selection.selections and isinstance(
            named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
        ):
            _walk(selection.selections, named, schema, fields, pages)
