"""Loading supergraphs: what is accepted, and how a malformed one is refused."""

from __future__ import annotations

import pytest
from graphql import print_schema

from gateway import Gateway, SupergraphError, load_supergraph
from tests.gateway.classic import JOIN_DEFINITIONS
from tests.gateway.supergraphs import local_graphs, supergraph

SIMPLE = supergraph(local_graphs("A"), "type Query @join__type(graph: A) { a: Int }")


def test_a_subgraph_sdl_is_not_a_supergraph() -> None:
    with pytest.raises(SupergraphError, match="no @link directives"):
        load_supergraph("type Query { a: Int }")


def test_a_parse_error_names_line_and_column() -> None:
    with pytest.raises(SupergraphError, match=r"line 3, column 1"):
        load_supergraph('schema\n  @link(url: "https://specs.apollo.dev/link/v1.0")\n}')


def test_a_missing_join_link_is_refused() -> None:
    sdl = (
        'schema @link(url: "https://specs.apollo.dev/link/v1.0") { query: Query }\n'
        + JOIN_DEFINITIONS
        + "type Query { a: Int }"
    )
    with pytest.raises(SupergraphError, match="does not @link the join spec"):
        load_supergraph(sdl)


def test_an_unknown_join_version_is_refused() -> None:
    with pytest.raises(SupergraphError, match=r"join spec v0\.9 is not supported"):
        load_supergraph(SIMPLE.replace("join/v0.3", "join/v0.9"))


def test_a_graph_that_is_not_in_the_graph_enum_is_named() -> None:
    sdl = SIMPLE.replace(
        "type Query @join__type(graph: A)", "type Query @join__type(graph: A) @join__type(graph: B)"
    )
    with pytest.raises(SupergraphError, match=r"graph 'B', which is not in join__Graph \(line"):
        load_supergraph(sdl)


def test_a_subgraph_without_a_url_is_refused() -> None:
    with pytest.raises(SupergraphError, match="routing url"):
        load_supergraph(SIMPLE.replace('url: "http://127.0.0.1:1/a"', 'url: ""'))


def test_a_malformed_key_is_refused_with_its_place() -> None:
    sdl = supergraph(
        local_graphs("A"),
        'type T @join__type(graph: A, key: "id {") { id: ID! }\ntype Query @join__type(graph: A) { t: T }',
    )
    with pytest.raises(SupergraphError, match=r"@key on T.*does not parse.*line"):
        load_supergraph(sdl)


def test_join_v05_additions_are_accepted() -> None:
    sdl = supergraph(
        local_graphs("A", "B"),
        """
directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION
scalar join__DirectiveArguments
type T @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") @join__directive(graphs: [A], name: "cacheControl", args: {maxAge: 5}) {
  id: ID!
  label: String @join__field(graph: A, overrideLabel: "percent(0)") @join__field(graph: B, override: "a", overrideLabel: "percent(0)")
}
type Query @join__type(graph: A) @join__type(graph: B) { t: T @join__field(graph: A) }
""",
    ).replace("join/v0.3", "join/v0.5")
    gateway = Gateway.from_sdl(sdl)
    printed = print_schema(gateway.api_schema)
    assert "join__directive" not in printed and "label: String" in printed


def test_inaccessible_elements_are_absent_from_the_api_schema() -> None:
    sdl = supergraph(
        local_graphs("A"),
        """
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
enum Level @join__type(graph: A) { ONE TWO @inaccessible }
type Hidden @join__type(graph: A) @inaccessible { x: Int }
input Filter @join__type(graph: A) { level: Level secret: String @inaccessible }
type Query @join__type(graph: A) {
  a(filter: Filter, debug: Boolean @inaccessible): Int
  level: Level
  hidden: Hidden @inaccessible
  secret: String @inaccessible
}
""",
        extra_links='  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)\n',
    )
    printed = print_schema(Gateway.from_sdl(sdl).api_schema)
    for gone in ("Hidden", "TWO", "secret", "debug", "@inaccessible", "hidden"):
        assert gone not in printed
    assert "ONE" in printed and "a(filter: Filter): Int" in printed
