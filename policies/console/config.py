"""The console's settings: where the policies are, the supergraph, cookies, sessions."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from identity_store import database_url

SECURE_COOKIES_ENV = "TONLE_ADMIN_SECURE_COOKIES"
IDLE_ENV = "TONLE_ADMIN_IDLE_MINUTES"
ABSOLUTE_ENV = "TONLE_ADMIN_ABSOLUTE_HOURS"


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console needs; ``from_env()`` reads it as ``tonle gateway`` reads its own."""

    database_url: str
    # The supergraph whose API schema drafts are checked against and the editor shows.
    supergraph_path: str | None = None
    # What the preview needs to run a query through the real subgraphs, as a gateway would.
    gateway_secret: str | None = None
    subgraph_urls: dict[str, str] = field(default_factory=dict)
    subgraph_timeout_s: float = 10.0
    pseudonym_key: bytes | None = None
    # True when served over TLS (directly or behind a proxy that terminates it): cookies
    # then carry Secure and never travel over plain HTTP.
    secure_cookies: bool = False
    session_idle: dt.timedelta = dt.timedelta(minutes=30)
    session_absolute: dt.timedelta = dt.timedelta(hours=12)
    # Lock-out: this many failed sign-ins within the window lock the account this long.
    lockout_failures: int = 5
    lockout_window: dt.timedelta = dt.timedelta(minutes=15)
    lockout_duration: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def from_env(cls, database: str | None = None) -> ConsoleConfig:
        """``TONLE_DATABASE_URL``, the gateway's ``TONLE_*`` settings, ``TONLE_ADMIN_*``."""
        from gateway import GatewaySettings

        gateway = GatewaySettings.from_env()
        pseudonym = os.environ.get("TONLE_PSEUDONYM_KEY") or None
        return cls(
            database_url=database or database_url(),
            supergraph_path=gateway.supergraph_path,
            gateway_secret=gateway.gateway_secret,
            subgraph_urls=dict(gateway.subgraph_urls),
            subgraph_timeout_s=gateway.subgraph_timeout_s,
            pseudonym_key=pseudonym.encode() if pseudonym else None,
            secure_cookies=_flag(SECURE_COOKIES_ENV),
            session_idle=dt.timedelta(minutes=_positive(IDLE_ENV, 30)),
            session_absolute=dt.timedelta(hours=_positive(ABSOLUTE_ENV, 12)),
        )


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not value > 0:
        raise SystemExit(f"{name}={raw!r} is not a positive number; set it like {name}={default:g}")
    return value
