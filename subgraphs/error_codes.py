"""Every error a subgraph answers carries ``extensions.code``, and none carries our internals.

graphql-core leaves parse, validation and variable errors without a code, and strawberry
sends an unexpected exception's own message (Python's words, sometimes SQL or a row's
values). :class:`ErrorCodes` gives each error of a result its code on the way out:
``GRAPHQL_PARSE_FAILED``, ``GRAPHQL_VALIDATION_FAILED``, ``BAD_USER_INPUT`` for variables
that do not fit their types, the code of an error of ours, and ``INTERNAL_SERVER_ERROR``
with a fixed message for a fault of ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"


def code_of(error: BaseException) -> str | None:
    """The code an error of ours declares (a ``code`` class attribute), if any."""
    code = getattr(error, "code", None)
    return code if isinstance(code, str) else None


class ErrorCodes(SchemaExtension):
    """Give every error of a result its ``extensions.code`` before it leaves.

    ``expected`` are the exception types whose message is written for the client (an
    error root with a ``code``); any other exception is a fault of ours and its message
    is replaced by ``internal_message``.
    """

    expected: ClassVar[tuple[type[BaseException], ...]] = ()
    internal_message: ClassVar[str] = (
        "The subgraph failed to answer; the error was logged. Try again later."
    )

    def __init__(self) -> None:
        self.stage: str | None = None  # set when parsing or validation refused the request

    def on_parse(self) -> Iterator[None]:
        yield
        if self.execution_context.pre_execution_errors:
            self.stage = PARSE_FAILED

    def on_validate(self) -> Iterator[None]:
        yield
        if self.execution_context.pre_execution_errors and self.stage is None:
            self.stage = VALIDATION_FAILED

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, ExecutionResult | GraphQLExecutionResult) and result.errors:
            result.errors = [self.shape(error) for error in result.errors]

    def shape(self, error: GraphQLError) -> GraphQLError:
        """``error`` with its code; a fault of ours keeps no message but the fixed one."""
        original = error.original_error
        message = error.message
        if original is not None and isinstance(original, self.expected):
            code = code_of(original) or BAD_USER_INPUT
            message = str(original)
        elif (error.extensions or {}).get("code"):
            return error
        elif self.stage is not None:
            code = self.stage
        elif error.path is None:
            # Outside any field, after validation: the variables did not fit their types.
            code = BAD_USER_INPUT
        elif original is None or isinstance(original, GraphQLError):
            code = (code_of(original) if original is not None else None) or INTERNAL
        else:
            code, message = INTERNAL, self.internal_message
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
