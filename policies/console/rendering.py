"""Pages from Jinja2 templates (``templates/``), autoescaped, in the console's layout.

``render(request, "partners.html", partners=...)`` gives an HTML response whose context
also holds the signed-in ``admin``, ``csrf_field()`` for forms, ``url(path)`` for links
under the console's root, the navigation, the session's flash messages, and the filters
``when`` (a UTC time) and ``area`` (a gazetteer code with its English and Khmer names).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import jinja2
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse

from identity_store.gazetteer import area_names
from policies.console.csrf import csrf_field
from policies.console.sessions import take_flash
from policies.console.state import console, route_path, url

# Pages hold policy and partner details: never kept by a browser cache or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("policies.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["area"] = area_label
    return env


_LEVELS = {2: "province", 4: "district", 6: "commune", 8: "village"}


def area_label(code: object) -> str:
    """A gazetteer code with its English and Khmer names: ``21 Takeo (តាកែវ)``."""
    text = str(code or "")
    level = _LEVELS.get(len(text))
    place = area_names(level).get(text) if level and text.isdigit() else None
    if place is None:
        return f"{text} (not in the gazetteer)" if text else "—"
    return f"{text} {place.name_en} ({place.name_km})"


def when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` rendered in the console's layout, as an HTML response."""
    state = console(request)
    info = getattr(request.state, "session", None)
    here = route_path(request.scope)
    token = getattr(request.state, "csrf_token", "")
    admin = getattr(request.state, "admin", None)
    values: dict[str, Any] = {
        "request": request,
        "admin": admin,
        "csrf_token": token,
        "csrf_field": lambda: csrf_field(token),
        "url": lambda path="/": url(request, path),
        "nav": [
            {
                "label": item.label,
                "href": url(request, item.path),
                "active": _active(here, item.path),
            }
            for item in state.nav
            if admin is not None and (not item.roles or admin.has(*item.roles))
        ],
        "flash": list(info.flash) if info is not None else [],
        "title": "",
    }
    values.update(context)
    body = environment().get_template(template).render(values)
    background = None
    if info is not None and info.flash:
        background = BackgroundTask(take_flash, state.sessions, info.id)
    return HTMLResponse(body, status_code=status, headers=NO_STORE, background=background)


def _active(here: str, path: str) -> bool:
    if path == "/":
        return here == "/"
    return here == path or here.startswith(path.rstrip("/") + "/")
