"""Walking the chain record by record and judging it, without I/O (fed by ``verify``).

Each record is checked on its own (its content must give its stored hash), then against its
predecessor (its seq must be the next one, its ``prev_hash`` the predecessor's hash). A
``prev_hash`` that matches the wrong record is told apart from one that matches none only
once the whole log has been read: the walk collects those (few) hashes, ``verify`` looks
them up in one more pass, and :meth:`ChainWalk.resolve` names the finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from policies.audit.chain import GENESIS_HASH, record_hash
from policies.audit.checkpoint import Checkpoint, key_id, signature_holds
from policies.audit.entry import AccessEntry
from policies.audit.report import Finding, FindingKind, VerifyReport


class ChainWalk:
    """The verifier's state: feed records in seq order, each followed by its checkpoints."""

    def __init__(self, public_keys: Sequence[Ed25519PublicKey], *, max_findings: int = 1000):
        self._keys = {key_id(key): key for key in public_keys}
        self._max = max_findings
        self._findings: list[Finding] = []
        self._total = 0
        self._records = 0
        self._prev_seq = 0
        self._prev_hash = GENESIS_HASH
        # prev_hash -> the records that carry it but do not follow their predecessor
        self._breaks: dict[str, list[int]] = {}
        self._checkpoints = 0
        self._verified = 0
        self._last_verified: int | None = None
        self._last_matching = 0
        self._uncovered: tuple[int, dt.datetime | None] | None = None

    def record(self, seq: int, prev_hash: str, hash: str, entry: AccessEntry | None) -> None:
        """Judge the record at ``seq``; ``entry`` is None when its row no longer parses."""
        self._records += 1
        intact = entry is not None and record_hash(prev_hash, entry) == hash
        if not intact:
            self._add(
                seq, "changed", f"record {seq} was changed: its content no longer gives its hash"
            )
        if seq != self._prev_seq + 1:
            first, last = self._prev_seq + 1, seq - 1
            span = f"record {first} is" if first == last else f"records {first}..{last} are"
            self._add(first, "deleted", f"{span} missing: deleted from the log")
        elif intact and prev_hash != self._prev_hash:
            self._total += 1
            if sum(map(len, self._breaks.values())) + len(self._findings) < self._max:
                self._breaks.setdefault(prev_hash, []).append(seq)
        self._prev_seq, self._prev_hash = seq, hash
        if self._uncovered is None:
            self._uncovered = (seq, entry.at if entry is not None else None)

    def checkpoint(self, checkpoint: Checkpoint) -> None:
        """Judge a checkpoint, fed after the record it names (or after the last record)."""
        self._checkpoints += 1
        seq = checkpoint.seq
        signed = False
        if self._keys:
            key = self._keys.get(checkpoint.key_id)
            if key is None:
                self._add(
                    seq,
                    "unknown_key",
                    f"checkpoint {seq} is signed by key {checkpoint.key_id}, which is not among "
                    "the public keys given: forged, or signed by a key left out of the check",
                )
            elif not signature_holds(checkpoint, key):
                self._add(
                    seq,
                    "bad_signature",
                    f"checkpoint {seq}'s signature does not hold: the checkpoint was altered",
                )
            else:
                signed = True
        if seq > self._prev_seq:
            first = self._prev_seq + 1
            self._add(
                first,
                "deleted",
                f"checkpoint {seq} was signed over record {seq}, but the log ends at "
                f"{self._prev_seq}: records {first}..{seq} (at least) were deleted",
            )
        elif seq == self._prev_seq:
            if checkpoint.hash != self._prev_hash:
                since = self._last_matching + 1
                self._add(
                    seq,
                    "rewritten",
                    f"records {since}..{seq} were rewritten after checkpoint {seq} was signed: "
                    f"record {seq}'s hash is not the signed one",
                )
            else:
                self._last_matching = seq
                if signed:
                    self._verified += 1
                    self._last_verified = seq
                    self._uncovered = None
        # A checkpoint over a record inside a gap: the gap is the finding.

    def wanted_hashes(self) -> set[str]:
        """The ``prev_hash`` values to look up among all records' hashes before resolving."""
        return {h for h in self._breaks if h != GENESIS_HASH}

    def resolve(self, seq_of_hash: Mapping[str, int]) -> None:
        """Name the broken links, given which record (if any) has each wanted hash."""
        for prev_hash, seqs in self._breaks.items():
            for seq in seqs:
                self._total -= 1  # counted when found; _add counts it again
                if prev_hash == GENESIS_HASH:
                    self._add(
                        seq, "reordered", f"record {seq} claims to be the first record: moved"
                    )
                elif prev_hash in seq_of_hash:
                    other = seq_of_hash[prev_hash]
                    self._add(
                        seq,
                        "reordered",
                        f"record {seq} follows record {other}, not {_before(seq)}: "
                        "the records were reordered",
                    )
                else:
                    self._add(
                        seq,
                        "deleted",
                        f"record {seq} does not follow {_before(seq)}, and the record it "
                        "follows is nowhere in the log: deleted (and the later records "
                        f"renumbered), or {_before(seq)} was replaced",
                    )
        self._breaks.clear()

    def report(self, now: dt.datetime, unsigned_grace: dt.timedelta) -> VerifyReport:
        """The report, once every record and checkpoint has been fed and links resolved."""
        warnings: list[str] = []
        if not self._keys:
            warnings.append(
                "no public key was given: checkpoint signatures were not checked, so a chain "
                "recomputed by someone who can write to the database would pass"
            )
        elif self._uncovered is not None:
            first, at = self._uncovered
            span = f"records {first}..{self._prev_seq}"
            if at is not None and now - at > unsigned_grace:
                self._add(
                    first,
                    "unsigned",
                    f"{span} are covered by no valid checkpoint although record {first} was "
                    f"logged more than {unsigned_grace} ago: checkpoints were deleted, or no "
                    "writer with the signing key has run since",
                )
            elif at is not None:
                warnings.append(f"{span} are not yet covered by a checkpoint (they are recent)")
        return VerifyReport(
            records=self._records,
            last_seq=self._prev_seq,
            checkpoints=self._checkpoints,
            verified_checkpoints=self._verified,
            last_verified_checkpoint=self._last_verified,
            findings=tuple(sorted(self._findings)),
            total_findings=self._total,
            warnings=tuple(warnings),
        )

    def _add(self, seq: int, kind: FindingKind, message: str) -> None:
        self._total += 1
        if len(self._findings) < self._max:
            self._findings.append(Finding(seq, kind, message))


def _before(seq: int) -> str:
    return f"record {seq - 1}" if seq > 1 else "the start of the chain"
