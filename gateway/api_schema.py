"""The API schema: what clients validate against and introspect.

It is the supergraph without the federation machinery (``@link``, ``join__*``,
``link__*``, ``@tag``, ``@inaccessible``) and without any element marked
``@inaccessible``.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
    lexicographic_sort_schema,
)
from graphql.language import Node

from gateway.errors import SupergraphError
from gateway.supergraph import Supergraph

_TYPE_NODES = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
)


def _base_name(type_node: Any) -> str:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type
    return type_node.name.value


def build_api_schema(supergraph: Supergraph) -> GraphQLSchema:
    """Derive the client-facing schema from the supergraph."""
    prefixes = supergraph.spec_prefixes
    spec_directives = supergraph.spec_directive_names
    inaccessible = supergraph.inaccessible_name

    def is_spec_name(name: str) -> bool:
        return name in spec_directives or any(name.startswith(p) for p in prefixes)

    def hidden(node: Node) -> bool:
        return inaccessible is not None and any(
            d.name.value == inaccessible for d in getattr(node, "directives", None) or ()
        )

    def clean_directives(node: Node) -> tuple[Any, ...]:
        return tuple(
            d for d in getattr(node, "directives", None) or () if not is_spec_name(d.name.value)
        )

    hidden_types = {
        d.name.value
        for d in supergraph.document.definitions
        if isinstance(d, _TYPE_NODES) and hidden(d)
    }

    definitions: list[Any] = []
    for definition in supergraph.document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            definitions.append(
                definition.__class__(
                    directives=clean_directives(definition),
                    operation_types=tuple(
                        op
                        for op in definition.operation_types or ()
                        if op.type.name.value not in hidden_types
                    ),
                    description=getattr(definition, "description", None),
                )
            )
            continue
        if isinstance(definition, DirectiveDefinitionNode):
            if not is_spec_name(definition.name.value):
                definitions.append(definition)
            continue
        if not isinstance(definition, _TYPE_NODES):
            definitions.append(definition)
            continue
        name = definition.name.value
        if is_spec_name(name) or name in hidden_types:
            continue
        definitions.append(_clean_type(definition, hidden, clean_directives, hidden_types))

    try:
        schema = build_ast_schema(DocumentNode(definitions=tuple(definitions)))
    except (TypeError, Exception) as error:
        raise SupergraphError(
            f"the API schema derived from the supergraph is invalid: {error}.",
            suggestion="An @inaccessible element may leave a type with no fields; recompose.",
        ) from None
    return schema


def _clean_type(
    definition: Any,
    hidden: Any,
    clean_directives: Any,
    hidden_types: set[str],
) -> TypeDefinitionNode:
    changes: dict[str, Any] = {"directives": clean_directives(definition)}
    if isinstance(
        definition,
        ObjectTypeDefinitionNode
        | ObjectTypeExtensionNode
        | InterfaceTypeDefinitionNode
        | InterfaceTypeExtensionNode,
    ):
        fields = []
        for field in definition.fields or ():
            if hidden(field) or _base_name(field.type) in hidden_types:
                continue
            args = tuple(
                a.__class__(**{**_attrs(a), "directives": clean_directives(a)})
                for a in field.arguments or ()
                if not hidden(a)
            )
            fields.append(
                field.__class__(
                    **{**_attrs(field), "directives": clean_directives(field), "arguments": args}
                )
            )
        changes["fields"] = tuple(fields)
        changes["interfaces"] = tuple(
            i for i in definition.interfaces or () if i.name.value not in hidden_types
        )
    elif isinstance(definition, UnionTypeDefinitionNode | UnionTypeExtensionNode):
        changes["types"] = tuple(
            t for t in definition.types or () if t.name.value not in hidden_types
        )
    elif isinstance(definition, EnumTypeDefinitionNode | EnumTypeExtensionNode):
        changes["values"] = tuple(
            v.__class__(**{**_attrs(v), "directives": clean_directives(v)})
            for v in definition.values or ()
            if not hidden(v)
        )
    elif isinstance(definition, InputObjectTypeDefinitionNode | InputObjectTypeExtensionNode):
        changes["fields"] = tuple(
            f.__class__(**{**_attrs(f), "directives": clean_directives(f)})
            for f in definition.fields or ()
            if not hidden(f)
        )
    cleaned: TypeDefinitionNode = definition.__class__(**{**_attrs(definition), **changes})
    return cleaned


def _attrs(node: Node) -> dict[str, Any]:
    return {key: getattr(node, key, None) for key in node.keys if key != "loc"}


def sorted_api_schema(schema: GraphQLSchema) -> GraphQLSchema:
    """The API schema in a stable order, for printing."""
    return lexicographic_sort_schema(schema)
