"""The request pipeline: parse, validate, plan (cached), execute, shape."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    execute,
    parse,
    validate,
    visit,
)
from graphql.execution.values import get_variable_values

from gateway.access import OPEN_VIEW, AccessView, ResponseFacts
from gateway.api_schema import build_api_schema
from gateway.authorization import AuthorizationRules
from gateway.errors import GatewayError
from gateway.executor import Transport, execute_plan
from gateway.limits import (
    SLICING_ARGUMENTS,
    LimitExceeded,
    OperationLimits,
    Shape,
    check_cost,
    check_shape,
    estimate_cost,
    shape_of,
)
from gateway.operation import INTROSPECTION_FIELDS_LOCAL, PreparedOperation, prepare_operation
from gateway.planner import QueryPlanner
from gateway.query_plan import QueryPlan
from gateway.schema_view import api_document, restrict_schema
from gateway.shaping import ShapeCache, Shaper
from gateway.subjects import with_subject_keys
from gateway.supergraph import Supergraph, load_supergraph

JSON = dict[str, Any]


class RequestError(GatewayError):
    """The request cannot run at all; answered with errors and no data."""

    def __init__(
        self, message: str, code: str, *, status: int = 400, locations: list[JSON] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.locations = locations

    def as_error(self) -> JSON:
        error: JSON = {"message": self.message}
        if self.locations:
            error["locations"] = self.locations
        error["extensions"] = {"code": self.code}
        return error


@dataclass(frozen=True)
class PreparedRequest:
    """Everything about one (view, document, operation name) that does not depend on variables."""

    document: DocumentNode
    operation: PreparedOperation
    plan: QueryPlan
    introspection: DocumentNode | None
    shape_cache: ShapeCache
    view: AccessView = OPEN_VIEW
    schema: GraphQLSchema | None = None  # the view's schema (None: the API schema)
    document_hash: str = ""  # SHA-256 of the document as sent
    shape: Shape = field(default_factory=lambda: Shape(0, 0, 0))
    size: int = 0  # an estimate of the bytes the cache holds for it
    # What an access control works out once per prepared request (usage, costs).
    memo: dict[str, Any] = field(default_factory=dict)


def _locations(error: GraphQLError) -> list[JSON] | None:
    if not error.locations:
        return None
    return [{"line": loc.line, "column": loc.column} for loc in error.locations]


class Gateway:
    """One supergraph, its API schema and planner, and the plan cache."""

    def __init__(
        self,
        supergraph: Supergraph,
        *,
        plan_cache_size: int = 2048,
        plan_cache_bytes: int = 64 * 1024 * 1024,
        view_cache_size: int = 256,
        limits: OperationLimits | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.api_schema: GraphQLSchema = build_api_schema(supergraph)
        self.planner = QueryPlanner(supergraph, self.api_schema)
        self.authorization = AuthorizationRules.of(supergraph)
        self.plan_cache_size = plan_cache_size
        self.plan_cache_bytes = plan_cache_bytes
        self.view_cache_size = view_cache_size
        self.limits = limits or OperationLimits()
        self._agreed_limits: dict[tuple[tuple[str, int], ...], OperationLimits] = {}
        self._cache: OrderedDict[tuple[str, str, str | None], PreparedRequest] = OrderedDict()
        self._cache_bytes = 0
        self._schemas: OrderedDict[str, GraphQLSchema] = OrderedDict()
        self._api_document: DocumentNode | None = None

    @classmethod
    def from_sdl(cls, sdl: str, **kwargs: Any) -> Gateway:
        return cls(load_supergraph(sdl), **kwargs)

    def subgraph_urls(self) -> dict[str, str]:
        return {s.name: s.url for s in self.supergraph.subgraphs.values()}

    # -- preparing ----------------------------------------------------------------------

    def schema_for(self, view: AccessView) -> GraphQLSchema:
        """The schema a view sees: built once per view key, then looked up."""
        if view.filter is None and view.grants is None:
            return self.api_schema
        schema = self._schemas.get(view.key)
        if schema is not None:
            self._schemas.move_to_end(view.key)
            return schema
        if self._api_document is None:
            self._api_document = api_document(self.api_schema)
        roots = {
            kind: root.name
            for kind, root in (
                ("query", self.api_schema.query_type),
                ("mutation", self.api_schema.mutation_type),
                ("subscription", self.api_schema.subscription_type),
            )
            if root is not None
        }
        schema = restrict_schema(
            self._api_document,
            roots,
            view_filter=view.filter,
            grants=view.grants,
            rules=self.authorization,
            notes=view.notes,
        )
        self._schemas[view.key] = schema
        if len(self._schemas) > self.view_cache_size:
            self._schemas.popitem(last=False)
        return schema

    def prepare(
        self, query: str, operation_name: str | None, *, view: AccessView = OPEN_VIEW
    ) -> PreparedRequest:
        """Parse, validate against the view's schema and plan, or take it from the cache."""
        key = (view.key, query, operation_name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        prepared = self._prepare(query, operation_name, view)
        self._cache[key] = prepared
        self._cache_bytes += prepared.size
        # Bounded by entries and by an estimate of the bytes they hold: a stream of
        # large distinct documents must not grow the process without end.
        while self._cache and (
            len(self._cache) > self.plan_cache_size or self._cache_bytes > self.plan_cache_bytes
        ):
            _, evicted = self._cache.popitem(last=False)
            self._cache_bytes -= evicted.size
        return prepared

    def limits_for(self, view: AccessView) -> OperationLimits:
        """The process's limits with the view's own values (its agreement's) in their place."""
        if not view.limits:
            return self.limits
        key = tuple(sorted(view.limits.items()))
        limits = self._agreed_limits.get(key)
        if limits is None:
            if len(self._agreed_limits) > 1024:  # as many as agreements differ; bounded anyway
                self._agreed_limits.clear()
            limits = self._agreed_limits[key] = replace(self.limits, **view.limits)
        return limits

    def estimate(self, prepared: PreparedRequest, variables: Mapping[str, Any]) -> int:
        """The estimated cost of running ``prepared`` with ``variables`` (cached per page sizes)."""
        limits = self.limits_for(prepared.view)
        names = prepared.memo.get("slicing variables")
        if names is None:
            names = prepared.memo["slicing variables"] = _slicing_variables(prepared)
        key = "cost " + " ".join(repr(variables.get(n)) for n in names)
        cost = prepared.memo.get(key)
        if cost is None:
            schema = prepared.schema or self.api_schema
            cost = estimate_cost(prepared.operation, schema, variables, prepared.plan.node, limits)
            if len(prepared.memo) < 64:
                prepared.memo[key] = cost
        return int(cost)

    def check_cost(self, prepared: PreparedRequest, variables: Mapping[str, Any]) -> int:
        """Raise :class:`LimitExceeded` when the estimate is over the view's cap."""
        cost = self.estimate(prepared, variables)
        check_cost(cost, self.limits_for(prepared.view))
        return cost

    def _prepare(self, query: str, operation_name: str | None, view: AccessView) -> PreparedRequest:
        limits = self.limits_for(view)
        schema = self.schema_for(view)
        try:
            # The token cap stops the lexer: a huge document is refused before it is held.
            document = parse(query, max_tokens=limits.max_tokens)
        except GraphQLError as error:
            if "Document contains more than" in error.message:
                raise LimitExceeded(
                    f"This document has more than {limits.max_tokens} tokens, the most "
                    "allowed; send a smaller one.",
                    "max_tokens",
                    limits.max_tokens + 1,
                    limits.max_tokens,
                ) from None
            raise RequestError(
                error.message, "GRAPHQL_PARSE_FAILED", locations=_locations(error)
            ) from None
        # Counted before validation, whose cost grows with the square of the fields.
        aliases = _count_aliases(document)
        if aliases > limits.max_aliases:
            check_shape(Shape(depth=0, aliases=aliases, root_fields=0), limits)
        errors = validate(schema, document)
        if errors:
            first = errors[0]
            raise MultipleRequestErrors(
                [
                    RequestError(e.message, "GRAPHQL_VALIDATION_FAILED", locations=_locations(e))
                    for e in errors
                ],
                first.message,
            )
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name:
            chosen = [o for o in operations if o.name and o.name.value == operation_name]
            if not chosen:
                raise RequestError(
                    f'Unknown operation named "{operation_name}".', "OPERATION_RESOLUTION_FAILURE"
                )
            operation_node = chosen[0]
        elif len(operations) == 1:
            operation_node = operations[0]
        else:
            raise RequestError(
                "Must provide operation name if query contains multiple operations.",
                "OPERATION_RESOLUTION_FAILURE",
            )
        operation = prepare_operation(document, operation_node)
        shape = shape_of(operation)
        check_shape(shape, limits)
        planned = operation
        if view.subjects:
            # The keys of the people a response holds are fetched even when the caller
            # did not ask for them: the access log must say whose data left.
            planned = with_subject_keys(operation, self.api_schema, view.subjects)
        plan = self.planner.plan(planned)
        return PreparedRequest(
            document=document,
            operation=operation,
            plan=plan,
            introspection=_introspection_document(document, operation_node),
            shape_cache=ShapeCache(),
            view=view,
            schema=schema if schema is not self.api_schema else None,
            document_hash=hashlib.sha256(query.encode()).hexdigest(),
            shape=shape,
            size=_ENTRY_BYTES + _BYTES_PER_CHARACTER * len(query),
        )

    # -- running ------------------------------------------------------------------------

    def coerce_variables(
        self, prepared: PreparedRequest, variables: dict[str, Any] | None
    ) -> dict[str, Any]:
        definitions = prepared.operation.definition.variable_definitions or ()
        schema = prepared.schema or self.api_schema
        coerced = get_variable_values(schema, definitions, variables or {})
        if isinstance(coerced, list):
            raise MultipleRequestErrors(
                [
                    RequestError(
                        _without_value(e.message), "BAD_USER_INPUT", locations=_locations(e)
                    )
                    for e in coerced
                ],
                _without_value(coerced[0].message),
            )
        return coerced.coerced

    async def run(
        self,
        prepared: PreparedRequest,
        variables: dict[str, Any],
        transport: Transport,
        *,
        headers: Mapping[str, str] | None = None,
        facts: ResponseFacts | None = None,
    ) -> JSON:
        """Execute a prepared request; subgraph failures become errors in the result.

        ``headers`` go with every subgraph request; ``facts``, when given, is filled with
        what the response holds (fields, subjects, counted values).
        """
        operation = prepared.operation
        schema = prepared.schema or self.api_schema
        execution = await execute_plan(prepared.plan, transport, variables, headers)
        data = execution.data
        errors = execution.errors
        if prepared.introspection is not None:
            result = execute(schema, prepared.introspection, variable_values=variables)
            assert isinstance(result, ExecutionResult)  # introspection never awaits
            if result.data:
                data.update(result.data)
            errors.extend(dict(e.formatted) for e in result.errors or ())
        root = {
            "query": schema.query_type,
            "mutation": schema.mutation_type,
            "subscription": schema.subscription_type,
        }[operation.kind]
        assert root is not None
        shaper = Shaper(
            schema,
            variables,
            errors,
            has_conditions=operation.has_conditions,
            cache=prepared.shape_cache,
            view=prepared.view,
            facts=facts,
        )
        shaped = shaper.shape_root(root, operation.selections, data)
        shaper.finish_facts()
        response: JSON = {}
        if errors:
            response["errors"] = errors
        response["data"] = shaped
        return response


# A prepared request holds the document's AST, the operation and the plan: measured at about
# 20-30 bytes per character of the document, and a few KB however small it is.
_ENTRY_BYTES = 4096
_BYTES_PER_CHARACTER = 32


def _count_aliases(document: DocumentNode) -> int:
    count = 0

    class Aliases(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            nonlocal count
            if node.alias is not None:
                count += 1

    visit(document, Aliases())
    return count


def _slicing_variables(prepared: PreparedRequest) -> tuple[str, ...]:
    """The variables a slicing argument (first:, last:, limit:) uses: they change the cost."""
    names: list[str] = []

    def walk(selections: tuple[Any, ...]) -> None:
        for selection in selections:
            for argument in getattr(selection, "arguments", ()):
                if argument.name.value in SLICING_ARGUMENTS and isinstance(
                    argument.value, VariableNode
                ):
                    names.append(argument.value.name.value)
            walk(selection.selections or ())

    walk(prepared.operation.selections)
    return tuple(sorted(set(names)))


class MultipleRequestErrors(RequestError):
    """Several request errors at once (validation reports them all)."""

    def __init__(self, errors: list[RequestError], message: str) -> None:
        super().__init__(message, errors[0].code, status=errors[0].status)
        self.errors = errors


def _introspection_document(
    document: DocumentNode, operation: OperationDefinitionNode
) -> DocumentNode | None:
    """A document with only the operation's root introspection fields, or None."""
    fields = [
        s
        for s in operation.selection_set.selections
        if isinstance(s, FieldNode) and s.name.value in INTROSPECTION_FIELDS_LOCAL
    ]
    if not fields:
        return None
    only = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    others = tuple(d for d in document.definitions if not isinstance(d, OperationDefinitionNode))
    return DocumentNode(definitions=(only, *others))


# graphql-core ends a variable's coercion error with the whole value it was given
# ("..., found: {'familyName': ...}."): names and birth dates sent back in an error, which
# partners' systems and proxies log. The path and the reason say what to fix.
_FOUND = re.compile(r"(?:,\s*found|\s+Found):\s.*\Z", re.DOTALL)


def _without_value(message: str) -> str:
    trimmed = _FOUND.sub("", message)
    return trimmed if trimmed.endswith((".", "?")) else trimmed + "."
