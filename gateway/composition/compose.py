"""Composing Federation v2 subgraphs into a supergraph SDL (join v0.3, or v0.4 with labels)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from graphql import print_ast

from gateway.composition.errors import CompositionError, CompositionIssue
from gateway.composition.subgraph import FieldFacts, SubgraphFacts, TypeFacts, read_subgraph
from gateway.composition.typeref import base_name, merge_types

ROOTS = ("query", "mutation", "subscription")
DEFAULT_ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


@dataclass(frozen=True)
class SubgraphSource:
    """A subgraph to compose: its name, where the gateway reaches it, and its SDL."""

    name: str
    url: str
    sdl: str


def graph_enum_name(name: str) -> str:
    """``my-subgraph`` becomes ``MY_SUBGRAPH``, as Apollo's composition names graphs."""
    value = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
    return "_" + value if value[:1].isdigit() else value


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _description(text: str | None, indent: str) -> list[str]:
    if text is None:
        return []
    if "\n" not in text and '"' not in text:
        return [f'{indent}"""{text}"""']
    body = text.replace('"""', '\\"""')
    return [f'{indent}"""', *(f"{indent}{line}" for line in body.split("\n")), f'{indent}"""']


def _field_names(field_set: str) -> set[str]:
    return set(re.findall(r"[_A-Za-z][_0-9A-Za-z]*", re.sub(r"\.\.\.\s*on\s+\w+", "", field_set)))


def _top_level_fields(field_set: str) -> list[str]:
    names: list[str] = []
    depth = 0
    for token in re.findall(r"\.\.\.|[{}()]|[_A-Za-z][_0-9A-Za-z]*|\S", field_set):
        if token in ("{", "("):
            depth += 1
        elif token in ("}", ")"):
            depth -= 1
        elif depth == 0 and re.match(r"[_A-Za-z]", token) and token != "on":
            names.append(token)
    return names


