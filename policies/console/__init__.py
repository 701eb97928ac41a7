"""The policy console: a web app where policy admins manage partners, draft, check,
preview and publish access policies with four eyes, and read the trails (docs/console.md).

Imported by module elsewhere (``policies.console.auth``, ``.rendering``, ...); the package
root exposes only what a process needs to serve it.
"""

from __future__ import annotations

from policies.console.app import create_console_app
from policies.console.config import ConsoleConfig

__all__ = ["ConsoleConfig", "create_console_app"]
