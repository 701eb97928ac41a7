"""Composing Federation v2 subgraphs into a supergraph SDL (join v0.3, v0.4 with labels)."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.composition import checks
from gateway.composition.checks import Defs
from gateway.composition.definitions import directive_definitions, machinery_types, schema_block
from gateway.composition.errors import CompositionError, CompositionIssue
from gateway.composition.merge import TypeMerger
from gateway.composition.printing import sort_key, sort_names
from gateway.composition.source import SubgraphSource, graph_enum_name
from gateway.composition.subgraph import DEFAULT_ROOTS, SubgraphFacts, read_subgraph

ROOTS = ("query", "mutation", "subscription")


def compose(subgraphs: Sequence[SubgraphSource]) -> str:
    """The supergraph SDL of ``subgraphs``; :class:`CompositionError` lists every problem."""
    if not subgraphs:
        raise CompositionError(
            [CompositionIssue("NO_SUBGRAPHS", "give at least one subgraph to compose.")]
        )
    issues = _duplicate_names(subgraphs)
    facts: list[SubgraphFacts] = []
    # Apollo merges subgraphs in name order: it decides graph order and field order.
    for source in sorted(subgraphs, key=lambda s: s.name):
        read, problems = read_subgraph(source.name, source.url, source.sdl)
        issues.extend(problems)
        if read is not None:
            facts.append(read)
    if issues:
        raise CompositionError(issues)

    merged: dict[str, Defs] = {}
    for subgraph in facts:
        for name, type_facts in subgraph.types.items():
            merged.setdefault(name, []).append((subgraph, type_facts))
    for name, defs in merged.items():
        issues.extend(checks.kind_mismatch(name, defs))
    if issues:
        raise CompositionError(issues)
    for name, defs in merged.items():
        issues.extend(checks.key_and_requires(name, defs))
    if not any(t.fields for _, t in merged["Query"]):
        issues.append(
            CompositionIssue(
                "NO_QUERIES",
                "no subgraph has a field on Query; a supergraph needs at least one query.",
            )
        )

    merger = TypeMerger(facts, merged)
    blocks = {name: merger.print_type(name) for name in merged}
    issues.extend(merger.usage.issues)
    if issues:
        raise CompositionError(issues)

    usage = merger.usage
    roots = [f"{op}: {DEFAULT_ROOTS[op]}" for op in ROOTS if DEFAULT_ROOTS[op] in merged]
    flags = {"labels": usage.labels, "tag": usage.tag, "inaccessible": usage.inaccessible}
    directives = directive_definitions(**flags)
    graphs = [(graph_enum_name(s.name), s.name, s.url) for s in facts]
    types = {**blocks, **machinery_types(graphs)}
    parts = [
        schema_block(roots, **flags),
        *(directives[name] for name in sorted(directives, key=sort_key)),
        *(types[name] for name in sort_names(types)),
    ]
    return "\n\n".join(parts) + "\n"


def _duplicate_names(subgraphs: Sequence[SubgraphSource]) -> list[CompositionIssue]:
    issues = []
    seen: dict[str, str] = {}
    for source in subgraphs:
        value = graph_enum_name(source.name)
        if value in seen:
            issues.append(
                CompositionIssue(
                    "DUPLICATE_SUBGRAPH_NAME",
                    f"subgraphs {seen[value]!r} and {source.name!r} both become graph {value} "
                    "in the supergraph; give each subgraph a distinct name.",
                    (source.name,),
                )
            )
        seen[value] = source.name
    return issues
