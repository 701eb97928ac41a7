"""Whole-supergraph snapshots: inline subgraph SDL in, the exact supergraph SDL out."""

from __future__ import annotations

import re
import textwrap

from graphql import build_ast_schema, parse

from gateway.composition import SubgraphSource, compose

FED = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@tag", "@interfaceObject"])\n'

HEADER = """schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{
  query: Query
}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
"""

LINK_TYPES = '''scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}'''


def sub(name: str, sdl: str) -> SubgraphSource:
    return SubgraphSource(name, f"http://{name}:4000/graphql", FED + textwrap.dedent(sdl))


def graphs(*names: str) -> str:
    values = "\n".join(
        f'  {n.upper()} @join__graph(name: "{n}", url: "http://{n}:4000/graphql")' for n in names
    )
    return f"scalar join__FieldSet\n\nenum join__Graph {{\n{values}\n}}"


def composed(*sources: SubgraphSource) -> str:
    sdl = compose(list(sources))
    build_ast_schema(parse(sdl))  # every snapshot is also a valid schema
    return sdl


MACHINERY = ("schema", "directive ", "scalar join__", "enum join__", "scalar link__", "enum link__")


def body(sdl: str) -> str:
    """The supergraph without the spec machinery: the subgraphs' own types, in order."""
    blocks = re.split(r"\n\n(?=\S)", sdl.strip())
    return "\n\n".join(b for b in blocks if not b.startswith(MACHINERY))


def test_apollos_generates_a_valid_supergraph_example_is_reproduced_exactly() -> None:
    # composition-js compose.test.ts, 'generates a valid supergraph'
    sdl = composed(
        SubgraphSource(
            "Subgraph2",
            "https://Subgraph2",
            FED + 'type T @key(fields: "k") { k: ID a: Int b: String }\nenum E { V1 V2 }',
        ),
        SubgraphSource(
            "Subgraph1",
            "https://Subgraph1",
            FED
            + 'type Query { t: T }\ntype T @key(fields: "k") { k: ID }\ntype S { x: Int }\nunion U = S | T',
        ),
    )
    assert (
        sdl
        == HEADER
        + """
enum E
  @join__type(graph: SUBGRAPH2)
{
  V1 @join__enumValue(graph: SUBGRAPH2)
  V2 @join__enumValue(graph: SUBGRAPH2)
}

scalar join__FieldSet

enum join__Graph {
  SUBGRAPH1 @join__graph(name: "Subgraph1", url: "https://Subgraph1")
  SUBGRAPH2 @join__graph(name: "Subgraph2", url: "https://Subgraph2")
}

"""
        + LINK_TYPES
        + """

type Query
  @join__type(graph: SUBGRAPH1)
  @join__type(graph: SUBGRAPH2)
{
  t: T @join__field(graph: SUBGRAPH1)
}

type S
  @join__type(graph: SUBGRAPH1)
{
  x: Int
}

type T
  @join__type(graph: SUBGRAPH1, key: "k")
  @join__type(graph: SUBGRAPH2, key: "k")
{
  k: ID
  a: Int @join__field(graph: SUBGRAPH2)
  b: String @join__field(graph: SUBGRAPH2)
}

union U
  @join__type(graph: SUBGRAPH1)
  @join__unionMember(graph: SUBGRAPH1, member: "S")
  @join__unionMember(graph: SUBGRAPH1, member: "T")
 = S | T
"""
    )


def test_idpoor_extends_the_identity_person() -> None:
    sdl = composed(
        sub(
            "identity",
            '''
            """A registrant."""
            type Person @key(fields: "spid") {
              spid: String!
              familyName: String!
            }
            type Query { person(spid: String!): Person }
        ''',
        ),
        sub(
            "idpoor",
            """
            extend type Person @key(fields: "spid") {
              spid: String!
              povertyLevel: Int
            }
        """,
        ),
    )
    assert graphs("identity", "idpoor") in sdl
    assert (
        body(sdl)
        == '''"""A registrant."""
type Person
  @join__type(graph: IDENTITY, key: "spid")
  @join__type(graph: IDPOOR, key: "spid", extension: true)
{
  spid: String!
  familyName: String! @join__field(graph: IDENTITY)
  povertyLevel: Int @join__field(graph: IDPOOR)
}

type Query
  @join__type(graph: IDENTITY)
  @join__type(graph: IDPOOR)
{
  person(spid: String!): Person @join__field(graph: IDENTITY)
}'''
    )


def test_requires_external_provides_and_shareable() -> None:
    sdl = composed(
        sub(
            "a",
            """
            type P @key(fields: "id") { id: ID! price: Int weight: Int @shareable }
            type U @key(fields: "id") { id: ID! name: String @shareable }
            type Query { p: P u: U }
        """,
        ),
        sub(
            "b",
            """
            type P @key(fields: "id") { id: ID! price: Int @external weight: Int @shareable ship: Int @requires(fields: "price") }
            type U @key(fields: "id", resolvable: false) { id: ID! name: String @external }
            type R { u: U @provides(fields: "name") }
            type Query { r: R }
        """,
        ),
    )
    assert (
        body(sdl)
        == """type P
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id")
{
  id: ID!
  price: Int @join__field(graph: A) @join__field(graph: B, external: true)
  weight: Int
  ship: Int @join__field(graph: B, requires: "price")
}

type Query
  @join__type(graph: A)
  @join__type(graph: B)
{
  p: P @join__field(graph: A)
  u: U @join__field(graph: A)
  r: R @join__field(graph: B)
}

type R
  @join__type(graph: B)
{
  u: U @join__field(graph: B, provides: "name")
}

type U
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id", resolvable: false)
{
  id: ID!
  name: String @join__field(graph: A) @join__field(graph: B, external: true)
}"""
    )


