"""The rows the agreement editor's page is drawn from: types, fields, arguments, areas,
limits, each with the value its control shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from policies.console.drafting.controls import (
    ARGUMENT,
    DEFAULT,
    FIELD,
    KEEP,
    LIMIT,
    STALE,
)
from policies.model import (
    HIDDEN,
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ArgumentRow:
    """An argument of a field (``Type.field(argument)``) or an input field (``Input.field``)."""

    name: str
    label: str
    type_label: str
    required: bool
    value: str  # usable | hidden, as shown
    fixed: str | None = None  # why no one may choose it
    needs: str | None = None  # the field it filters by, when it is a filter

    @property
    def control(self) -> str:
        return ARGUMENT + self.name


@dataclass(frozen=True)
class FieldRow:
    """One field of a type: its rule as shown and the rules it may have."""

    type_name: str
    name: str
    type_label: str
    target: str | None  # the object type it leads to, for a link
    value: str
    choices: tuple[Choice, ...]
    arguments: tuple[ArgumentRow, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def control(self) -> str:
        return f"{FIELD}{self.type_name}.{self.name}"

    @property
    def qualified(self) -> str:
        return f"{self.type_name}.{self.name}"


@dataclass(frozen=True)
class StaleRow:
    """A name the agreement holds that the API schema no longer has."""

    name: str
    what: str
    value: str = KEEP

    @property
    def control(self) -> str:
        return STALE + self.name


@dataclass(frozen=True)
class TypeRow:
    """An object type with its fields, and the rule of fields the agreement does not list."""

    name: str
    description: str
    default: str
    fields: tuple[FieldRow, ...]
    stale: tuple[StaleRow, ...] = ()

    @property
    def control(self) -> str:
        return DEFAULT + self.name

    @property
    def granted(self) -> int:
        return sum(1 for f in self.fields if f.value != HIDDEN)


@dataclass(frozen=True)
class InputRow:
    name: str
    fields: tuple[ArgumentRow, ...]


@dataclass(frozen=True)
class AreaRow:
    """An area of the scope picker: chosen, covered by a chosen area, or neither."""

    code: str
    level: str
    label: str
    checked: bool
    covered: bool
    open: bool  # it holds a chosen area: shown unfolded
    children: tuple[AreaRow, ...] = ()


@dataclass(frozen=True)
class LimitRow:
    name: str
    label: str
    value: str
    default: str  # what a blank value means

    @property
    def control(self) -> str:
        return LIMIT + self.name


@dataclass(frozen=True)
class AgreementForm:
    """Everything the agreement editor shows, with the values to show in each control."""

    partner: str
    purpose: str
    purpose_legal_basis: str
    types: tuple[TypeRow, ...]
    mutations: TypeRow | None
    inputs: tuple[InputRow, ...]
    stale_types: tuple[StaleRow, ...]
    stale_arguments: tuple[StaleRow, ...]
    scope: str
    areas: tuple[AreaRow, ...]
    unknown_areas: tuple[AreaRow, ...]
    own_registrations: str
    limits: tuple[LimitRow, ...]
    texts: Mapping[str, str]
    trusted_documents: str
    digest: str
    problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def all_types(self) -> tuple[TypeRow, ...]:
        return self.types + ((self.mutations,) if self.mutations else ())
