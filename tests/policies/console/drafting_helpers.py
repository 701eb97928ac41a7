"""Small changes to a policy document, made as the agreement editor would save them."""

from __future__ import annotations

from dataclasses import replace

from policies.model import PolicyDocument


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
