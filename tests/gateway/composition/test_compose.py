"""Composition: subgraph SDL in, supergraph SDL out, and every rejection explained."""

from __future__ import annotations

import textwrap

import pytest
from graphql import lexicographic_sort_schema, print_schema

from gateway import Gateway
from gateway.composition import CompositionError, SubgraphSource, compose
from tests.gateway import classic, interface_object
from tests.gateway.classic import supergraph_sdl


def sdl_of(schema) -> str:  # type: ignore[no-untyped-def]
    return schema.execute_sync("{ _service { sdl } }").data["_service"]["sdl"]


def fed(
    body: str,
    imports: str = '"@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@tag"',
) -> str:
    return (
        f'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [{imports}])\n'
        + textwrap.dedent(body)
    )


def src(name: str, body: str) -> SubgraphSource:
    return SubgraphSource(name, f"http://127.0.0.1:1/{name}", fed(body))


def problems(*sources: SubgraphSource) -> list[str]:
    with pytest.raises(CompositionError) as caught:
        compose(list(sources))
    return [issue.code for issue in caught.value.issues]


def test_the_classic_subgraphs_compose_to_the_same_api_as_apollos_supergraph() -> None:
    urls = {n: f"http://127.0.0.1:1/{n}" for n in classic.SUBGRAPHS}
    composed = compose(
        [SubgraphSource(n, urls[n], sdl_of(s)) for n, s in classic.SUBGRAPHS.items()]
    )
    ours = Gateway.from_sdl(composed)
    reference = Gateway.from_sdl(supergraph_sdl(urls))
    assert print_schema(lexicographic_sort_schema(ours.api_schema)) == print_schema(
        lexicographic_sort_schema(reference.api_schema)
    )
    query = "{ topProducts { name shippingEstimate reviews { author { username name } } } }"
    from gateway import print_plan

    assert print_plan(ours.prepare(query, None).plan) == print_plan(
        reference.prepare(query, None).plan
    )


def test_an_entity_extended_by_a_second_subgraph() -> None:
    composed = compose(
        [
            src(
                "identity",
                'type Person @key(fields: "spid") { spid: String! familyName: String! }\ntype Query { person(spid: String!): Person }',
            ),
            src("idpoor", 'type Person @key(fields: "spid") { spid: String! idpoor: Int }'),
        ]
    )
    assert (
        textwrap.dedent(
            """
        type Person
          @join__type(graph: IDENTITY, key: "spid")
          @join__type(graph: IDPOOR, key: "spid")
        {
          spid: String!
          familyName: String! @join__field(graph: IDENTITY)
          idpoor: Int @join__field(graph: IDPOOR)
        }
        """
        ).strip()
        in composed
    )
    assert 'IDENTITY @join__graph(name: "identity", url: "http://127.0.0.1:1/identity")' in composed
    Gateway.from_sdl(composed)


def test_requires_provides_external_and_shareable_reach_the_supergraph() -> None:
    composed = compose(
        [
            src(
                "a",
                'type P @key(fields: "id") { id: ID! price: Int weight: Int @shareable }\ntype Query { p: P u: U }\ntype U @key(fields: "id") { id: ID! name: String @shareable }',
            ),
            src(
                "b",
                'type P @key(fields: "id") { id: ID! price: Int @external weight: Int @shareable ship: Int @requires(fields: "price") }\ntype R { u: U @provides(fields: "name") }\ntype U @key(fields: "id") { id: ID! name: String @external }\ntype Query { r: R }',
            ),
        ]
    )
    assert 'ship: Int @join__field(graph: B, requires: "price")' in composed
    assert "price: Int @join__field(graph: A) @join__field(graph: B, external: true)" in composed
    assert 'u: U @join__field(graph: B, provides: "name")' in composed
    assert "  weight: Int\n" in composed  # in every subgraph of P, shareable: no @join__field
    Gateway.from_sdl(composed)


def test_override_moves_a_field_and_marks_a_key_field_as_used() -> None:
    composed = compose(
        [
            src("old", 'type P @key(fields: "id") { id: ID! level: Int }\ntype Query { p: P }'),
            src("new", 'type P @key(fields: "id") { id: ID! level: Int @override(from: "old") }'),
        ]
    )
    assert 'level: Int @join__field(graph: NEW, override: "old")' in composed
    assert "graph: OLD" not in composed.split("level:")[1].split("\n")[0]


