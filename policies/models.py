"""The policy tables, in the registry database: partners, their keys and trusted documents,
policy versions, the access log.

They live beside the registry's tables and are created by the registry's migrations
(``identity_store/migrations/versions/0003_policies.py``, ``0004_partner_documents.py``):
one database, one migration history, so a deployment upgrades both at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from identity_store.models import NAMING_CONVENTION

PARTNER_KINDS = ("operator", "ministry", "development_partner", "analyst", "registry_staff")

# A SQLite INTEGER PRIMARY KEY is its rowid (auto-incremented); BIGINT is not.
Id = BigInteger().with_variant(Integer(), "sqlite")


class PolicyBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Partner(PolicyBase):
    """An organisation that calls Tonle."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    contact: Mapped[str | None] = mapped_column(String(200))
    # The operator this partner is (nssf, idpoor, ...): its registrations are made under
    # this name and "own registrations" scopes mean the people it linked.
    operator: Mapped[str | None] = mapped_column(String(32))
    # The CamDX (X-Road) client subsystem it calls from: CAMBODIA/GOV/<member>/<subsystem>.
    xroad_client: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(repr(k) for k in PARTNER_KINDS) + ")", name="kind"),
    )


class ApiKey(PolicyBase):
    """One of a partner's API keys: only its SHA-256 is kept, the key is shown once."""

    __tablename__ = "partner_api_key"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(Id, ForeignKey("partner.id"))
    # The public part of the key (``tonle_<key_id>_<secret>``), to find it and to name it.
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_partner_api_key_partner_id", "partner_id"),)


class PartnerDocument(PolicyBase):
    """An operation a partner registered (a trusted document), found by its SHA-256.

    The document is kept exactly as registered: its hash is the SHA-256 of these characters
    in UTF-8, the same hash a client sends in ``extensions.persistedQuery``.
    """

    __tablename__ = "partner_document"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(Id, ForeignKey("partner.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (UniqueConstraint("partner_id", "sha256"),)


class PolicyVersion(PolicyBase):
    """An immutable, numbered set of purposes, agreements and guardrails."""

    __tablename__ = "policy_version"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The document in its canonical JSON form, and its SHA-256.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    # The file it was imported from, as written (comments included), when there was one.
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    created_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    # For a rollback: the version whose document this one repeats.
    based_on: Mapped[int | None] = mapped_column(Integer)


class PolicyPublication(PolicyBase):
    """A version made the one gateways enforce; the latest publication wins."""

    __tablename__ = "policy_publication"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, ForeignKey("policy_version.number"))
    published_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    published_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))


class PolicyEpoch(PolicyBase):
    """One row whose counter moves with every change to partners, keys or publications.

    Gateways poll it (one tiny query every few seconds) and reload when it moves.
    """

    __tablename__ = "policy_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger)


class AccessRecord(PolicyBase):
    """One request that returned personal data: who, why, what, under which version.

    Append-only; ``hash`` chains each record to the one before it (``prev_hash``).
    """

    __tablename__ = "access_log"

    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    partner: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    end_user: Mapped[str | None] = mapped_column(String(200))
    operation_name: Mapped[str | None] = mapped_column(String(200))
    document_hash: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_access_log_partner_at", "partner", "at"),
        Index("ix_access_log_at", "at"),
    )


class AccessSubject(PolicyBase):
    """A person or household whose data one access record returned."""

    __tablename__ = "access_subject"

    seq: Mapped[int] = mapped_column(Id, ForeignKey("access_log.seq"))
    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        PrimaryKeyConstraint("seq", "kind", "subject_id", name="pk_access_subject"),
        Index("ix_access_subject_kind_subject_id_seq", "kind", "subject_id", "seq"),
    )


class AccessCheckpoint(PolicyBase):
    """A signed statement that the chain's record ``seq`` has ``hash`` (Ed25519)."""

    __tablename__ = "access_checkpoint"

    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The first 16 hex digits of the SHA-256 of the raw public key that signed it.
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
