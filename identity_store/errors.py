"""The registry's errors; the edges turn them into GraphQL errors with ``extensions.code``."""

from __future__ import annotations


class RegistryError(Exception):
    """Root of the registry's errors; ``code`` becomes the GraphQL ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"


class UnsupportedDatabase(RegistryError):
    """A database URL the registry cannot use; the message names the URLs it can."""


class InvalidInput(RegistryError):
    """Input that breaks a registry rule; the message says what is wrong and what to do."""

    code = "BAD_USER_INPUT"


class InvalidCursor(InvalidInput):
    """A pagination cursor the registry did not issue."""


class AlreadyRegistered(InvalidInput):
    """A SPID or Khmer ID that the registry already holds."""


class UnknownPerson(InvalidInput):
    """A SPID, well formed, that no one in the registry holds."""


class NotMergeable(InvalidInput):
    """A merge, unmerge or review decision the registry's state does not allow."""
