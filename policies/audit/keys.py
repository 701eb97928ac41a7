"""The checkpoint signing key: generating a pair into files, loading them, the environment.

The private key signs checkpoints and lives with the gateways (``TONLE_AUDIT_SIGNING_KEY``
names its PEM file), never in the registry database: whoever can rewrite the database must
not also be able to sign for it. The public key verifies, and can be handed to anyone.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from policies.audit.checkpoint import key_id
from policies.audit.errors import SigningKeyError

SIGNING_KEY_ENV = "TONLE_AUDIT_SIGNING_KEY"
PUBLIC_KEY_ENV = "TONLE_AUDIT_PUBLIC_KEY"
PRIVATE_KEY_FILE = "access-log-signing-key.pem"
PUBLIC_KEY_FILE = "access-log-public-key.pem"

log = logging.getLogger("tonle.audit")


@dataclass(frozen=True)
class KeyFiles:
    """Where :func:`generate_key_pair` wrote a key pair, and the pair's key ID."""

    private: Path
    public: Path
    key_id: str


def generate_key_pair(directory: Path) -> KeyFiles:
    """A new Ed25519 pair in ``directory``: the private key readable by its owner only (0600).

    Existing key files are never overwritten: a lost public key is a lost means of
    verifying every checkpoint it signed. Rotate into a new directory.
    """
    private_path, public_path = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            raise SigningKeyError(
                f"{path} already exists; keys are never overwritten. Generate the new pair "
                "into another directory (see docs/access-log.md, rotating the signing key)."
            )
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(private_path, private_pem, 0o600)
        _write(public_path, public_pem, 0o644)
    except OSError as error:
        raise SigningKeyError(
            f"cannot write the key pair into {directory}: {error.strerror}"
        ) from None
    return KeyFiles(private_path, public_path, key_id(key.public_key()))


def _write(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never follow or reuse a file someone placed there; the mode is set at creation,
    # so the private key is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits away from the public key
        os.write(fd, data)
    finally:
        os.close(fd)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM file ``path`` (unencrypted PKCS#8)."""
    data = _read(path, "signing key")
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"{path} is not an unencrypted PEM private key; make one with `tonle audit keygen`."
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a private key that is not Ed25519.")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "access log: the signing key file %s can be read by other users than its owner; "
            "chmod 600 it",
            path,
        )
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in PEM file ``path``."""
    data = _read(path, "public key")
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"{path} is not a PEM public key; `tonle audit keygen` writes one beside the "
            "signing key."
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path} holds a public key that is not Ed25519.")
    return key


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"cannot read the {what} file {path}: {error.strerror}") from None


def signing_key_from_env(environ: Mapping[str, str] | None = None) -> Ed25519PrivateKey | None:
    """The key named by ``TONLE_AUDIT_SIGNING_KEY``, or None when it is not set."""
    path = (os.environ if environ is None else environ).get(SIGNING_KEY_ENV)
    return load_signing_key(Path(path)) if path else None


def public_key_from_env(environ: Mapping[str, str] | None = None) -> Ed25519PublicKey | None:
    """``TONLE_AUDIT_PUBLIC_KEY``'s key, else the public half of ``TONLE_AUDIT_SIGNING_KEY``'s."""
    env = os.environ if environ is None else environ
    if env.get(PUBLIC_KEY_ENV):
        return load_public_key(Path(env[PUBLIC_KEY_ENV]))
    signing = signing_key_from_env(env)
    return signing.public_key() if signing is not None else None
