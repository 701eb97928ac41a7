"""Signed checkpoints: an Ed25519 signature over (seq, hash, at) of one record of the chain.

The signed message is the UTF-8 text ``tonle-access-log-checkpoint/v1|<seq>|<hash>|<at>``,
``seq`` in decimal, ``hash`` the record's 64 hex digits, ``at`` the checkpoint's time as the
chain writes times (``2026-11-30T08:15:02.123456Z``). The signature is stored as 128 hex
digits beside the signer's key ID: the first 16 hex digits of the SHA-256 of the raw
32-byte public key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from policies.audit.chain import format_time

MESSAGE_PREFIX = "tonle-access-log-checkpoint/v1"


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that record ``seq`` of the chain has ``hash``."""

    seq: int
    hash: str
    at: dt.datetime
    key_id: str
    signature: str


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_message(seq: int, hash: str, at: dt.datetime) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return f"{MESSAGE_PREFIX}|{seq}|{hash}|{format_time(at)}".encode()


def sign_checkpoint(key: Ed25519PrivateKey, seq: int, hash: str, at: dt.datetime) -> Checkpoint:
    """The checkpoint of record ``seq`` (whose hash is ``hash``), signed at ``at``."""
    at = at.astimezone(dt.UTC)
    signature = key.sign(checkpoint_message(seq, hash, at)).hex()
    return Checkpoint(seq, hash, at, key_id(key.public_key()), signature)


def signature_holds(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Whether ``public_key`` signed exactly this checkpoint's seq, hash and time."""
    try:
        signature = bytes.fromhex(checkpoint.signature)
        message = checkpoint_message(checkpoint.seq, checkpoint.hash, checkpoint.at)
        public_key.verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
