"""The spec machinery a supergraph carries: ``@link``s, join/link directives and types."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.composition.printing import description, quote

INACCESSIBLE = (
    "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
    "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)
TAG = (
    "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
    "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | "
    "SCHEMA"
)
JOIN = {
    "join__enumValue": "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
    "join__graph": "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
    "join__implements": "directive @join__implements(graph: join__Graph!, interface: String!) "
    "repeatable on OBJECT | INTERFACE",
    "join__type": "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: "
    "Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) "
    "repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR",
    "join__unionMember": "directive @join__unionMember(graph: join__Graph!, member: String!) "
    "repeatable on UNION",
    "link": "directive @link(url: String, as: String, for: link__Purpose, import: "
    "[link__Import]) repeatable on SCHEMA",
}


def _join_field(with_labels: bool) -> str:
    label = ", overrideLabel: String" if with_labels else ""
    return (
        "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: "
        "join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: "
        f"Boolean{label}) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"
    )


def schema_block(roots: Sequence[str], *, labels: bool, tag: bool, inaccessible: bool) -> str:
    """The schema definition with its ``@link``s; join v0.4 only when override labels are used."""
    join = "v0.4" if labels else "v0.3"
    links = [
        '@link(url: "https://specs.apollo.dev/link/v1.0")',
        f'@link(url: "https://specs.apollo.dev/join/{join}", for: EXECUTION)',
    ]
    if tag:
        links.append('@link(url: "https://specs.apollo.dev/tag/v0.3")')
    if inaccessible:
        links.append('@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)')
    return "\n".join(
        ["schema", *(f"  {link}" for link in links), "{", *(f"  {r}" for r in roots), "}"]
    )


def directive_definitions(*, labels: bool, tag: bool, inaccessible: bool) -> dict[str, str]:
    """Directive name → definition, for every directive the supergraph uses."""
    found = {**JOIN, "join__field": _join_field(labels)}
    if tag:
        found["tag"] = TAG
    if inaccessible:
        found["inaccessible"] = INACCESSIBLE
    return found


def machinery_types(graphs: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """Type name → definition of the join/link types; ``graphs`` is (enum value, name, url)."""
    security = "`SECURITY` features provide metadata necessary to securely resolve fields."
    execution = "`EXECUTION` features provide metadata necessary for operation execution."
    purposes = [
        *description(security, "  "),
        "  SECURITY",
        *description(execution, "  ", first=False),
        "  EXECUTION",
    ]
    values = [
        f"  {value} @join__graph(name: {quote(name)}, url: {quote(url)})"
        for value, name, url in graphs
    ]
    return {
        "join__FieldSet": "scalar join__FieldSet",
        "join__Graph": "\n".join(["enum join__Graph {", *values, "}"]),
        "link__Import": "scalar link__Import",
        "link__Purpose": "\n".join(["enum link__Purpose {", *purposes, "}"]),
    }
