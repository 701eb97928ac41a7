"""Reading an Apollo Federation v2 supergraph SDL into the facts the planner needs.

The supergraph is parsed once with graphql-core; the ``@join__*`` directives are
turned into plain lookups: which subgraph (graph) defines each type and field, the
entity keys per graph, ``@requires``/``@provides``/``@external``/``@override``, and
which graph knows which interface implementations and union members.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    SelectionSetNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
    parse,
    value_from_ast_untyped,
)
from graphql.language import Node

from gateway.errors import SupergraphError

LINK_SPEC = "https://specs.apollo.dev/link/"
JOIN_SPEC = "https://specs.apollo.dev/join/"
SUPPORTED_JOIN_VERSIONS = ("v0.2", "v0.3", "v0.4", "v0.5")
EXECUTION_SPECS = ("link", "join", "inaccessible", "tag", "core")
# Apollo's authorization directives: enforced by the gateway, absent from the API schema.
SECURITY_SPECS = ("authenticated", "requiresScopes", "policy")


@dataclass(frozen=True)
class SubgraphInfo:
    """A subgraph as the supergraph names it: enum value, name and routing URL."""

    enum_value: str
    name: str
    url: str


@dataclass(frozen=True)
class EntityKey:
    """One ``@key`` of a type in one subgraph."""

    graph: str
    fields: str
    selection: SelectionSetNode
    resolvable: bool


@dataclass(frozen=True)
class FieldInGraph:
    """How one subgraph knows one field."""

    graph: str
    external: bool = False
    requires: SelectionSetNode | None = None
    provides: SelectionSetNode | None = None
    type_in_graph: str | None = None
    overridden: bool = False
    override_label: str | None = None
    override_from: str | None = None


@dataclass
class TypeInfo:
    """A composite type's federation facts."""

    name: str
    kind: str
    graphs: list[str] = field(default_factory=list)
    keys: dict[str, list[EntityKey]] = field(default_factory=dict)
    interface_object_graphs: set[str] = field(default_factory=set)
    # field name -> graph -> how that graph knows it
    fields: dict[str, dict[str, FieldInGraph]] = field(default_factory=dict)
    # graph -> interfaces this type implements there
    implements: dict[str, set[str]] = field(default_factory=dict)
    # graph -> union members known there (unions only)
    union_members: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Supergraph:
    """The parsed supergraph: the full schema, the subgraphs, and per-type join facts."""

    document: DocumentNode
    schema: GraphQLSchema
    subgraphs: dict[str, SubgraphInfo]
    types: dict[str, TypeInfo]
    join_prefix: str
    inaccessible_name: str | None
    tag_name: str | None
    spec_prefixes: frozenset[str]
    spec_directive_names: frozenset[str]
    # spec ("authenticated", "requiresScopes", "policy") -> its directive's name here
    security_directives: dict[str, str] = field(default_factory=dict)

    def type_info(self, name: str) -> TypeInfo:
        return self.types[name]

    def field_graphs(self, type_name: str, field_name: str) -> dict[str, FieldInGraph]:
        """The graphs that can resolve ``type_name.field_name`` (external ones included)."""
        info = self.types.get(type_name)
        if info is None:
            return {}
        return info.fields.get(field_name, {})

    def url_of(self, graph: str) -> str:
        return self.subgraphs[graph].url


def _where(node: Node | None) -> str:
    if node is None or node.loc is None:
        return ""
    token = node.loc.start_token
    return f" (line {token.line}, column {token.column})"


def _args(directive: DirectiveNode) -> dict[str, object]:
    return {arg.name.value: value_from_ast_untyped(arg.value) for arg in directive.arguments or ()}


def parse_field_set(text: str, *, context: str, node: Node | None = None) -> SelectionSetNode:
    """Parse a ``FieldSet`` string such as ``"id organization { id }"``."""
    try:
        doc = parse("{" + text + "}", no_location=True)
    except GraphQLError as error:
        raise SupergraphError(
            f"{context}: the field set {text!r} does not parse: {error.message}{_where(node)}.",
            suggestion="Recompose the supergraph from its subgraphs.",
        ) from None
    operation = doc.definitions[0]
    return operation.selection_set  # type: ignore[attr-defined, no-any-return]


