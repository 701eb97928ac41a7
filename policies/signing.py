"""Gateway-to-subgraph request signing, so that partners cannot bypass policies.

The gateway signs each subgraph request as a whole with a secret it shares with the
subgraphs (``TONLE_GATEWAY_SECRET``): the HTTP method, the subgraph the request is for (the
*audience*: its name in the supergraph, such as ``identity`` or ``nssf``), the path and
query string, the SHA-256 of the body, every ``X-Tonle-*`` header, a timestamp and a
random nonce::

    X-Tonle-Signature: t=<unix seconds>,n=<nonce>,v2=<hex HMAC-SHA256>

A subgraph refuses a signature that is missing, malformed, more than
:data:`MAX_SKEW_SECONDS` away from its own clock, or made for any other request: another
subgraph, path, method, body or set of caller headers. A good signature is accepted once:
the subgraph remembers its nonce (:mod:`policies.nonces`) for as long as it could pass.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter

from policies.caller import SIGNED_PREFIX

SIGNATURE_HEADER = "X-Tonle-Signature"
MAX_SKEW_SECONDS = 60

# What a request's headers may be given as: a mapping, or (name, value) pairs as they came
# on the wire (a header sent twice then counts twice).
Headers = Mapping[str, str] | Iterable[tuple[str, str]]
# Signs one request: (method, path and query string, body, headers) -> the headers to add.
RequestSigner = Callable[[str, str, bytes, Mapping[str, str]], dict[str, str]]

_SIGNATURE_NAME = SIGNATURE_HEADER.lower()
_FORMAT = re.compile(r"t=(\d{1,12}),n=([A-Za-z0-9_-]{16,64}),v2=([0-9a-f]{64})")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class SignatureError(Exception):
    """A signature that does not hold; the message says what is wrong and what to do."""


def _field(text: str) -> bytes:
    # Length-prefixed, so that no two different requests sign the same bytes.
    data = text.encode()
    return b"%d:%b\n" % (len(data), data)


def _signed_headers(headers: Headers | None) -> bytes:
    if not headers:
        return b""
    signed = []
    for name, value in headers.items() if isinstance(headers, Mapping) else headers:
        lowered = name.lower()
        if lowered.startswith(SIGNED_PREFIX) and lowered != _SIGNATURE_NAME:
            signed.append((lowered, value))
    signed.sort(key=itemgetter(0))  # stable: a header sent twice keeps its order
    return b"".join([_field(name) + _field(value) for name, value in signed])


class Signer:
    """Signs the requests to one subgraph URL; the parts that never change are hashed once.

    ``audience`` is the subgraph's name in the supergraph, ``target`` the path and query
    string of its URL exactly as sent on the wire.
    """

    __slots__ = ("_mac",)

    def __init__(self, secret: str, *, audience: str, target: str, method: str = "POST") -> None:
        fixed = _field("tonle-signature-v2") + _field(method) + _field(audience) + _field(target)
        self._mac = hmac.new(secret.encode(), fixed, hashlib.sha256)

    def sign(
        self,
        body: bytes,
        headers: Headers | None = None,
        *,
        now: float | None = None,
        nonce: str | None = None,
    ) -> str:
        """The ``X-Tonle-Signature`` value for a request with ``body`` and ``headers``."""
        timestamp = int(time.time() if now is None else now)
        if nonce is None:
            nonce = secrets.token_urlsafe(16)
        elif not _NONCE.fullmatch(nonce):
            raise ValueError("a nonce is 16 to 64 characters of A-Z, a-z, 0-9, _ and -")
        return f"t={timestamp},n={nonce},v2={self._digest(timestamp, nonce, body, headers)}"

    def _digest(self, timestamp: int, nonce: str, body: bytes, headers: Headers | None) -> str:
        mac = self._mac.copy()
        mac.update(
            _field(str(timestamp))
            + _field(nonce)
            + _field(hashlib.sha256(body).hexdigest())
            + _signed_headers(headers)
        )
        return mac.hexdigest()


@dataclass(frozen=True)
class Signature:
    """A parsed ``X-Tonle-Signature`` value."""

    timestamp: int
    nonce: str
    mac: str

    @classmethod
    def parse(cls, value: str | None) -> Signature:
        """Read a header value; :class:`SignatureError` when it is missing or malformed."""
        if not value:
            raise SignatureError(
                f"missing {SIGNATURE_HEADER}: subgraphs answer only requests signed by the "
                "Tonle gateway; send your query to the gateway"
            )
        found = _FORMAT.fullmatch(value)
        if found is None:
            if "v1=" in value[:200]:
                raise SignatureError(
                    f"{SIGNATURE_HEADER} v1 is no longer accepted: upgrade the gateway, "
                    "which signs the whole request (v2)"
                )
            raise SignatureError(
                f"malformed {SIGNATURE_HEADER}: expected t=<unix seconds>,n=<nonce>,"
                "v2=<64 hex digits>, as the Tonle gateway sends it"
            )
        return cls(int(found[1]), found[2], found[3])

    def check_time(self, now: float | None = None) -> None:
        """Refuse a signature made more than :data:`MAX_SKEW_SECONDS` from ``now``."""
        current = time.time() if now is None else now
        off = current - self.timestamp
        if abs(off) > MAX_SKEW_SECONDS:
            when = "old" if off > 0 else "in the future"
            raise SignatureError(
                f"stale signature ({abs(off):.0f} s {when}; at most {MAX_SKEW_SECONDS} s "
                "allowed): check the clocks of the gateway and the subgraph (NTP)"
            )

    @property
    def expires_at(self) -> int:
        """The unix time after which its nonce can be forgotten.

        One second after the signature goes stale, so that a request whose time was
        checked just before the edge is still found if it comes again.
        """
        return self.timestamp + MAX_SKEW_SECONDS + 1


def sign(
    secret: str,
    *,
    method: str,
    audience: str,
    target: str,
    body: bytes,
    headers: Headers | None = None,
    now: float | None = None,
    nonce: str | None = None,
) -> str:
    """The ``X-Tonle-Signature`` value for one request (see :class:`Signer`)."""
    signer = Signer(secret, audience=audience, target=target, method=method)
    return signer.sign(body, headers, now=now, nonce=nonce)


def verify(
    secret: str,
    *,
    method: str,
    audience: str,
    target: str,
    body: bytes,
    headers: Headers,
    signature: str | None,
    now: float | None = None,
) -> str | None:
    """Check a request's signature; None when it holds, else the reason it does not.

    Replays are not checked here: a good signature's nonce goes to a
    :class:`~policies.nonces.NonceStore` next.
    """
    try:
        parsed = Signature.parse(signature)
        parsed.check_time(now)
    except SignatureError as error:
        return str(error)
    signer = Signer(secret, audience=audience, target=target, method=method)
    expected = signer._digest(parsed.timestamp, parsed.nonce, body, headers)
    if not hmac.compare_digest(expected, parsed.mac):
        return (
            "bad signature: the request is not the one the gateway signed (another subgraph, "
            "path, method, body or X-Tonle- header), or the gateway and this subgraph do not "
            "share TONLE_GATEWAY_SECRET"
        )
    return None


def request_signer(secret: str, audience: str) -> RequestSigner:
    """Sign requests to the subgraph named ``audience``, for ``fetch_subgraph_sdl``'s ``sign``."""

    def signed(method: str, target: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        value = sign(
            secret, method=method, audience=audience, target=target, body=body, headers=headers
        )
        return {SIGNATURE_HEADER: value}

    return signed
