"""Reading one Federation v2 subgraph SDL into plain facts, federation machinery removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    GraphQLError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    parse,
    print_ast,
    value_from_ast_untyped,
)

from gateway.composition.errors import CompositionIssue

FEDERATION_SPEC = "https://specs.apollo.dev/federation/"
FEDERATION_DIRECTIVES = (
    "key", "requires", "provides", "external", "shareable", "extends", "override",
    "inaccessible", "tag", "interfaceObject", "composeDirective", "authenticated",
    "requiresScopes", "policy", "context", "fromContext", "cost", "listSize",
)  # fmt: skip
FEDERATION_TYPES = frozenset(
    {"_Service", "_Entity", "_Any", "FieldSet", "_FieldSet", "link__Import", "link__Purpose"}
)
FEDERATION_ROOT_FIELDS = frozenset({"_service", "_entities"})
DEFAULT_ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


@dataclass(frozen=True)
class ArgFacts:
    """An argument or input field: printed type and default, and the marks that travel."""

    name: str
    type: str
    default: str | None
    description: str | None
    inaccessible: bool
    tags: tuple[str, ...]
    deprecated: DirectiveNode | None


@dataclass(frozen=True)
class KeyFacts:
    fields: str
    resolvable: bool | None  # None when the subgraph did not say
    extension: bool


@dataclass
class FieldFacts:
    name: str
    type: str
    description: str | None
    arguments: tuple[ArgFacts, ...]
    external: bool = False
    requires: str | None = None
    provides: str | None = None
    shareable: bool = False
    override: str | None = None
    override_label: str | None = None
    inaccessible: bool = False
    tags: tuple[str, ...] = ()
    deprecated: DirectiveNode | None = None


@dataclass
class TypeFacts:
    name: str
    kind: str  # object | interface | union | enum | input | scalar
    description: str | None = None
    keys: list[KeyFacts] = field(default_factory=list)
    extends: bool = False  # @extends: every key counts as an extension
    extension: bool = False
    shareable: bool = False
    interface_object: bool = False
    inaccessible: bool = False
    tags: tuple[str, ...] = ()
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, FieldFacts] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)  # unions
    values: dict[str, tuple[str | None, bool, DirectiveNode | None]] = field(
        default_factory=dict
    )  # enums: name -> (description, inaccessible, deprecated)
    input_fields: dict[str, ArgFacts] = field(default_factory=dict)


@dataclass
class SubgraphFacts:
    name: str
    url: str
    types: dict[str, TypeFacts]


def _args(directive: DirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


class _Names:
    """How this subgraph spells each federation directive (imports, renames, namespace)."""

    def __init__(self, document: DocumentNode) -> None:
        self.spelled: dict[str, str] = {}
        namespace = "federation"
        imports: dict[str, str] = {}
        for definition in document.definitions:
            if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
                continue
            for directive in definition.directives or ():
                if directive.name.value != "link":
                    continue
                args = _args(directive)
                if not str(args.get("url", "")).startswith(FEDERATION_SPEC):
                    continue
                namespace = str(args.get("as") or "federation")
                for item in args.get("import") or []:
                    if isinstance(item, str):
                        imports[item.lstrip("@")] = item.lstrip("@")
                    elif isinstance(item, dict):
                        name = str(item["name"]).lstrip("@")
                        imports[name] = str(item.get("as", name)).lstrip("@")
        for name in FEDERATION_DIRECTIVES:
            self.spelled[imports.get(name, f"{namespace}__{name}")] = name
        # Fed 1 style and strawberry print plain names even without imports.
        for name in FEDERATION_DIRECTIVES:
            self.spelled.setdefault(name, name)

    def canonical(self, directive: DirectiveNode) -> str | None:
        return self.spelled.get(directive.name.value)


def _type_text(node: Any) -> str:
    return print_ast(node)


def read_subgraph(
    name: str, url: str, sdl: str
) -> tuple[SubgraphFacts | None, list[CompositionIssue]]:
    """Parse one subgraph; problems are returned, not raised, so all can be reported."""
    try:
        document = parse(sdl)
    except GraphQLError as error:
        loc = error.locations[0] if error.locations else None
        where = f"{name}:{loc.line}:{loc.column}" if loc else name
        return None, [
            CompositionIssue(
                "INVALID_GRAPHQL",
                f"subgraph {name!r} does not parse: {error.message}. Fix its SDL.",
                (where,),
            )
        ]
    names = _Names(document)
    types: dict[str, TypeFacts] = {}
    roots = dict(DEFAULT_ROOTS)
    issues: list[CompositionIssue] = []
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for op in definition.operation_types or ():
                roots[op.operation.value] = op.type.name.value
            continue
        if not hasattr(definition, "name") or definition.name is None:
            continue
        type_name = definition.name.value
        if type_name in FEDERATION_TYPES or type_name.startswith(("federation__", "link__")):
            continue
        if definition.kind.endswith("directive_definition"):
            continue
        kind = _kind(definition)
        if kind is None:
            continue
        facts = types.setdefault(type_name, TypeFacts(name=type_name, kind=kind))
        if kind != facts.kind:
            issues.append(
                CompositionIssue(
                    "TYPE_KIND_MISMATCH",
                    f"{type_name} is defined twice in subgraph {name!r} with different kinds.",
                    (f"{name}:{type_name}",),
                )
            )
            continue
        _read_type(definition, facts, names)
    # Root types merge under their default names, whatever a subgraph calls them; and every
    # subgraph has a Query (federation gives it _service), so Query is joined to every graph.
    for operation, type_name in roots.items():
        default = DEFAULT_ROOTS[operation]
        if type_name != default and type_name in types:
            types[default] = types.pop(type_name)
            types[default].name = default
    types.setdefault("Query", TypeFacts(name="Query", kind="object"))
    return SubgraphFacts(name=name, url=url, types=types), issues


def _kind(node: Any) -> str | None:
    if isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
        return "object"
    if isinstance(node, InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode):
        return "interface"
    if isinstance(node, UnionTypeDefinitionNode | UnionTypeExtensionNode):
        return "union"
    if isinstance(node, EnumTypeDefinitionNode | EnumTypeExtensionNode):
        return "enum"
    if isinstance(node, InputObjectTypeDefinitionNode | InputObjectTypeExtensionNode):
        return "input"
    if isinstance(node, ScalarTypeDefinitionNode | ScalarTypeExtensionNode):
        return "scalar"
    return None


def _read_type(node: Any, facts: TypeFacts, names: _Names) -> None:
    if getattr(node, "description", None) is not None and facts.description is None:
        facts.description = node.description.value
    in_extension = node.kind.endswith("_extension")
    if in_extension:
        facts.extension = True
    tags = list(facts.tags)
    for directive in node.directives or ():
        canonical = names.canonical(directive)
        args = _args(directive)
        if canonical == "key":
            resolvable = args.get("resolvable")
            facts.keys.append(
                KeyFacts(
                    str(args["fields"]),
                    None if resolvable is None else bool(resolvable),
                    in_extension,
                )
            )
        elif canonical == "extends":
            facts.extends = True
        elif canonical == "shareable":
            facts.shareable = True
        elif canonical == "interfaceObject":
            facts.interface_object = True
        elif canonical == "inaccessible":
            facts.inaccessible = True
        elif canonical == "tag":
            tags.append(str(args["name"]))
    facts.tags = tuple(tags)
    for interface in getattr(node, "interfaces", None) or ():
        if interface.name.value not in facts.interfaces:
            facts.interfaces.append(interface.name.value)
    if facts.kind in ("object", "interface"):
        for field_node in node.fields or ():
            if field_node.name.value in FEDERATION_ROOT_FIELDS:
                continue
            facts.fields[field_node.name.value] = _read_field(field_node, names, node)
    elif facts.kind == "union":
        for member in node.types or ():
            if member.name.value not in facts.members:
                facts.members.append(member.name.value)
    elif facts.kind == "enum":
        for value in node.values or ():
            inaccessible = any(names.canonical(d) == "inaccessible" for d in value.directives or ())
            deprecated = next(
                (d for d in value.directives or () if d.name.value == "deprecated"), None
            )
            facts.values[value.name.value] = (
                value.description.value if value.description else None,
                inaccessible,
                deprecated,
            )
    elif facts.kind == "input":
        for input_field in node.fields or ():
            facts.input_fields[input_field.name.value] = _read_arg(input_field, names)


def _read_arg(node: InputValueDefinitionNode, names: _Names) -> ArgFacts:
    directives = node.directives or ()
    return ArgFacts(
        name=node.name.value,
        type=print_ast(node.type),
        default=print_ast(node.default_value) if node.default_value is not None else None,
        description=node.description.value if node.description else None,
        inaccessible=any(names.canonical(d) == "inaccessible" for d in directives),
        tags=tuple(str(_args(d)["name"]) for d in directives if names.canonical(d) == "tag"),
        deprecated=next((d for d in directives if d.name.value == "deprecated"), None),
    )


def _read_field(node: FieldDefinitionNode, names: _Names, parent: Any) -> FieldFacts:
    # @shareable on a type block covers the fields of that block only, as in Apollo's.
    block_shareable = any(names.canonical(d) == "shareable" for d in parent.directives or ())
    facts = FieldFacts(
        name=node.name.value,
        type=_type_text(node.type),
        description=node.description.value if node.description else None,
        arguments=tuple(_read_arg(arg, names) for arg in node.arguments or ()),
        shareable=block_shareable,
    )
    tags = []
    for directive in node.directives or ():
        canonical = names.canonical(directive)
        args = _args(directive)
        if canonical == "external":
            facts.external = True
        elif canonical == "requires":
            facts.requires = str(args["fields"])
        elif canonical == "provides":
            facts.provides = str(args["fields"])
        elif canonical == "shareable":
            facts.shareable = True
        elif canonical == "override":
            facts.override = str(args["from"])
            label = args.get("label")
            facts.override_label = str(label) if label is not None else None
        elif canonical == "inaccessible":
            facts.inaccessible = True
        elif canonical == "tag":
            tags.append(str(args["name"]))
        elif directive.name.value == "deprecated":
            facts.deprecated = directive
    facts.tags = tuple(tags)
    return facts
