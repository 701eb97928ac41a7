"""Turning the registry's errors into GraphQL errors with ``extensions.code``, at the edge."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.types import ExecutionContext

from identity_store import RegistryError
from subgraphs.error_codes import ErrorCodes
from subgraphs.faults import log_faults

logger = logging.getLogger("tonle.identity")

INTERNAL_MESSAGE = "The identity subgraph failed to answer; the error was logged. Try again later."


def log_unexpected(errors: list[GraphQLError], _: ExecutionContext | None = None) -> None:
    """Log faults of ours: type, path and stack only, never a message (it may hold data)."""
    log_faults(errors, logger, (RegistryError,))


class RegistryErrors(ErrorCodes):
    """Give every error of a result its ``extensions.code`` before it leaves.

    The registry's errors keep their message and code; any other exception's message
    may quote SQL or the values of a row, that is personal data, so it never reaches
    the client: it becomes ``INTERNAL_SERVER_ERROR`` with a fixed message.
    """

    expected = (RegistryError,)
    internal_message = INTERNAL_MESSAGE


class Forbidden(RegistryError):
    """The caller's credentials do not allow this (register, for this programme, decide)."""

    code = "FORBIDDEN"