def _links(
    schema_nodes: Iterable[SchemaDefinitionNode | SchemaExtensionNode],
) -> list[dict[str, object]]:
    found = []
    for node in schema_nodes:
        for directive in node.directives or ():
            if directive.name.value in ("link", "core"):
                args = _args(directive)
                args["__node__"] = directive
                found.append(args)
    return found


def _spec_name(url: str) -> tuple[str, str]:
    # https://specs.apollo.dev/join/v0.3 -> ("join", "v0.3")
    parts = url.rstrip("/").split("/")
    return parts[-2], parts[-1]


def override_label_active(label: str, enabled: frozenset[str] = frozenset()) -> bool:
    """Whether a progressive ``@override`` label is in force.

    ``percent(100)`` is always in force and ``percent(0)`` never; other percentages and
    custom labels are in force only when listed in ``enabled`` (``TONLE_OVERRIDE_LABELS``).
    Plans stay deterministic: the gateway does not flip a coin per request.
    """
    if label in enabled:
        return True
    if label.startswith("percent(") and label.endswith(")"):
        try:
            return float(label[8:-1]) >= 100
        except ValueError:
            return False
    return False


def _apply_progressive_overrides(
    types: dict[str, TypeInfo], subgraphs: dict[str, SubgraphInfo], enabled: frozenset[str]
) -> None:
    by_name = {info.name: enum for enum, info in subgraphs.items()}
    for info in types.values():
        for name, graphs in info.fields.items():
            for graph, fig in list(graphs.items()):
                if fig.override_label is None or fig.override_from is None:
                    continue
                old = by_name.get(fig.override_from)
                if override_label_active(fig.override_label, enabled):
                    if old is not None and old in graphs:
                        graphs[old] = replace(graphs[old], overridden=True)
                else:
                    graphs[graph] = replace(fig, overridden=True)
                    if old is not None and old not in graphs:
                        graphs[old] = FieldInGraph(graph=old)
            info.fields[name] = graphs


