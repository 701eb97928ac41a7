"""What the gateway asks of an access policy, whoever provides it.

The gateway stays general: it knows of callers only through :class:`AccessControl`,
which admits a request (or refuses it) and gives back an :class:`Admission` holding the
caller's :class:`AccessView` — the schema it may see, the masks on its values, whose data
it is recorded as reading — and the headers every subgraph request of the call carries.
It may also know documents the caller registered (looked up by SHA-256, for persisted
queries) and refuse documents the caller may not run.
After execution the admission sees :class:`ResponseFacts` (the fields and subjects the
response holds) and may still withhold the response. With no access control (``--open``)
every caller gets :data:`OPEN_VIEW`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gateway.errors import GatewayError
from gateway.limits import OperationLimits

__all__ = [
    "OPEN_VIEW",
    "SUBJECT_KEY",
    "AccessControl",
    "AccessRefused",
    "AccessView",
    "Admission",
    "Grants",
    "Mask",
    "OperationLimits",
    "ResponseFacts",
    "SchemaFilter",
]

if TYPE_CHECKING:
    from starlette.requests import Request

    from gateway.runtime import PreparedRequest

Mask = Callable[[Any], Any]
# The alias under which the gateway fetches a subject's key for the access log.
SUBJECT_KEY = "__tonle_subject"


class SchemaFilter(Protocol):
    """Which parts of the API schema a caller may see at all."""

    def field_visible(self, type_name: str, field_name: str) -> bool: ...

    def argument_visible(self, type_name: str, field_name: str, argument: str) -> bool: ...

    def input_field_visible(self, type_name: str, field_name: str) -> bool: ...


@dataclass(frozen=True)
class Grants:
    """What Apollo's authorization directives are checked against."""

    authenticated: bool = False
    scopes: frozenset[str] = frozenset()
    policies: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AccessView:
    """One caller's view: computed once, then shared by every request made under it.

    ``key`` names the view in the schema and plan caches: two views with one key must
    be the same view. ``grants`` of None leaves authorization directives unenforced.
    """

    key: str
    filter: SchemaFilter | None = None
    grants: Grants | None = None
    masks: Mapping[tuple[str, str], Mask] = field(default_factory=dict)
    subjects: Mapping[str, str] = field(default_factory=dict)  # type -> key field
    counted: frozenset[tuple[str, str]] = frozenset()  # fields whose values are counted
    # (type, field) -> a line added to the field's description in the caller's schema
    notes: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # what one request may ask for where the caller's agreement says (OperationLimits field ->
    # value); every other limit is the gateway process's setting (TONLE_MAX_COST, ...)
    limits: Mapping[str, int] = field(default_factory=dict)


OPEN_VIEW = AccessView(key="")


@dataclass
class ResponseFacts:
    """What one shaped response holds: fields, whose data, and counts of counted fields."""

    fields: set[str] = field(default_factory=set)  # "Type.field"
    subjects: dict[str, set[str]] = field(default_factory=dict)  # type -> key values
    counts: dict[str, int] = field(default_factory=dict)  # "Type.field" -> values returned


class AccessRefused(GatewayError):
    """The caller may not make this request; answered with ``status`` and no data."""

    def __init__(
        self,
        message: str,
        code: str,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    def as_error(self) -> dict[str, Any]:
        return {"message": self.message, "extensions": {"code": self.code, **self.extensions}}


class Admission(Protocol):
    """An admitted request: its view, its subgraph headers, and its checks."""

    @property
    def view(self) -> AccessView: ...

    @property
    def subgraph_headers(self) -> Mapping[str, str]: ...

    def persisted_document(self, sha256: str) -> str | None:
        """The document the caller registered under this SHA-256 (trusted documents), if any."""

    def approve_document(self, sha256: str) -> None:
        """Refuse (raise :class:`AccessRefused`) a document the caller may not run, by hash."""

    def check(self, prepared: PreparedRequest, variables: Mapping[str, Any]) -> None:
        """Refuse (raise :class:`AccessRefused`) before anything is fetched."""

    async def complete(self, prepared: PreparedRequest, facts: ResponseFacts, outcome: str) -> None:
        """Refuse or record after execution, before the response leaves."""


class AccessControl(Protocol):
    """Admits or refuses requests."""

    async def admit(self, request: Request) -> Admission:
        """The caller's admission; raise :class:`AccessRefused` to refuse."""
        ...
