"""The idpoor subgraph's settings, read once from ``TONLE_IDPOOR_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

URL_ENV = "TONLE_IDPOOR_URL"
TIMEOUT_ENV = "TONLE_IDPOOR_TIMEOUT_S"
MAX_BATCH_ENV = "TONLE_IDPOOR_MAX_BATCH"


class SettingsError(SystemExit):
    """A missing or malformed setting; the message names the variable and what to give."""


@dataclass(frozen=True)
class IdPoorSettings:
    """Where the IDPoor system is and how the subgraph calls it."""

    operator_url: str
    timeout_s: float = 5.0
    max_batch: int = 100

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        operator_url: str | None = None,
        timeout_s: float | None = None,
        max_batch: int | None = None,
    ) -> IdPoorSettings:
        """Settings from the environment; explicit arguments win over variables."""
        env = os.environ if environ is None else environ
        url = operator_url or env.get(URL_ENV, "")
        if not url.startswith(("http://", "https://")):
            raise SettingsError(
                f"the idpoor subgraph needs the IDPoor system's base URL: set {URL_ENV} "
                "(e.g. http://127.0.0.1:4101)"
            )
        return cls(
            operator_url=url.rstrip("/"),
            timeout_s=timeout_s if timeout_s is not None else _number(env, TIMEOUT_ENV, 5.0),
            max_batch=max_batch if max_batch is not None else int(_number(env, MAX_BATCH_ENV, 100)),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise SettingsError(f"{name}={raw!r}: give a number greater than 0")
    return value
