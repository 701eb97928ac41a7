"""The access log: one hash-chained, append-only record per request that returned personal
data, with Ed25519-signed checkpoints, and the means to verify and to query it.

See ``docs/access-log.md``.
"""

from __future__ import annotations

from policies.audit.chain import (
    CANONICAL_VERSION,
    GENESIS_HASH,
    canonical,
    chain_hash,
    format_time,
    record_hash,
)
from policies.audit.checkpoint import (
    Checkpoint,
    checkpoint_message,
    key_id,
    sign_checkpoint,
    signature_holds,
)
from policies.audit.entry import OUTCOMES, AccessEntry, Outcome
from policies.audit.errors import (
    AccessLogUnavailable,
    AuditError,
    InvalidAccessCursor,
    SigningKeyError,
)
from policies.audit.keys import (
    PUBLIC_KEY_ENV,
    SIGNING_KEY_ENV,
    KeyFiles,
    generate_key_pair,
    load_public_key,
    load_signing_key,
    public_key_from_env,
    signing_key_from_env,
)
from policies.audit.queries import (
    MAX_PAGE_SIZE,
    AccessPage,
    AccessSummary,
    search_accesses,
    who_saw,
)
from policies.audit.records import HOUSEHOLD, PERSON
from policies.audit.report import Finding, FindingKind, VerifyReport
from policies.audit.verify import verify
from policies.audit.walk import ChainWalk
from policies.audit.writer import AccessLog

__all__ = [
    "CANONICAL_VERSION",
    "GENESIS_HASH",
    "HOUSEHOLD",
    "MAX_PAGE_SIZE",
    "OUTCOMES",
    "PERSON",
    "PUBLIC_KEY_ENV",
    "SIGNING_KEY_ENV",
    "AccessEntry",
    "AccessLog",
    "AccessLogUnavailable",
    "AccessPage",
    "AccessSummary",
    "AuditError",
    "ChainWalk",
    "Checkpoint",
    "Finding",
    "FindingKind",
    "InvalidAccessCursor",
    "KeyFiles",
    "Outcome",
    "SigningKeyError",
    "VerifyReport",
    "canonical",
    "chain_hash",
    "checkpoint_message",
    "format_time",
    "generate_key_pair",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "public_key_from_env",
    "record_hash",
    "search_accesses",
    "sign_checkpoint",
    "signature_holds",
    "signing_key_from_env",
    "verify",
    "who_saw",
]
