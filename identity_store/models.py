"""The registry's tables. Identity data only: never programme data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so that migrations name what they create the same way
# on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SEXES = ("male", "female", "other", "unknown")
PRECISIONS = ("day", "month", "year")
STATUSES = ("active", "provisional", "merged")
RELATIONSHIPS = ("head", "spouse", "child", "parent", "sibling", "grandchild", "other")
LINK_STATUSES = ("active", "inactive")
CASE_STATUSES = ("open", "same_person", "different_people")

# A SQLite INTEGER PRIMARY KEY is its rowid (auto-incremented); BIGINT is not.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON}


class Household(Base):
    """People living together, in one village; members name their relationship to the head."""

    __tablename__ = "household"

    household_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    village_code: Mapped[str] = mapped_column(String(8))
    # Not a foreign key: person → household already is one, and a cycle of foreign keys
    # makes every insert order wrong. The registry checks the head is a member.
    head_spid: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # The village's commune, district and province by the gazetteer (migration 0006), so
    # that each level has its own (code, household_id) index for keyset pages. Nullable
    # in the database only (see the migration); the registry always sets them.
    commune_code: Mapped[str | None] = mapped_column(String(6))
    district_code: Mapped[str | None] = mapped_column(String(4))
    province_code: Mapped[str | None] = mapped_column(String(2))

    __table_args__ = (
        Index("ix_household_village_code_household_id", "village_code", "household_id"),
        Index("ix_household_commune_code_household_id", "commune_code", "household_id"),
        Index("ix_household_district_code_household_id", "district_code", "household_id"),
        Index("ix_household_province_code_household_id", "province_code", "household_id"),
    )


class Person(Base):
    """One registrant, identified by a SPID."""

    __tablename__ = "person"

    spid: Mapped[str] = mapped_column(String(12), primary_key=True)
    khmer_id: Mapped[str | None] = mapped_column(String(9), unique=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(7))
    village_code: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    family_name_km: Mapped[str | None] = mapped_column(String(100))
    given_name_km: Mapped[str | None] = mapped_column(String(100))
    # A birth date known only by month or year is stored as its first day.
    birth_precision: Mapped[str] = mapped_column(String(5), server_default="day")
    phone: Mapped[str | None] = mapped_column(String(20))
    # The village code's prefixes, so that each level of the gazetteer has its own
    # (code, spid) index for keyset pages.
    commune_code: Mapped[str] = mapped_column(String(6))
    district_code: Mapped[str] = mapped_column(String(4))
    province_code: Mapped[str] = mapped_column(String(2))
    # Romanization-tolerant key of both names, for fuzzy search by name.
    name_key: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(11), server_default="active")
    merged_into: Mapped[str | None] = mapped_column(String(12), ForeignKey("person.spid"))
    household_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("household.household_id")
    )
    relationship: Mapped[str | None] = mapped_column(String(10))

    __table_args__ = (
        CheckConstraint(_in("sex", SEXES), name="sex"),
        CheckConstraint(_in("birth_precision", PRECISIONS), name="birth_precision"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("relationship", RELATIONSHIPS), name="relationship"),
        # Cursor pagination walks an area in SPID order.
        Index("ix_person_village_code_spid", "village_code", "spid"),
        Index("ix_person_commune_code_spid", "commune_code", "spid"),
        Index("ix_person_district_code_spid", "district_code", "spid"),
        Index("ix_person_province_code_spid", "province_code", "spid"),
        Index("ix_person_name_key_birth_date", "name_key", "birth_date"),
        Index("ix_person_merged_into", "merged_into"),
        Index("ix_person_household_id", "household_id"),
    )


class BlockingKey(Base):
    """One of a person's blocking keys: registration compares only people sharing a key."""

    __tablename__ = "blocking_key"

    key: Mapped[str] = mapped_column(String(120))
    spid: Mapped[str] = mapped_column(String(12), ForeignKey("person.spid"))

    __table_args__ = (PrimaryKeyConstraint("key", "spid", name="pk_blocking_key"),)


class ProgramLink(Base):
    """Which operator knows a person under which local ID, for which programme.

    Identifiers only: what the programme holds about the person stays with the operator.
    """

    __tablename__ = "program_link"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    spid: Mapped[str] = mapped_column(String(12), ForeignKey("person.spid"))
    # The SPID the link was registered to; a merge moves ``spid``, an unmerge moves it back.
    origin_spid: Mapped[str] = mapped_column(String(12), ForeignKey("person.spid"))
    operator: Mapped[str] = mapped_column(String(32))
    programme: Mapped[str] = mapped_column(String(64))
    local_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), server_default="active")
    since: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint(_in("status", LINK_STATUSES), name="status"),
        UniqueConstraint("operator", "local_id", name="uq_program_link_operator_local_id"),
        Index("ix_program_link_spid", "spid"),
        Index("ix_program_link_origin_spid", "origin_spid"),
    )


class RegistrationEvent(Base):
    """History: who registered, linked, merged or changed what, when, from which operator.

    ``detail`` names fields and decisions, never their values: history is not a second
    copy of personal data.
    """

    __tablename__ = "registration_event"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    spid: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(20))
    operator: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(64))
    other_spid: Mapped[str | None] = mapped_column(String(12))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_registration_event_spid_id", "spid", "id"),)


class ReviewCase(Base):
    """A registration the matcher could not decide: a provisional SPID and its best candidate."""

    __tablename__ = "review_case"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    spid: Mapped[str] = mapped_column(String(12), ForeignKey("person.spid"))
    candidate_spid: Mapped[str] = mapped_column(String(12), ForeignKey("person.spid"))
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        Index("ix_review_case_status_id", "status", "id"),
    )


class RegistrationRequest(Base):
    """An answered registration, so that the same request again gets the same answer."""

    __tablename__ = "registration_request"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    operator: Mapped[str] = mapped_column(String(32))
    local_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    spid: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(10))
    probability: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    review_case_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("operator", "local_id", name="uq_registration_request_operator_local_id"),
        UniqueConstraint(
            "operator",
            "idempotency_key",
            name="uq_registration_request_operator_idempotency_key",
        ),
    )
