"""The agreement editor's controls: their names, the values they take, the problems a
submitted form can have, and the small readers every part of the editor shares.

A checkbox is sent after a hidden input of the same name holding its "unchecked" value, so
the last value is the one that counts and an absent control (a truncated post) changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from policies.document import PolicyFileError, read_stored
from policies.model import (
    ALL_FIELDS,
    HIDDEN,
    Agreement,
    PolicyDocument,
)

Form = Mapping[str, Sequence[str]]

# Control names.
FIELD = "field:"  # field:Type.name -> hidden | visible | a mask
DEFAULT = "default:"  # default:Type -> the rule of fields the agreement does not list
ARGUMENT = "arg:"  # arg:Type.field(argument) or arg:Input.field -> usable | hidden
STALE = "stale:"  # stale:<name> -> keep | remove, for names the schema no longer has
LIMIT = "limit:"  # limit:<Limits field> -> a whole number, blank for the default
SCOPE = "scope"  # everyone | areas
AREA = "area"  # the chosen gazetteer codes (several values)
OWN = "own_registrations"  # no | yes
DIGEST = "digest"  # the document's digest when the form was shown
TEXTS = ("valid_from", "valid_until", "legal_basis", "programmes", "scopes", "policies")
TRUSTED = "trusted_documents"
PREFIXES = (FIELD, DEFAULT, ARGUMENT, STALE, LIMIT)

USABLE = "usable"
KEEP = "keep"
REMOVE = "remove"
EVERYONE = "everyone"
AREAS = "areas"
YES = "yes"
NO = "no"

MAX_LIMIT = 1_000_000_000
MAX_TEXT = 500
PARTNER_CODE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")  # a partner code (policies.repository)
PURPOSE_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
PROGRAMME_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
GRANT_NAME = re.compile(r"^[A-Za-z0-9_:./-]{1,100}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

LIMIT_LABELS = {
    "max_people_per_request": "People per request",
    "requests_per_minute": "Requests a minute",
    "requests_per_minute_per_end_user": "Requests a minute for each end user",
    "verifications_per_request": "Verifications per request",
    "verifications_per_minute": "Verifications a minute",
    "max_depth": "Operation depth",
    "max_aliases": "Aliases per operation",
    "max_root_fields": "Root fields per operation",
    "max_tokens": "Tokens per operation",
    "max_cost": "Estimated cost per operation",
}


@dataclass(frozen=True)
class FormProblem:
    """What is wrong with one control's value; ``message`` names the field it is about."""

    control: str
    message: str


@dataclass(frozen=True)
class Applied:
    """A new document, or the problems that kept the form from being applied."""

    document: PolicyDocument | None
    problems: tuple[FormProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.document is not None


def last(form: Form, control: str) -> str | None:
    values = form.get(control)
    if not values:
        return None
    return str(values[-1])


def rule_of(rules: Mapping[str, str], name: str) -> str:
    return rules.get(name) or rules.get(ALL_FIELDS) or HIDDEN


def limit_text(value: int | None) -> str:
    return "" if value is None else str(value)


def text_of(agreement: Agreement, name: str) -> str:
    value = getattr(agreement, name)
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return ", ".join(sorted(value) if isinstance(value, frozenset) else value)


def clean_text(value: str, label: str, control: str, problems: list[FormProblem]) -> str:
    """``value`` stripped, refused (a problem) when too long or holding control characters."""
    text = value.strip()
    if len(text) > MAX_TEXT:
        problems.append(FormProblem(control, f"{label}: at most {MAX_TEXT} characters"))
    elif any(unicodedata.category(c) == "Cc" for c in text):
        problems.append(FormProblem(control, f"{label}: no control characters (tabs, line breaks)"))
    return text


def tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,]+", text.strip()) if t]


def refused(control: str, message: str) -> Applied:
    return Applied(None, (FormProblem(control, message),))


def checked_document(candidate: PolicyDocument) -> Applied:
    """``candidate`` if the policy reader accepts its stored form, else its problems."""
    try:
        read_stored(candidate.to_json())
    except PolicyFileError as error:
        return Applied(None, tuple(FormProblem("agreement", p.message) for p in error.problems))
    return Applied(candidate)
