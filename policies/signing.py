"""Gateway-to-subgraph request signing, so that partners cannot bypass policies.

The gateway signs every subgraph request body with a secret it shares with the
subgraphs (``TONLE_GATEWAY_SECRET``); a subgraph refuses any request whose
signature is missing, wrong, or older than the allowed clock skew.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Tonle-Signature"
MAX_SKEW_SECONDS = 300


def sign(secret: str, body: bytes, now: float | None = None) -> str:
    """The signature header value for ``body``: ``t=<unix seconds>,v1=<hex hmac>``."""
    ts = int(time.time() if now is None else now)
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify(secret: str, body: bytes, header: str | None, now: float | None = None) -> str | None:
    """Check a signature header; return None when it is good, else the reason it is not."""
    if not header:
        return f"missing {SIGNATURE_HEADER}: subgraphs answer only the Tonle gateway"
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return f"malformed {SIGNATURE_HEADER}"
    current = time.time() if now is None else now
    if abs(current - ts) > MAX_SKEW_SECONDS:
        return "expired signature: check the clocks of the gateway and the subgraph"
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, given):
        return "bad signature: the gateway and this subgraph do not share the same secret"
    return None
