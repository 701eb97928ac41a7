"""The federation schema class of operator subgraphs: quiet about operators' failures."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionContext

from subgraphs.entities import CheckedEntities
from subgraphs.error_codes import ErrorCodes
from subgraphs.faults import log_faults
from subgraphs.operator.errors import OPERATOR_TIMEOUT, OPERATOR_UNAVAILABLE, OperatorError
from subgraphs.scalars import SCALAR_OVERRIDES

logger = logging.getLogger("tonle.operator")
EXPECTED = frozenset({OPERATOR_TIMEOUT, OPERATOR_UNAVAILABLE})


class OperatorErrors(ErrorCodes):
    """Codes on every error; a fault of ours keeps no message (it may quote what was asked)."""

    expected = (OperatorError,)
    internal_message = "The subgraph failed to answer; the error was logged. Try again later."


class OperatorSchema(CheckedEntities):
    """A federation schema that logs an operator's failure once per request, not per field.

    Strawberry logs every error with its stack by default; an operator outage gives one
    error per affected field, and logging a thousand of them would cost more than the
    request. Faults of ours are logged without their messages; the request's own errors
    (a malformed date, say) are the client's answer and are not logged.

    Every error leaves with ``extensions.code`` (:class:`OperatorErrors`), malformed
    ``_entities`` representations are refused one by one, and dates are read in our words.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("extensions", [OperatorErrors])
        kwargs.setdefault("scalar_overrides", SCALAR_OVERRIDES)
        super().__init__(*args, **kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        expected = [e for e in errors if (e.extensions or {}).get("code") in EXPECTED]
        if expected:
            logger.warning("%s (%d fields)", expected[0].message, len(expected))
        # Anything else is logged without its message, which may quote what was asked.
        log_faults(errors, logger, (OperatorError,))
