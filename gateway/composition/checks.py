"""Composition rules that reject subgraphs: kinds, keys, @requires, and field sharing."""

from __future__ import annotations

from gateway.composition.errors import CompositionIssue
from gateway.composition.fieldset import all_field_names, top_level_fields
from gateway.composition.subgraph import FieldFacts, SubgraphFacts, TypeFacts
from gateway.composition.typeref import base_name

Defs = list[tuple[SubgraphFacts, TypeFacts]]
Entries = list[tuple[SubgraphFacts, TypeFacts, FieldFacts]]


def merged_kind(defs: Defs) -> str:
    """The supergraph kind of a type; an @interfaceObject stands for an interface."""
    return "interface" if any(t.interface_object for _, t in defs) else defs[0][1].kind


def kind_mismatch(name: str, defs: Defs) -> list[CompositionIssue]:
    kinds = {"interface" if t.interface_object else t.kind for _, t in defs}
    if len(kinds) < 2:
        return []
    listing = ", ".join(f"{s.name!r}: {t.kind}" for s, t in defs)
    return [
        CompositionIssue(
            "TYPE_KIND_MISMATCH",
            f"type {name} is not the same kind in every subgraph ({listing}); make it one kind "
            "everywhere (an @interfaceObject stands in for an interface).",
            tuple(f"{s.name}:{name}" for s, _ in defs),
        )
    ]


def key_and_requires(name: str, defs: Defs) -> list[CompositionIssue]:
    issues = []
    for subgraph, facts in defs:
        for key in facts.keys:
            for field_name in top_level_fields(key.fields):
                if field_name not in facts.fields:
                    issues.append(
                        CompositionIssue(
                            "KEY_INVALID_FIELDS",
                            f'@key(fields: "{key.fields}") on {name} in subgraph '
                            f"{subgraph.name!r} selects {field_name}, which {name} does not "
                            f"have there; add {field_name} to {name} in {subgraph.name!r} or "
                            "fix the key.",
                            (f"{subgraph.name}:{name}",),
                        )
                    )
        for field_name, field in facts.fields.items():
            for required in top_level_fields(field.requires or ""):
                target = facts.fields.get(required)
                if target is None or not target.external:
                    issues.append(
                        CompositionIssue(
                            "REQUIRES_FIELDS_MISSING_EXTERNAL",
                            f"{name}.{field_name} in subgraph {subgraph.name!r} @requires "
                            f"{required}, which is not declared @external there; add "
                            f"`{required}: <type> @external` to {name} in {subgraph.name!r}.",
                            (f"{subgraph.name}:{name}.{field_name}",),
                        )
                    )
    return issues


def provided_fields(subgraph: SubgraphFacts) -> set[tuple[str, str]]:
    """(type, field) pairs this subgraph resolves through a @provides on a field returning type."""
    return {
        (base_name(f.type), provided)
        for t in subgraph.types.values()
        for f in t.fields.values()
        if f.provides
        for provided in top_level_fields(f.provides)
    }


def field_sharing(
    type_name: str, field_name: str, entries: Entries, provided: dict[str, set[tuple[str, str]]]
) -> list[CompositionIssue]:
    """A field resolved by several subgraphs must be shareable in each of them."""
    overridden = {f.override for _, _, f in entries if f.override and not f.override_label}
    resolving = [
        (s, t, f)
        for s, t, f in entries
        if (not f.external or (type_name, field_name) in provided[s.name])
        and s.name not in overridden
        and not t.interface_object
    ]
    if len(resolving) < 2:
        return []
    unshared = [
        s.name
        for s, t, f in resolving
        if not f.shareable
        and not f.external
        and not any(field_name in all_field_names(k.fields) for k in t.keys)
    ]
    if not unshared:
        return []
    return [
        CompositionIssue(
            "INVALID_FIELD_SHARING",
            f"{type_name}.{field_name} is resolved by subgraphs "
            f"{', '.join(repr(s.name) for s, _, _ in resolving)} but is not @shareable in "
            f"{', '.join(repr(n) for n in unshared)}; mark it @shareable in each, or "
            "@override it in the subgraph that should own it.",
            tuple(f"{s.name}:{type_name}.{field_name}" for s, _, _ in resolving),
        )
    ]


def override_from_self(type_name: str, entries: Entries) -> list[CompositionIssue]:
    return [
        CompositionIssue(
            "OVERRIDE_FROM_SELF_ERROR",
            f"{type_name}.{f.name} in subgraph {s.name!r} overrides itself; @override(from:) "
            "must name the subgraph the field moves away from.",
            (f"{s.name}:{type_name}.{f.name}",),
        )
        for s, _, f in entries
        if f.override == s.name
    ]


def used_in_subgraph(type_name: str, field_name: str, subgraph: SubgraphFacts) -> bool:
    """Whether a subgraph still needs a field it gave away: key, @requires, @provides, interface."""
    facts = subgraph.types[type_name]
    sets = [k.fields for k in facts.keys]
    sets += [f.requires for t in subgraph.types.values() for f in t.fields.values() if f.requires]
    sets += [f.provides for t in subgraph.types.values() for f in t.fields.values() if f.provides]
    if any(field_name in all_field_names(s) for s in sets):
        return True
    return any(
        field_name in subgraph.types[i].fields for i in facts.interfaces if i in subgraph.types
    )
