"""Lists of objects completed a column at a time: graphql-core's answers, less its per-field cost.

graphql-core completes a list of objects one object at a time, and each field of each
object goes through the whole field pipeline: a resolve info, the argument values, the
resolver's wrapper, an awaitable check, value completion. For ``_entities`` with 10,000
representations that is about a hundred thousand field executions, and it was most of
what a consolidated view of 10,000 people cost (docs/benchmarks.md).

:class:`ColumnarExecutor` completes the same list field by field instead: each field is
resolved for every object of the list at once — a plain attribute read for a field
without resolver, one call for a field that declares a :func:`batch_resolver`, the
ordinary resolver call per object for anything else — and the values of a column are
completed together, nested objects again by column. What comes out is what
graphql-core's own executor answers, which tests hold it to
(``tests/subgraphs/test_fast_path.py``): the same data, under the same keys and in the
same order; the same errors with the same messages, locations, paths and extensions; a
null in a non-null field nulling the nearest nullable parent; and, as in graphql-core,
no error of a field the executor did not reach because its object was already null.
Errors are kept in graphql-core's order for synchronous fields; between fields that
wait on I/O graphql-core's own order depends on timing, and so does ours.

Anything the column path does not know (a stream, a middleware, an awaitable type
check) goes through graphql-core unchanged. ``TONLE_SUBGRAPH_FAST_PATH=0`` turns the
column path off for a process (the benchmark's baseline).
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from graphql import (
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, is_iterable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

FAST_PATH_ENV = "TONLE_SUBGRAPH_FAST_PATH"
BATCH_RESOLVER = "tonle.batch_resolver"

# (sources, info, **arguments) -> one value (or exception) per source, or an awaitable of them
BatchResolver = Callable[..., Sequence[Any] | Awaitable[Sequence[Any]]]
# errors to record, in order, with the position each nulls
Recorded = list[tuple[GraphQLError, Path]]


class Paths(Protocol):
    """The response path of each value of a column, by index (built when asked for)."""

    def __getitem__(self, index: int, /) -> Path: ...


def batch_resolver(resolve: BatchResolver) -> dict[str, Any]:
    """Field metadata: ``resolve(sources, info, **arguments)`` answers the field for many objects.

    Give it as ``strawberry.field(metadata=batch_resolver(...))``. It returns one value per
    source, in order (an exception instance for a source whose value failed), or an
    awaitable of that list. The field's own resolver must answer the same for one
    object: it still serves every request the column path does not take.
    """
    return {BATCH_RESOLVER: resolve}


def fast_path_enabled() -> bool:
    """Whether ``TONLE_SUBGRAPH_FAST_PATH`` leaves the column path on (the default)."""
    return os.environ.get(FAST_PATH_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class _Failed:
    """A value that nulls its nearest nullable parent; ``recorded`` came before the failure."""

    __slots__ = ("error", "recorded")

    def __init__(self, error: Exception, recorded: Recorded) -> None:
        self.error = error
        self.recorded = recorded


# How a field is resolved for a column of objects.
_TYPENAME, _BASIC, _SELF, _BATCH, _GENERAL = range(5)
_kinds: dict[int, tuple[int, Any]] = {}


def _kind(field_def: GraphQLField) -> tuple[int, Any]:
    found = _kinds.get(id(field_def))
    if found is None:
        found = _kinds[id(field_def)] = _classify(field_def)
    return found


def _classify(field_def: GraphQLField) -> tuple[int, Any]:
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or field_def.resolve is None:
        return _GENERAL, None
    if getattr(field_def.resolve, "_is_default", False):
        # strawberry's own shortcut for a field without resolver: no info, no arguments
        return _BASIC, (field.default_resolver, field.python_name)
    if field.extensions:
        return _GENERAL, None
    metadata: Mapping[Any, Any] = field.metadata or {}
    batch = metadata.get(BATCH_RESOLVER)
    if batch is not None:
        return _BATCH, (batch, field)
    resolver = field.base_resolver
    if (
        resolver is not None
        and not resolver.is_async
        and resolver.self_parameter is not None
        and resolver.info_parameter is None
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
        and not field.arguments
        and callable(resolver.wrapped_func)
    ):
        return _SELF, resolver.wrapped_func
    return _GENERAL, None


def _sync(function: Any) -> bool:
    return function is None or not inspect.iscoroutinefunction(function)


class ColumnarExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core executor, completing lists of objects a column at a time."""

    def _columnar(self, item_type: GraphQLOutputType, field_details_list: Any, path: Path) -> bool:
        manager = self.middleware_manager
        if manager is not None and getattr(manager, "_middleware_resolvers", None):
            return False
        if self.get_stream_usage(field_details_list, path) is not None:
            return False
        named = item_type.of_type if is_non_null_type(item_type) else item_type
        if is_object_type(named):
            return _sync(named.is_type_of)
        if is_abstract_type(named):
            return _sync(named.resolve_type)
        return False

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Any,
        position_context: Any,
    ) -> Any:
        if not self._columnar(item_type, field_details_list, path):
            return super().complete_iterable_value(
                item_type, field_details_list, info, path, items, position_context
            )
        values = list(items)
        paths = _Items(path)
        is_awaitable = self.is_awaitable
        if any(is_awaitable(value) for value in values):
            return self._complete_awaited_items(item_type, field_details_list, info, paths, values)
        completed = self._column(
            item_type, field_details_list, info.parent_type, info.field_name, paths, values
        )
        if is_awaitable(completed):
            return self._finish_later(completed)
        return self._finish(*completed)

    async def _complete_awaited_items(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        paths: Paths,
        values: list[Any],
    ) -> list[Any]:
        # Awaitable items (async reference resolvers) are awaited together, and their
        # failures are completed as graphql-core completes an item that raised.
        waiting = [index for index, value in enumerate(values) if self.is_awaitable(value)]
        answers = await asyncio.gather(*(values[i] for i in waiting), return_exceptions=True)
        for index, answer in zip(waiting, answers, strict=True):
            if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                raise answer
            values[index] = answer
        completed = self._column(
            item_type, field_details_list, info.parent_type, info.field_name, paths, values
        )
        if self.is_awaitable(completed):
            completed = await completed
        return self._finish(*completed)

    async def _finish_later(
        self, completed: Awaitable[tuple[list[Any], dict[int, Recorded]]]
    ) -> Any:
        return self._finish(*(await completed))

    def _finish(self, values: list[Any], recorded: dict[int, Recorded]) -> list[Any]:
        """Record the errors in item order; the first failed item fails the whole list."""
        add = self.collected_errors.add
        for index, value in enumerate(values):
            for error, position in recorded.get(index, ()):
                add(error, position)
            if isinstance(value, _Failed):
                for error, position in value.recorded:
                    add(error, position)
                raise value.error
        return values

    # -- one column of values of one type --------------------------------------------------

    def _fail(
        self,
        raw: Exception,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        path: Path,
        recorded: Recorded,
    ) -> tuple[Any, Recorded]:
        """graphql-core's ``handle_field_error``: null here, or fail the parent if non-null."""
        error = located_error(raw, [d.node for d in field_details_list], path.as_list())
        if self.error_propagation and is_non_null_type(return_type):
            return _Failed(error, recorded), []
        return None, [*recorded, (error, path)]

    def _column(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        parent_type: GraphQLObjectType,
        field_name: str,
        paths: Paths,
        values: list[Any],
    ) -> Any:
        """Complete ``values`` (one per path) as ``return_type``: (completed, recorded errors).

        Awaitable when nested objects wait on resolvers; synchronous otherwise.
        """
        non_null = is_non_null_type(return_type)
        inner: Any = return_type.of_type if non_null else return_type  # type: ignore[union-attr]
        leaf = is_leaf_type(inner)
        coerce = inner.coerce_output_value if leaf else None
        out: list[Any] = [None] * len(values)
        recorded: dict[int, Recorded] = {}
        nested: list[int] = []  # objects and lists, completed below
        for index, value in enumerate(values):
            try:
                if value is None or value is Undefined:
                    completed = None
                elif isinstance(value, Exception):
                    raise value
                elif coerce is not None:
                    completed = coerce(value)
                    if completed is None or completed is Undefined:
                        self.complete_leaf_value(inner, value)  # raises graphql-core's error
                else:
                    nested.append(index)
                    continue
                if completed is None and non_null:
                    raise TypeError(
                        f"Cannot return null for non-nullable field {parent_type}.{field_name}."
                    )
                out[index] = completed
            except Exception as raw:
                out[index], errors = self._fail(
                    raw, return_type, field_details_list, paths[index], []
                )
                if errors:
                    recorded[index] = errors
        if not nested:
            return out, recorded
        if is_list_type(inner):
            done = self._lists(
                inner, field_details_list, parent_type, field_name, paths, values, nested
            )
        else:
            done = self._objects(
                inner, field_details_list, parent_type, field_name, paths, values, nested
            )
        rest = (return_type, field_details_list, parent_type, field_name, paths, out, recorded)
        if self.is_awaitable(done):
            return self._merge_later(done, *rest, nested)
        return self._merge(done, *rest, nested)

    async def _merge_later(self, done: Any, *rest: Any) -> tuple[list[Any], dict[int, Recorded]]:
        return self._merge(await done, *rest)

    def _merge(
        self,
        done: tuple[list[Any], dict[int, Recorded]],
        return_type: GraphQLOutputType,
        field_details_list: Any,
        parent_type: GraphQLObjectType,
        field_name: str,
        paths: Paths,
        out: list[Any],
        recorded: dict[int, Recorded],
        nested: list[int],
    ) -> tuple[list[Any], dict[int, Recorded]]:
        values, errors = done
        non_null = is_non_null_type(return_type)
        for position, index in enumerate(nested):
            value = values[position]
            prior = errors.get(position, [])
            if isinstance(value, _Failed):
                out[index], prior = self._fail(
                    value.error,
                    return_type,
                    field_details_list,
                    paths[index],
                    prior + value.recorded,
                )
            elif value is None and non_null:
                error = TypeError(
                    f"Cannot return null for non-nullable field {parent_type}.{field_name}."
                )
                out[index], prior = self._fail(
                    error, return_type, field_details_list, paths[index], prior
                )
            else:
                out[index] = value
            if prior:
                recorded[index] = prior
        return out, recorded

    def _lists(
        self,
        list_type: Any,
        field_details_list: Any,
        parent_type: GraphQLObjectType,
        field_name: str,
        paths: Paths,
        values: list[Any],
        nested: list[int],
    ) -> Any:
        """The lists among ``values`` at ``nested``, their items completed as one column."""
        item_type = list_type.of_type
        items: list[Any] = []
        item_paths = _ItemPaths(paths)
        spans: list[tuple[int, int] | Exception] = []
        for index in nested:
            value = values[index]
            if not is_iterable(value):
                spans.append(
                    GraphQLError(
                        "Expected Iterable, but did not find one for field"
                        f" '{parent_type}.{field_name}'."
                    )
                )  # located at the field by the caller, as graphql-core does
                continue
            start = len(items)
            for position, item in enumerate(value):
                items.append(item)
                item_paths.add(index, position)
            spans.append((start, len(items)))
        done = self._column(
            item_type, field_details_list, parent_type, field_name, item_paths, items
        )
        if self.is_awaitable(done):
            return self._lists_later(done, spans)
        return self._gather_lists(done, spans)

    async def _lists_later(self, done: Any, spans: list[tuple[int, int] | Exception]) -> Any:
        return self._gather_lists(await done, spans)

    @staticmethod
    def _gather_lists(
        done: tuple[list[Any], dict[int, Recorded]], spans: list[tuple[int, int] | Exception]
    ) -> tuple[list[Any], dict[int, Recorded]]:
        items, item_errors = done
        out: list[Any] = []
        recorded: dict[int, Recorded] = {}
        for position, span in enumerate(spans):
            if isinstance(span, Exception):
                out.append(_Failed(span, []))
                continue
            start, end = span
            errors: Recorded = []
            failed: _Failed | None = None
            for index in range(start, end):
                errors.extend(item_errors.get(index, ()))
                if isinstance(items[index], _Failed):
                    failed = items[index]
                    break  # graphql-core stops at the first item that fails the list
            if failed is not None:
                out.append(_Failed(failed.error, errors + failed.recorded))
                continue
            out.append(items[start:end])
            if errors:
                recorded[position] = errors
        return out, recorded

    def _objects(
        self,
        type_: Any,
        field_details_list: Any,
        parent_type: GraphQLObjectType,
        field_name: str,
        paths: Paths,
        values: list[Any],
        nested: list[int],
    ) -> Any:
        """The objects among ``values`` at ``nested``, grouped by runtime type, by column."""
        out: list[Any] = [None] * len(nested)
        recorded: dict[int, Recorded] = {}
        groups: dict[str, tuple[GraphQLObjectType, list[int]]] = {}
        if is_object_type(type_) and type_.is_type_of is None:
            groups[type_.name] = (type_, list(range(len(nested))))
        else:
            field_def = self.schema.get_field(parent_type, field_name)
            assert field_def is not None
            nodes = [d.node for d in field_details_list]
            info = self.build_resolve_info(field_def, nodes, parent_type, paths[nested[0]])
            for position, index in enumerate(nested):
                try:
                    runtime = self._runtime_type(type_, field_details_list, info, values[index])
                except Exception as raw:
                    out[position] = _Failed(raw, [])  # located by the caller
                    continue
                groups.setdefault(runtime.name, (runtime, []))[1].append(position)
        pending = []
        for runtime, positions in groups.values():
            grouped = self.collect_subfields(runtime, field_details_list)[0]
            sources = [values[nested[p]] for p in positions]
            done = self._fields(
                runtime, _Picked(paths, [nested[p] for p in positions]), sources, grouped
            )
            if self.is_awaitable(done):
                pending.append((positions, done))
            else:
                self._place(done, positions, out, recorded)
        if pending:
            return self._objects_later(pending, out, recorded)
        return out, recorded

    async def _objects_later(
        self, pending: list[Any], out: list[Any], recorded: dict[int, Recorded]
    ) -> Any:
        for positions, done in pending:
            self._place(await done, positions, out, recorded)
        return out, recorded

    @staticmethod
    def _place(
        done: Any, positions: list[int], out: list[Any], recorded: dict[int, Recorded]
    ) -> None:
        values, errors = done
        for place, position in enumerate(positions):
            out[position] = values[place]
            if place in errors:
                recorded[position] = errors[place]

    def _runtime_type(
        self, type_: Any, field_details_list: Any, info: GraphQLResolveInfo[Any], value: Any
    ) -> GraphQLObjectType:
        if is_abstract_type(type_):
            abstract: GraphQLAbstractType = type_
            resolve_type = abstract.resolve_type or self.type_resolver
            name = resolve_type(value, info, abstract)
            return self.ensure_valid_runtime_type(name, abstract, field_details_list, info, value)
        if type_.is_type_of is not None and not type_.is_type_of(value, info):
            from graphql.execution.executor import invalid_return_type_error

            raise invalid_return_type_error(type_, value, field_details_list)
        return type_  # type: ignore[no-any-return]

    # -- the fields of a column of objects -------------------------------------------------

    def _fields(
        self,
        parent_type: GraphQLObjectType,
        paths: Paths,
        sources: list[Any],
        grouped: dict[str, Any],
    ) -> Any:
        """Every field of ``sources`` (objects of ``parent_type``), one column at a time.

        A column that does not wait is completed at once, as graphql-core completes such a
        field before it awaits anything; columns that wait are completed afterwards, in
        field order. An object stops at its first failed non-null field.
        """
        count = len(sources)
        results: list[dict[str, Any] | _Failed] = [{} for _ in range(count)]
        recorded: dict[int, Recorded] = {}
        columns: list[tuple[str, Any]] = []  # (key, completed or awaiting)
        everyone = list(range(count))
        for key, details in grouped.items():
            alive = everyone
            if any(isinstance(result, _Failed) for result in results):
                alive = [i for i in everyone if not isinstance(results[i], _Failed)]
            if not alive:
                break
            column = self._field_column(parent_type, key, details, paths, sources, alive)
            if column is None:
                continue  # a field the type does not have: left out, as graphql-core does
            if self.is_awaitable(column):
                columns.append((key, (alive, column)))
                continue
            self._apply(key, alive, column, results, recorded)
            columns.append((key, None))
        if any(entry is not None for _, entry in columns):
            return self._fields_later(columns, results, recorded)
        return self._objects_done(columns, results, recorded)

    async def _fields_later(
        self, columns: list[Any], results: list[Any], recorded: dict[int, Recorded]
    ) -> Any:
        waiting = [entry for _, entry in columns if entry is not None]
        answers = await asyncio.gather(*(column for _, column in waiting))
        for (key, entry), answer in zip(
            [c for c in columns if c[1] is not None], answers, strict=True
        ):
            self._apply(key, entry[0], answer, results, recorded)
        return self._objects_done(columns, results, recorded)

    @staticmethod
    def _apply(
        key: str, alive: list[int], column: Any, results: list[Any], recorded: dict[int, Recorded]
    ) -> None:
        values, errors = column
        if not errors and not any(isinstance(value, _Failed) for value in values):
            for i, value in zip(alive, values, strict=True):
                result = results[i]
                if not isinstance(result, _Failed):
                    result[key] = value
            return
        for n, i in enumerate(alive):
            if isinstance(results[i], _Failed):
                continue  # failed by another field meanwhile: its errors go with it
            if n in errors:
                recorded.setdefault(i, []).extend(errors[n])
            value = values[n]
            if isinstance(value, _Failed):
                results[i] = _Failed(value.error, recorded.pop(i, []) + value.recorded)
            else:
                results[i][key] = value

    @staticmethod
    def _objects_done(columns: list[Any], results: list[Any], recorded: dict[int, Recorded]) -> Any:
        if all(entry is None for _, entry in columns):
            return results, recorded
        # columns that waited were completed last: their keys go back in field order
        order = [key for key, _ in columns]
        return [
            result
            if isinstance(result, _Failed)
            else {key: result[key] for key in order if key in result}
            for result in results
        ], recorded

    def _field_column(
        self,
        parent_type: GraphQLObjectType,
        key: str,
        details: Any,
        paths: Paths,
        sources: list[Any],
        alive: list[int],
    ) -> Any:
        """One field for the ``alive`` sources: (completed, recorded), or an awaitable of it."""
        node = details[0].node
        field_name = node.name.value
        field_def = self.schema.get_field(parent_type, field_name)
        if field_def is None:
            return None
        typename = parent_type.name
        field_paths = _FieldPaths(paths, alive, key, typename)
        if field_name == "__typename":
            return [typename] * len(alive), {}
        kind, how = _kind(field_def)
        return_type = field_def.type
        values: list[Any]
        if kind == _BASIC:
            default_resolver, python_name = how
            values = []
            for i in alive:
                try:
                    values.append(default_resolver(sources[i], python_name))
                except Exception as error:
                    values.append(error)
        elif kind == _SELF:
            values = []
            for i in alive:
                try:
                    values.append(how(sources[i]))
                except Exception as error:
                    values.append(error)
        else:
            info = self.build_resolve_info(
                field_def, [d.node for d in details], parent_type, field_paths[0]
            )
            try:
                args = (
                    get_argument_values(
                        field_def,
                        node,
                        self.variable_values,
                        details[0].fragment_variable_values,
                        self.hide_suggestions,
                    )
                    if field_def.args or node.arguments
                    else {}
                )
            except Exception as error:
                values = [error] * len(alive)
            else:
                if kind == _BATCH:
                    return self._batch(
                        how,
                        info,
                        args,
                        return_type,
                        details,
                        parent_type,
                        field_name,
                        field_paths,
                        [sources[i] for i in alive],
                    )
                values = self._general(
                    field_def, details, parent_type, field_paths, sources, alive, args
                )
                if any(self.is_awaitable(v) for v in values):
                    return self._general_later(
                        values, return_type, details, parent_type, field_name, field_paths
                    )
        return self._column(return_type, details, parent_type, field_name, field_paths, values)

    def _general(
        self,
        field_def: GraphQLField,
        details: Any,
        parent_type: GraphQLObjectType,
        field_paths: _FieldPaths,
        sources: list[Any],
        alive: list[int],
        args: dict[str, Any],
    ) -> list[Any]:
        resolve = field_def.resolve or self.field_resolver
        nodes = [d.node for d in details]
        values: list[Any] = []
        for n, i in enumerate(alive):
            info = self.build_resolve_info(field_def, nodes, parent_type, field_paths[n])
            try:
                values.append(resolve(sources[i], info, **args))
            except Exception as error:
                values.append(error)
        return values

    async def _general_later(self, values: list[Any], *rest: Any) -> Any:
        waiting = [n for n, value in enumerate(values) if self.is_awaitable(value)]
        answers = await asyncio.gather(*(values[n] for n in waiting), return_exceptions=True)
        for n, answer in zip(waiting, answers, strict=True):
            if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                raise answer
            values[n] = answer
        done = self._column(rest[0], rest[1], rest[2], rest[3], rest[4], values)
        if self.is_awaitable(done):
            done = await done
        return done

    def _batch(
        self,
        how: tuple[BatchResolver, StrawberryField],
        info: GraphQLResolveInfo[Any],
        args: dict[str, Any],
        return_type: GraphQLOutputType,
        details: Any,
        parent_type: GraphQLObjectType,
        field_name: str,
        field_paths: _FieldPaths,
        sources: list[Any],
    ) -> Any:
        resolve, field = how
        schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        strawberry_info = schema.config.info_class(_raw_info=info, _field=field)
        try:
            kwargs = convert_arguments(
                args,
                field.arguments,
                scalar_registry=strawberry_info.schema.schema_converter.scalar_registry,
                config=strawberry_info.schema.config,
                info=strawberry_info,
            )
            answer: Any = resolve(sources, strawberry_info, **kwargs)
        except Exception as error:
            return self._column(
                return_type, details, parent_type, field_name, field_paths, [error] * len(sources)
            )
        if self.is_awaitable(answer):
            return self._batch_later(
                answer, len(sources), return_type, details, parent_type, field_name, field_paths
            )
        return self._column(
            return_type,
            details,
            parent_type,
            field_name,
            field_paths,
            self._checked(answer, len(sources)),
        )

    async def _batch_later(self, answer: Awaitable[Sequence[Any]], count: int, *rest: Any) -> Any:
        try:
            values = self._checked(await answer, count)
        except Exception as error:
            values = [error] * count
        done = self._column(rest[0], rest[1], rest[2], rest[3], rest[4], values)
        if self.is_awaitable(done):
            done = await done
        return done

    @staticmethod
    def _checked(values: Sequence[Any], count: int) -> list[Any]:
        values = list(values)
        if len(values) != count:
            raise TypeError(f"a batch resolver answered {len(values)} values for {count} objects")
        return values


