"""A caller's schema: the API schema without what the caller may not see.

Hidden fields, arguments and input fields are removed, then whatever that leaves unusable
goes too, until nothing changes: a field whose type lost every field, a field with a
required argument the caller may not give, an interface field some implementation hides,
an input type with a required field the caller may not fill. Last, types no root reaches
are dropped, so ``__type(name:)`` and ``__schema`` know nothing of them. Validation and
introspection run against this schema, so a hidden field fails exactly like a field that
does not exist, and suggestions ("Did you mean ...?") only name what the caller can see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    OperationType,
    OperationTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    StringValueNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
    print_schema,
)
from graphql.language import TypeNode

from gateway.access import Grants, SchemaFilter
from gateway.authorization import AuthorizationRules
from gateway.errors import GatewayError

BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
_Composite = ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode


class EmptyView(GatewayError):
    """A view that leaves the caller no query field at all."""

    code = "FORBIDDEN_PURPOSE"
    status = 403


def _named(type_node: TypeNode) -> str:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type  # type: ignore[attr-defined]
    return type_node.name.value


def _required(value: InputValueDefinitionNode) -> bool:
    return isinstance(value.type, NonNullTypeNode) and value.default_value is None


@dataclass
class _Pruning:
    """The working state: what each type keeps, and which types are gone."""

    definitions: dict[str, TypeDefinitionNode]
    fields: dict[str, dict[str, FieldDefinitionNode]] = field(default_factory=dict)
    inputs: dict[str, dict[str, InputValueDefinitionNode]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)


def api_document(schema: GraphQLSchema) -> DocumentNode:
    """The API schema as SDL definitions, the starting point of every view."""
    return parse(print_schema(schema), no_location=True)


def restrict_schema(
    document: DocumentNode,
    roots: dict[str, str],
    *,
    view_filter: SchemaFilter | None,
    grants: Grants | None,
    rules: AuthorizationRules,
    notes: Mapping[tuple[str, str], str] | None = None,
) -> GraphQLSchema:
    """The schema one caller sees; ``roots`` maps operation kinds to root type names."""
    state = _Pruning(
        {d.name.value: d for d in document.definitions if isinstance(d, TypeDefinitionNode)}
    )
    _first_cut(state, view_filter, grants, rules, notes or {})
    while _cascade(state):
        pass
    kept_roots = {op: name for op, name in roots.items() if name not in state.removed}
    if "query" not in kept_roots:
        raise EmptyView(
            "Your agreement for this purpose leaves no field you may ask for; "
            "ask the registry what it should grant."
        )
    reachable = _reachable(state, kept_roots.values())
    definitions: list[DefinitionNode] = []
    for name, definition in state.definitions.items():
        if name in state.removed or name not in reachable:
            continue
        definitions.append(_rebuilt(definition, state))
    for node in document.definitions:
        if isinstance(node, DirectiveDefinitionNode) and all(
            _named(a.type) in reachable or _named(a.type) in BUILT_IN_SCALARS
            for a in node.arguments or ()
        ):
            definitions.append(node)
    definitions.append(
        SchemaDefinitionNode(
            operation_types=tuple(_operation_type(op, name) for op, name in kept_roots.items()),
            directives=(),
        )
    )
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid=True)


def _operation_type(operation: str, name: str) -> OperationTypeDefinitionNode:
    return OperationTypeDefinitionNode(
        operation=OperationType(operation), type=NamedTypeNode(name=NameNode(value=name))
    )


def _first_cut(
    state: _Pruning,
    view_filter: SchemaFilter | None,
    grants: Grants | None,
    rules: AuthorizationRules,
    notes: Mapping[tuple[str, str], str],
) -> None:
    for name, definition in state.definitions.items():
        if grants is not None and not rules.type_allowed(name, grants):
            state.removed.add(name)
            continue
        if isinstance(definition, _Composite):
            kept: dict[str, FieldDefinitionNode] = {}
            for node in definition.fields or ():
                field_name = node.name.value
                if view_filter is not None and not view_filter.field_visible(name, field_name):
                    continue
                if grants is not None and not rules.field_allowed(name, field_name, grants):
                    continue
                arguments = []
                usable = True
                for argument in node.arguments or ():
                    if view_filter is None or view_filter.argument_visible(
                        name, field_name, argument.name.value
                    ):
                        arguments.append(argument)
                    elif _required(argument):
                        usable = False
                if usable:
                    changes: dict[str, Any] = {"arguments": tuple(arguments)}
                    note = notes.get((name, field_name))
                    if note:
                        text = node.description.value if node.description else ""
                        changes["description"] = StringValueNode(
                            value=f"{text}\n\n{note}" if text else note, block=True
                        )
                    kept[field_name] = node.__class__(**{**_attrs(node), **changes})
            state.fields[name] = kept
        elif isinstance(definition, InputObjectTypeDefinitionNode):
            inputs: dict[str, InputValueDefinitionNode] = {}
            for value in definition.fields or ():
                if view_filter is None or view_filter.input_field_visible(name, value.name.value):
                    inputs[value.name.value] = value
                elif _required(value):
                    state.removed.add(name)
            state.inputs[name] = inputs
        elif isinstance(definition, UnionTypeDefinitionNode):
            state.members[name] = [t.name.value for t in definition.types or ()]


def _cascade(state: _Pruning) -> bool:
    """One pass of removing what the last removals made unusable; True if anything went."""
    changed = False
    gone = state.removed
    for name, fields in state.fields.items():
        if name in gone:
            continue
        for field_name, node in list(fields.items()):
            if _named(node.type) in gone or any(
                _required(a) and _named(a.type) in gone for a in node.arguments or ()
            ):
                del fields[field_name]
                changed = True
            elif any(_named(a.type) in gone for a in node.arguments or ()):
                fields[field_name] = node.__class__(
                    **{
                        **_attrs(node),
                        "arguments": tuple(
                            a for a in node.arguments or () if _named(a.type) not in gone
                        ),
                    }
                )
                changed = True
        if not fields:
            gone.add(name)
            changed = True
    for name, inputs in state.inputs.items():
        if name in gone:
            continue
        for field_name, value in list(inputs.items()):
            if _named(value.type) in gone:
                if _required(value):
                    gone.add(name)
                    break
                del inputs[field_name]
                changed = True
        if name in gone or not inputs:
            gone.add(name)
            changed = True
    for name, members in state.members.items():
        if name in gone:
            continue
        left = [m for m in members if m not in gone]
        if len(left) != len(members):
            state.members[name] = left
            changed = True
        if not left:
            gone.add(name)
    # An interface offers a field only if every implementation still has it.
    for name, definition in state.definitions.items():
        if name in gone or not isinstance(definition, InterfaceTypeDefinitionNode):
            continue
        for other, other_def in state.definitions.items():
            if other in gone or not isinstance(other_def, _Composite):
                continue
            if name not in {i.name.value for i in other_def.interfaces or ()}:
                continue
            for field_name in list(state.fields[name]):
                if field_name not in state.fields.get(other, {}):
                    del state.fields[name][field_name]
                    changed = True
    return changed


def _reachable(state: _Pruning, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    implementations: dict[str, list[str]] = {}
    for name, definition in state.definitions.items():
        if isinstance(definition, _Composite) and name not in state.removed:
            for interface in definition.interfaces or ():
                implementations.setdefault(interface.name.value, []).append(name)
    while stack:
        name = stack.pop()
        if name in seen or name in state.removed or name not in state.definitions:
            continue
        seen.add(name)
        for node in state.fields.get(name, {}).values():
            stack.append(_named(node.type))
            stack.extend(_named(a.type) for a in node.arguments or ())
        stack.extend(_named(v.type) for v in state.inputs.get(name, {}).values())
        stack.extend(state.members.get(name, ()))
        stack.extend(implementations.get(name, ()))
    return seen


def _rebuilt(definition: TypeDefinitionNode, state: _Pruning) -> TypeDefinitionNode:
    name = definition.name.value
    if isinstance(definition, _Composite):
        interfaces = tuple(
            i for i in definition.interfaces or () if i.name.value not in state.removed
        )
        return definition.__class__(
            **{
                **_attrs(definition),
                "fields": tuple(state.fields[name].values()),
                "interfaces": interfaces,
            }
        )
    if isinstance(definition, InputObjectTypeDefinitionNode):
        return definition.__class__(
            **{**_attrs(definition), "fields": tuple(state.inputs[name].values())}
        )
    if isinstance(definition, UnionTypeDefinitionNode):
        kept = set(state.members[name])
        return definition.__class__(
            **{
                **_attrs(definition),
                "types": tuple(t for t in definition.types or () if t.name.value in kept),
            }
        )
    assert isinstance(definition, EnumTypeDefinitionNode | ScalarTypeDefinitionNode)
    return definition


def _attrs(node: object) -> dict[str, Any]:
    return {key: getattr(node, key, None) for key in node.keys if key != "loc"}  # type: ignore[attr-defined]
