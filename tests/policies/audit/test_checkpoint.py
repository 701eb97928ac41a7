"""A checkpoint signs exactly (seq, hash, at), and its key ID names the public key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from policies.audit import checkpoint_message, key_id, sign_checkpoint, signature_holds

AT = dt.datetime(2026, 11, 30, 8, 15, 2, 123456, tzinfo=dt.UTC)


def test_the_signed_message_is_the_documented_text() -> None:
    assert checkpoint_message(1000, "ab" * 32, AT) == (
        b"tonle-access-log-checkpoint/v1|1000|" + b"ab" * 32 + b"|2026-11-30T08:15:02.123456Z"
    )


def test_a_checkpoint_holds_for_its_key_and_for_nothing_else() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    checkpoint = sign_checkpoint(key, 1000, "ab" * 32, AT)
    assert len(checkpoint.signature) == 128
    assert signature_holds(checkpoint, key.public_key())
    assert not signature_holds(checkpoint, other.public_key())
    for change in ({"seq": 999}, {"hash": "cd" * 32}, {"at": AT + dt.timedelta(microseconds=1)}):
        assert not signature_holds(dataclasses.replace(checkpoint, **change), key.public_key())
    assert not signature_holds(dataclasses.replace(checkpoint, signature="zz"), key.public_key())


def test_the_key_id_is_the_start_of_the_sha256_of_the_raw_public_key() -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert key_id(key.public_key()) == hashlib.sha256(raw).hexdigest()[:16]
    assert sign_checkpoint(key, 1, "0" * 64, AT).key_id == key_id(key.public_key())