class _Items:
    """The paths of a list's items, by position."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def __getitem__(self, position: int) -> Path:
        return self.path.add_key(position, None)


class _ItemPaths:
    """The paths of list items: (index of the list's path, position in the list)."""

    __slots__ = ("items", "paths")

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.items: list[tuple[int, int]] = []

    def add(self, index: int, position: int) -> None:
        self.items.append((index, position))

    def __getitem__(self, n: int) -> Path:
        index, position = self.items[n]
        return self.paths[index].add_key(position, None)


class _Picked:
    """Some of another sequence's paths, by index, each built only when asked for."""

    __slots__ = ("indexes", "paths")

    def __init__(self, paths: Paths, indexes: list[int]) -> None:
        self.paths = paths
        self.indexes = indexes

    def __getitem__(self, n: int) -> Path:
        return self.paths[self.indexes[n]]


class _FieldPaths:
    """The response path of one field of each alive object, built only when asked for."""

    __slots__ = ("alive", "key", "paths", "typename")

    def __init__(self, paths: Paths, alive: list[int], key: str, typename: str) -> None:
        self.paths = paths
        self.alive = alive
        self.key = key
        self.typename = typename

    def __getitem__(self, n: int) -> Path:
        return self.paths[self.alive[n]].add_key(self.key, self.typename)
