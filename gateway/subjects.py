"""Subject keys: the key of every person (or other subject) a response holds, fetched always.

The access log records whose data a response returned. A caller may not have asked for
a person's SPID, and a response may hold people that no entity jump needed a key for,
so the planner is given the operation with one more field under every subject: the key,
under the alias ``__tonle_subject``. Shaping reads it and leaves it out of the response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationType,
    get_named_type,
)

from gateway.access import SUBJECT_KEY
from gateway.operation import FieldSelection, FragmentSelection, PreparedOperation, Selection

Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


def with_subject_keys(
    operation: PreparedOperation, schema: GraphQLSchema, subjects: Mapping[str, str]
) -> PreparedOperation:
    """``operation`` with ``__tonle_subject: <key>`` selected under every subject type."""
    root = schema.get_root_type(OperationType(operation.kind))
    if root is None:
        return operation
    selections = _selections(operation.selections, root, schema, subjects)
    return replace(operation, selections=selections)


def _key_field(key: str) -> FieldSelection:
    return FieldSelection(
        response_key=SUBJECT_KEY, name=key, alias=SUBJECT_KEY, arguments=(), directives=(),
        selections=None,
    )  # fmt: skip


def _selections(
    selections: tuple[Selection, ...],
    parent: Composite,
    schema: GraphQLSchema,
    subjects: Mapping[str, str],
) -> tuple[Selection, ...]:
    out: list[Selection] = []
    for selection in selections:
        if isinstance(selection, FragmentSelection):
            condition = (
                schema.get_type(selection.type_condition) if selection.type_condition else parent
            )
            if isinstance(condition, Composite):
                selection = replace(
                    selection,
                    selections=_selections(selection.selections, condition, schema, subjects),
                )
            out.append(selection)
            continue
        if selection.selections is None or isinstance(parent, GraphQLUnionType):
            out.append(selection)
            continue
        definition = parent.fields.get(selection.name)
        if definition is None:
            out.append(selection)
            continue
        named = get_named_type(definition.type)
        if not isinstance(named, Composite):
            out.append(selection)
            continue
        inner = _selections(selection.selections, named, schema, subjects)
        out.append(replace(selection, selections=inner + _keys_for(named, schema, subjects)))
    return tuple(out)


def _keys_for(
    type_: Composite, schema: GraphQLSchema, subjects: Mapping[str, str]
) -> tuple[Selection, ...]:
    if isinstance(type_, GraphQLObjectType):
        key = subjects.get(type_.name)
        return (_key_field(key),) if key else ()
    found: list[Selection] = []
    for possible in schema.get_possible_types(type_):
        key = subjects.get(possible.name)
        if key:
            found.append(
                FragmentSelection(
                    type_condition=possible.name, directives=(), selections=(_key_field(key),)
                )
            )
    return tuple(found)