class _Composer:
    def __init__(self, subgraphs: list[SubgraphFacts]) -> None:
        self.subgraphs = subgraphs
        self.enum = {s.name: graph_enum_name(s.name) for s in subgraphs}
        self.issues: list[CompositionIssue] = []
        self.uses_inaccessible = False
        self.uses_tag = False
        self.uses_labels = False
        # (type, field) pairs each subgraph can resolve through a @provides
        self.provided: dict[str, set[tuple[str, str]]] = {
            s.name: {
                (base_name(f.type), name)
                for t in s.types.values()
                for f in t.fields.values()
                if f.provides
                for name in _top_level_fields(f.provides)
            }
            for s in subgraphs
        }

    def issue(self, code: str, message: str, *where: str) -> None:
        self.issues.append(CompositionIssue(code, message, tuple(where)))

    # -- checks --------------------------------------------------------------------------

    def definitions(self) -> dict[str, list[tuple[SubgraphFacts, TypeFacts]]]:
        merged: dict[str, list[tuple[SubgraphFacts, TypeFacts]]] = {}
        for subgraph in self.subgraphs:
            for op, name in subgraph.root_types.items():
                if name != DEFAULT_ROOTS[op] and name in subgraph.types:
                    self.issue(
                        "ROOT_TYPE_NAME",
                        f"subgraph {subgraph.name!r} names its {op} type {name}; name it "
                        f"{DEFAULT_ROOTS[op]} so that the subgraphs' root fields merge.",
                        f"{subgraph.name}:{name}",
                    )
            for name, facts in subgraph.types.items():
                merged.setdefault(name, []).append((subgraph, facts))
        for name, defs in merged.items():
            kinds = {("interface" if f.interface_object else f.kind) for _, f in defs}
            if len(kinds) > 1:
                listing = ", ".join(f"{s.name}: {f.kind}" for s, f in defs)
                self.issue(
                    "TYPE_KIND_MISMATCH",
                    f"{name} is not the same kind of type in every subgraph ({listing}); "
                    "make it one kind everywhere (an @interfaceObject stands for an interface).",
                    *(f"{s.name}:{name}" for s, _ in defs),
                )
        return merged

    def check_type(self, name: str, defs: list[tuple[SubgraphFacts, TypeFacts]]) -> None:
        for subgraph, facts in defs:
            for key, _ in facts.keys:
                for field_name in _top_level_fields(key):
                    if field_name not in facts.fields:
                        self.issue(
                            "KEY_INVALID_FIELDS",
                            f'@key(fields: "{key}") on {name} in subgraph {subgraph.name!r} '
                            f"selects {field_name}, which {name} does not have there.",
                            f"{subgraph.name}:{name}",
                        )
            for field_name, field in facts.fields.items():
                if field.requires is None:
                    continue
                for required in _top_level_fields(field.requires):
                    target = facts.fields.get(required)
                    if target is None or not target.external:
                        self.issue(
                            "REQUIRES_FIELDS_MISSING_EXTERNAL",
                            f"{name}.{field_name} in subgraph {subgraph.name!r} @requires "
                            f"{required}, which must be declared there with @external.",
                            f"{subgraph.name}:{name}.{field_name}",
                        )

    def check_sharing(
        self,
        type_name: str,
        field_name: str,
        entries: list[tuple[SubgraphFacts, TypeFacts, FieldFacts]],
    ) -> None:
        overridden = {f.override for _, _, f in entries if f.override and not f.override_label}
        resolving = [
            (s, t, f)
            for s, t, f in entries
            if (not f.external or (type_name, field_name) in self.provided[s.name])
            and s.name not in overridden
            and not t.interface_object
        ]
        if len(resolving) < 2:
            return
        unshared = [
            s.name
            for s, t, f in resolving
            if not f.shareable
            and not f.external
            and not any(field_name in _field_names(k) for k, _ in t.keys)
        ]
        if unshared:
            self.issue(
                "INVALID_FIELD_SHARING",
                f"{type_name}.{field_name} is resolved by subgraphs "
                f"{', '.join(repr(s.name) for s, _, _ in resolving)} but is not @shareable in "
                f"{', '.join(repr(n) for n in unshared)}; mark it @shareable in each, or "
                "@override it in the subgraph that should own it.",
                *(f"{s.name}:{type_name}.{field_name}" for s, _, _ in resolving),
            )

    # -- printing ------------------------------------------------------------------------

    def compose(self) -> str:
        merged = self.definitions()
        if self.issues:
            raise CompositionError(self.issues)
        for name, defs in merged.items():
            self.check_type(name, defs)
        type_blocks: list[tuple[str, str]] = []
        implementations = self._implementations(merged)
        for name in sorted(merged):
            defs = merged[name]
            kind = "interface" if any(f.interface_object for _, f in defs) else defs[0][1].kind
            if kind in ("object", "interface"):
                block = self.print_object(name, kind, defs, merged, implementations)
            elif kind == "union":
                block = self.print_union(name, defs)
            elif kind == "enum":
                block = self.print_enum(name, defs)
            elif kind == "input":
                block = self.print_input(name, defs)
            else:
                block = self.print_scalar(name, defs)
            type_blocks.append((name, block))
        if self.issues:
            raise CompositionError(self.issues)
        roots = [op for op in ROOTS if DEFAULT_ROOTS[op] in merged]
        if "query" not in roots:
            self.issue("NO_QUERIES", "no subgraph defines a Query type with fields.")
            raise CompositionError(self.issues)
        return self.print_supergraph(roots, type_blocks)

    def _implementations(
        self, merged: dict[str, list[tuple[SubgraphFacts, TypeFacts]]]
    ) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, defs in merged.items():
            for _, facts in defs:
                for interface in facts.interfaces:
                    if name not in found.setdefault(interface, []):
                        found[interface].append(name)
        return found

    def _type_directives(self, defs: list[tuple[SubgraphFacts, TypeFacts]]) -> list[str]:
        lines = []
        for subgraph, facts in defs:
            graph = self.enum[subgraph.name]
            extras = ""
            if facts.extension:
                extras += ", extension: true"
            if facts.interface_object:
                extras += ", isInterfaceObject: true"
            if facts.keys:
                for key, resolvable in facts.keys:
                    unresolvable = "" if resolvable else ", resolvable: false"
                    lines.append(
                        f"@join__type(graph: {graph}, key: {_q(key)}{extras}{unresolvable})"
                    )
            else:
                lines.append(f"@join__type(graph: {graph}{extras})")
        return lines

    def _marks(self, inaccessible: bool, tags: set[str]) -> str:
        text = ""
        if inaccessible:
            self.uses_inaccessible = True
            text += " @inaccessible"
        for tag in sorted(tags):
            self.uses_tag = True
            text += f" @tag(name: {_q(tag)})"
        return text

    def print_object(
        self,
        name: str,
        kind: str,
        defs: list[tuple[SubgraphFacts, TypeFacts]],
        merged: dict[str, list[tuple[SubgraphFacts, TypeFacts]]],
        implementations: dict[str, list[str]],
    ) -> str:
        self.check_type_fields(name, defs)
        lines = _description(next((f.description for _, f in defs if f.description), None), "")
        interfaces: list[str] = []
        for _, facts in defs:
            interfaces.extend(i for i in facts.interfaces if i not in interfaces)
        head = f"{'type' if kind == 'object' else kind} {name}"
        if interfaces:
            head += " implements " + " & ".join(interfaces)
        directives = self._type_directives(defs)
        for subgraph, facts in defs:
            for interface in facts.interfaces:
                graph = self.enum[subgraph.name]
                directives.append(f"@join__implements(graph: {graph}, interface: {_q(interface)})")
        inaccessible = any(f.inaccessible for _, f in defs)
        tags = {t for _, f in defs for t in f.tags}
        marks = self._marks(inaccessible, tags).strip()
        if marks:
            directives.append(marks)
        lines.append(head)
        lines.extend(f"  {d}" for d in directives)
        lines.append("{")
        field_order: list[str] = []
        for _, facts in defs:
            field_order.extend(f for f in facts.fields if f not in field_order)
        for field_name in field_order:
            entries = [(s, t, t.fields[field_name]) for s, t in defs if field_name in t.fields]
            lines.extend(self.print_field(name, field_name, entries, defs))
        # Fields an @interfaceObject adds to an interface appear on every implementation.
        if kind == "object":
            for interface in next((f.interfaces for _, f in defs if f.interfaces), []):
                for _, idef in merged.get(interface, []):
                    if not idef.interface_object:
                        continue
                    for field_name, field in idef.fields.items():
                        if field_name not in field_order:
                            field_order.append(field_name)
                            lines.extend(_description(field.description, "  "))
                            lines.append(
                                f"  {field_name}{self._args(field)}: {field.type} @join__field"
                            )
        lines.append("}")
        return "\n".join(lines)

    def check_type_fields(self, name: str, defs: list[tuple[SubgraphFacts, TypeFacts]]) -> None:
        if all(f.kind == "interface" and not f.interface_object for _, f in defs):
            return
        names: list[str] = []
        for _, facts in defs:
            names.extend(f for f in facts.fields if f not in names)
        for field_name in names:
            entries = [(s, t, t.fields[field_name]) for s, t in defs if field_name in t.fields]
            self.check_sharing(name, field_name, entries)

    def _args(self, field: FieldFacts) -> str:
        if not field.arguments:
            return ""
        printed = []
        for arg in field.arguments:
            text = f"{arg.name.value}: {print_ast(arg.type)}"
            if arg.default_value is not None:
                text += f" = {print_ast(arg.default_value)}"
            printed.append(text)
        return "(" + ", ".join(printed) + ")"

    def print_field(
        self,
        type_name: str,
        field_name: str,
        entries: list[tuple[SubgraphFacts, TypeFacts, FieldFacts]],
        defs: list[tuple[SubgraphFacts, TypeFacts]],
    ) -> list[str]:
        types = [f.type for _, _, f in entries]
        merged_type = merge_types(types)
        if merged_type is None:
            listing = ", ".join(f"{s.name}: {f.type}" for s, _, f in entries)
            self.issue(
                "FIELD_TYPE_MISMATCH",
                f"{type_name}.{field_name} has incompatible types ({listing}); give it the "
                "same type in every subgraph (nullability may differ).",
                *(f"{s.name}:{type_name}.{field_name}" for s, _, _ in entries),
            )
            merged_type = types[0]
        first = entries[0][2]
        overridden_from = {f.override: f for _, _, f in entries if f.override}
        special = (
            len(entries) != len(defs)
            or any(
                f.external or f.requires or f.provides or f.override or f.type != merged_type
                for _, _, f in entries
            )
            or any(s.name in overridden_from for s, _, _ in entries)
        )
        joins: list[str] = []
        if special:
            for subgraph, facts, field in entries:
                parts = [f"graph: {self.enum[subgraph.name]}"]
                takeover = overridden_from.get(subgraph.name)
                if takeover is not None:
                    if takeover.override_label:
                        parts.append(f"overrideLabel: {_q(takeover.override_label)}")
                    elif self._used_elsewhere(field_name, facts):
                        parts.append("usedOverridden: true")
                    else:
                        continue
                if field.requires:
                    parts.append(f"requires: {_q(field.requires)}")
                if field.provides:
                    parts.append(f"provides: {_q(field.provides)}")
                if field.type != merged_type:
                    parts.append(f"type: {_q(field.type)}")
                if field.external:
                    parts.append("external: true")
                if field.override:
                    parts.append(f"override: {_q(field.override)}")
                    if field.override_label:
                        self.uses_labels = True
                        parts.append(f"overrideLabel: {_q(field.override_label)}")
                joins.append(f"@join__field({', '.join(parts)})")
        inaccessible = any(f.inaccessible for _, _, f in entries)
        tags = {t for _, _, f in entries for t in f.tags}
        deprecated = next((f.deprecated for _, _, f in entries if f.deprecated), None)
        text = f"  {field_name}{self._args(first)}: {merged_type}"
        if joins:
            text += " " + " ".join(joins)
        if deprecated is not None:
            text += " " + print_ast(deprecated)
        text += self._marks(inaccessible, tags)
        description = next((f.description for _, _, f in entries if f.description), None)
        return [*_description(description, "  "), text]

    def _used_elsewhere(self, field_name: str, facts: TypeFacts) -> bool:
        sets = [k for k, _ in facts.keys]
        sets += [f.requires for f in facts.fields.values() if f.requires]
        return any(field_name in _field_names(s) for s in sets)

    def print_union(self, name: str, defs: list[tuple[SubgraphFacts, TypeFacts]]) -> str:
        members: list[str] = []
        for _, facts in defs:
            members.extend(m for m in facts.members if m not in members)
        directives = [f"@join__type(graph: {self.enum[s.name]})" for s, _ in defs]
        for subgraph, facts in defs:
            directives.extend(
                f"@join__unionMember(graph: {self.enum[subgraph.name]}, member: {_q(m)})"
                for m in facts.members
            )
        marks = self._marks(
            any(f.inaccessible for _, f in defs), {t for _, f in defs for t in f.tags}
        )
        lines = _description(next((f.description for _, f in defs if f.description), None), "")
        lines.append(f"union {name}")
        lines.extend(f"  {d}" for d in directives)
        if marks:
            lines.append(f"  {marks.strip()}")
        lines.append(f" = {' | '.join(members)}")
        return "\n".join(lines)

    def print_enum(self, name: str, defs: list[tuple[SubgraphFacts, TypeFacts]]) -> str:
        values: list[str] = []
        for _, facts in defs:
            values.extend(v for v in facts.values if v not in values)
        lines = _description(next((f.description for _, f in defs if f.description), None), "")
        lines.append(f"enum {name}")
        lines.extend(f"  @join__type(graph: {self.enum[s.name]})" for s, _ in defs)
        marks = self._marks(
            any(f.inaccessible for _, f in defs), {t for _, f in defs for t in f.tags}
        )
        if marks:
            lines.append(f"  {marks.strip()}")
        lines.append("{")
        for value in values:
            owners = [(s, f) for s, f in defs if value in f.values]
            description = next((f.values[value][0] for _, f in owners if f.values[value][0]), None)
            inaccessible = any(f.values[value][1] for _, f in owners)
            deprecated = next((f.values[value][2] for _, f in owners if f.values[value][2]), None)
            lines.extend(_description(description, "  "))
            text = f"  {value} " + " ".join(
                f"@join__enumValue(graph: {self.enum[s.name]})" for s, _ in owners
            )
            if deprecated is not None:
                text += " " + print_ast(deprecated)
            text += self._marks(inaccessible, set())
            lines.append(text)
        lines.append("}")
        return "\n".join(lines)

    def print_input(self, name: str, defs: list[tuple[SubgraphFacts, TypeFacts]]) -> str:
        common = [f for f in defs[0][1].input_fields if all(f in t.input_fields for _, t in defs)]
        lines = _description(next((f.description for _, f in defs if f.description), None), "")
        lines.append(f"input {name}")
        lines.extend(f"  @join__type(graph: {self.enum[s.name]})" for s, _ in defs)
        lines.append("{")
        for field_name in common:
            nodes = [t.input_fields[field_name] for _, t in defs]
            merged = merge_types([print_ast(n.type) for n in nodes], output=False)
            if merged is None:
                self.issue(
                    "FIELD_TYPE_MISMATCH",
                    f"input field {name}.{field_name} has incompatible types across subgraphs.",
                    *(f"{s.name}:{name}.{field_name}" for s, _ in defs),
                )
                merged = print_ast(nodes[0].type)
            default = next((n.default_value for n in nodes if n.default_value is not None), None)
            text = f"  {field_name}: {merged}"
            if default is not None:
                text += f" = {print_ast(default)}"
            lines.append(text)
        lines.append("}")
        return "\n".join(lines)

    def print_scalar(self, name: str, defs: list[tuple[SubgraphFacts, TypeFacts]]) -> str:
        lines = _description(next((f.description for _, f in defs if f.description), None), "")
        lines.append(f"scalar {name}")
        lines.extend(f"  @join__type(graph: {self.enum[s.name]})" for s, _ in defs)
        marks = self._marks(
            any(f.inaccessible for _, f in defs), {t for _, f in defs for t in f.tags}
        )
        if marks:
            lines.append(f"  {marks.strip()}")
        return "\n".join(lines)

    def print_supergraph(self, roots: list[str], blocks: list[tuple[str, str]]) -> str:
        join_version = "v0.4" if self.uses_labels else "v0.3"
        links = [
            '  @link(url: "https://specs.apollo.dev/link/v1.0")',
            f'  @link(url: "https://specs.apollo.dev/join/{join_version}", for: EXECUTION)',
        ]
        if self.uses_inaccessible:
            links.append(
                '  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)'
            )
        if self.uses_tag:
            links.append('  @link(url: "https://specs.apollo.dev/tag/v0.3")')
        out = ["schema", *links, "{"]
        out.extend(f"  {op}: {DEFAULT_ROOTS[op]}" for op in roots)
        out.append("}")
        out.append("")
        label_arg = ", overrideLabel: String" if self.uses_labels else ""
        directives = []
        if self.uses_inaccessible:
            directives.append(
                "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
                "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | "
                "INPUT_FIELD_DEFINITION"
            )
        directives += [
            "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
            "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: "
            "join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: "
            f"Boolean{label_arg}) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION",
            "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
            "directive @join__implements(graph: join__Graph!, interface: String!) repeatable on "
            "OBJECT | INTERFACE",
            "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! "
            "= false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) "
            "repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR",
            "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on "
            "UNION",
            "directive @link(url: String, as: String, for: link__Purpose, import: "
            "[link__Import]) repeatable on SCHEMA",
        ]
        if self.uses_tag:
            directives.append(
                "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | "
                "INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | "
                "INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA"
            )
        for directive in directives:
            out.extend([directive, ""])
        machinery = {
            "join__FieldSet": "scalar join__FieldSet",
            "join__Graph": "enum join__Graph {\n"
            + "\n".join(
                f"  {self.enum[s.name]} @join__graph(name: {_q(s.name)}, url: {_q(s.url)})"
                for s in sorted(self.subgraphs, key=lambda s: self.enum[s.name])
            )
            + "\n}",
            "link__Import": "scalar link__Import",
            "link__Purpose": "enum link__Purpose {\n"
            '  """`SECURITY` features provide metadata necessary to securely resolve fields."""\n'
            "  SECURITY\n\n"
            '  """`EXECUTION` features provide metadata necessary for operation execution."""\n'
            "  EXECUTION\n}",
        }
        everything = sorted([*blocks, *machinery.items()], key=lambda item: item[0])
        for _, block in everything:
            out.extend([block, ""])
        return "\n".join(out).rstrip() + "\n"


def compose(subgraphs: Sequence[SubgraphSource]) -> str:
    """The supergraph SDL of ``subgraphs``; :class:`CompositionError` lists every problem."""
    issues: list[CompositionIssue] = []
    if not subgraphs:
        raise CompositionError(
            [CompositionIssue("NO_SUBGRAPHS", "give at least one subgraph to compose.")]
        )
    seen: dict[str, str] = {}
    for source in subgraphs:
        enum = graph_enum_name(source.name)
        if source.name in seen or enum in seen.values():
            issues.append(
                CompositionIssue(
                    "DUPLICATE_SUBGRAPH_NAME",
                    f"two subgraphs are named {source.name!r} (or names that differ only in "
                    "case or punctuation); give each subgraph a distinct name.",
                )
            )
        seen[source.name] = enum
    facts: list[SubgraphFacts] = []
    for source in subgraphs:
        read, problems = read_subgraph(source.name, source.url, source.sdl)
        issues.extend(problems)
        if read is not None:
            facts.append(read)
    if issues:
        raise CompositionError(issues)
    return _Composer(facts).compose()


__all__ = ["SubgraphSource", "base_name", "compose", "graph_enum_name"]
