"""What verifying the access log found: one :class:`Finding` per problem, in a report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FindingKind = Literal[
    "changed",  # a record's content no longer gives its stored hash
    "deleted",  # records are missing: a gap, a predecessor nowhere, a truncated end
    "reordered",  # a record follows another record than its predecessor
    "rewritten",  # the chain holds together, but not with what a checkpoint signed
    "bad_signature",  # a checkpoint whose signature does not hold
    "unknown_key",  # a checkpoint signed by a key that is not among those given
    "unsigned",  # old records that no valid checkpoint covers
]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, at the record (or checkpoint) ``seq``; ``message`` names no personal data."""

    seq: int
    kind: FindingKind
    message: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`policies.audit.verify`: intact when nothing was found.

    ``findings`` holds at most the first ``max_findings`` problems (by seq);
    ``total_findings`` counts them all.
    """

    records: int
    last_seq: int
    checkpoints: int
    verified_checkpoints: int
    last_verified_checkpoint: int | None
    findings: tuple[Finding, ...]
    total_findings: int
    warnings: tuple[str, ...]

    @property
    def intact(self) -> bool:
        """Whether the log is exactly what was written (as far as the keys given can tell)."""
        return self.total_findings == 0
