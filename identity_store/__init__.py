"""The central registry's identity data: people, SPIDs, and how they are stored."""

from __future__ import annotations

from identity_store.dates import format_birth_date, parse_birth_date
from identity_store.db import create_engine, session_factory, url_with_schema
from identity_store.decision import Candidate, RegistrationDecision, decide
from identity_store.errors import (
    AlreadyRegistered,
    InvalidCursor,
    InvalidInput,
    NotMergeable,
    RegistryError,
    UnknownPerson,
    UnsupportedDatabase,
)
from identity_store.gazetteer import Address, Place, address_of, check_village_code
from identity_store.households import (
    HouseholdRecord,
    NewHousehold,
    add_households,
    households_by_ids,
    members_of,
)
from identity_store.links import EventRecord, ProgramLinkRecord, history_of, links_by_spids
from identity_store.merges import merge_people, unmerge_person
from identity_store.migrate import migrate
from identity_store.models import PRECISIONS, RELATIONSHIPS, SEXES, Base, Person
from identity_store.registration import (
    IdempotencyConflict,
    Registration,
    RegistrationResult,
    check_registration,
    register_batch,
    register_people,
    register_person,
)
from identity_store.repository import (
    AREA_LEVELS,
    MAX_PAGE_SIZE,
    NewPerson,
    PersonPage,
    PersonRecord,
    add_people,
    check_area_code,
    check_new_person,
    count_people,
    decode_cursor,
    encode_cursor,
    match_record,
    most_populous_village,
    normalize_phone,
    people_by_spids,
    people_in_area,
    people_in_village,
    person_by_khmer_id,
)
from identity_store.review import (
    ReviewCasePage,
    ReviewCaseRecord,
    resolve_review_case,
    review_case,
    review_cases,
)
from identity_store.search import MAX_RESULTS, SearchHit, search_people
from identity_store.settings import database_url
from identity_store.spid import InvalidSpid, is_valid_spid, new_spid, validate_spid

__all__ = [
    "AREA_LEVELS",
    "MAX_PAGE_SIZE",
    "MAX_RESULTS",
    "PRECISIONS",
    "RELATIONSHIPS",
    "SEXES",
    "Address",
    "AlreadyRegistered",
    "Base",
    "Candidate",
    "EventRecord",
    "HouseholdRecord",
    "IdempotencyConflict",
    "InvalidCursor",
    "InvalidInput",
    "InvalidSpid",
    "NewHousehold",
    "NewPerson",
    "NotMergeable",
    "Person",
    "PersonPage",
    "PersonRecord",
    "Place",
    "ProgramLinkRecord",
    "Registration",
    "RegistrationDecision",
    "RegistrationResult",
    "RegistryError",
    "ReviewCasePage",
    "ReviewCaseRecord",
    "SearchHit",
    "UnknownPerson",
    "UnsupportedDatabase",
    "add_households",
    "add_people",
    "address_of",
    "check_area_code",
    "check_new_person",
    "check_registration",
    "check_village_code",
    "count_people",
    "create_engine",
    "database_url",
    "decide",
    "decode_cursor",
    "encode_cursor",
    "format_birth_date",
    "history_of",
    "households_by_ids",
    "is_valid_spid",
    "links_by_spids",
    "match_record",
    "members_of",
    "merge_people",
    "migrate",
    "most_populous_village",
    "new_spid",
    "normalize_phone",
    "parse_birth_date",
    "people_by_spids",
    "people_in_area",
    "people_in_village",
    "person_by_khmer_id",
    "register_batch",
    "register_people",
    "register_person",
    "resolve_review_case",
    "review_case",
    "review_cases",
    "search_people",
    "session_factory",
    "unmerge_person",
    "url_with_schema",
    "validate_spid",
]
