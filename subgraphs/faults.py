"""Logging a subgraph's own faults without the personal data their messages may carry."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable

from graphql import GraphQLError


def log_faults(
    errors: Iterable[GraphQLError],
    logger: logging.Logger,
    expected: tuple[type[BaseException], ...] = (),
) -> None:
    """Log the errors that are faults of ours: type, path and stack, never a message.

    A message may quote what a client sent (a name, a birth date) or a row's values;
    those stay out of logs. Errors of the request itself (parsing, validation, bad input)
    and ``expected`` failures are the client's answer, not a fault, and are not logged.
    """
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, (GraphQLError, *expected)):
            continue
        logger.error(
            "unexpected %s at %s\n%s",
            type(original).__qualname__,
            ".".join(str(key) for key in error.path or ()),
            "".join(traceback.format_tb(original.__traceback__)),
        )
