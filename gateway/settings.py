"""The gateway process's settings, read once from ``TONLE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway.limits import HttpLimits, OperationLimits


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


def _pairs(name: str, example: str) -> dict[str, str]:
    """``a=x,b=y`` from the environment variable ``name``, refusing items that are not pairs."""
    pairs: dict[str, str] = {}
    raw = os.environ.get(name, "")
    for item in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = item.partition("=")
        if not key.strip() or not value.strip():
            raise SystemExit(f"{name} item {item!r} is not name=value; write it like {example}")
        pairs[key.strip()] = value.strip()
    return pairs


def _timeouts(name: str) -> dict[str, float]:
    timeouts: dict[str, float] = {}
    for subgraph, raw in _pairs(name, f"{name}=nssf=3,idpoor=5").items():
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            raise SystemExit(
                f"{name}: {subgraph}={raw!r} is not a positive number of seconds; "
                f"write it like {name}={subgraph}=5"
            )
        timeouts[subgraph] = seconds
    return timeouts


@dataclass(frozen=True)
class GatewaySettings:
    """What one gateway process needs to run."""

    supergraph_path: str | None = None
    host: str = "127.0.0.1"
    port: int = 4000
    open_mode: bool = False
    subgraph_timeout_s: float = 10.0
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)
    gateway_secret: str | None = None
    metrics_token: str | None = None  # /metrics only for its bearer
    plan_cache_size: int = 2048
    plan_cache_bytes: int = 64 * 1024 * 1024
    subgraph_urls: dict[str, str] = field(default_factory=dict)
    limits: OperationLimits = field(default_factory=OperationLimits)
    http: HttpLimits = field(default_factory=HttpLimits)
    # automatic persisted queries remembered for every gateway in this Redis (None: in memory)
    redis_url: str | None = None
    redis_prefix: str = "tonle"

    @classmethod
    def from_env(cls) -> GatewaySettings:
        return cls(
            supergraph_path=os.environ.get("TONLE_SUPERGRAPH"),
            host=os.environ.get("TONLE_GATEWAY_HOST", "127.0.0.1"),
            port=int(os.environ.get("TONLE_GATEWAY_PORT", "4000")),
            open_mode=os.environ.get("TONLE_GATEWAY_OPEN", "") in ("1", "true", "yes"),
            subgraph_timeout_s=_float("TONLE_SUBGRAPH_TIMEOUT_S", 10.0),
            subgraph_timeouts=_timeouts("TONLE_SUBGRAPH_TIMEOUTS"),
            gateway_secret=os.environ.get("TONLE_GATEWAY_SECRET") or None,
            metrics_token=os.environ.get("TONLE_METRICS_TOKEN") or None,
            subgraph_urls=_pairs(
                "TONLE_SUBGRAPH_URLS", "TONLE_SUBGRAPH_URLS=identity=http://127.0.0.1:4001/graphql"
            ),
            plan_cache_bytes=_count("TONLE_PLAN_CACHE_BYTES", 64 * 1024 * 1024),
            limits=_from_env(OperationLimits, "TONLE_"),
            http=_from_env(HttpLimits, "TONLE_"),
            redis_url=_redis_url("TONLE_REDIS_URL"),
            redis_prefix=os.environ.get("TONLE_REDIS_PREFIX") or "tonle",
        )


T = TypeVar("T")


def _redis_url(name: str) -> str | None:
    raw = os.environ.get(name) or None
    if raw is not None and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise SystemExit(
            f"{name} must be a Redis URL such as redis://127.0.0.1:6379/0 (rediss:// for TLS)"
        )
    return raw


def _count(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise SystemExit(f"{name}={raw!r} is not a positive whole number; set it like {name}=100")
    return int(raw)


def _from_env(kind: type[T], prefix: str) -> T:
    """A limits dataclass with each field from ``TONLE_<FIELD>`` when it is set."""
    values: dict[str, Any] = {}
    for name, default in vars(kind()).items():
        variable = prefix + name.upper()
        if isinstance(default, float):
            values[name] = _float(variable, default)
        else:
            values[name] = _count(variable, default)
    return kind(**values)