def load_supergraph(sdl: str, *, override_labels: frozenset[str] = frozenset()) -> Supergraph:
    """Parse and check a supergraph SDL; raise :class:`SupergraphError` saying what is wrong."""
    try:
        document = parse(sdl)
    except GraphQLError as error:
        loc = error.locations[0] if error.locations else None
        where = f" (line {loc.line}, column {loc.column})" if loc else ""
        raise SupergraphError(
            f"the supergraph SDL does not parse: {error.message}{where}.",
            suggestion="Check the file is a supergraph produced by `tonle compose` or rover.",
        ) from None

    schema_nodes = [
        d for d in document.definitions if isinstance(d, SchemaDefinitionNode | SchemaExtensionNode)
    ]
    links = _links(schema_nodes)
    if not links:
        raise SupergraphError(
            "this is not a federation supergraph: the schema has no @link directives.",
            suggestion="Give the composed supergraph SDL (with @link and join__ directives), "
            "not a subgraph's SDL; `tonle compose` builds one.",
        )

    prefixes: dict[str, str] = {}
    imported: dict[str, str] = {}
    join_version = None
    for link in links:
        url = link.get("url") or link.get("feature")
        if not isinstance(url, str):
            raise SupergraphError(f"an @link has no url{_where(link['__node__'])}.")  # type: ignore[arg-type]
        name, version = _spec_name(url)
        alias = link.get("as")
        prefixes[name] = alias if isinstance(alias, str) else name
        for item in link.get("import") or []:  # type: ignore[attr-defined]
            if isinstance(item, str):
                imported[item.lstrip("@")] = item.lstrip("@")
            elif isinstance(item, dict):
                imported[str(item["name"]).lstrip("@")] = str(item.get("as", item["name"])).lstrip(
                    "@"
                )
        if name == "join":
            join_version = version
    if join_version is None:
        raise SupergraphError(
            "the supergraph does not @link the join spec (https://specs.apollo.dev/join/v0.x).",
            suggestion="Recompose it with a Federation v2 composer.",
        )
    if join_version not in SUPPORTED_JOIN_VERSIONS:
        raise SupergraphError(
            f"join spec {join_version} is not supported; supported: "
            f"{', '.join(SUPPORTED_JOIN_VERSIONS)}.",
        )
    join = prefixes["join"]

    def spec_directive(spec: str) -> str | None:
        if spec not in prefixes:
            return None
        if spec in imported:
            return imported[spec]
        return prefixes[spec]

    inaccessible = spec_directive("inaccessible")
    tag = spec_directive("tag")

    try:
        schema = build_ast_schema(document, assume_valid_sdl=False)
    except (GraphQLError, TypeError) as error:
        raise SupergraphError(
            f"the supergraph SDL is not a valid schema: {error}.",
            suggestion="Check that every directive and type it uses is defined.",
        ) from None

    subgraphs = _read_graphs(document, join)
    types = _read_types(document, join, subgraphs)
    _apply_progressive_overrides(types, subgraphs, override_labels)

    stripped = EXECUTION_SPECS + SECURITY_SPECS
    spec_prefixes = frozenset(f"{p}__" for n, p in prefixes.items() if n in stripped)
    spec_directives = {p for n, p in prefixes.items() if n in stripped}
    security = {
        spec: found for spec in SECURITY_SPECS if (found := spec_directive(spec)) is not None
    }
    spec_directives |= {d for d in (inaccessible, tag, *security.values()) if d}
    return Supergraph(
        document=document,
        schema=schema,
        subgraphs=subgraphs,
        types=types,
        join_prefix=join,
        inaccessible_name=inaccessible,
        tag_name=tag,
        spec_prefixes=spec_prefixes,
        spec_directive_names=frozenset(spec_directives),
        security_directives=security,
    )


def _read_graphs(document: DocumentNode, join: str) -> dict[str, SubgraphInfo]:
    enum_name = f"{join}__Graph"
    for definition in document.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == enum_name:
            graphs: dict[str, SubgraphInfo] = {}
            for value in definition.values or ():
                directive = next(
                    (d for d in value.directives or () if d.name.value == f"{join}__graph"), None
                )
                if directive is None:
                    raise SupergraphError(
                        f"{enum_name}.{value.name.value} has no @{join}__graph(name:, url:)"
                        f"{_where(value)}."
                    )
                args = _args(directive)
                url = args.get("url")
                if not isinstance(url, str) or not url:
                    raise SupergraphError(
                        f"subgraph {args.get('name')!r} has no routing url{_where(directive)}.",
                        suggestion="Compose with each subgraph's URL, or set it in the SDL.",
                    )
                graphs[value.name.value] = SubgraphInfo(
                    enum_value=value.name.value, name=str(args.get("name")), url=url
                )
            return graphs
    raise SupergraphError(
        f"the supergraph has no `enum {enum_name}` listing its subgraphs.",
        suggestion="Recompose the supergraph from its subgraphs.",
    )


_COMPOSITE = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    InputObjectTypeDefinitionNode,
)


def _kind(node: Node) -> str:
    if isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
        return "object"
    if isinstance(node, InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode):
        return "interface"
    if isinstance(node, UnionTypeDefinitionNode | UnionTypeExtensionNode):
        return "union"
    if isinstance(node, EnumTypeDefinitionNode | EnumTypeExtensionNode):
        return "enum"
    return "input"


