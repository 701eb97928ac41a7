"""The gateway process's settings, read once from ``TONLE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(
            f"{name}={raw!r} is not a number of seconds; set it like {name}=5"
        ) from None


@dataclass(frozen=True)
class GatewaySettings:
    """What one gateway process needs to run."""

    supergraph_path: str | None = None
    host: str = "127.0.0.1"
    port: int = 4000
    open_mode: bool = False
    subgraph_timeout_s: float = 10.0
    gateway_secret: str | None = None
    partner_keys_file: str | None = None
    plan_cache_size: int = 2048
    subgraph_urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> GatewaySettings:
        overrides = {}
        raw = os.environ.get("TONLE_SUBGRAPH_URLS", "")
        for item in filter(None, (p.strip() for p in raw.split(","))):
            name, _, url = item.partition("=")
            if not url:
                raise SystemExit(
                    f"TONLE_SUBGRAPH_URLS item {item!r} is not name=url; "
                    "write it like identity=http://127.0.0.1:4001/graphql"
                )
            overrides[name] = url
        return cls(
            supergraph_path=os.environ.get("TONLE_SUPERGRAPH"),
            host=os.environ.get("TONLE_GATEWAY_HOST", "127.0.0.1"),
            port=int(os.environ.get("TONLE_GATEWAY_PORT", "4000")),
            open_mode=os.environ.get("TONLE_GATEWAY_OPEN", "") in ("1", "true", "yes"),
            subgraph_timeout_s=_float("TONLE_SUBGRAPH_TIMEOUT_S", 10.0),
            gateway_secret=os.environ.get("TONLE_GATEWAY_SECRET") or None,
            partner_keys_file=os.environ.get("TONLE_PARTNER_KEYS_FILE") or None,
            subgraph_urls=overrides,
        )
