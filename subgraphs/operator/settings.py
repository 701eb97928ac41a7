"""How a subgraph reaches one operator's system, read from ``TONLE_<OPERATOR>_*`` variables.

A connector is configuration, not code: the same subgraph talks to a sandbox directly,
to an operator's REST API with an API key or a client certificate, or to an operator
behind a CamDX (X-Road) security server, depending only on these settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from subgraphs.operator.errors import SettingsError
from subgraphs.operator.xroad import XRoad


@dataclass(frozen=True)
class OperatorSettings:
    """Where an operator's system is, how to authenticate, and how patiently to call it."""

    operator: str  # short name: idpoor, nssf, moi, pca; the variables' prefix
    title: str  # for messages: "the NSSF system"
    url: str  # the system's base URL, or the security server's with ``xroad``
    timeout_s: float = 5.0  # the whole budget of one batch call, retries included
    max_batch: int = 100
    retries: int = 2  # extra attempts for idempotent reads that failed transiently
    backoff_s: float = 0.1  # first pause before a retry; doubles each time
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    cache_ttl_s: float = 0.0  # 0: no cache (the default)
    cache_max_entries: int = 10_000
    api_key: str | None = None
    api_key_header: str = "X-Api-Key"
    client_cert: str | None = None  # PEM file; with client_key, for mTLS
    client_key: str | None = None
    ca_file: str | None = None  # PEM file of the CA that signs the operator's certificate
    xroad: XRoad | None = None

    @property
    def prefix(self) -> str:
        return f"TONLE_{self.operator.upper()}"

    @classmethod
    def from_env(
        cls,
        operator: str,
        title: str,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> OperatorSettings:
        """Settings from ``TONLE_<OPERATOR>_*``; keyword arguments that are not None win."""
        env = os.environ if environ is None else environ
        prefix = f"TONLE_{operator.upper()}"

        def text(name: str) -> str | None:
            return env.get(f"{prefix}_{name}") or None

        def number(name: str, default: float, *, minimum: float = 0.0) -> float:
            raw = env.get(f"{prefix}_{name}", "")
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = minimum - 1
            if value < minimum:
                raise SettingsError(
                    f"{prefix}_{name}={raw!r}: give a number of at least {minimum:g}"
                )
            return value

        xroad = None
        if text("XROAD_SERVICE") or text("XROAD_CLIENT"):
            xroad = XRoad.parse(
                text("XROAD_CLIENT") or "", text("XROAD_SERVICE") or "", variable=prefix
            )
        settings = cls(
            operator=operator,
            title=title,
            url=(text("URL") or "").rstrip("/"),
            timeout_s=number("TIMEOUT_S", 5.0, minimum=0.001),
            max_batch=int(number("MAX_BATCH", 100, minimum=1)),
            retries=int(number("RETRIES", 2)),
            backoff_s=number("BACKOFF_S", 0.1),
            breaker_failures=int(number("BREAKER_FAILURES", 5, minimum=1)),
            breaker_reset_s=number("BREAKER_RESET_S", 30.0),
            cache_ttl_s=number("CACHE_TTL_S", 0.0),
            cache_max_entries=int(number("CACHE_MAX_ENTRIES", 10_000, minimum=1)),
            api_key=text("API_KEY"),
            api_key_header=text("API_KEY_HEADER") or "X-Api-Key",
            client_cert=text("CLIENT_CERT"),
            client_key=text("CLIENT_KEY"),
            ca_file=text("CA_FILE"),
            xroad=xroad,
        )
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work, naming the variable to fix."""
        if not self.url.startswith(("http://", "https://")):
            raise SettingsError(
                f"the {self.operator} subgraph needs the base URL of {self.title}: set "
                f"{self.prefix}_URL (e.g. http://127.0.0.1:4101)"
            )
        if bool(self.client_cert) != bool(self.client_key):
            raise SettingsError(
                f"mTLS needs both {self.prefix}_CLIENT_CERT and {self.prefix}_CLIENT_KEY"
            )
        if self.client_cert and not self.url.startswith("https://"):
            raise SettingsError(f"a client certificate needs an https:// {self.prefix}_URL")
