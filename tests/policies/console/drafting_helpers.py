"""Small changes to a policy document, made as the agreement editor would save them."""

from __future__ import annotations

from dataclasses import replace

from policies.console.drafts_store import (
    approve,
    load_draft,
    new_draft,
    save_draft_document,
    submit,
)
from policies.model import PolicyDocument
from policies.repository import Sessions


def with_rule(
    document: PolicyDocument, partner: str, purpose: str, type_name: str, field: str, rule: str
) -> PolicyDocument:
    """``document`` with one field rule of one agreement changed."""
    agreements = []
    for agreement in document.agreements:
        if (agreement.partner, agreement.purpose) == (partner, purpose):
            fields = {t: dict(rules) for t, rules in agreement.fields.items()}
            fields.setdefault(type_name, {})[field] = rule
            agreement = replace(agreement, fields=fields)
        agreements.append(agreement)
    return replace(document, agreements=tuple(agreements))


async def publish_change(
    sessions: Sessions, rule: str, *, author: str = "erin", by: str = "ada"
) -> int:
    """Publish, through a draft and four eyes, ngo-cash's birth date under ``rule``."""
    draft_id = await new_draft(sessions, author=author, title=f"birthDate {rule}", base="published")
    draft = await load_draft(sessions, draft_id)
    changed = with_rule(
        draft.document, "ngo-cash", "eligibility_check", "Person", "birthDate", rule
    )
    await save_draft_document(sessions, draft_id, changed, by=author)
    await submit(sessions, draft_id, by=author, reason=f"birth date {rule}")
    return await approve(sessions, draft_id, by=by)
