"""Agreements as Cedar policies, and the Cedar schema generated from the API schema.

The words of Cedar, for Tonle:

- principal ``Tonle::Partner::"<code>"`` (attributes ``kind``, optional ``operator``);
- resource ``Tonle::Purpose::"<code>"`` (attribute ``legalBasis``): the purpose the
  request is made for;
- action ``Tonle::Action::"<Type>.<field>"`` reads a field (``Mutation.registerPerson``
  calls a mutation), ``"<Type>.<field>(<argument>)"`` uses an argument and
  ``"<Input>.<field>"`` fills an input field; every action is in the group
  ``Tonle::Action::"type:<Type>"`` of its type;
- context ``{mask: "none" | "<mask>"}``: the form the value would be released in.

Each agreement compiles to one ``permit`` for what it shows as it is and one per mask it
uses; guardrails are ``forbid`` policies written in Cedar, and forbid overrides permit.
Every action is declared in the generated schema, so a policy naming a field, argument
or type that the API schema does not have fails validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cedarpy
from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from policies.errors import PolicyError
from policies.model import (
    HIDDEN,
    VISIBLE,
    Agreement,
    PolicyDocument,
    Problem,
)

NAMESPACE = "Tonle"
UNMASKED = "none"
_ID = re.compile(r'@id\("([^"]*)"\)')


@dataclass(frozen=True)
class PartnerFacts:
    """What Cedar knows of a partner."""

    code: str
    kind: str
    operator: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """Every action the API schema offers, by type."""

    fields: Mapping[str, tuple[str, ...]]  # object or interface type -> its fields
    arguments: Mapping[tuple[str, str], tuple[str, ...]]  # (type, field) -> its arguments
    inputs: Mapping[str, tuple[str, ...]]  # input type -> its fields

    @classmethod
    def of(cls, schema: GraphQLSchema) -> Catalogue:
        fields: dict[str, tuple[str, ...]] = {}
        arguments: dict[tuple[str, str], tuple[str, ...]] = {}
        inputs: dict[str, tuple[str, ...]] = {}
        for name, type_ in sorted(schema.type_map.items()):
            if name.startswith("__"):
                continue
            if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
                fields[name] = tuple(type_.fields)
                for field_name, field in type_.fields.items():
                    if field.args:
                        arguments[(name, field_name)] = tuple(field.args)
            elif isinstance(type_, GraphQLInputObjectType):
                inputs[name] = tuple(type_.fields)
        return cls(fields, arguments, inputs)

    def field_actions(self) -> Iterable[tuple[str, str]]:
        for type_name, names in self.fields.items():
            for field_name in names:
                yield type_name, field_name

    def argument_actions(self) -> Iterable[str]:
        for (type_name, field_name), names in self.arguments.items():
            for argument in names:
                yield f"{type_name}.{field_name}({argument})"
        for type_name, names in self.inputs.items():
            for field_name in names:
                yield f"{type_name}.{field_name}"

    def has_argument(self, name: str) -> bool:
        head, _, argument = name.partition("(")
        type_name, _, field_name = head.partition(".")
        if argument:
            return argument[:-1] in self.arguments.get((type_name, field_name), ())
        return field_name in self.inputs.get(type_name, ())


def cedar_schema(catalogue: Catalogue) -> dict[str, Any]:
    """The Cedar schema (JSON form) for an API schema's catalogue of actions."""
    applies = {
        "principalTypes": ["Partner"],
        "resourceTypes": ["Purpose"],
        "context": {"type": "Record", "attributes": {"mask": {"type": "String"}}},
    }
    actions: dict[str, Any] = {}
    groups = sorted({*catalogue.fields, *catalogue.inputs})
    for group in groups:
        actions[f"type:{group}"] = {}
    for type_name, field_name in catalogue.field_actions():
        actions[f"{type_name}.{field_name}"] = {
            "appliesTo": applies,
            "memberOf": [{"id": f"type:{type_name}"}],
        }
    for name in catalogue.argument_actions():
        type_name = name.partition(".")[0]
        actions[name] = {"appliesTo": applies, "memberOf": [{"id": f"type:{type_name}"}]}
    return {
        NAMESPACE: {
            "entityTypes": {
                "Partner": {
                    "shape": {
                        "type": "Record",
                        "attributes": {
                            "kind": {"type": "String"},
                            "operator": {"type": "String", "required": False},
                        },
                    }
                },
                "Purpose": {
                    "shape": {
                        "type": "Record",
                        "attributes": {"legalBasis": {"type": "String"}},
                    }
                },
            },
            "actions": actions,
        }
    }


def _uid(kind: str, value: str) -> str:
    return f"{NAMESPACE}::{kind}::{json.dumps(value)}"


def _action_list(names: Sequence[str]) -> str:
    return "[" + ", ".join(_uid("Action", n) for n in names) + "]"


