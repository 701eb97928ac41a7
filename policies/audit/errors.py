"""The access log's errors; the edges turn them into GraphQL errors with ``extensions.code``.

No message carries personal data: they name sequence numbers, tables and settings, never a
SPID, a household ID or a value the database refused.
"""

from __future__ import annotations

from policies.errors import PolicyError


class AuditError(PolicyError):
    """Root of the access log's errors; ``code`` becomes the GraphQL ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"


class AccessLogUnavailable(AuditError):
    """The access record could not be committed: the response must not be sent."""


class SigningKeyError(AuditError):
    """A signing or public key file that is missing, unreadable or not an Ed25519 key."""


class InvalidAccessCursor(AuditError):
    """A pagination cursor the access log did not issue."""

    code = "BAD_USER_INPUT"
