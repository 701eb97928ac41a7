"""No text argument reaches the registry holding a character it never accepts.

``identity_store`` cleans and checks the names and identifiers it stores; lookups
(``household(householdId:)``, the cursors, a search's names) would otherwise carry a NUL
or a lone surrogate into SQL, which PostgreSQL refuses with an error of its own. The
:class:`CleanText` field extension checks every string of a root field's arguments, input
objects and lists included, before its resolver runs, and answers ``BAD_USER_INPUT`` at
that field's path naming the argument (``inputs[2].familyName``). Tab and line breaks pass
(names turn them into spaces, a reason keeps them); the registry's stricter rules for
what it stores still apply after.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from identity_store import check_text


def check_arguments(value: Any, where: str) -> None:
    """Raise ``InvalidInput`` for the first string in ``value`` that holds a refused character."""
    if isinstance(value, str):
        check_text(value, where, multiline=True)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_arguments(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_arguments(item, f"{where}.{key}" if where else str(key))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type | enum.Enum):
        for field in dataclasses.fields(value):
            check_arguments(getattr(value, field.name), f"{where}.{to_camel_case(field.name)}")


class CleanText(FieldExtension):
    """Check a field's text arguments (see the module) before its resolver runs."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        self._check(kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        self._check(kwargs)
        return await next_(source, info, **kwargs)

    @staticmethod
    def _check(kwargs: dict[str, Any]) -> None:
        for name, value in kwargs.items():
            check_arguments(value, to_camel_case(name))
