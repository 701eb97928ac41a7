"""The central registry's identity data: people, SPIDs, and how they are stored."""

from __future__ import annotations

from identity_store.db import create_engine, session_factory, url_with_schema
from identity_store.errors import (
    AlreadyRegistered,
    InvalidCursor,
    InvalidInput,
    RegistryError,
    UnsupportedDatabase,
)
from identity_store.gazetteer import check_village_code
from identity_store.migrate import migrate
from identity_store.models import SEXES, Base, Person
from identity_store.repository import (
    MAX_PAGE_SIZE,
    NewPerson,
    PersonPage,
    PersonRecord,
    add_people,
    check_new_person,
    count_people,
    decode_cursor,
    encode_cursor,
    most_populous_village,
    people_by_spids,
    people_in_village,
)
from identity_store.settings import database_url
from identity_store.spid import InvalidSpid, is_valid_spid, new_spid, validate_spid

__all__ = [
    "MAX_PAGE_SIZE",
    "SEXES",
    "AlreadyRegistered",
    "Base",
    "InvalidCursor",
    "InvalidInput",
    "InvalidSpid",
    "NewPerson",
    "Person",
    "PersonPage",
    "PersonRecord",
    "RegistryError",
    "UnsupportedDatabase",
    "add_people",
    "check_new_person",
    "check_village_code",
    "count_people",
    "create_engine",
    "database_url",
    "decode_cursor",
    "encode_cursor",
    "is_valid_spid",
    "migrate",
    "most_populous_village",
    "new_spid",
    "people_by_spids",
    "people_in_village",
    "session_factory",
    "url_with_schema",
    "validate_spid",
]
