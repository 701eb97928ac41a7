"""The gateway's error root and the errors raised where they happen."""

from __future__ import annotations


class GatewayError(Exception):
    """Root of every error the gateway raises; ``code`` becomes ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion

    def __str__(self) -> str:
        if self.suggestion:
            return f"{self.message} {self.suggestion}"
        return self.message


class SupergraphError(GatewayError):
    """The supergraph SDL is malformed; the message names the problem and where it is."""

    code = "INVALID_SUPERGRAPH"


class PlanningError(GatewayError):
    """An operation that validated against the API schema could not be planned."""

    code = "QUERY_PLANNING_FAILED"