def test_override_moves_a_field_and_a_still_needed_one_is_marked_used() -> None:
    sdl = composed(
        sub("old", 'type T @key(fields: "k") { k: ID a: Int x: Int }\ntype Query { t: T }'),
        sub(
            "new",
            'type T @key(fields: "k") { k: ID @override(from: "old") a: Int @override(from: "old") }',
        ),
    )
    assert (
        body(sdl).split("type T\n")[1]
        == """  @join__type(graph: NEW, key: "k")
  @join__type(graph: OLD, key: "k")
{
  k: ID @join__field(graph: NEW, override: "old") @join__field(graph: OLD, usedOverridden: true)
  a: Int @join__field(graph: NEW, override: "old")
  x: Int @join__field(graph: OLD)
}"""
    )


def test_interface_union_enum_and_differing_nullability() -> None:
    sdl = composed(
        sub(
            "a",
            """
            interface Node { id: ID! }
            type Book implements Node @key(fields: "id") { id: ID! title: String! @shareable }
            union Item = Book
            enum Color { RED GREEN }
            type Query { items: [Item] node: Node color: Color }
        """,
        ),
        sub(
            "b",
            """
            type Book @key(fields: "id") { id: ID! title: String @shareable }
            type Pen { ink: Color }
            union Item = Pen
            enum Color { RED BLUE }
        """,
        ),
    )
    assert (
        body(sdl)
        == """type Book implements Node
  @join__implements(graph: A, interface: "Node")
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id")
{
  id: ID!
  title: String @join__field(graph: A, type: "String!") @join__field(graph: B, type: "String")
}

enum Color
  @join__type(graph: A)
  @join__type(graph: B)
{
  RED @join__enumValue(graph: A) @join__enumValue(graph: B)
  GREEN @join__enumValue(graph: A)
  BLUE @join__enumValue(graph: B)
}

union Item
  @join__type(graph: A)
  @join__type(graph: B)
  @join__unionMember(graph: A, member: "Book")
  @join__unionMember(graph: B, member: "Pen")
 = Book | Pen

interface Node
  @join__type(graph: A)
{
  id: ID!
}

type Pen
  @join__type(graph: B)
{
  ink: Color
}

type Query
  @join__type(graph: A)
  @join__type(graph: B)
{
  items: [Item] @join__field(graph: A)
  node: Node @join__field(graph: A)
  color: Color @join__field(graph: A)
}"""
    )


def test_inaccessible_and_tag_bring_their_specs() -> None:
    sdl = composed(
        sub(
            "a",
            """
            type Person @key(fields: "spid") @tag(name: "registry") {
              spid: String!
              khmerId: String @inaccessible
            }
            input Filter { village: String! limit: Int @inaccessible }
            type Query { people(filter: Filter): [Person!]! }
        """,
        ),
    )
    assert sdl.startswith("""schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/tag/v0.3")
  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)
{""")
    assert "\ndirective @inaccessible on FIELD_DEFINITION" in sdl
    assert "\ndirective @tag(name: String!) repeatable on" in sdl
    assert (
        body(sdl)
        == """input Filter
  @join__type(graph: A)
{
  village: String!
  limit: Int @inaccessible
}

type Person
  @join__type(graph: A, key: "spid")
  @tag(name: "registry")
{
  spid: String!
  khmerId: String @inaccessible
}

type Query
  @join__type(graph: A)
{
  people(filter: Filter): [Person!]!
}"""
    )


def test_interface_object_reaches_implementations() -> None:
    sdl = composed(
        sub(
            "a",
            """
            interface Media @key(fields: "id") { id: ID! }
            type Book implements Media @key(fields: "id") { id: ID! }
            type Query { media: [Media] }
        """,
        ),
        sub("b", 'type Media @key(fields: "id") @interfaceObject { id: ID! reviews: [String!]! }'),
    )
    assert (
        body(sdl).split("\n\ntype Query")[0]
        == """type Book implements Media
  @join__implements(graph: A, interface: "Media")
  @join__type(graph: A, key: "id")
{
  id: ID!
  reviews: [String!]! @join__field
}

interface Media
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id", isInterfaceObject: true)
{
  id: ID!
  reviews: [String!]! @join__field(graph: B)
}"""
    )


def test_namespaced_federation_directives_are_understood() -> None:
    sdl = compose(
        [
            SubgraphSource(
                "a",
                "http://a",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [{name: "@key", as: "@id"}])\ntype T @id(fields: "k") { k: ID v: Int @federation__shareable }\ntype Query { t: T }',
            ),
            SubgraphSource(
                "b",
                "http://b",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3")\ntype T @federation__key(fields: "k") { k: ID v: Int @federation__shareable }',
            ),
        ]
    )
    assert '@join__type(graph: B, key: "k")' in sdl
    assert "  v: Int\n" in sdl


def test_a_parse_error_names_the_subgraph_line_and_column() -> None:
    import pytest

    from gateway.composition import CompositionError

    with pytest.raises(CompositionError) as caught:
        compose([SubgraphSource("idpoor", "http://x", "type Query {\n  a: Int\n  b: \n}")])
    issue = caught.value.issues[0]
    assert issue.code == "INVALID_GRAPHQL"
    assert issue.locations == ("idpoor:4:1",)
    assert "'idpoor'" in issue.message
