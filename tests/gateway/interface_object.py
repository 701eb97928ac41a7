"""Two subgraphs sharing an interface through @interfaceObject, in strawberry."""

from __future__ import annotations

import strawberry

from tests.gateway.classic import JOIN_DEFINITIONS

MEDIA = {
    "b1": {"kind": "Book", "title": "Dune", "author": "Herbert"},
    "m1": {"kind": "Movie", "title": "Alien", "director": "Scott"},
}
REVIEWS = {"b1": ["Vast."], "m1": ["Tense.", "Classic."]}


@strawberry.federation.interface(keys=["id"])
class Media:
    id: strawberry.ID
    title: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Media | None:
        return _media(str(id))


@strawberry.federation.type(keys=["id"])
class Book(Media):
    author: str | None


@strawberry.federation.type(keys=["id"])
class Movie(Media):
    director: str | None


def _media(media_id: str) -> Media | None:
    row = MEDIA.get(media_id)
    if row is None:
        return None
    if row["kind"] == "Book":
        return Book(id=strawberry.ID(media_id), title=row["title"], author=row["author"])
    return Movie(id=strawberry.ID(media_id), title=row["title"], director=row["director"])


@strawberry.type
class QueryA:
    @strawberry.field
    def media(self) -> list[Media]:
        return [m for m in (_media(i) for i in MEDIA) if m is not None]


a = strawberry.federation.Schema(query=QueryA, types=[Book, Movie])


@strawberry.federation.interface_object(keys=["id"], name="Media")
class MediaInB:
    id: strawberry.ID

    @strawberry.field
    def reviews(self) -> list[str]:
        return REVIEWS.get(str(self.id), [])

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> MediaInB:
        return cls(id=id)


@strawberry.type
class QueryB:
    @strawberry.field
    def top_media(self) -> list[MediaInB]:
        return [MediaInB(id=strawberry.ID(i)) for i in sorted(REVIEWS, reverse=True)]


b = strawberry.federation.Schema(query=QueryB, types=[MediaInB])

SUBGRAPHS = {"a": a, "b": b}


def supergraph_sdl(urls: dict[str, str]) -> str:
    return (
        """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{
  query: Query
}
"""
        + JOIN_DEFINITIONS
        + f"""
enum join__Graph {{
  A @join__graph(name: "a", url: "{urls["a"]}")
  B @join__graph(name: "b", url: "{urls["b"]}")
}}
"""
        + """
interface Media
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id", isInterfaceObject: true)
{
  id: ID!
  title: String! @join__field(graph: A)
  reviews: [String!]! @join__field(graph: B)
}

type Book implements Media
  @join__implements(graph: A, interface: "Media")
  @join__type(graph: A, key: "id")
{
  id: ID!
  title: String!
  author: String
  reviews: [String!]! @join__field
}

type Movie implements Media
  @join__implements(graph: A, interface: "Media")
  @join__type(graph: A, key: "id")
{
  id: ID!
  title: String!
  director: String
  reviews: [String!]! @join__field
}

type Query @join__type(graph: A) @join__type(graph: B) {
  media: [Media!]! @join__field(graph: A)
  topMedia: [Media!]! @join__field(graph: B)
}
"""
    )
