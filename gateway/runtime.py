"""The request pipeline: parse, validate, plan (cached), execute, shape."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from gateway.api_schema import build_api_schema
from gateway.errors import GatewayError
from gateway.executor import Transport, execute_plan
from gateway.operation import INTROSPECTION_FIELDS_LOCAL, PreparedOperation, prepare_operation
from gateway.planner import QueryPlanner
from gateway.query_plan import QueryPlan
from gateway.shaping import ShapeCache, Shaper
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
    """Everything about one (document, operation name) that does not depend on variables."""

    document: DocumentNode
    operation: PreparedOperation
    plan: QueryPlan
    introspection: DocumentNode | None
    shape_cache: ShapeCache


def _locations(error: GraphQLError) -> list[JSON] | None:
    if not error.locations:
        return None
    return [{"line": loc.line, "column": loc.column} for loc in error.locations]


class Gateway:
    """One supergraph, its API schema and planner, and the plan cache."""

    def __init__(self, supergraph: Supergraph, *, plan_cache_size: int = 2048) -> None:
        self.supergraph = supergraph
        self.api_schema: GraphQLSchema = build_api_schema(supergraph)
        self.planner = QueryPlanner(supergraph, self.api_schema)
        self.plan_cache_size = plan_cache_size
        self._cache: OrderedDict[tuple[str, str, str | None], PreparedRequest] = OrderedDict()

    @classmethod
    def from_sdl(cls, sdl: str, **kwargs: Any) -> Gateway:
        return cls(load_supergraph(sdl), **kwargs)

    def subgraph_urls(self) -> dict[str, str]:
        return {s.name: s.url for s in self.supergraph.subgraphs.values()}

    # -- preparing ----------------------------------------------------------------------

    def prepare(self, query: str, operation_name: str | None, *, view: str = "") -> PreparedRequest:
        """Parse, validate and plan, or take the result from the cache.

        ``view`` names the schema view the request runs against; a partner's policy
        view will key its own plans here.
        """
        key = (view, query, operation_name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        prepared = self._prepare(query, operation_name)
        self._cache[key] = prepared
        if len(self._cache) > self.plan_cache_size:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str, operation_name: str | None) -> PreparedRequest:
        try:
            document = parse(query)
        except GraphQLError as error:
            raise RequestError(
                error.message, "GRAPHQL_PARSE_FAILED", locations=_locations(error)
            ) from None
        errors = validate(self.api_schema, document)
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
        plan = self.planner.plan(operation)
        return PreparedRequest(
            document=document,
            operation=operation,
            plan=plan,
            introspection=_introspection_document(document, operation_node),
            shape_cache=ShapeCache(),
        )

    # -- running ------------------------------------------------------------------------

    def coerce_variables(
        self, prepared: PreparedRequest, variables: dict[str, Any] | None
    ) -> dict[str, Any]:
        definitions = prepared.operation.definition.variable_definitions or ()
        coerced = get_variable_values(self.api_schema, definitions, variables or {})
        if isinstance(coerced, list):
            raise MultipleRequestErrors(
                [
                    RequestError(e.message, "BAD_USER_INPUT", locations=_locations(e))
                    for e in coerced
                ],
                coerced[0].message,
            )
        return coerced.coerced

    async def run(
        self, prepared: PreparedRequest, variables: dict[str, Any], transport: Transport
    ) -> JSON:
        """Execute a prepared request; subgraph failures become errors in the result."""
        operation = prepared.operation
        execution = await execute_plan(prepared.plan, transport, variables)
        data = execution.data
        errors = execution.errors
        if prepared.introspection is not None:
            result = execute(self.api_schema, prepared.introspection, variable_values=variables)
            assert isinstance(result, ExecutionResult)  # introspection never awaits
            if result.data:
                data.update(result.data)
            errors.extend(dict(e.formatted) for e in result.errors or ())
        root = {
            "query": self.api_schema.query_type,
            "mutation": self.api_schema.mutation_type,
            "subscription": self.api_schema.subscription_type,
        }[operation.kind]
        assert root is not None
        shaper = Shaper(
            self.api_schema,
            variables,
            errors,
            has_conditions=operation.has_conditions,
            cache=prepared.shape_cache,
        )
        shaped = shaper.shape_root(root, operation.selections, data)
        response: JSON = {}
        if errors:
            response["errors"] = errors
        response["data"] = shaped
        return response


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
