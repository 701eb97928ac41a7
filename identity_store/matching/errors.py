"""Errors of the matching package."""

from __future__ import annotations


class MatchingError(Exception):
    """The root of the matching package's errors."""


class InputError(MatchingError):
    """Batch input that cannot be read as asked: says what is wrong, and where."""
