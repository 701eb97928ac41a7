"""What an export asks for: the analyst's query, read against the schema the analyst may see.

An export query is a GraphQL query with one connection (``people(…, first: $first, after:
$after)``, ``households(…)``) whose nodes become the rows. The columns come from the query's
selection under the node, not from the data, so a page full of nulls still has every column and
a resumed export writes the same header: one column per leaf field, named by its path
(``idpoor.level``; an alias names its column). A field whose value is a list is one column
holding its JSON, or (``lists="rows"``) repeats the row once per element.

The connection's ``pageInfo { hasNextPage endCursor }`` (and ``totalCount`` for the progress
bar, when the schema has it) are added under aliases of their own when the query does not ask
for them, so an analyst writes only what they want in the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Literal

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    print_ast,
    validate,
)
from graphql.language import FragmentSpreadNode, InlineFragmentNode

ListMode = Literal["json", "rows"]
PAGE_INFO = "exportPageInfo"
TOTAL = "exportTotal"
# GraphQL scalar -> the column's kind (Parquet type, CSV text)
KINDS = {"Int": "int", "Float": "float", "Boolean": "bool"}


class ExportQueryError(ValueError):
    """An export query that cannot be run, with what to change."""


@dataclass(frozen=True)
class Column:
    """One column of the export: its name (the path under the node) and its kind."""

    name: str
    kind: str  # "int" | "float" | "bool" | "text" | "json"


@dataclass(frozen=True)
class Part:
    """A field of the node's selection: a column, or an object with parts of its own.

    ``many``: its value is a list whose elements become rows of their own (lists="rows").
    """

    key: str
    many: bool = False
    column: Column | None = None
    parts: tuple[Part, ...] = ()

    def columns(self) -> list[Column]:
        if self.column is not None:
            return [self.column]
        return [column for part in self.parts for column in part.columns()]


@dataclass(frozen=True)
class ExportQuery:
    """A query ready to page: the document sent, where its nodes are, and the columns."""

    document: str
    connection: str  # the response key of the connection field
    node_path: tuple[str, ...]  # ("edges", "node") or ("nodes",)
    page_info: str
    total: str | None
    node: Part
    variables: tuple[str, ...]  # the variables the query declares

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(self.node.columns())

    @property
    def digest(self) -> str:
        """What a checkpoint is tied to: the same document and the same columns."""
        text = self.document + "\n" + ",".join(c.name for c in self.columns)
        return hashlib.sha256(text.encode()).hexdigest()


def read_export_query(text: str, schema: GraphQLSchema, lists: ListMode = "json") -> ExportQuery:
    """Check ``text`` against ``schema`` and work out its connection and columns."""
    try:
        document = parse(text)
    except GraphQLError as error:
        raise ExportQueryError(f"the query does not parse: {error.message}") from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        raise ExportQueryError("give exactly one query operation (no mutation, no second one)")
    if any(not isinstance(d, OperationDefinitionNode) for d in document.definitions):
        raise ExportQueryError("write the fields out instead of using fragment definitions")
    operation = operations[0]
    declared = tuple(v.variable.name.value for v in operation.variable_definitions or ())
    for needed in ("first", "after"):
        if needed not in declared:
            raise ExportQueryError(
                f"declare ${needed} and pass it to the connection: "
                "people(…, first: $first, after: $after)"
            )
    roots = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if len(roots) != 1 or len(operation.selection_set.selections) != 1:
        raise ExportQueryError("ask for exactly one root field, the connection to export")
    root = roots[0]
    query_type = schema.query_type
    assert query_type is not None
    field = query_type.fields.get(root.name.value)
    if field is None:
        raise ExportQueryError(f"Query.{root.name.value} is not in the schema you may query")
    connection_type = get_named_type(field.type)
    if not isinstance(connection_type, GraphQLObjectType) or "pageInfo" not in (
        connection_type.fields
    ):
        raise ExportQueryError(
            f"Query.{root.name.value} is not a connection (a type with pageInfo); "
            "export a paged field such as people or households"
        )
    node_path, node_selection, node_type = _nodes(root, connection_type)
    document = _with_paging(document, root, connection_type)
    node = Part("", parts=tuple(_parts(node_selection, node_type, (), lists)))
    columns = node.columns()
    if not columns:
        raise ExportQueryError("select at least one field of the node to have a column")
    names = [c.name for c in columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ExportQueryError(f"two columns would be named {', '.join(twice)}: alias one")
    sent = print_ast(document)
    problems = validate(schema, parse(sent))
    if problems:
        raise ExportQueryError("; ".join(p.message for p in problems))
    key = root.alias.value if root.alias else root.name.value
    total = TOTAL if "totalCount" in connection_type.fields else None
    return ExportQuery(sent, key, node_path, PAGE_INFO, total, node, declared)


def _nodes(
    root: FieldNode, connection: GraphQLObjectType
) -> tuple[tuple[str, ...], SelectionSetNode, GraphQLObjectType]:
    """Where the nodes are: ``edges { node { … } }`` or ``nodes { … }``."""
    for field in _fields(root.selection_set):
        name = field.name.value
        key = field.alias.value if field.alias else name
        if name == "nodes" and field.selection_set is not None:
            node = get_named_type(connection.fields["nodes"].type)
            assert isinstance(node, GraphQLObjectType)
            return (key,), field.selection_set, node
        if name == "edges" and field.selection_set is not None:
            edge = get_named_type(connection.fields["edges"].type)
            assert isinstance(edge, GraphQLObjectType)
            for inner in _fields(field.selection_set):
                if inner.name.value == "node" and inner.selection_set is not None:
                    node = get_named_type(edge.fields["node"].type)
                    assert isinstance(node, GraphQLObjectType)
                    inner_key = inner.alias.value if inner.alias else "node"
                    return (key, inner_key), inner.selection_set, node
    raise ExportQueryError("select the rows: edges { node { … } } or nodes { … }")


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    if selection_set is None:
        return []
    found: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_fields(selection.selection_set))
        elif isinstance(selection, FragmentSpreadNode):
            raise ExportQueryError("write the fields out instead of using fragment spreads")
    return found


def _with_paging(
    document: DocumentNode, root: FieldNode, connection: GraphQLObjectType
) -> DocumentNode:
    """``document`` also asking for pageInfo (and totalCount) under aliases the export reads."""
    text = f"{{ {PAGE_INFO}: pageInfo {{ hasNextPage endCursor }}"
    if "totalCount" in connection.fields:
        text += f" {TOTAL}: totalCount"
    extra = _only_operation(parse(text + " }")).selection_set.selections
    assert root.selection_set is not None
    selections = replace(root.selection_set, selections=(*root.selection_set.selections, *extra))
    field = replace(root, selection_set=selections)
    operation = _only_operation(document)
    top = replace(operation.selection_set, selections=(field,))
    return replace(document, definitions=(replace(operation, selection_set=top),))


def _only_operation(document: DocumentNode) -> OperationDefinitionNode:
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation


def _parts(
    selection: SelectionSetNode, parent: GraphQLObjectType, path: tuple[str, ...], mode: ListMode
) -> list[Part]:
    found: list[Part] = []
    for field in _fields(selection):
        name = field.name.value
        if name == "__typename":
            continue
        definition = parent.fields.get(name)
        if definition is None:
            raise ExportQueryError(f"{parent.name}.{name} is not in the schema you may query")
        key = field.alias.value if field.alias else name
        here = (*path, key)
        many = _is_list(definition.type)
        named: GraphQLNamedType = get_named_type(definition.type)
        if many and mode == "json":
            found.append(Part(key, column=Column(".".join(here), "json")))
        elif isinstance(named, GraphQLObjectType):
            if field.selection_set is None:
                raise ExportQueryError(f"select fields of {'.'.join(here)} ({named.name})")
            parts = tuple(_parts(field.selection_set, named, here, mode))
            found.append(Part(key, many=many, parts=parts))
        else:
            kind = KINDS.get(named.name, "text")
            found.append(Part(key, many=many, column=Column(".".join(here), kind)))
    return found


def _is_list(kind: GraphQLOutputType) -> bool:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)
