"""Policy drafts in the database, and the four-eyes path from a draft to a published version.

A draft holds a whole policy document. Its author edits it while it is a ``draft``,
submits it with a change reason, and an approver who is not its author publishes it
(a new version through ``policies.repository.add_version`` and ``publish``) or rejects
it with a note; the author may take a submitted draft back to editing, or withdraw it.
A rollback is a draft too (kind ``rollback``): the document of an older version, not
editable, approved like any change.

A draft remembers the version that was published when it started (``base_version``);
publishing it while another version has been published since would silently undo that
version's changes, so it is refused: start a new draft from the published version.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update

from policies.console.accounts import aware
from policies.console.models import PolicyDraft
from policies.document import read_stored
from policies.errors import PolicyError
from policies.model import PolicyDocument
from policies.repository import (
    Sessions,
    add_version,
    publish,
    published,
    utcnow,
    version_document,
)

DRAFT, SUBMITTED, PUBLISHED, REJECTED, WITHDRAWN = (
    "draft",
    "submitted",
    "published",
    "rejected",
    "withdrawn",
)
OPEN = (DRAFT, SUBMITTED)
# One approval at a time in this process (per event loop): the check that nothing was
# published since the draft started and the publication itself must not interleave with
# another approval. Two console processes could still interleave in that short window; a
# draft's own decision is atomic everywhere (the conditional UPDATE in _transition).
_APPROVING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _approving() -> asyncio.Lock:
    return _APPROVING.setdefault(asyncio.get_running_loop(), asyncio.Lock())


class DraftError(PolicyError):
    """A draft that cannot be changed or decided as asked; the message says why."""


class UnknownDraft(DraftError):
    """No draft has this number."""


class SelfApproval(DraftError):
    """The author of a draft tried to approve (or reject) it."""


class NotTheAuthor(DraftError):
    """Someone other than a draft's author tried what only its author may do."""


class StaleDraft(DraftError):
    """Another version was published after the draft started."""


@dataclass(frozen=True)
class Draft:
    """A draft and where it stands."""

    id: int
    title: str
    base_version: int | None
    document: PolicyDocument
    kind: str
    rollback_of: int | None
    author: str
    created_at: dt.datetime
    updated_at: dt.datetime
    status: str
    reason: str | None
    submitted_at: dt.datetime | None
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None
    published_version: int | None

    @property
    def editable(self) -> bool:
        """Whether its document may still change (its author's, while a draft)."""
        return self.status == DRAFT and self.kind == "change"

    @property
    def open(self) -> bool:
        return self.status in OPEN


async def new_draft(
    sessions: Sessions,
    *,
    author: str,
    title: str,
    base: Literal["published"] | int,
) -> int:
    """A new draft holding the published document (or version ``base``'s); its number."""
    current = await published(sessions)
    if base == "published":
        if current is None:
            raise DraftError(
                "no policy is published yet: publish a first one with tonle policies import "
                "FILE --publish, then draft changes to it here"
            )
        document = current.document
    else:
        document = (await version_document(sessions, base)).document
    return await _insert(
        sessions,
        title=title,
        author=author,
        document=document,
        base_version=current.number if current else None,
        kind="change",
    )


async def new_rollback_draft(sessions: Sessions, *, author: str, number: int, reason: str) -> int:
    """A draft that publishes version ``number``'s document again, submitted at once with
    ``reason`` (there is nothing to edit in it)."""
    if not reason.strip():
        raise DraftError("give the reason for the rollback (it is kept with the new version)")
    current = await published(sessions)
    document = (await version_document(sessions, number)).document
    if current is not None and current.number == number:
        raise DraftError(f"version {number} is the published version already")
    draft_id = await _insert(
        sessions,
        title=f"Roll back to version {number}",
        author=author,
        document=document,
        base_version=current.number if current else None,
        kind="rollback",
        rollback_of=number,
    )
    await _transition(
        sessions, draft_id, (DRAFT,), SUBMITTED, reason=reason.strip(), submitted_at=utcnow()
    )
    return draft_id


