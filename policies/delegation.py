"""Delegation: a subgraph asks the gateway again, as the partner whose request it serves.

The coverage subgraph answers ``coverage(...)`` by paging through the gateway, so that the
partner's own agreement (views, masks, row scope, limits, rate budgets, the access log)
decides what it counts. It holds no partner key: when the gateway sends it a request that
asks for a delegating field, the gateway adds a short-lived **delegation token**::

    X-Tonle-Delegation: <expires>.<nonce>.<mac>      (gateway -> subgraph, signed as X-Tonle-*)

``mac`` is an HMAC-SHA256, keyed by a key derived from ``TONLE_GATEWAY_SECRET`` (kept apart
from request signatures), over the partner, the purpose, the end user, the expiry (at most
:data:`LIFETIME_S` ahead) and the nonce. The token is itself the key of the delegation: it
travels only on the signed leg, never back. Each request the subgraph sends the gateway
proves it holds it, for one use only::

    Authorization: TonleDelegation partner=<code>,expires=<t>,nonce=<n>,use=<k>,mac=<hex>

with ``mac`` an HMAC keyed by the token's MAC over the use number ``k`` (1, 2, ...), and
the purpose in ``X-Purpose`` and the end user in ``X-Tonle-End-User`` as any partner sends
them. The gateway works the token's MAC out again from the partner, purpose, end user,
expiry and nonce it is shown, then the use's MAC from it: anything changed, a token it did
not issue, one past its expiry, or a use it has seen before (:class:`DelegationUses`) is
refused. Someone who sees a delegated request on the wire learns one spent use, not the
token. Whoever holds ``TONLE_GATEWAY_SECRET`` could mint tokens, but could already sign
subgraph requests as anyone: delegation adds no one to those trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from policies.nonces import MemoryNonceStore, NonceStore

DELEGATION_HEADER = "X-Tonle-Delegation"
SCHEME = "TonleDelegation"
LIFETIME_S = 60
MAX_USES = 10_000
# The fields whose subgraph pages through the gateway: requests asking for them carry a
# token, and a delegated request may not ask for them (no loops).
DELEGATING_FIELDS = frozenset({"Query.coverage"})
# The access log's operation name of a delegated request: not a GraphQL name (it has a
# space and a colon), so no partner can name its own operation so.
VIA = "via coverage: "

_TOKEN = re.compile(r"(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([0-9a-f]{64})")
_USE = re.compile(
    r"partner=([a-z][a-z0-9_-]{0,63}),expires=(\d{1,12}),nonce=([A-Za-z0-9_-]{16,64}),"
    r"use=(\d{1,6}),mac=([0-9a-f]{64})"
)


class DelegationError(Exception):
    """A delegation that does not hold; the message says why, naming no secret."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"tonle-delegation-v1", hashlib.sha256).digest()


def _field(text: str) -> bytes:
    data = text.encode()
    return b"%d:%b\n" % (len(data), data)


def _token_mac(
    secret: str, partner: str, purpose: str, end_user: str | None, expires: int, nonce: str
) -> str:
    message = b"".join(
        _field(part) for part in (partner, purpose, end_user or "", str(expires), nonce)
    )
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def _use_mac(token_mac: str, use: int) -> str:
    return hmac.new(bytes.fromhex(token_mac), _field(str(use)), hashlib.sha256).hexdigest()


def issue(
    secret: str,
    partner: str,
    purpose: str,
    end_user: str | None,
    *,
    now: float | None = None,
    lifetime_s: int = LIFETIME_S,
) -> str:
    """A token for ``partner`` asking for ``purpose`` (and ``end_user``), valid for
    ``lifetime_s`` seconds (at most :data:`LIFETIME_S`)."""
    expires = int(time.time() if now is None else now) + min(lifetime_s, LIFETIME_S)
    nonce = secrets.token_urlsafe(16)
    return f"{expires}.{nonce}.{_token_mac(secret, partner, purpose, end_user, expires, nonce)}"


@dataclass
class Delegation:
    """What a subgraph holds of a token: it spends one use per request it sends."""

    partner: str
    purpose: str
    end_user: str | None
    token: str
    used: int = 0

    @classmethod
    def from_token(
        cls, token: str | None, partner: str | None, purpose: str | None, end_user: str | None
    ) -> Delegation:
        if not token or partner is None or purpose is None:
            raise DelegationError(
                "this request carries no delegation from the gateway: coverage is answered "
                "only for a partner's request through the gateway, which has TONLE_GATEWAY_SECRET"
            )
        if _TOKEN.fullmatch(token) is None:
            raise DelegationError("malformed delegation token")
        return cls(partner, purpose, end_user, token)

    def headers(self) -> dict[str, str]:
        """The headers of the next request to the gateway; each call spends one use."""
        self.used += 1
        if self.used > MAX_USES:
            raise DelegationError(f"a delegation is good for {MAX_USES} requests at most")
        expires, nonce, mac = self.token.split(".")
        use = (
            f"{SCHEME} partner={self.partner},expires={expires},nonce={nonce},"
            f"use={self.used},mac={_use_mac(mac, self.used)}"
        )
        headers = {"Authorization": use, "X-Purpose": self.purpose}
        if self.end_user is not None:
            headers["X-Tonle-End-User"] = self.end_user
        return headers


@dataclass(frozen=True)
class DelegatedUse:
    """A use the gateway accepted: the partner it acts as."""

    partner: str
    expires: int


class DelegationUses:
    """The gateway's side: checks uses and remembers them until their token expires."""

    def __init__(
        self,
        secret: str,
        nonces: NonceStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.nonces = nonces if nonces is not None else MemoryNonceStore(100_000, clock=clock)
        self.clock = clock

    def issue(self, partner: str, purpose: str, end_user: str | None) -> str:
        return issue(self.secret, partner, purpose, end_user, now=self.clock())

    async def accept(self, credential: str, purpose: str, end_user: str | None) -> DelegatedUse:
        """The use in ``credential`` (after ``TonleDelegation``), or :class:`DelegationError`."""
        found = _USE.fullmatch(credential.strip())
        if found is None:
            raise DelegationError("malformed delegation")
        partner, expires_text, nonce, use_text, mac = found.groups()
        expires, use = int(expires_text), int(use_text)
        now = self.clock()
        if expires < now:
            raise DelegationError("expired delegation")
        if expires > now + LIFETIME_S + 1:
            raise DelegationError("a delegation cannot outlive its lifetime")
        if not 1 <= use <= MAX_USES:
            raise DelegationError("no such use of a delegation")
        token_mac = _token_mac(self.secret, partner, purpose, end_user, expires, nonce)
        if not hmac.compare_digest(_use_mac(token_mac, use), mac):
            raise DelegationError(
                "bad delegation: not one the gateway issued for this partner, purpose and end user"
            )
        if not await self.nonces.first_use(f"{nonce}.{use}", expires + 1):
            raise DelegationError("replayed delegation: each use is answered once")
        return DelegatedUse(partner, expires)
