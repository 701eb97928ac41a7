"""Schemas for policy tests: Tonle's own supergraph composed in-process, and a tiny one."""

from __future__ import annotations

from functools import cache
from importlib import resources

from graphql import GraphQLSchema, build_schema

from gateway import Gateway
from gateway.composition import SubgraphSource, compose
from policies.document import parse_policy
from policies.model import PolicyDocument


@cache
def tonle_supergraph() -> str:
    """Tonle's supergraph from the subgraphs' own SDL (nothing served)."""
    from subgraphs import coverage, idpoor, moi, nssf, pca
    from subgraphs.identity.schema import schema as identity

    sources = [SubgraphSource("identity", "http://127.0.0.1:1/graphql", identity.as_str())]
    sources.append(
        SubgraphSource("coverage", "http://127.0.0.1:1/graphql", coverage.schema.as_str())
    )
    for operator in (idpoor.IDPOOR, nssf.NSSF, moi.MOI, pca.PCA):
        sources.append(
            SubgraphSource(
                operator.operator, "http://127.0.0.1:1/graphql", operator.schema.as_str()
            )
        )
    return compose(sources)


@cache
def tonle_gateway() -> Gateway:
    return Gateway.from_sdl(tonle_supergraph())


def demo_policy() -> PolicyDocument:
    text = resources.files("tonle").joinpath("demo-policy.yaml").read_text("utf-8")
    return parse_policy(text, "demo-policy.yaml")


TINY_SDL = """
type Query {
  person(spid: String!): Person
  people(area: String, first: Int = 10): [Person!]!
  byKhmerId(khmerId: String!): Person
}
type Mutation { register(input: NewPerson!): Person! }
input NewPerson { name: String! operator: String note: String }
type Person {
  spid: String!
  khmerId: String
  name: String!
  birthDate: Date!
  village: String!
  phone: String
  card: Card
}
type Card { number: String! level: Int! }
scalar Date
"""


@cache
def tiny_schema() -> GraphQLSchema:
    return build_schema(TINY_SDL)
