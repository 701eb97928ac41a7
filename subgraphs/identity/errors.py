"""Turning the registry's errors into GraphQL errors with ``extensions.code``, at the edge."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult

from identity_store import RegistryError
from subgraphs.faults import log_faults

logger = logging.getLogger("tonle.identity")

INTERNAL_MESSAGE = "The identity subgraph failed to answer; the error was logged. Try again later."


def is_unexpected(error: GraphQLError) -> bool:
    """Whether ``error`` comes from a fault of ours rather than from the request."""
    original = error.original_error
    return original is not None and not isinstance(original, RegistryError | GraphQLError)


def shape_error(error: GraphQLError) -> GraphQLError:
    """``error`` with ``extensions.code``; a fault of ours keeps no message but that code.

    An unexpected error's message may quote SQL or the values of a row, that is personal
    data, so it never reaches the client.
    """
    original = error.original_error
    if isinstance(original, RegistryError):
        code, message = original.code, str(original)
    elif is_unexpected(error):
        code, message = "INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE
    else:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


def log_unexpected(errors: list[GraphQLError], _: ExecutionContext | None = None) -> None:
    """Log faults of ours: type, path and stack only, never a message (it may hold data)."""
    log_faults(errors, logger, (RegistryError,))


class RegistryErrors(SchemaExtension):
    """Give every error of a result its ``extensions.code`` before it leaves."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, ExecutionResult | GraphQLExecutionResult) and result.errors:
            result.errors = [shape_error(error) for error in result.errors]


class Forbidden(RegistryError):
    """The caller's credentials do not allow this (register, for this programme, decide)."""

    code = "FORBIDDEN"
