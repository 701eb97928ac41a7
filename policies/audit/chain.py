"""The hash chain: a record's canonical form and its hash, ``sha256(prev_hash || canonical)``.

The canonical form of a record (version 1) is the JSON object below, serialised the RFC 8785
(JCS) way — keys sorted, no whitespace, UTF-8, strings escaped only where JSON requires it —
which for these values (strings, integers, null, arrays of strings) is exactly
``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``::

    {"at":"2026-11-30T08:15:02.123456Z","document_hash":"<64 hex>","end_user":"clerk-7",
     "fields":["Person.birthDate","Person.spid"],"household_ids":["HH-1"],
     "operation_name":"Eligibility","outcome":"ok","partner":"nssf","policy_version":3,
     "purpose":"eligibility_check","spids":["123456789010"],"v":1}

``at`` is UTC with microseconds and a ``Z``; ``fields``, ``spids`` and ``household_ids`` are
sorted without repeats (the subjects are those of ``access_subject``); absent values are
``null``. The sequence number is not part of it: a record's place is fixed by the chain
(its ``prev_hash``), and verification checks that the numbers run 1, 2, 3, ... along it.

``hash = sha256(prev_hash + canonical)``, lowercase hex, where ``prev_hash`` is the previous
record's hash as its 64 ASCII hex digits; the first record's is :data:`GENESIS_HASH`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from policies.audit.entry import AccessEntry

CANONICAL_VERSION = 1
GENESIS_HASH = "0" * 64


def format_time(at: dt.datetime) -> str:
    """``at`` as the chain and checkpoints write it: UTC, microseconds, ``Z``."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: AccessEntry) -> bytes:
    """The canonical form of one record with its subjects (see the module docstring)."""
    document = {
        "v": CANONICAL_VERSION,
        "at": format_time(entry.at),
        "partner": entry.partner,
        "purpose": entry.purpose,
        "end_user": entry.end_user,
        "operation_name": entry.operation_name,
        "document_hash": entry.document_hash,
        "policy_version": entry.policy_version,
        "fields": list(entry.fields),
        "spids": list(entry.spids),
        "household_ids": list(entry.household_ids),
        "outcome": entry.outcome,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, canonical_form: bytes) -> str:
    """The hash of a record whose predecessor's hash is ``prev_hash``."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_form).hexdigest()


def record_hash(prev_hash: str, entry: AccessEntry) -> str:
    """``chain_hash(prev_hash, canonical(entry))``."""
    return chain_hash(prev_hash, canonical(entry))
