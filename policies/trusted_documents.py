"""Trusted documents: the operations a partner registered, found by their SHA-256.

A partner registers the GraphQL documents its systems send (``tonle partners documents
add``). It may then send only a document's hash (Apollo's ``extensions.persistedQuery``),
and an agreement with ``trusted_documents: required`` runs nothing else for that partner
and purpose. A document is kept exactly as registered; its hash is the SHA-256 of its
characters in UTF-8 (``sha256sum FILE``). Every change moves the policy epoch, so gateways
know of it at their next poll.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.language import ExecutableDefinitionNode
from sqlalchemy import select

from policies.errors import PolicyError
from policies.models import Partner, PartnerDocument
from policies.repository import Sessions, bump_epoch, partner_row

MAX_DOCUMENT_CHARS = 100_000
_HASH_PREFIX = re.compile(r"^[0-9a-f]{8,64}$")


class InvalidDocument(PolicyError):
    """A document that cannot be registered as given."""


class UnknownDocument(PolicyError):
    """The partner registered no document with this hash."""


@dataclass(frozen=True)
class TrustedDocument:
    """One registered document."""

    partner: str
    sha256: str
    name: str | None
    document: str
    created_at: dt.datetime


def document_sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def check_document(document: str) -> list[str]:
    """The names of the operations in ``document``; raises :class:`InvalidDocument` when it
    is not a GraphQL document of operations (and fragments) a gateway could run."""
    if len(document) > MAX_DOCUMENT_CHARS:
        raise InvalidDocument(
            f"the document has {len(document)} characters; at most {MAX_DOCUMENT_CHARS} "
            "can be registered"
        )
    try:
        parsed = parse(document)
    except GraphQLError as error:
        raise InvalidDocument(f"the document does not parse: {error.message}") from None
    if not all(isinstance(d, ExecutableDefinitionNode) for d in parsed.definitions):
        raise InvalidDocument(
            "the document must hold only operations and fragments, not type definitions"
        )
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise InvalidDocument("the document holds no operation")
    return [o.name.value for o in operations if o.name is not None]


async def add_document(
    sessions: Sessions, partner: str, document: str, *, name: str | None = None
) -> tuple[TrustedDocument, bool]:
    """Register ``document`` for ``partner``; True with it when it is new, False when the
    partner had already registered it (then nothing changes)."""
    names = check_document(document)
    if name is None and len(names) == 1:
        name = names[0]
    if name is not None and not (0 < len(name.strip()) <= 200):
        raise InvalidDocument("a document's name has 1 to 200 characters")
    sha256 = document_sha256(document)
    async with sessions() as session, session.begin():
        row = await partner_row(session, partner)
        found = await session.scalar(
            select(PartnerDocument).where(
                PartnerDocument.partner_id == row.id, PartnerDocument.sha256 == sha256
            )
        )
        if found is not None:
            return _record(found, partner), False
        added = PartnerDocument(
            partner_id=row.id, sha256=sha256, name=name.strip() if name else None, document=document
        )
        session.add(added)
        await session.flush()
        await session.refresh(added)
        await bump_epoch(session)
    return _record(added, partner), True


async def list_documents(sessions: Sessions, partner: str) -> list[TrustedDocument]:
    """The partner's documents, oldest first."""
    async with sessions() as session:
        row = await partner_row(session, partner)
        found = await session.scalars(
            select(PartnerDocument)
            .where(PartnerDocument.partner_id == row.id)
            .order_by(PartnerDocument.id)
        )
        return [_record(d, partner) for d in found]


async def remove_document(sessions: Sessions, partner: str, sha256: str) -> TrustedDocument:
    """Remove the partner's document with this hash (or the only one starting with it, of at
    least 8 hexadecimal digits)."""
    given = sha256.strip().lower()
    if not _HASH_PREFIX.match(given):
        raise InvalidDocument(
            f"{sha256!r} is not a SHA-256: give its 64 hexadecimal digits (or the first 8 or "
            "more, as `tonle partners documents list` shows them)"
        )
    async with sessions() as session, session.begin():
        row = await partner_row(session, partner)
        found = list(
            await session.scalars(
                select(PartnerDocument).where(
                    PartnerDocument.partner_id == row.id,
                    PartnerDocument.sha256.startswith(given, autoescape=True),
                )
            )
        )
        if not found:
            raise UnknownDocument(
                f"{partner} has no document whose SHA-256 starts with {given}; "
                f"`tonle partners documents list {partner}` shows them"
            )
        if len(found) > 1:
            raise InvalidDocument(
                f"{len(found)} of {partner}'s documents start with {given}; give more digits"
            )
        (document,) = found
        await session.delete(document)
        await bump_epoch(session)
    return _record(document, partner)


async def documents_by_partner(sessions: Sessions) -> dict[str, Mapping[str, str]]:
    """Partner code -> SHA-256 -> document, for every partner that registered any."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Partner.code, PartnerDocument.sha256, PartnerDocument.document).join(
                    Partner, Partner.id == PartnerDocument.partner_id
                )
            )
        ).all()
    out: dict[str, dict[str, str]] = {}
    for code, sha256, document in rows:
        out.setdefault(code, {})[sha256] = document
    return dict(out)


def _record(row: PartnerDocument, partner: str) -> TrustedDocument:
    created = row.created_at
    if created.tzinfo is None:  # SQLite gives back naive datetimes; everything is UTC
        created = created.replace(tzinfo=dt.UTC)
    return TrustedDocument(partner, row.sha256, row.name, row.document, created)
