"""A partner's view for one purpose: visible fields, masks, usable arguments, scope, limits.

The view is decided by Cedar once per (partner, purpose, policy version, API schema) and
then only looked up: for every field, is it allowed as it is (mask ``none``)? If not, is
it allowed in the mask the agreement names? Otherwise it is hidden. Arguments are usable
when Cedar allows them and, for an argument that filters by a field (the document's
``filters``), when that field is visible enough to be filtered on — otherwise a search
would answer questions about a value the partner may not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from policies.caller import RowScope
from policies.cedar import UNMASKED, CedarPolicies, PartnerFacts
from policies.model import HIDDEN, VISIBLE, Agreement, Limits


@dataclass(frozen=True)
class View:
    """What one partner sees for one purpose under one policy version."""

    partner: PartnerFacts
    purpose: str
    version: int
    agreement: Agreement
    # type -> field -> "visible" or a mask name; a field not listed is hidden
    fields: Mapping[str, Mapping[str, str]]
    # usable arguments (Type.field(argument)) and input fields (Input.field)
    arguments: frozenset[str]
    scope: RowScope
    subjects: Mapping[str, str] = field(default_factory=dict)  # type -> key field
    subject_kinds: Mapping[str, str] = field(default_factory=dict)  # type -> log kind
    verifications: frozenset[str] = frozenset()

    @property
    def limits(self) -> Limits:
        return self.agreement.limits

    @property
    def key(self) -> str:
        return f"{self.partner.code}/{self.purpose}@{self.version}"

    def rule(self, type_name: str, field_name: str) -> str:
        return self.fields.get(type_name, {}).get(field_name, HIDDEN)

    # The gateway's SchemaFilter:
    def field_visible(self, type_name: str, field_name: str) -> bool:
        return field_name in self.fields.get(type_name, {})

    def argument_visible(self, type_name: str, field_name: str, argument: str) -> bool:
        return f"{type_name}.{field_name}({argument})" in self.arguments

    def input_field_visible(self, type_name: str, field_name: str) -> bool:
        return f"{type_name}.{field_name}" in self.arguments

    def masks(self) -> dict[tuple[str, str], str]:
        return {
            (type_name, field_name): rule
            for type_name, rules in self.fields.items()
            for field_name, rule in rules.items()
            if rule != VISIBLE
        }


def decide_view(
    policies: CedarPolicies, partner: PartnerFacts, agreement: Agreement, version: int
) -> View:
    """Ask Cedar about every field and argument of the catalogue, once."""
    catalogue = policies.catalogue
    document = policies.document
    questions: list[tuple[str, str]] = []
    masked: list[tuple[str, str, str]] = []
    for type_name, field_name in catalogue.field_actions():
        questions.append((f"{type_name}.{field_name}", UNMASKED))
        rule = agreement.rule(type_name, field_name)
        if rule not in (VISIBLE, HIDDEN):
            masked.append((type_name, field_name, rule))
    field_count = len(questions)
    questions.extend((f"{t}.{f}", mask) for t, f, mask in masked)
    arguments = list(catalogue.argument_actions())
    questions.extend((name, UNMASKED) for name in arguments)
    answers = policies.allowed(partner, agreement.purpose, questions)

    fields: dict[str, dict[str, str]] = {}
    for (action, _), allowed in zip(questions[:field_count], answers[:field_count], strict=True):
        if allowed:
            type_name, _, field_name = action.partition(".")
            fields.setdefault(type_name, {})[field_name] = VISIBLE
    mask_answers = answers[field_count : field_count + len(masked)]
    for (type_name, field_name, mask), allowed in zip(masked, mask_answers, strict=True):
        if allowed and field_name not in fields.get(type_name, {}):
            fields.setdefault(type_name, {})[field_name] = mask
    usable = {
        name
        for name, allowed in zip(arguments, answers[field_count + len(masked) :], strict=True)
        if allowed
    }
    for needs in document.filters:
        if needs.argument not in usable:
            continue
        type_name, _, field_name = needs.field.partition(".")
        form = fields.get(type_name, {}).get(field_name)
        if form != VISIBLE and form not in needs.allows:
            usable.discard(needs.argument)
    return View(
        partner=partner,
        purpose=agreement.purpose,
        version=version,
        agreement=agreement,
        fields=fields,
        arguments=frozenset(usable),
        scope=row_scope(agreement, partner),
        subjects=document.subject_keys(),
        subject_kinds=document.subject_kinds(),
        verifications=document.verifications,
    )


def row_scope(agreement: Agreement, partner: PartnerFacts) -> RowScope:
    """The rows an agreement reaches; "own registrations" of a partner with no operator
    reach no one (the empty operator name matches no programme link)."""
    operator = None
    if agreement.scope.own_registrations:
        operator = partner.operator or ""
    return RowScope(areas=agreement.scope.areas, operator=operator)
