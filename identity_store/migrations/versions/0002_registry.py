"""Households, programme links, registration history, review cases, idempotency, blocking.

Person gains Khmer-script names, birth-date precision, phone, a status and ``merged_into``
for merges, household membership, and the derived columns its indexes need (area codes,
a name key). Existing people keep their data: the derived columns and blocking keys are
computed from it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from identity_store.gazetteer import area_codes
from identity_store.matching import MatchRecord, blocking_keys
from identity_store.names import name_key

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CHUNK = 5000

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "household",
        sa.Column("household_id", sa.String(32), nullable=False),
        sa.Column("village_code", sa.String(8), nullable=False),
        sa.Column("head_spid", sa.String(12), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household")),
    )
    op.create_index(
        "ix_household_village_code_household_id", "household", ["village_code", "household_id"]
    )
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("family_name_km", sa.String(100), nullable=True))
        batch.add_column(sa.Column("given_name_km", sa.String(100), nullable=True))
        batch.add_column(
            sa.Column("birth_precision", sa.String(5), server_default="day", nullable=False)
        )
        batch.add_column(sa.Column("phone", sa.String(20), nullable=True))
        batch.add_column(sa.Column("commune_code", sa.String(6), nullable=True))
        batch.add_column(sa.Column("district_code", sa.String(4), nullable=True))
        batch.add_column(sa.Column("province_code", sa.String(2), nullable=True))
        batch.add_column(sa.Column("name_key", sa.String(80), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(11), server_default="active", nullable=False)
        )
        batch.add_column(sa.Column("merged_into", sa.String(12), nullable=True))
        batch.add_column(sa.Column("household_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("relationship", sa.String(10), nullable=True))
    _derive_existing()
    with op.batch_alter_table("person") as batch:
        batch.alter_column("commune_code", existing_type=sa.String(6), nullable=False)
        batch.alter_column("district_code", existing_type=sa.String(4), nullable=False)
        batch.alter_column("province_code", existing_type=sa.String(2), nullable=False)
        batch.alter_column("name_key", existing_type=sa.String(80), nullable=False)
        batch.create_foreign_key(
            op.f("fk_person_merged_into_person"), "person", ["merged_into"], ["spid"]
        )
        batch.create_foreign_key(
            op.f("fk_person_household_id_household"),
            "household",
            ["household_id"],
            ["household_id"],
        )
        batch.create_check_constraint(
            op.f("ck_person_birth_precision"), "birth_precision IN ('day', 'month', 'year')"
        )
        batch.create_check_constraint(
            op.f("ck_person_status"), "status IN ('active', 'provisional', 'merged')"
        )
        batch.create_check_constraint(
            op.f("ck_person_relationship"),
            "relationship IN ('head', 'spouse', 'child', 'parent', 'sibling', "
            "'grandchild', 'other')",
        )
    op.create_table(
        "blocking_key",
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("spid", sa.String(12), nullable=False),
        sa.ForeignKeyConstraint(
            ["spid"], ["person.spid"], name=op.f("fk_blocking_key_spid_person")
        ),
        sa.PrimaryKeyConstraint("key", "spid", name="pk_blocking_key"),
    )
    _derive_blocking_keys()
    for level in ("commune_code", "district_code", "province_code"):
        op.create_index(f"ix_person_{level}_spid", "person", [level, "spid"])
    op.create_index("ix_person_name_key_birth_date", "person", ["name_key", "birth_date"])
    op.create_index("ix_person_merged_into", "person", ["merged_into"])
    op.create_index("ix_person_household_id", "person", ["household_id"])

    op.create_table(
        "program_link",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("spid", sa.String(12), nullable=False),
        sa.Column("origin_spid", sa.String(12), nullable=False),
        sa.Column("operator", sa.String(32), nullable=False),
        sa.Column("programme", sa.String(64), nullable=False),
        sa.Column("local_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), server_default="active", nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_program_link_status")),
        sa.ForeignKeyConstraint(
            ["spid"], ["person.spid"], name=op.f("fk_program_link_spid_person")
        ),
        sa.ForeignKeyConstraint(
            ["origin_spid"], ["person.spid"], name=op.f("fk_program_link_origin_spid_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_link")),
        sa.UniqueConstraint("operator", "local_id", name="uq_program_link_operator_local_id"),
    )
    op.create_index("ix_program_link_spid", "program_link", ["spid"])
    op.create_index("ix_program_link_origin_spid", "program_link", ["origin_spid"])

    op.create_table(
        "registration_event",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("spid", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("operator", sa.String(32), nullable=True),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("other_spid", sa.String(12), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_event")),
    )
    op.create_index("ix_registration_event_spid_id", "registration_event", ["spid", "id"])

    op.create_table(
        "review_case",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("spid", sa.String(12), nullable=False),
        sa.Column("candidate_spid", sa.String(12), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_reason", sa.String(500), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'same_person', 'different_people')",
            name=op.f("ck_review_case_status"),
        ),
        sa.ForeignKeyConstraint(["spid"], ["person.spid"], name=op.f("fk_review_case_spid_person")),
        sa.ForeignKeyConstraint(
            ["candidate_spid"],
            ["person.spid"],
            name=op.f("fk_review_case_candidate_spid_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_case")),
    )
    op.create_index("ix_review_case_status_id", "review_case", ["status", "id"])

    op.create_table(
        "registration_request",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("operator", sa.String(32), nullable=False),
        sa.Column("local_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("spid", sa.String(12), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("review_case_id", Id, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_request")),
        sa.UniqueConstraint(
            "operator", "local_id", name="uq_registration_request_operator_local_id"
        ),
        sa.UniqueConstraint(
            "operator",
            "idempotency_key",
            name="uq_registration_request_operator_idempotency_key",
        ),
    )


_PERSON = sa.table(
    "person",
    sa.column("spid", sa.String),
    sa.column("khmer_id", sa.String),
    sa.column("family_name", sa.String),
    sa.column("given_name", sa.String),
    sa.column("birth_date", sa.Date),
    sa.column("sex", sa.String),
    sa.column("village_code", sa.String),
    sa.column("commune_code", sa.String),
    sa.column("district_code", sa.String),
    sa.column("province_code", sa.String),
    sa.column("name_key", sa.String),
)


def _people() -> Iterator[Sequence[Any]]:
    """The people registered before 0002, in chunks, in SPID order."""
    person = _PERSON
    last = ""
    while True:
        rows = (
            op.get_bind()
            .execute(
                sa.select(
                    person.c.spid,
                    person.c.family_name,
                    person.c.given_name,
                    person.c.birth_date,
                    person.c.sex,
                    person.c.village_code,
                    person.c.khmer_id,
                )
                .where(person.c.spid > last)
                .order_by(person.c.spid)
                .limit(_CHUNK)
            )
            .all()
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _derive_existing() -> None:
    """Area codes and name keys for the people registered before 0002."""
    person = _PERSON
    for rows in _people():
        named: list[dict[str, str]] = []
        for spid, family, given, _, _, village, _ in rows:
            codes = area_codes(village)
            named.append(
                {
                    "b_spid": spid,
                    "b_key": name_key(family, given),
                    "b_commune": codes["commune_code"],
                    "b_district": codes["district_code"],
                    "b_province": codes["province_code"],
                }
            )
        op.get_bind().execute(
            person.update()
            .where(person.c.spid == sa.bindparam("b_spid"))
            .values(
                name_key=sa.bindparam("b_key"),
                commune_code=sa.bindparam("b_commune"),
                district_code=sa.bindparam("b_district"),
                province_code=sa.bindparam("b_province"),
            ),
            named,
        )


def _derive_blocking_keys() -> None:
    """Blocking keys for the people registered before 0002.

    The person table is rebuilt (SQLite batch mode) before this table exists, so that
    no foreign key points at the table being dropped and recreated.
    """
    blocking = sa.table("blocking_key", sa.column("key", sa.String), sa.column("spid", sa.String))
    for rows in _people():
        keys: list[dict[str, str]] = []
        for spid, family, given, birth, sex, village, khmer_id in rows:
            if isinstance(birth, str):  # SQLite hands a bare table's dates back as text
                birth = dt.date.fromisoformat(birth)
            record = MatchRecord(
                family_name=family,
                given_name=given,
                birth_date=birth,
                birth_precision="day",
                sex=sex,
                village_code=village,
                khmer_id=khmer_id,
            )
            keys.extend({"key": key, "spid": spid} for key in sorted(blocking_keys(record)))
        if keys:
            op.get_bind().execute(blocking.insert(), keys)


def downgrade() -> None:
    op.drop_table("registration_request")
    op.drop_index("ix_review_case_status_id", table_name="review_case")
    op.drop_table("review_case")
    op.drop_index("ix_registration_event_spid_id", table_name="registration_event")
    op.drop_table("registration_event")
    op.drop_index("ix_program_link_origin_spid", table_name="program_link")
    op.drop_index("ix_program_link_spid", table_name="program_link")
    op.drop_table("program_link")
    op.drop_table("blocking_key")
    for name in (
        "ix_person_household_id",
        "ix_person_merged_into",
        "ix_person_name_key_birth_date",
        "ix_person_province_code_spid",
        "ix_person_district_code_spid",
        "ix_person_commune_code_spid",
    ):
        op.drop_index(name, table_name="person")
    with op.batch_alter_table("person") as batch:
        batch.drop_constraint(op.f("fk_person_household_id_household"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_person_merged_into_person"), type_="foreignkey")
        for check in ("ck_person_relationship", "ck_person_status", "ck_person_birth_precision"):
            batch.drop_constraint(op.f(check), type_="check")
        for column in (
            "relationship",
            "household_id",
            "merged_into",
            "status",
            "name_key",
            "province_code",
            "district_code",
            "commune_code",
            "phone",
            "birth_precision",
            "given_name_km",
            "family_name_km",
        ):
            batch.drop_column(column)
    op.drop_index("ix_household_village_code_household_id", table_name="household")
    op.drop_table("household")
