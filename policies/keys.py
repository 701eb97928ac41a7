"""Partner API keys: ``tonle_<key id>_<secret>``, kept only as a SHA-256 of the whole key.

The key id is public (it names the key in lists and logs); the secret is 32 random bytes,
so a plain SHA-256 suffices to store it (no password stretching is needed for a value
nobody could guess), and keys are compared by hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "tonle"
_KEY = re.compile(r"^tonle_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    """A key as it is shown once: the whole key, and what is stored of it."""

    key: str
    key_id: str
    key_hash: str


def new_key() -> NewKey:
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key, key_id, hash_key(key))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(given: str) -> str | None:
    """The key id of something shaped like a key, else None."""
    found = _KEY.match(given)
    return found.group(1) if found else None


def same_key(given: str, stored_hash: str) -> bool:
    """Whether ``given`` is the key stored as ``stored_hash`` (constant time)."""
    return hmac.compare_digest(hash_key(given).encode(), stored_hash.encode())
