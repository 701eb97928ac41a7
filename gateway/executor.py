"""Running a query plan: fetches over HTTP, entity representations, and merging."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from gateway.query_plan import (
    FetchNode,
    FlattenNode,
    KeyRename,
    ParallelNode,
    PlanNode,
    ProjectedField,
    QueryPlan,
    SequenceNode,
)

JSON = dict[str, Any]
ResponsePathItem = str | int


class SubgraphFetchError(Exception):
    """A subgraph could not be reached or answered with something that is not GraphQL."""

    def __init__(self, service: str, reason: str, code: str = "SUBGRAPH_UNAVAILABLE") -> None:
        super().__init__(f"subgraph {service!r} is unavailable: {reason}")
        self.service = service
        self.reason = reason
        self.code = code


class Transport(Protocol):
    """Sends one GraphQL request to a named subgraph and returns its JSON response.

    ``headers`` are the request's own (the caller's, for the subgraphs to read).
    """

    async def send(
        self, service: str, payload: bytes, headers: Mapping[str, str] | None = None
    ) -> JSON: ...


@dataclass(frozen=True)
class _WithHeaders:
    """A transport that adds one request's headers to each of its fetches."""

    transport: Transport
    headers: Mapping[str, str]

    async def send(
        self, service: str, payload: bytes, headers: Mapping[str, str] | None = None
    ) -> JSON:
        merged = {**self.headers, **headers} if headers else self.headers
        return await self.transport.send(service, payload, merged)


@dataclass
class Execution:
    """The state of one request's plan run: merged data and errors so far."""

    data: JSON = field(default_factory=dict)
    errors: list[JSON] = field(default_factory=list)


async def execute_plan(
    plan: QueryPlan,
    transport: Transport,
    variables: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Execution:
    """Run every fetch of ``plan``; failures become errors, never exceptions.

    ``headers`` go with every subgraph request of this run.
    """
    state = Execution()
    if headers:
        transport = _WithHeaders(transport, headers)
    if plan.node is not None:
        await _run(plan.node, transport, variables, state)
    return state


async def _run(
    node: PlanNode, transport: Transport, variables: dict[str, Any], state: Execution
) -> None:
    if isinstance(node, SequenceNode):
        for child in node.nodes:
            await _run(child, transport, variables, state)
    elif isinstance(node, ParallelNode):
        await asyncio.gather(*(_run(c, transport, variables, state) for c in node.nodes))
    elif isinstance(node, FlattenNode):
        await _run_entities(node, transport, variables, state)
    else:
        await _run_root(node, transport, variables, state)


def _variables_for(fetch: FetchNode, variables: dict[str, Any]) -> dict[str, Any]:
    return {name: variables[name] for name in fetch.variable_usages if name in variables}


def _clean_error(error: Any, path: list[ResponsePathItem] | None, service: str) -> JSON:
    if not isinstance(error, dict):
        return {"message": str(error), "extensions": {"serviceName": service}}
    cleaned: JSON = {"message": str(error.get("message", "subgraph error"))}
    if path is not None:
        cleaned["path"] = path
    extensions = error.get("extensions")
    cleaned["extensions"] = {
        **(extensions if isinstance(extensions, dict) else {}),
        "serviceName": service,
    }
    return cleaned


async def _run_root(
    fetch: FetchNode, transport: Transport, variables: dict[str, Any], state: Execution
) -> None:
    payload = orjson.dumps(
        {"query": fetch.operation, "variables": _variables_for(fetch, variables)}
    )
    try:
        response = await transport.send(fetch.service, payload)
    except SubgraphFetchError as failure:
        for key in fetch.owed or ("",):
            state.errors.append(
                {
                    "message": str(failure),
                    **({"path": [key]} if key else {}),
                    "extensions": {"code": failure.code, "serviceName": fetch.service},
                }
            )
        return
    data = response.get("data")
    if isinstance(data, dict):
        if fetch.renames:
            _rename_keys(data, fetch.renames)
        deep_merge(state.data, data)
    for error in response.get("errors") or ():
        path = error.get("path") if isinstance(error, dict) else None
        state.errors.append(
            _clean_error(error, path if isinstance(path, list) else None, fetch.service)
        )


def collect_entities(data: Any, path: tuple[str, ...]) -> list[JSON]:
    """The objects at ``path`` ("@" = each list item, at any depth); nulls are skipped."""
    current = _objects([data])
    for segment in path:
        if segment != "@":  # lists are unwrapped at every step anyway
            current = _objects([obj.get(segment) for obj in current])
    return current


def _objects(values: list[Any]) -> list[JSON]:
    found: list[JSON] = []
    for value in values:
        if isinstance(value, dict):
            found.append(value)
        elif isinstance(value, list):
            found.extend(_objects(value))
    return found


def entity_paths(data: Any, path: tuple[str, ...]) -> dict[int, list[ResponsePathItem]]:
    """The concrete response path of each object at ``path``, by ``id()``; for errors only."""
    found: dict[int, list[ResponsePathItem]] = {}

    def walk(value: Any, i: int, concrete: list[ResponsePathItem]) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, i, [*concrete, index])
        elif isinstance(value, dict):
            if i == len(path):
                found.setdefault(id(value), concrete)
            elif path[i] == "@":
                walk(value, i + 1, concrete)
            else:
                walk(value.get(path[i]), i + 1, [*concrete, path[i]])

    walk(data, 0, [])
    return found


