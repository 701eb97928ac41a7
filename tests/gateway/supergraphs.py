"""Building small supergraph SDLs inline, the way Apollo's planner tests do."""

from __future__ import annotations

from tests.gateway.classic import JOIN_DEFINITIONS


def supergraph(graphs: dict[str, str], body: str, *, extra_links: str = "") -> str:
    """A join v0.3 supergraph with ``graphs`` (ENUM -> url) and the given type definitions."""
    values = "\n".join(
        f'  {enum} @join__graph(name: "{enum.lower()}", url: "{url}")'
        for enum, url in graphs.items()
    )
    has_mutation = "type Mutation" in body
    return (
        "schema\n"
        '  @link(url: "https://specs.apollo.dev/link/v1.0")\n'
        '  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)\n'
        + extra_links
        + "{\n  query: Query\n"
        + ("  mutation: Mutation\n" if has_mutation else "")
        + "}\n"
        + JOIN_DEFINITIONS
        + "\nenum join__Graph {\n"
        + values
        + "\n}\n"
        + body
    )


def local_graphs(*names: str) -> dict[str, str]:
    return {name: f"http://127.0.0.1:1/{name.lower()}" for name in names}