def test_interfaces_unions_enums_and_inaccessible() -> None:
    composed = compose(
        [
            src(
                "a",
                'interface Node { id: ID! }\ntype Book implements Node @key(fields: "id") { id: ID! secret: String @inaccessible }\nunion Item = Book\nenum Color { RED GREEN }\ntype Query { items: [Item] nodes: [Node] color: Color }',
            ),
            src(
                "b",
                'type Book @key(fields: "id") { id: ID! stock: Int }\nenum Color { RED BLUE }\ntype Query { colors: [Color] @shareable }',
            ),
        ]
    )
    assert '@join__implements(graph: A, interface: "Node")' in composed
    assert '@join__unionMember(graph: A, member: "Book")' in composed
    assert "RED @join__enumValue(graph: A) @join__enumValue(graph: B)" in composed
    assert "BLUE @join__enumValue(graph: B)" in composed
    assert "secret: String @join__field(graph: A) @inaccessible" in composed
    assert "https://specs.apollo.dev/inaccessible/v0.2" in composed
    api = print_schema(Gateway.from_sdl(composed).api_schema)
    assert "secret" not in api


def test_interface_object_fields_reach_every_implementation() -> None:
    composed = compose(
        [
            SubgraphSource(n, f"http://127.0.0.1:1/{n}", sdl_of(s))
            for n, s in interface_object.SUBGRAPHS.items()
        ]
    )
    assert '@join__type(graph: B, key: "id", isInterfaceObject: true)' in composed
    assert "  reviews: [String!]! @join__field\n" in composed


def test_strawberry_subgraphs_compose() -> None:
    from subgraphs.identity import schema as identity
    from subgraphs.idpoor import schema as idpoor

    composed = compose(
        [
            SubgraphSource("identity", "http://127.0.0.1:1/identity", sdl_of(identity)),
            SubgraphSource("idpoor", "http://127.0.0.1:1/idpoor", sdl_of(idpoor)),
        ]
    )
    api = print_schema(Gateway.from_sdl(composed).api_schema)
    assert "idpoor: IdPoorStatus" in api
    assert "_entities" not in api and "_service" not in api


def test_the_output_is_deterministic() -> None:
    sources = [SubgraphSource(n, "http://x/" + n, sdl_of(s)) for n, s in classic.SUBGRAPHS.items()]
    assert compose(sources) == compose(sources)
    # Graphs are listed by name whatever order the subgraphs come in.
    graphs = compose(list(reversed(sources))).split("enum join__Graph {")[1].split("}")[0]
    assert graphs == compose(sources).split("enum join__Graph {")[1].split("}")[0]


def test_rejections_name_the_problem() -> None:
    assert problems() == ["NO_SUBGRAPHS"]
    assert problems(src("a", "type Query { x: Int }"), src("a", "type Query { y: Int }")) == [
        "DUPLICATE_SUBGRAPH_NAME"
    ]
    assert problems(SubgraphSource("a", "http://a", "type Query {")) == ["INVALID_GRAPHQL"]
    assert problems(src("a", "type Query { x: Int }"), src("b", "type Query { x: Int }")) == [
        "INVALID_FIELD_SHARING"
    ]
    assert problems(
        src("a", 'type T @key(fields: "id") { id: ID! n: Int @shareable }\ntype Query { t: T }'),
        src("b", 'type T @key(fields: "id") { id: ID! n: String @shareable }'),
    ) == ["FIELD_TYPE_MISMATCH"]
    assert problems(src("a", 'type T @key(fields: "nope") { id: ID! }\ntype Query { t: T }')) == [
        "KEY_INVALID_FIELDS"
    ]
    assert problems(
        src(
            "a",
            'type T @key(fields: "id") { id: ID! p: Int x: Int @requires(fields: "p") }\ntype Query { t: T }',
        )
    ) == ["REQUIRES_FIELDS_MISSING_EXTERNAL"]
    assert problems(
        src("a", "type T { id: ID! }\ntype Query { t: T }"), src("b", "interface T { id: ID! }")
    ) == ["TYPE_KIND_MISMATCH"]


def test_a_rejection_message_says_where_and_what_to_do() -> None:
    with pytest.raises(CompositionError) as caught:
        compose([src("a", "type Query { x: Int }"), src("b", "type Query { x: Int }")])
    issue = caught.value.issues[0]
    assert "Query.x" in issue.message
    assert "@shareable" in issue.message
    assert "a:Query.x" in issue.locations


def test_a_provided_field_must_be_shareable_where_it_is_owned() -> None:
    owner = 'type U @key(fields: "id") { id: ID! name: String }\ntype Query { u: U }'
    provider = 'type U @key(fields: "id") { id: ID! name: String @external }\ntype R { u: U @provides(fields: "name") }\ntype Query { r: R @shareable }'
    assert problems(src("a", owner), src("b", provider)) == ["INVALID_FIELD_SHARING"]
    shared = owner.replace("name: String }", "name: String @shareable }")
    Gateway.from_sdl(compose([src("a", shared), src("b", provider)]))
