"""The policies package's errors; the edges turn them into messages or GraphQL errors."""

from __future__ import annotations


class PolicyError(Exception):
    """Root of the policy errors: a policy, partner or key that cannot be used as given."""