def granted_actions(
    agreement: Agreement, catalogue: Catalogue, document: PolicyDocument
) -> dict[str, list[str]]:
    """Rule (``visible`` or a mask) -> the actions an agreement grants under it.

    Fields or types the catalogue does not have are left out here; :func:`check_names`
    reports them when a policy is checked.
    """
    grants: dict[str, list[str]] = {}
    for type_name in agreement.fields:
        for field_name in catalogue.fields.get(type_name, ()):
            rule = agreement.rule(type_name, field_name)
            if rule == HIDDEN:
                continue
            grants.setdefault(rule, []).append(f"{type_name}.{field_name}")
            for argument in catalogue.arguments.get((type_name, field_name), ()):
                name = f"{type_name}.{field_name}({argument})"
                if name not in agreement.hidden_arguments and name not in (
                    document.from_credentials
                ):
                    grants.setdefault(VISIBLE, []).append(name)
    for type_name, names in catalogue.inputs.items():
        for field_name in names:
            name = f"{type_name}.{field_name}"
            if name not in agreement.hidden_arguments and name not in document.from_credentials:
                grants.setdefault(VISIBLE, []).append(name)
    return grants


def compile_agreement(agreement: Agreement, catalogue: Catalogue, document: PolicyDocument) -> str:
    """The Cedar policies of one agreement."""
    head = (
        f"principal == {_uid('Partner', agreement.partner)}, action in {{actions}}, "
        f"resource == {_uid('Purpose', agreement.purpose)}"
    )
    out = []
    for rule, actions in sorted(granted_actions(agreement, catalogue, document).items()):
        condition = "" if rule == VISIBLE else f' when {{ context.mask == "{rule}" }}'
        policy_id = f"agreement {agreement.partner}/{agreement.purpose}: {rule}"
        out.append(
            f"@id({json.dumps(policy_id)})\n"
            f"permit ({head.format(actions=_action_list(sorted(actions)))}){condition};"
        )
    return "\n".join(out)


def compile_document(document: PolicyDocument, catalogue: Catalogue) -> str:
    """Every agreement's permits, then the guardrails."""
    parts = [compile_agreement(a, catalogue, document) for a in document.agreements]
    parts.append(document.guardrails)
    return "\n\n".join(p for p in parts if p.strip())


def entities(partners: Iterable[PartnerFacts], document: PolicyDocument) -> list[dict[str, Any]]:
    """Partner and purpose entities, with the attributes guardrails may test."""
    out: list[dict[str, Any]] = []
    for partner in partners:
        attrs: dict[str, Any] = {"kind": partner.kind}
        if partner.operator:
            attrs["operator"] = partner.operator
        out.append(
            {
                "uid": {"type": f"{NAMESPACE}::Partner", "id": partner.code},
                "attrs": attrs,
                "parents": [],
            }
        )
    for code, purpose in document.purposes.items():
        out.append(
            {
                "uid": {"type": f"{NAMESPACE}::Purpose", "id": code},
                "attrs": {"legalBasis": purpose.legal_basis},
                "parents": [],
            }
        )
    return out


class CedarPolicies:
    """A document's policies parsed once, with the schema; answers batches of questions."""

    def __init__(self, document: PolicyDocument, catalogue: Catalogue) -> None:
        self.document = document
        self.catalogue = catalogue
        self.schema = json.dumps(cedar_schema(catalogue))
        self.text = compile_document(document, catalogue)
        try:
            self.policies = cedarpy.PolicySet.from_str(self.text)
        except ValueError as error:
            raise PolicyError(f"the guardrails do not parse as Cedar: {error}") from None

    def allowed(
        self, partner: PartnerFacts, purpose: str, questions: Sequence[tuple[str, str]]
    ) -> list[bool]:
        """For each (action, mask): may ``partner`` have it, for ``purpose``?"""
        if not questions:
            return []
        principal = _uid("Partner", partner.code)
        resource = _uid("Purpose", purpose)
        requests = [
            {
                "principal": principal,
                "action": _uid("Action", action),
                "resource": resource,
                "context": {"mask": mask},
            }
            for action, mask in questions
        ]
        known = json.dumps(entities([partner], self.document))
        results = cedarpy.is_authorized_batch(requests, self.policies, known, self.schema)
        return [result.allowed for result in results]


def check_cedar(document: PolicyDocument, catalogue: Catalogue) -> list[Problem]:
    """Cedar's validation of the compiled agreements and the guardrails against the schema."""
    problems: list[Problem] = []
    guard_line = document.line_of("guardrails")
    if document.guardrails.strip():
        try:
            parsed = cedarpy.policies_to_json_str(document.guardrails)
        except ValueError as error:
            return [document.problem(f"the guardrails are not valid Cedar: {error}", "guardrails")]
        for policy in json.loads(parsed).get("staticPolicies", {}).values():
            if policy.get("effect") != "forbid":
                problems.append(
                    Problem(
                        "a guardrail must be a forbid policy: permits come from agreements",
                        guard_line,
                        document.file,
                    )
                )
    text = compile_document(document, catalogue)
    result = cedarpy.validate_policies(text, json.dumps(cedar_schema(catalogue)))
    if not result.validation_passed:
        names = result.id_annotations_by_policy_id
        for found in result.errors:
            name = names.get(found.policy_id) or found.policy_id
            line = _guardrail_line(document, name)
            message = str(found.error).replace(f"for policy `{found.policy_id}`, ", "")
            problems.append(Problem(f"guardrail {name!r}: {message}", line, document.file))
    return problems


def _guardrail_line(document: PolicyDocument, name: str) -> int | None:
    """The line of the guardrail with ``@id(name)``, else where the guardrails start."""
    start = document.line_of("guardrails")
    for number, line in enumerate(document.guardrails.splitlines()):
        found = _ID.search(line)
        if found and found.group(1) == name and start is not None:
            return start + 1 + number
    return start
