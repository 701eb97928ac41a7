"""Response shaping: the merged subgraph data cut to exactly what the client asked.

Fields come out in the client's order under the client's aliases, fragments and
``@skip``/``@include`` are applied per runtime type, ``__typename`` is filled in,
internal fields are dropped, and a null in a non-null position bubbles up to the
nearest nullable parent, as the GraphQL spec's value completion says.

This runs for every response, so the fields to emit for a (selection set, runtime
type) are compiled once and cached with the plan, and response paths are kept as
linked pairs that become lists only when an error needs one.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    VariableNode,
)

from gateway.access import OPEN_VIEW, SUBJECT_KEY, AccessView, ResponseFacts
from gateway.operation import FieldSelection, FragmentSelection, Selection

_BUBBLE: Any = object()
JSON = dict[str, Any]
# A response path as linked pairs (parent, key); None is the root.
LinkedPath = tuple[Any, str | int] | None

CollectedFields = dict[str, list[FieldSelection]]

LEAF = 0  # nullable scalar: copied as it is
LEAF_NON_NULL = 1  # non-null scalar: copied, or the object bubbles
TYPENAME = 2
RAW = 3  # introspection answered by graphql-core, already shaped
OTHER = 4
MASKED = 5  # a value the caller sees only masked (an enum, a list)
COUNTED = 6  # a value the caller's limits count
MASKED_LEAF = 7  # a nullable scalar seen masked: the mask is the compiled field's last item
MASKED_LEAF_NON_NULL = 8  # the same, non-null

# (response key, field name, kind, type, sub-selections — or, for a masked leaf, its mask)
CompiledField = tuple[str, str, int, GraphQLOutputType | None, Any]
ObjectLike = GraphQLObjectType | GraphQLInterfaceType


class ShapeCache:
    """Per-plan memo of collected and compiled fields."""

    def __init__(self) -> None:
        self.collected: dict[tuple[int, str], CollectedFields] = {}
        self.compiled: dict[tuple[int, str], list[CompiledField]] = {}
        self.merged: dict[tuple[int, ...], tuple[Selection, ...]] = {}
        # id of a compiled list -> the "Type.field" names it emits, for the access log
        self.field_names: dict[int, tuple[str, ...]] = {}


def materialize(path: LinkedPath) -> list[str | int]:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


class Shaper:
    """Shapes one response; build one per request."""

    def __init__(
        self,
        schema: GraphQLSchema,
        variables: dict[str, Any],
        errors: list[JSON],
        *,
        has_conditions: bool,
        cache: ShapeCache | None = None,
        view: AccessView = OPEN_VIEW,
        facts: ResponseFacts | None = None,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.errors = errors
        self.has_conditions = has_conditions
        self.masks = view.masks
        self.counted = view.counted
        self.subjects = view.subjects if facts is not None else {}
        self.facts = facts
        # compiled lists of fields emitted, by id, for the fields the response holds
        self.emitted: dict[int, list[CompiledField]] = {}
        # Collected fields depend only on the selections and runtime type when the
        # operation has no @skip/@include, so a plan-level cache may be shared.
        self.cache = cache if cache is not None and not has_conditions else ShapeCache()
        self.error_prefixes: set[tuple[Any, ...]] = set()
        self.error_paths: set[tuple[Any, ...]] = set()
        for error in errors:
            path = error.get("path")
            if isinstance(path, list):
                self._note_error_path(path)

    def shape_root(
        self, root: GraphQLObjectType, selections: tuple[Selection, ...], data: JSON
    ) -> JSON | None:
        result = self._fields(data, root, selections, None)
        return None if result is _BUBBLE else result

    # -- field collection --------------------------------------------------------------

    def _included(self, directives: tuple[DirectiveNode, ...]) -> bool:
        for directive in directives:
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            value: Any = None
            for arg in directive.arguments or ():
                if arg.name.value == "if":
                    if isinstance(arg.value, BooleanValueNode):
                        value = arg.value.value
                    elif isinstance(arg.value, VariableNode):
                        value = self.variables.get(arg.value.name.value)
            if name == "skip" and value is True:
                return False
            if name == "include" and value is not True:
                return False
        return True

    def _applies(self, condition: str | None, runtime: ObjectLike) -> bool:
        if condition is None or condition == runtime.name:
            return True
        if isinstance(runtime, GraphQLInterfaceType):
            return False
        cond_type = self.schema.get_type(condition)
        if isinstance(cond_type, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(cond_type, runtime)
        return False

    def collect(self, selections: tuple[Selection, ...], runtime: ObjectLike) -> CollectedFields:
        key = (id(selections), runtime.name)
        cached = self.cache.collected.get(key)
        if cached is None:
            cached = {}
            self._collect(selections, runtime, cached)
            self.cache.collected[key] = cached
        return cached

    def _collect(
        self, selections: tuple[Selection, ...], runtime: ObjectLike, into: CollectedFields
    ) -> None:
        for sel in selections:
            if self.has_conditions and not self._included(sel.directives):
                continue
            if isinstance(sel, FragmentSelection):
                if self._applies(sel.type_condition, runtime):
                    self._collect(sel.selections, runtime, into)
            else:
                into.setdefault(sel.response_key, []).append(sel)

    def compiled(
        self, selections: tuple[Selection, ...], runtime: ObjectLike
    ) -> list[CompiledField]:
        key = (id(selections), runtime.name)
        found = self.cache.compiled.get(key)
        if found is not None:
            return found
        found = []
        for response_key, sels in self.collect(selections, runtime).items():
            first = sels[0]
            if first.name == "__typename":
                found.append((response_key, first.name, TYPENAME, None, None))
                continue
            if first.name in ("__schema", "__type"):
                found.append((response_key, first.name, RAW, None, None))
                continue
            field_def = runtime.fields.get(first.name)
            if field_def is None:
                continue
            type_ = field_def.type
            mask = self.masks.get((runtime.name, first.name))
            if mask is not None:
                counted = (runtime.name, first.name) in self.counted
                if isinstance(type_, GraphQLScalarType) and not counted:
                    found.append((response_key, first.name, MASKED_LEAF, type_, mask))
                    continue
                if (
                    isinstance(type_, GraphQLNonNull)
                    and isinstance(type_.of_type, GraphQLScalarType)
                    and not counted
                ):
                    found.append((response_key, first.name, MASKED_LEAF_NON_NULL, type_, mask))
                    continue
                kind = MASKED
            elif (runtime.name, first.name) in self.counted:
                kind = COUNTED
            elif isinstance(type_, GraphQLScalarType):
                kind = LEAF
            elif isinstance(type_, GraphQLNonNull) and isinstance(type_.of_type, GraphQLScalarType):
                kind = LEAF_NON_NULL
            else:
                kind = OTHER
            sub: tuple[Selection, ...] | None = None
            if first.selections is not None:
                sub = first.selections if len(sels) == 1 else self._merged(sels)
            found.append((response_key, first.name, kind, type_, sub))
        self.cache.compiled[key] = found
        self.cache.field_names[id(found)] = tuple(
            f"{runtime.name}.{name}" for _, name, kind, _, _ in found if kind not in (TYPENAME, RAW)
        )
        return found

    def _merged(self, sels: list[FieldSelection]) -> tuple[Selection, ...]:
        key = tuple(id(s) for s in sels)
        found = self.cache.merged.get(key)
        if found is None:
            merged: list[Selection] = []
            for sel in sels:
                merged.extend(sel.selections or ())
            found = self.cache.merged[key] = tuple(merged)
        return found

    # -- value completion ----------------------------------------------------------------

    def _object(
        self,
        value: JSON,
        type_: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType,
        selections: tuple[Selection, ...],
        path: LinkedPath,
    ) -> Any:
        if isinstance(type_, GraphQLObjectType):
            return self._fields(value, type_, selections, path)
        runtime_name = value.get("__typename")
        if isinstance(type_, GraphQLInterfaceType) and runtime_name == type_.name:
            # From an @interfaceObject subgraph, with only interface fields selected.
            return self._fields(value, type_, selections, path)
        candidate = self.schema.get_type(runtime_name) if isinstance(runtime_name, str) else None
        if not isinstance(candidate, GraphQLObjectType) or not self.schema.is_sub_type(
            type_, candidate
        ):
            # The name is left out: it may be a type the API schema hides (@inaccessible).
            self._error(path, f"Invalid __typename for an object of abstract type {type_.name}.")
            return None
        return self._fields(value, candidate, selections, path)

    def _fields(
        self, value: JSON, runtime: ObjectLike, selections: tuple[Selection, ...], path: LinkedPath
    ) -> Any:
        result: JSON = {}
        get = value.get
        compiled = self.compiled(selections, runtime)
        if self.facts is not None:
            self.emitted[id(compiled)] = compiled
            if runtime.name in self.subjects:
                self._subject(value, runtime.name)
        for key, name, kind, type_, sub in compiled:
            if kind == LEAF:
                result[key] = get(key)
            elif kind == LEAF_NON_NULL:
                item = get(key)
                if item is None:
                    self._error(
                        (path, key),
                        f"Cannot return null for non-nullable field {runtime.name}.{name}.",
                    )
                    return _BUBBLE
                result[key] = item
            elif kind == MASKED_LEAF:
                result[key] = sub(get(key))
            elif kind == MASKED_LEAF_NON_NULL:
                item = sub(get(key))
                if item is None:
                    self._error(
                        (path, key),
                        f"Cannot return null for non-nullable field {runtime.name}.{name}.",
                    )
                    return _BUBBLE
                result[key] = item
            elif kind == TYPENAME:
                result[key] = runtime.name
            elif kind == RAW:
                result[key] = get(key)
            elif kind in (MASKED, COUNTED):
                assert type_ is not None
                item = get(key)
                if kind == MASKED:
                    item = self.masks[(runtime.name, name)](item)
                completed = self._complete(item, type_, sub, (path, key), runtime, name)
                if completed is _BUBBLE:
                    return _BUBBLE
                result[key] = completed
                if completed is not None and (runtime.name, name) in self.counted:
                    self._count(f"{runtime.name}.{name}", completed)
            else:
                assert type_ is not None
                completed = self._complete(get(key), type_, sub, (path, key), runtime, name)
                if completed is _BUBBLE:
                    return _BUBBLE
                result[key] = completed
        return result

    def _complete(
        self,
        value: Any,
        type_: GraphQLOutputType,
        selections: tuple[Selection, ...] | None,
        path: LinkedPath,
        parent: ObjectLike,
        field_name: str,
    ) -> Any:
        if isinstance(type_, GraphQLNonNull):
            completed = self._complete(value, type_.of_type, selections, path, parent, field_name)
            if completed is None:
                self._error(
                    path, f"Cannot return null for non-nullable field {parent.name}.{field_name}."
                )
                return _BUBBLE
            return completed
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            if not isinstance(value, list):
                self._error(path, f"Expected a list for {parent.name}.{field_name}.")
                return None
            inner = type_.of_type
            if isinstance(inner, GraphQLScalarType):
                return value
            items = []
            for index, item in enumerate(value):
                completed = self._complete(
                    item, inner, selections, (path, index), parent, field_name
                )
                if completed is _BUBBLE:
                    return None
                items.append(completed)
            return items
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            if not isinstance(value, dict) or selections is None:
                self._error(path, f"Expected an object for {parent.name}.{field_name}.")
                return None
            completed = self._object(value, type_, selections, path)
            return None if completed is _BUBBLE else completed
        if isinstance(type_, GraphQLEnumType) and value not in type_.values:
            self._error(
                path, f"Enum {type_.name} cannot represent value {value!r} for this client."
            )
            return None
        return value

    # -- what the response holds --------------------------------------------------------

    def _subject(self, value: JSON, type_name: str) -> None:
        assert self.facts is not None
        found = value.get(SUBJECT_KEY)
        if found is None:
            found = value.get(self.subjects[type_name])
        if found is not None:
            self.facts.subjects.setdefault(type_name, set()).add(str(found))

    def _count(self, name: str, value: Any) -> None:
        if self.facts is not None:
            counts = self.facts.counts
            counts[name] = counts.get(name, 0) + (len(value) if isinstance(value, list) else 1)

    def finish_facts(self) -> None:
        """Note the fields the response holds (call once, after shaping)."""
        if self.facts is None:
            return
        names = self.cache.field_names
        for compiled in self.emitted.values():
            self.facts.fields.update(names.get(id(compiled), ()))

    def _note_error_path(self, path: list[Any]) -> None:
        self.error_paths.add(tuple(path))
        for i in range(len(path) + 1):
            self.error_prefixes.add(tuple(path[:i]))

    def _error(self, linked: LinkedPath, message: str) -> None:
        path = materialize(linked)
        here = tuple(path)
        if here in self.error_prefixes or any(
            here[:i] in self.error_paths for i in range(len(here))
        ):
            return  # an error already explains this null
        # A subgraph answered against its schema (a null where none may be, a value of
        # another shape): a fault on our side of the API, never the caller's.
        self.errors.append(
            {"message": message, "path": path, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        )
        self._note_error_path(path)
