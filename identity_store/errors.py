"""The registry's error root; the edges turn these into ``BAD_USER_INPUT`` and friends."""

from __future__ import annotations


class RegistryError(Exception):
    """Root of the registry's errors; ``code`` becomes the GraphQL ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"


class InvalidInput(RegistryError):
    """Input that breaks a registry rule; the message says what is wrong and what to do."""

    code = "BAD_USER_INPUT"