def _read_types(
    document: DocumentNode, join: str, subgraphs: dict[str, SubgraphInfo]
) -> dict[str, TypeInfo]:
    types: dict[str, TypeInfo] = {}
    all_graphs = list(subgraphs)

    def graph_of(args: dict[str, object], directive: DirectiveNode) -> str:
        graph = args.get("graph")
        if not isinstance(graph, str) or graph not in subgraphs:
            raise SupergraphError(
                f"@{directive.name.value} names graph {graph!r}, which is not in "
                f"{join}__Graph{_where(directive)}."
            )
        return graph

    for definition in document.definitions:
        if not isinstance(definition, _COMPOSITE):
            continue
        name = definition.name.value
        if name.startswith(f"{join}__") or name.startswith("link__"):
            continue
        info = types.setdefault(name, TypeInfo(name=name, kind=_kind(definition)))
        for directive in definition.directives or ():
            dname = directive.name.value
            if dname == f"{join}__type":
                args = _args(directive)
                graph = graph_of(args, directive)
                if graph not in info.graphs:
                    info.graphs.append(graph)
                key = args.get("key")
                if isinstance(key, str):
                    info.keys.setdefault(graph, []).append(
                        EntityKey(
                            graph=graph,
                            fields=key,
                            selection=parse_field_set(
                                key, context=f"@key on {name}", node=directive
                            ),
                            resolvable=args.get("resolvable", True) is not False,
                        )
                    )
                if args.get("isInterfaceObject") is True:
                    info.interface_object_graphs.add(graph)
            elif dname == f"{join}__implements":
                args = _args(directive)
                graph = graph_of(args, directive)
                info.implements.setdefault(graph, set()).add(str(args["interface"]))
            elif dname == f"{join}__unionMember":
                args = _args(directive)
                graph = graph_of(args, directive)
                info.union_members.setdefault(graph, set()).add(str(args["member"]))
        if not info.graphs and info.kind in ("object", "interface", "union", "enum", "input"):
            # A type with no @join__type is known to every subgraph (e.g. pre-v0.2 value types).
            info.graphs = list(all_graphs)
        if info.kind in ("object", "interface") and isinstance(
            definition,
            ObjectTypeDefinitionNode
            | ObjectTypeExtensionNode
            | InterfaceTypeDefinitionNode
            | InterfaceTypeExtensionNode,
        ):
            for field_node in definition.fields or ():
                info.fields[field_node.name.value] = _read_field(field_node, info, join, graph_of)
    return types


def _read_field(
    node: FieldDefinitionNode,
    owner: TypeInfo,
    join: str,
    graph_of: object,
) -> dict[str, FieldInGraph]:
    joins = [d for d in node.directives or () if d.name.value == f"{join}__field"]
    context = f"{owner.name}.{node.name.value}"
    if not joins:
        return {g: FieldInGraph(graph=g) for g in owner.graphs}
    # A bare @join__field (no graph) marks a field that no subgraph resolves on this
    # type directly: an @interfaceObject subgraph adds it through the interface.
    found: dict[str, FieldInGraph] = {}
    for directive in joins:
        args = _args(directive)
        if "graph" not in args:
            continue
        graph = graph_of(args, directive)  # type: ignore[operator]
        requires = args.get("requires")
        provides = args.get("provides")
        override_label = args.get("overrideLabel")
        found[graph] = FieldInGraph(
            graph=graph,
            external=args.get("external") is True,
            requires=parse_field_set(requires, context=f"@requires on {context}", node=directive)
            if isinstance(requires, str)
            else None,
            provides=parse_field_set(provides, context=f"@provides on {context}", node=directive)
            if isinstance(provides, str)
            else None,
            type_in_graph=args.get("type") if isinstance(args.get("type"), str) else None,  # type: ignore[arg-type]
            overridden=args.get("usedOverridden") is True,
            override_label=override_label if isinstance(override_label, str) else None,
            override_from=str(args["override"]) if isinstance(args.get("override"), str) else None,
        )
    return found


def spec_elements_prefixes(supergraph: Supergraph) -> frozenset[str]:
    """Name prefixes of the spec machinery (``join__``, ``link__``, ...)."""
    return supergraph.spec_prefixes
