"""Apollo's authorization directives in a supergraph: ``@authenticated``,
``@requiresScopes(scopes:)`` and ``@policy(policies:)`` on types and fields.

A requirement lists alternatives (an outer list, OR) of sets (inner lists, AND): a
caller meets ``[["a", "b"], ["c"]]`` with both a and b, or with c. A field is available
when the caller meets the requirements on the field, on its parent type and on the type
it returns, as in Apollo Router; otherwise the field is absent from the caller's schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graphql import (
    DirectiveNode,
    EnumTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    UnionTypeDefinitionNode,
    value_from_ast_untyped,
)

from gateway.access import Grants
from gateway.supergraph import Supergraph

_TYPES = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    UnionTypeDefinitionNode,
    EnumTypeDefinitionNode,
    ScalarTypeDefinitionNode,
)


@dataclass(frozen=True)
class Requirement:
    """What an element asks of a caller."""

    authenticated: bool = False
    scopes: tuple[frozenset[str], ...] | None = None
    policies: tuple[frozenset[str], ...] | None = None

    def met_by(self, grants: Grants) -> bool:
        if (self.authenticated or self.scopes or self.policies) and not grants.authenticated:
            return False
        if self.scopes is not None and not any(s <= grants.scopes for s in self.scopes):
            return False
        return self.policies is None or any(p <= grants.policies for p in self.policies)


def _alternatives(directive: DirectiveNode, argument: str) -> tuple[frozenset[str], ...]:
    for arg in directive.arguments or ():
        if arg.name.value == argument:
            value = value_from_ast_untyped(arg.value)
            if isinstance(value, list):
                return tuple(
                    frozenset(str(x) for x in inner) for inner in value if isinstance(inner, list)
                )
    return ()


def _requirement(directives: Iterable[DirectiveNode], names: dict[str, str]) -> Requirement | None:
    authenticated = False
    scopes: tuple[frozenset[str], ...] | None = None
    policies: tuple[frozenset[str], ...] | None = None
    for directive in directives:
        name = directive.name.value
        if name == names.get("authenticated"):
            authenticated = True
        elif name == names.get("requiresScopes"):
            scopes = (scopes or ()) + _alternatives(directive, "scopes")
        elif name == names.get("policy"):
            policies = (policies or ()) + _alternatives(directive, "policies")
    if not authenticated and scopes is None and policies is None:
        return None
    return Requirement(authenticated, scopes, policies)


@dataclass(frozen=True)
class AuthorizationRules:
    """Requirements by type (``(type, None)``) and by field (``(type, field)``)."""

    rules: dict[tuple[str, str | None], Requirement]

    @classmethod
    def of(cls, supergraph: Supergraph) -> AuthorizationRules:
        names = supergraph.security_directives
        rules: dict[tuple[str, str | None], Requirement] = {}
        if not names:
            return cls(rules)
        for definition in supergraph.document.definitions:
            if not isinstance(definition, _TYPES):
                continue
            type_name = definition.name.value
            found = _requirement(definition.directives or (), names)
            if found is not None:
                rules[(type_name, None)] = found
            for field in getattr(definition, "fields", None) or ():
                found = _requirement(field.directives or (), names)
                if found is not None:
                    rules[(type_name, field.name.value)] = found
        return cls(rules)

    def type_allowed(self, type_name: str, grants: Grants) -> bool:
        rule = self.rules.get((type_name, None))
        return rule is None or rule.met_by(grants)

    def field_allowed(self, type_name: str, field_name: str, grants: Grants) -> bool:
        rule = self.rules.get((type_name, field_name))
        return rule is None or rule.met_by(grants)