async def _insert(
    sessions: Sessions,
    *,
    title: str,
    author: str,
    document: PolicyDocument,
    base_version: int | None,
    kind: str,
    rollback_of: int | None = None,
) -> int:
    title = " ".join(title.split())[:200]
    if not title:
        raise DraftError("give the draft a title that says what it changes")
    now = utcnow()
    row = PolicyDraft(
        title=title,
        base_version=base_version,
        document=document.to_json(),
        kind=kind,
        rollback_of=rollback_of,
        author=author,
        created_at=now,
        updated_at=now,
        status=DRAFT,
    )
    async with sessions() as session, session.begin():
        session.add(row)
        await session.flush()
        return row.id


async def load_draft(sessions: Sessions, draft_id: int) -> Draft:
    """The draft with this number, or :class:`UnknownDraft`."""
    async with sessions() as session:
        row = await session.get(PolicyDraft, draft_id)
    if row is None:
        raise UnknownDraft(f"there is no draft {draft_id}")
    return _draft(row)


async def list_drafts(sessions: Sessions, *, statuses: Sequence[str] = ()) -> list[Draft]:
    """Drafts, newest first (only those in ``statuses`` when given)."""
    query = select(PolicyDraft).order_by(PolicyDraft.id.desc())
    if statuses:
        query = query.where(PolicyDraft.status.in_(list(statuses)))
    async with sessions() as session:
        return [_draft(r) for r in await session.scalars(query)]


async def save_draft_document(
    sessions: Sessions, draft_id: int, document: PolicyDocument, *, by: str
) -> None:
    """Replace the draft's document: only its author, only while it is a draft."""
    async with sessions() as session, session.begin():
        row = await session.get(PolicyDraft, draft_id, with_for_update=True)
        if row is None:
            raise UnknownDraft(f"there is no draft {draft_id}")
        if row.author != by:
            raise NotTheAuthor(
                f"draft {draft_id} is {row.author}'s: only its author edits it "
                "(start a draft of your own from the published version)"
            )
        if row.kind != "change":
            raise DraftError(f"draft {draft_id} is a rollback: its document is not edited")
        if row.status != DRAFT:
            raise DraftError(
                f"draft {draft_id} is {row.status}: "
                + ("take it back to editing first" if row.status == SUBMITTED else "it is closed")
            )
        row.document = document.to_json()
        row.updated_at = utcnow()


async def submit(sessions: Sessions, draft_id: int, *, by: str, reason: str) -> None:
    """Ask for approval, with the reason for the change (kept with the version)."""
    if not reason.strip():
        raise DraftError("give the reason for this change: the approver and the auditors read it")
    await _author_transition(
        sessions,
        draft_id,
        by,
        (DRAFT,),
        SUBMITTED,
        reason=reason.strip()[:500],
        submitted_at=utcnow(),
    )


async def return_to_editing(sessions: Sessions, draft_id: int, *, by: str) -> None:
    """Take a submitted draft back to editing (its author)."""
    draft = await load_draft(sessions, draft_id)
    if draft.kind != "change":
        raise DraftError("a rollback has nothing to edit: withdraw it instead")
    await _author_transition(sessions, draft_id, by, (SUBMITTED,), DRAFT, submitted_at=None)


async def withdraw(sessions: Sessions, draft_id: int, *, by: str) -> None:
    """Close the draft without publishing it (its author)."""
    await _author_transition(sessions, draft_id, by, OPEN, WITHDRAWN)


async def reject(sessions: Sessions, draft_id: int, *, by: str, note: str) -> None:
    """Close a submitted draft without publishing it, saying why (an approver, not its author)."""
    if not note.strip():
        raise DraftError("say why the draft is rejected: its author reads the note")
    draft = await load_draft(sessions, draft_id)
    if draft.author == by:
        raise SelfApproval("you wrote this draft: withdraw it instead of rejecting it")
    await _transition(
        sessions,
        draft_id,
        (SUBMITTED,),
        REJECTED,
        decided_by=by,
        decided_at=utcnow(),
        decision_note=note.strip(),
    )


