"""How a call to an operator's system fails, as the partner will read it."""

from __future__ import annotations

OPERATOR_UNAVAILABLE = "OPERATOR_UNAVAILABLE"
OPERATOR_TIMEOUT = "OPERATOR_TIMEOUT"


class OperatorError(Exception):
    """The operator's system failed; ``code`` says how (unavailable or timed out)."""

    def __init__(self, message: str, code: str = OPERATOR_UNAVAILABLE) -> None:
        super().__init__(message)
        self.code = code


class SettingsError(SystemExit):
    """A missing or malformed setting; the message names the variable and what to give."""
