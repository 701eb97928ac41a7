"""Who a subgraph request is for: the headers the gateway sets, signs, and subgraphs read.

The gateway authenticates the partner and decides its view; what a subgraph needs of that
decision travels in ``X-Tonle-*`` headers that the gateway's signature covers, so a
subgraph can trust them exactly as far as it trusts the signature:

- ``X-Tonle-Partner``: the partner's code;
- ``X-Tonle-Purpose``: the purpose the request declared;
- ``X-Tonle-End-User``: the partner's own user, when it named one;
- ``X-Tonle-Scope``: the row scope, compact JSON ``{"areas": [...], "operator": "nssf"}``:
  a person is in scope when they live in one of ``areas`` (gazetteer codes of any level,
  matched as the gazetteer files the village: ``identity_store.scope``) *and* the
  ``operator`` has registered them; a key that is absent does not restrict, and the
  operator ``""`` admits no one. No header at all means no row restriction (``--open``);
- ``X-Tonle-Operator``: the operator the partner registers people as;
- ``X-Tonle-Programmes``: comma-separated programmes it may register people for; absent
  means any programme of its operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

PARTNER_HEADER = "X-Tonle-Partner"
PURPOSE_HEADER = "X-Tonle-Purpose"
END_USER_HEADER = "X-Tonle-End-User"
SCOPE_HEADER = "X-Tonle-Scope"
OPERATOR_HEADER = "X-Tonle-Operator"
PROGRAMMES_HEADER = "X-Tonle-Programmes"

# Every header the gateway signs starts with this (the signature header aside).
SIGNED_PREFIX = "x-tonle-"


class MalformedCallerHeader(ValueError):
    """A caller header that does not parse; only a bug in the gateway can send one."""


@dataclass(frozen=True)
class RowScope:
    """Which people a partner may see at all; outside it, a person does not exist for it."""

    areas: tuple[str, ...] | None = None
    operator: str | None = None

    @property
    def unrestricted(self) -> bool:
        return self.areas is None and self.operator is None

    def to_header(self) -> str:
        body: dict[str, object] = {}
        if self.areas is not None:
            body["areas"] = list(self.areas)
        if self.operator is not None:
            body["operator"] = self.operator
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()

    @classmethod
    def from_header(cls, value: str) -> RowScope:
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise MalformedCallerHeader(f"{SCOPE_HEADER} is not JSON") from None
        if not isinstance(body, dict) or set(body) - {"areas", "operator"}:
            raise MalformedCallerHeader(f"{SCOPE_HEADER} must be an object of areas, operator")
        areas = body.get("areas")
        operator = body.get("operator")
        if areas is not None and (
            not isinstance(areas, list)
            or not all(isinstance(a, str) and a.isdigit() for a in areas)
        ):
            raise MalformedCallerHeader(f"{SCOPE_HEADER} areas must be gazetteer codes")
        if operator is not None and not isinstance(operator, str):
            raise MalformedCallerHeader(f"{SCOPE_HEADER} operator must be a string")
        return cls(tuple(areas) if areas is not None else None, operator)


UNRESTRICTED = RowScope()


@dataclass(frozen=True)
class Caller:
    """The partner a subgraph request is made for, as the gateway signed it."""

    partner: str | None = None
    purpose: str | None = None
    end_user: str | None = None
    scope: RowScope = UNRESTRICTED
    operator: str | None = None
    programmes: tuple[str, ...] | None = None

    def headers(self) -> dict[str, str]:
        """The headers that carry this caller to a subgraph (to be signed with the request)."""
        headers: dict[str, str] = {}
        if self.partner is not None:
            headers[PARTNER_HEADER] = self.partner
        if self.purpose is not None:
            headers[PURPOSE_HEADER] = self.purpose
        if self.end_user is not None:
            headers[END_USER_HEADER] = self.end_user
        if not self.scope.unrestricted:
            headers[SCOPE_HEADER] = self.scope.to_header()
        if self.operator is not None:
            headers[OPERATOR_HEADER] = self.operator
        if self.programmes is not None:
            headers[PROGRAMMES_HEADER] = ",".join(self.programmes)
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Caller:
        """Read the caller from a request's headers (case-insensitive mapping)."""
        scope = headers.get(SCOPE_HEADER)
        programmes = headers.get(PROGRAMMES_HEADER)
        return cls(
            partner=headers.get(PARTNER_HEADER) or None,
            purpose=headers.get(PURPOSE_HEADER) or None,
            end_user=headers.get(END_USER_HEADER) or None,
            scope=RowScope.from_header(scope) if scope else UNRESTRICTED,
            operator=headers.get(OPERATOR_HEADER) or None,
            programmes=tuple(p for p in programmes.split(",") if p)
            if programmes is not None
            else None,
        )

    @property
    def actor(self) -> str | None:
        """Who decided, for history and review cases: ``partner`` or ``partner/end user``."""
        if self.partner is None:
            return None
        return f"{self.partner}/{self.end_user}" if self.end_user else self.partner