async def approve(
    sessions: Sessions, draft_id: int, *, by: str, note: str = "", problems: Sequence[str] = ()
) -> int:
    """Publish a submitted draft as a new version; return the version's number.

    ``by`` must not be the author (four eyes). ``problems`` are the errors the check
    found in the draft's document: any refuses it. Refused too when another version was
    published after the draft started.
    """
    async with _approving():
        draft = await load_draft(sessions, draft_id)
        if draft.author == by:
            raise SelfApproval(
                f"you wrote draft {draft_id}: another approver must approve it (four eyes)"
            )
        if draft.status != SUBMITTED:
            raise DraftError(f"draft {draft_id} is {draft.status}, not waiting for approval")
        if problems:
            raise DraftError("the draft has errors and cannot be published: " + "; ".join(problems))
        current = await published(sessions)
        if (current.number if current else None) != draft.base_version:
            raise StaleDraft(
                f"version {current.number if current else 'none'} was published after this "
                f"draft started from version {draft.base_version}: publishing it would undo "
                "that change. Reject or withdraw it and start a new draft from the published "
                "version."
            )
        now = utcnow()
        await _transition(
            sessions,
            draft_id,
            (SUBMITTED,),
            PUBLISHED,
            decided_by=by,
            decided_at=now,
            decision_note=note.strip() or None,
        )
        try:
            number = await _publish(sessions, draft, by)
        except BaseException:
            await _transition(
                sessions,
                draft_id,
                (PUBLISHED,),
                SUBMITTED,
                decided_by=None,
                decided_at=None,
                decision_note=None,
            )
            raise
    async with sessions() as session, session.begin():
        await session.execute(
            update(PolicyDraft).where(PolicyDraft.id == draft_id).values(published_version=number)
        )
    return number


async def _publish(sessions: Sessions, draft: Draft, by: str) -> int:
    said = f"{draft.reason} (draft {draft.id} by {draft.author}, approved by {by})"
    source = None
    if draft.kind == "rollback" and draft.rollback_of is not None:
        source = (await version_document(sessions, draft.rollback_of)).source
        said = f"rollback to version {draft.rollback_of}: {said}"
    number = await add_version(
        sessions,
        draft.document,
        created_by=draft.author,
        reason=said[:500],
        source=source,
        based_on=draft.rollback_of,
    )
    await publish(sessions, number, by=by, reason=f"draft {draft.id} approved by {by}")
    return number


async def _author_transition(
    sessions: Sessions,
    draft_id: int,
    by: str,
    before: tuple[str, ...],
    after: str,
    **values: object,
) -> None:
    draft = await load_draft(sessions, draft_id)
    if draft.author != by:
        raise NotTheAuthor(f"draft {draft_id} is {draft.author}'s: only its author does that")
    await _transition(sessions, draft_id, before, after, **values)


async def _transition(
    sessions: Sessions,
    draft_id: int,
    before: tuple[str, ...],
    after: str,
    **values: object,
) -> None:
    """Move the draft from one of ``before`` to ``after``, or say it is no longer there:
    the condition is in the UPDATE, so two admins deciding at once cannot both win."""
    async with sessions() as session, session.begin():
        done = await session.execute(
            update(PolicyDraft)
            .where(PolicyDraft.id == draft_id, PolicyDraft.status.in_(before))
            .values(status=after, updated_at=utcnow(), **values)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            row = await session.get(PolicyDraft, draft_id)
            if row is None:
                raise UnknownDraft(f"there is no draft {draft_id}")
            raise DraftError(f"draft {draft_id} is {row.status}; that cannot be done to it now")


def _draft(row: PolicyDraft) -> Draft:
    return Draft(
        id=row.id,
        title=row.title,
        base_version=row.base_version,
        document=read_stored(row.document),
        kind=row.kind,
        rollback_of=row.rollback_of,
        author=row.author,
        created_at=aware(row.created_at) or utcnow(),
        updated_at=aware(row.updated_at) or utcnow(),
        status=row.status,
        reason=row.reason,
        submitted_at=aware(row.submitted_at),
        decided_by=row.decided_by,
        decided_at=aware(row.decided_at),
        decision_note=row.decision_note,
        published_version=row.published_version,
    )
