"""Changes to a draft besides one agreement's form: adding (or copying) and removing
agreements, the purposes catalogue, the guardrails.
"""

from __future__ import annotations

from dataclasses import replace

from policies.console.drafting.controls import (
    PARTNER_CODE,
    PURPOSE_CODE,
    Applied,
    FormProblem,
    checked_document,
    clean_text,
    refused,
)
from policies.model import (
    Agreement,
    PolicyDocument,
    Purpose,
)


def add_agreement(
    document: PolicyDocument,
    partner: str,
    purpose: str,
    *,
    copy_of: tuple[str, str] | None = None,
) -> Applied:
    """A new agreement that shows nothing yet, or a copy of another one's rules."""
    partner = partner.strip()
    purpose = purpose.strip()
    if not PARTNER_CODE.match(partner):
        return refused("partner", f"{partner[:64]!r} is not a partner code (such as ngo-cash)")
    if purpose not in document.purposes:
        return refused(
            "purpose",
            f"{purpose[:64]!r} is not in the purposes catalogue "
            f"({', '.join(sorted(document.purposes))}); add the purpose first",
        )
    if document.agreement(partner, purpose) is not None:
        return refused("purpose", f"{partner} already has an agreement for {purpose}")
    if copy_of is not None:
        source = document.agreement(*copy_of)
        if source is None:
            return refused("copy_of", f"there is no agreement {copy_of[0]}/{copy_of[1]} to copy")
        new = replace(source, partner=partner, purpose=purpose)
    else:
        new = Agreement(partner=partner, purpose=purpose, fields={})
    return checked_document(replace(document, agreements=(*document.agreements, new)))


def remove_agreement(document: PolicyDocument, partner: str, purpose: str) -> Applied:
    """The document without the agreement of ``partner`` for ``purpose``."""
    if document.agreement(partner, purpose) is None:
        return refused("agreement", f"this draft has no agreement for {partner} and {purpose}")
    kept = tuple(a for a in document.agreements if (a.partner, a.purpose) != (partner, purpose))
    return checked_document(replace(document, agreements=kept))


def set_purpose(document: PolicyDocument, code: str, description: str, legal_basis: str) -> Applied:
    """The document with this purpose added to the catalogue, or changed there."""
    problems: list[FormProblem] = []
    code = code.strip()
    if not PURPOSE_CODE.match(code):
        problems.append(
            FormProblem("code", f"{code[:64]!r}: lower-case letters, digits, _ or - (statistics)")
        )
    text = clean_text(description, "Description", "description", problems)
    basis = clean_text(legal_basis, "Legal basis", "legal_basis", problems)
    if not basis:
        problems.append(FormProblem("legal_basis", "Legal basis: every purpose names its law"))
    if problems:
        return Applied(None, tuple(problems))
    purposes = {**document.purposes, code: Purpose(code, text, basis)}
    return checked_document(replace(document, purposes=purposes))


def remove_purpose(document: PolicyDocument, code: str) -> Applied:
    users = [a.partner for a in document.agreements if a.purpose == code]
    if users:
        return refused(
            "code", f"{code} is the purpose of agreements with {', '.join(users)}; remove those"
        )
    if code not in document.purposes:
        return refused("code", f"{code!r} is not in the purposes catalogue")
    purposes = {k: v for k, v in document.purposes.items() if k != code}
    return checked_document(replace(document, purposes=purposes))


def set_guardrails(document: PolicyDocument, text: str) -> Applied:
    """The document with these guardrails (Cedar text; the Check validates them)."""
    cleaned = text.replace("\r\n", "\n")
    if "\x00" in cleaned:
        return refused("guardrails", "Guardrails: no NUL characters")
    return checked_document(replace(document, guardrails=cleaned))
