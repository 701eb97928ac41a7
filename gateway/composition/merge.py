"""Merging the subgraphs' definitions of one type into its supergraph definition."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from graphql import DirectiveNode

from gateway.composition import checks
from gateway.composition.checks import Defs, Entries
from gateway.composition.errors import CompositionIssue
from gateway.composition.printing import arguments, block, description, marks, quote
from gateway.composition.source import graph_enum_name
from gateway.composition.subgraph import ArgFacts, SubgraphFacts
from gateway.composition.typeref import base_name, merge_types

T = TypeVar("T")


@dataclass
class Usage:
    """What the printed supergraph turned out to need."""

    inaccessible: bool = False
    tag: bool = False
    labels: bool = False
    issues: list[CompositionIssue] = field(default_factory=list)


class TypeMerger:
    """Prints each supergraph type from the definitions of every subgraph that has it."""

    def __init__(self, subgraphs: list[SubgraphFacts], merged: dict[str, Defs]) -> None:
        self.subgraphs = subgraphs
        self.merged = merged
        self.graph = {s.name: graph_value for s, graph_value in _graph_values(subgraphs)}
        self.usage = Usage()
        self.provided = {s.name: checks.provided_fields(s) for s in subgraphs}
        self.implementations: dict[str, set[str]] = {}
        for name, defs in merged.items():
            for _, facts in defs:
                for interface in facts.interfaces:
                    self.implementations.setdefault(interface, set()).add(name)
        self.input_enums, self.output_enums = self._enum_usage()

    def issue(self, code: str, message: str, *where: str) -> None:
        self.usage.issues.append(CompositionIssue(code, message, tuple(where)))

    def print_type(self, name: str) -> str:
        defs = self.merged[name]
        kind = checks.merged_kind(defs)
        if kind in ("object", "interface"):
            return self._object(name, kind, defs)
        if kind == "union":
            return self._union(name, defs)
        if kind == "enum":
            return self._enum(name, defs)
        if kind == "input":
            return self._input(name, defs)
        return self._scalar(name, defs)

    # -- shared pieces ---------------------------------------------------------------------

    def _marks(
        self, inaccessible: bool, tags: set[str], deprecated: DirectiveNode | None = None
    ) -> list[str]:
        self.usage.inaccessible |= inaccessible
        self.usage.tag |= bool(tags)
        return marks(inaccessible, tags, deprecated)

    def _type_marks(self, defs: Defs) -> list[str]:
        return self._marks(
            any(t.inaccessible for _, t in defs), {g for _, t in defs for g in t.tags}
        )

    def _join_types(self, defs: Defs) -> list[str]:
        lines = []
        for subgraph, facts in defs:
            graph = f"graph: {self.graph[subgraph.name]}"
            interface_object = ", isInterfaceObject: true" if facts.interface_object else ""
            if not facts.keys:
                lines.append(f"@join__type({graph}{interface_object})")
            for key in facts.keys:
                text = f"{graph}, key: {quote(key.fields)}"
                if key.extension or facts.extends:
                    text += ", extension: true"
                if key.resolvable is not None:
                    text += f", resolvable: {str(key.resolvable).lower()}"
                lines.append(f"@join__type({text}{interface_object})")
        return lines

    def _is_subtype(self, general: str, specific: str) -> bool:
        if specific in self.implementations.get(general, set()):
            return True
        defs = self.merged.get(general, [])
        return any(specific in t.members for _, t in defs)

    # -- objects and interfaces ------------------------------------------------------------

    def _object(self, name: str, kind: str, defs: Defs) -> str:
        interfaces: list[str] = []
        for _, facts in defs:
            interfaces.extend(i for i in facts.interfaces if i not in interfaces)
        head = f"{'type' if kind == 'object' else 'interface'} {name}"
        if interfaces:
            head += " implements " + " & ".join(interfaces)
        directives = [
            f"@join__implements(graph: {self.graph[s.name]}, interface: {quote(i)})"
            for s, t in defs
            for i in t.interfaces
        ]
        directives += self._join_types(defs)
        directives += self._type_marks(defs)
        order: list[str] = []
        for _, facts in defs:
            order.extend(f for f in facts.fields if f not in order)
        body: list[str] = []
        for field_name in order:
            entries = [(s, t, t.fields[field_name]) for s, t in defs if field_name in t.fields]
            if kind == "object" or any(t.interface_object for _, t in defs):
                self.usage.issues.extend(
                    checks.field_sharing(name, field_name, entries, self.provided)
                )
            self.usage.issues.extend(checks.override_from_self(name, entries))
            body.extend(self._field(name, entries, defs, first=not body))
        if kind == "object":
            body.extend(self._interface_object_fields(interfaces, order, first=not body))
        return "\n".join(
            [*description(_first(t.description for _, t in defs)), block(head, directives, body)]
        )

    def _interface_object_fields(
        self, interfaces: list[str], present: list[str], first: bool
    ) -> list[str]:
        lines: list[str] = []
        for interface in interfaces:
            for _, facts in self.merged.get(interface, []):
                if not facts.interface_object:
                    continue
                for field_name, fact in facts.fields.items():
                    if field_name in present or fact.external:
                        continue
                    present.append(field_name)
                    lines.extend(description(fact.description, "  ", first=first and not lines))
                    text = (
                        f"  {field_name}{arguments(fact.arguments, '  ')}: {fact.type} @join__field"
                    )
                    lines.append(text)
        return lines

    def _field(self, type_name: str, entries: Entries, defs: Defs, first: bool) -> list[str]:
        field_name = entries[0][2].name
        types = [f.type for _, _, f in entries]
        merged_type = merge_types(types, is_subtype=self._is_subtype)
        if merged_type is None:
            listing = ", ".join(f"{f.type} in {s.name!r}" for s, _, f in entries)
            self.issue(
                "FIELD_TYPE_MISMATCH",
                f"{type_name}.{field_name} has incompatible types across subgraphs ({listing}); "
                "give it the same type everywhere (only nullability, or an interface or union "
                "for one of its members, may differ).",
                *(f"{s.name}:{type_name}.{field_name}" for s, _, _ in entries),
            )
            merged_type = types[0]
        all_equal = len(set(types)) == 1
        overriders = {f.override: f for _, _, f in entries if f.override}
        used: set[str] = set()
        unused: set[str] = set()
        for subgraph, _, _ in entries:
            taker = overriders.get(subgraph.name)
            if taker is None or taker.override_label:
                continue
            if checks.used_in_subgraph(type_name, field_name, subgraph):
                used.add(subgraph.name)
            else:
                unused.add(subgraph.name)
        labelled = any(f.override_label for f in overriders.values())
        present = {s.name for s, _, _ in entries}
        needs_join = (
            not all_equal
            or bool(used)
            or labelled
            or any(
                (f.external or f.requires or f.provides) and s.name not in unused
                for s, _, f in entries
            )
            or any(s.name not in present or s.name in unused for s, _ in defs)
        )
        joins: list[str] = []
        if needs_join:
            for subgraph, _, fact in entries:
                taker = overriders.get(subgraph.name)
                label = fact.override_label or (taker.override_label if taker else None)
                if subgraph.name in unused:
                    continue
                parts = [f"graph: {self.graph[subgraph.name]}"]
                if fact.requires:
                    parts.append(f"requires: {quote(fact.requires)}")
                if fact.provides:
                    parts.append(f"provides: {quote(fact.provides)}")
                if fact.override:
                    parts.append(f"override: {quote(fact.override)}")
                if not all_equal:
                    parts.append(f"type: {quote(fact.type)}")
                if fact.external:
                    parts.append("external: true")
                if subgraph.name in used:
                    parts.append("usedOverridden: true")
                if label:
                    self.usage.labels = True
                    parts.append(f"overrideLabel: {quote(label)}")
                joins.append(f"@join__field({', '.join(parts)})")
        resolving = [f for s, _, f in entries if not f.external] or [f for _, _, f in entries]
        args = self._merge_args(type_name, field_name, entries)
        text = f"  {field_name}{arguments(args, '  ')}: {merged_type}"
        extra = self._marks(
            any(f.inaccessible for f in resolving),
            {g for f in resolving for g in f.tags},
            _first(f.deprecated for f in resolving),
        )
        text = " ".join([text, *joins, *extra])
        return [*description(_first(f.description for f in resolving), "  ", first=first), text]

    def _merge_args(self, type_name: str, field_name: str, entries: Entries) -> list[ArgFacts]:
        per_graph = [{a.name: a for a in f.arguments} for _, _, f in entries]
        merged: list[ArgFacts] = []
        for arg in entries[0][2].arguments:
            versions = [args[arg.name] for args in per_graph if arg.name in args]
            if len(versions) < len(per_graph):
                continue  # kept only where every subgraph takes it
            arg_type = merge_types([v.type for v in versions], output=False)
            if arg_type is None:
                self.issue(
                    "FIELD_ARGUMENT_TYPE_MISMATCH",
                    f"argument {arg.name} of {type_name}.{field_name} has incompatible types "
                    "across subgraphs; give it the same type everywhere.",
                    *(f"{s.name}:{type_name}.{field_name}({arg.name}:)" for s, _, _ in entries),
                )
                arg_type = arg.type
            merged.append(
                ArgFacts(
                    name=arg.name,
                    type=arg_type,
                    default=_first(v.default for v in versions),
                    description=_first(v.description for v in versions),
                    inaccessible=any(v.inaccessible for v in versions),
                    tags=tuple(sorted({g for v in versions for g in v.tags})),
                    deprecated=_first(v.deprecated for v in versions),
                )
            )
        for arg in merged:
            self._marks(arg.inaccessible, set(arg.tags))
        return merged

    # -- unions, enums, inputs, scalars ----------------------------------------------------

    def _union(self, name: str, defs: Defs) -> str:
        members: list[str] = []
        for _, facts in defs:
            members.extend(m for m in facts.members if m not in members)
        directives = self._join_types(defs)
        directives += [
            f"@join__unionMember(graph: {self.graph[s.name]}, member: {quote(m)})"
            for s, t in defs
            for m in t.members
        ]
        directives += self._type_marks(defs)
        text = block(f"union {name}", directives, None)
        text += ("\n" if directives else "") + f" = {' | '.join(members)}"
        return "\n".join([*description(_first(t.description for _, t in defs)), text])

    def _enum(self, name: str, defs: Defs) -> str:
        values: list[str] = []
        for _, facts in defs:
            values.extend(v for v in facts.values if v not in values)
        if name in self.input_enums:
            common = [v for v in values if all(v in t.values for _, t in defs)]
            if name in self.output_enums and common != values:
                self.issue(
                    "ENUM_VALUE_MISMATCH",
                    f"enum {name} is used as both input and output, so every subgraph must "
                    f"define the same values; values {sorted(set(values) - set(common))} are "
                    "missing from some subgraphs.",
                    *(f"{s.name}:{name}" for s, _ in defs),
                )
            values = common
        body: list[str] = []
        for value in values:
            owners = [(s, t) for s, t in defs if value in t.values]
            info = [t.values[value] for _, t in owners]
            joins = [f"@join__enumValue(graph: {self.graph[s.name]})" for s, _ in owners]
            extra = self._marks(any(i[1] for i in info), set(), _first(i[2] for i in info))
            body.extend(description(_first(i[0] for i in info), "  ", first=not body))
            body.append(" ".join([f"  {value}", *joins, *extra]))
        directives = self._join_types(defs) + self._type_marks(defs)
        return "\n".join(
            [
                *description(_first(t.description for _, t in defs)),
                block(f"enum {name}", directives, body),
            ]
        )

    def _input(self, name: str, defs: Defs) -> str:
        body: list[str] = []
        for field_name in defs[0][1].input_fields:
            if not all(field_name in t.input_fields for _, t in defs):
                continue  # an input keeps only the fields every subgraph accepts
            versions = [(s, t.input_fields[field_name]) for s, t in defs]
            types = [v.type for _, v in versions]
            merged = merge_types(types, output=False)
            if merged is None:
                self.issue(
                    "FIELD_TYPE_MISMATCH",
                    f"input field {name}.{field_name} has incompatible types across subgraphs "
                    f"({', '.join(f'{v.type} in {s.name!r}' for s, v in versions)}); give it "
                    "the same type everywhere.",
                    *(f"{s.name}:{name}.{field_name}" for s, _ in versions),
                )
                merged = types[0]
            text = f"  {field_name}: {merged}"
            default = _first(v.default for _, v in versions)
            if default is not None:
                text += f" = {default}"
            joins = []
            if len(set(types)) > 1:
                joins = [
                    f"@join__field(graph: {self.graph[s.name]}, type: {quote(v.type)})"
                    for s, v in versions
                ]
            extra = self._marks(
                any(v.inaccessible for _, v in versions),
                {g for _, v in versions for g in v.tags},
                _first(v.deprecated for _, v in versions),
            )
            body.extend(
                description(_first(v.description for _, v in versions), "  ", first=not body)
            )
            body.append(" ".join([text, *joins, *extra]))
        directives = self._join_types(defs) + self._type_marks(defs)
        return "\n".join(
            [
                *description(_first(t.description for _, t in defs)),
                block(f"input {name}", directives, body),
            ]
        )

    def _scalar(self, name: str, defs: Defs) -> str:
        directives = self._join_types(defs) + self._type_marks(defs)
        return "\n".join(
            [
                *description(_first(t.description for _, t in defs)),
                block(f"scalar {name}", directives, None),
            ]
        )

    def _enum_usage(self) -> tuple[set[str], set[str]]:
        inputs: set[str] = set()
        outputs: set[str] = set()
        for subgraph in self.subgraphs:
            for facts in subgraph.types.values():
                for fact in facts.fields.values():
                    outputs.add(base_name(fact.type))
                    inputs.update(base_name(a.type) for a in fact.arguments)
                inputs.update(base_name(a.type) for a in facts.input_fields.values())
        return inputs, outputs


def _graph_values(subgraphs: list[SubgraphFacts]) -> list[tuple[SubgraphFacts, str]]:
    return [(s, graph_enum_name(s.name)) for s in subgraphs]


def _first(values: Iterable[T | None]) -> T | None:
    """The first value given, in subgraph order (descriptions, defaults, @deprecated)."""
    for value in values:
        if value is not None:
            return value
    return None
