"""What every console request reads: the settings, the database, the pages' navigation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from policies.console.config import ConsoleConfig
from policies.repository import Sessions

if TYPE_CHECKING:
    from graphql import GraphQLSchema


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str  # relative to the console's root, e.g. "/partners"
    order: int
    # Shown only to admins holding one of these (everyone when empty): a page module's
    # optional ``NAV_ROLES``.
    roles: tuple[str, ...] = ()


@dataclass
class ConsoleState:
    """One console app's settings, database sessions and navigation (``app.state.console``)."""

    config: ConsoleConfig
    sessions: Sessions
    nav: tuple[NavItem, ...] = ()
    # Anything a page module wants to keep for the app's lifetime (caches, clients).
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def supergraph_sdl(self) -> str | None:
        path = self.config.supergraph_path
        if not path:
            return None
        return Path(path).read_text(encoding="utf-8")

    @cached_property
    def api_schema(self) -> GraphQLSchema | None:
        """The supergraph's API schema (what partners could see at most), or None."""
        from gateway import build_api_schema, load_supergraph

        sdl = self.supergraph_sdl
        if sdl is None:
            return None
        return build_api_schema(load_supergraph(sdl))


def console(connection: HTTPConnection) -> ConsoleState:
    """The state of the console app serving this request."""
    state: ConsoleState = connection.app.state.console
    return state


def route_path(scope: Mapping[str, Any]) -> str:
    """The request's path below the console's root (``/drafts/3`` for ``/admin/drafts/3``)."""
    root = str(scope.get("root_path", "")).rstrip("/")
    path = str(scope.get("path", "/"))
    return (path[len(root) :] if root and path.startswith(root) else path) or "/"


def url(connection: HTTPConnection, path: str = "/") -> str:
    """An absolute path for ``path`` under the console's root (``/admin`` in the demo)."""
    root = str(connection.scope.get("root_path", "")).rstrip("/")
    return root + (path if path.startswith("/") else "/" + path)