def project(value: Any, fields: tuple[ProjectedField, ...]) -> Any:
    """Copy the representation fields out of a fetched object; None if one is missing."""
    if value is None:
        return None
    if isinstance(value, list):
        return [project(item, fields) for item in value]
    rep: JSON = {}
    for f in fields:
        if f.only_for is not None and value.get("__typename") not in f.only_for:
            continue
        if f.response_key not in value:
            return _MISSING
        item = value[f.response_key]
        if f.children is not None and item is not None:
            item = project(item, f.children)
            if item is _MISSING:
                return _MISSING
        rep[f.name] = item
    return rep


_MISSING: Any = object()


async def _run_entities(
    node: FlattenNode, transport: Transport, variables: dict[str, Any], state: Execution
) -> None:
    fetch = node.node
    assert fetch.requires is not None
    shapes = {r.type_name: r.fields for r in fetch.requires}
    renames = {r.type_name: r.sent_typename for r in fetch.requires if r.sent_typename}
    representations: list[JSON] = []
    targets: list[list[JSON]] = []
    index: dict[bytes, int] = {}
    for obj in collect_entities(state.data, node.path):
        shape = shapes.get(obj.get("__typename"))  # type: ignore[arg-type]
        if shape is None:
            continue
        rep = project(obj, shape)
        if rep is _MISSING or rep is None:
            continue
        if renames:
            sent = renames.get(obj["__typename"])
            if sent is not None:
                rep["__typename"] = sent
        key = orjson.dumps(rep)
        position = index.get(key)
        if position is None:
            index[key] = len(representations)
            representations.append(rep)
            targets.append([obj])
        else:
            targets[position].append(obj)
    if not representations:
        return
    request_variables = _variables_for(fetch, variables)
    request_variables["representations"] = representations
    payload = orjson.dumps({"query": fetch.operation, "variables": request_variables})
    try:
        response = await transport.send(fetch.service, payload)
    except SubgraphFetchError as failure:
        paths = entity_paths(state.data, node.path)
        state.errors.append(
            {
                "message": str(failure),
                "path": paths.get(id(targets[0][0]), list(node.path)),
                "extensions": {"code": failure.code, "serviceName": fetch.service},
            }
        )
        return
    data = response.get("data")
    entities = data.get("_entities") if isinstance(data, dict) else None
    if isinstance(entities, list):
        if fetch.renames:
            _rename_keys(entities, fetch.renames)
        for position, entity in enumerate(entities[: len(targets)]):
            if isinstance(entity, dict):
                for obj in targets[position]:
                    deep_merge(obj, entity)
    errors = response.get("errors") or ()
    paths = entity_paths(state.data, node.path) if errors else {}
    for error in errors:
        path = error.get("path") if isinstance(error, dict) else None
        mapped: list[ResponsePathItem] | None = None
        if (
            isinstance(path, list)
            and len(path) >= 2
            and path[0] == "_entities"
            and isinstance(path[1], int)
            and path[1] < len(targets)
        ):
            mapped = [*paths.get(id(targets[path[1]][0]), []), *path[2:]]
        elif targets:
            mapped = paths.get(id(targets[0][0]))
        state.errors.append(_clean_error(error, mapped, fetch.service))


def _rename_keys(data: Any, renames: tuple[KeyRename, ...]) -> None:
    """Put aliased fields back under their own keys (deepest renames come first)."""
    for rename in renames:
        for obj in collect_entities(data, rename.path):
            if rename.alias in obj:
                obj[rename.key] = obj.pop(rename.alias)


def deep_merge(target: JSON, source: JSON) -> None:
    """Merge ``source`` into ``target`` in place: objects key by key, lists item by item."""
    for key, value in source.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_merge(current, value)
        elif isinstance(current, list) and isinstance(value, list) and len(current) == len(value):
            _merge_lists(current, value)
        else:
            target[key] = value


def _merge_lists(current: list[Any], value: list[Any]) -> None:
    for i, item in enumerate(value):
        existing = current[i]
        if isinstance(existing, dict) and isinstance(item, dict):
            deep_merge(existing, item)
        elif isinstance(existing, list) and isinstance(item, list) and len(existing) == len(item):
            _merge_lists(existing, item)
        else:
            current[i] = item
