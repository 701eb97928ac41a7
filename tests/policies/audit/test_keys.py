"""Key pairs are written with the private half readable by its owner only, and load back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from policies.audit import (
    SigningKeyError,
    generate_key_pair,
    key_id,
    load_public_key,
    load_signing_key,
    public_key_from_env,
    signing_key_from_env,
)


def test_keygen_writes_a_0600_private_key_and_its_public_key(tmp_path: Path) -> None:
    files = generate_key_pair(tmp_path / "keys")
    assert stat.S_IMODE(files.private.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.public.stat().st_mode) == 0o644
    private, public = load_signing_key(files.private), load_public_key(files.public)
    assert key_id(private.public_key()) == key_id(public) == files.key_id


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    first = generate_key_pair(tmp_path)
    before = first.private.read_bytes()
    with pytest.raises(SigningKeyError, match="never overwritten"):
        generate_key_pair(tmp_path)
    assert first.private.read_bytes() == before


def test_key_files_that_are_not_ed25519_keys_are_refused_clearly(tmp_path: Path) -> None:
    files = generate_key_pair(tmp_path)
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        load_signing_key(files.public)
    with pytest.raises(SigningKeyError, match="not a PEM public key"):
        load_public_key(files.private)
    with pytest.raises(SigningKeyError, match="cannot read the signing key file"):
        load_signing_key(tmp_path / "missing.pem")


def test_the_environment_names_the_keys(tmp_path: Path) -> None:
    files = generate_key_pair(tmp_path)
    assert signing_key_from_env({}) is None
    assert public_key_from_env({}) is None
    signing = signing_key_from_env({"TONLE_AUDIT_SIGNING_KEY": str(files.private)})
    assert signing is not None and key_id(signing.public_key()) == files.key_id
    derived = public_key_from_env({"TONLE_AUDIT_SIGNING_KEY": str(files.private)})
    assert derived is not None and key_id(derived) == files.key_id
    other = generate_key_pair(tmp_path / "other")
    named = public_key_from_env(
        {"TONLE_AUDIT_SIGNING_KEY": str(files.private), "TONLE_AUDIT_PUBLIC_KEY": str(other.public)}
    )
    assert named is not None and key_id(named) == other.key_id
