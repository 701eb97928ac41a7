"""Gateway-to-subgraph signatures (v2): the whole request, within a minute of its making."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies import MAX_SKEW_SECONDS, SIGNATURE_HEADER, Signature, Signer, sign, verify

NOW = 1_800_000_000.0
SECRET = "s3cret"
NONCE = "n0nce-0123456789abcdef"


@dataclass(frozen=True)
class Request:
    """Every part of a subgraph request that the signature covers."""

    method: str = "POST"
    audience: str = "identity"
    target: str = "/graphql"
    body: bytes = b'{"query":"{ person(spid: \\"123456789012\\") { familyName } }"}'
    headers: tuple[tuple[str, str], ...] = (
        ("X-Tonle-Partner", "moh"),
        ("X-Tonle-Purpose", "eligibility_check"),
        ("X-Tonle-Scope", '{"areas":["0102"]}'),
        ("Content-Type", "application/json"),
    )

    def signed(self, secret: str = SECRET, now: float = NOW, nonce: str = NONCE) -> str:
        return sign(
            secret,
            method=self.method,
            audience=self.audience,
            target=self.target,
            body=self.body,
            headers=self.headers,
            now=now,
            nonce=nonce,
        )

    def check(self, signature: str | None, now: float = NOW, secret: str = SECRET) -> str | None:
        return verify(
            secret,
            method=self.method,
            audience=self.audience,
            target=self.target,
            body=self.body,
            headers=self.headers,
            signature=signature,
            now=now,
        )


REQUEST = Request()


def test_the_signed_request_verifies_and_the_header_says_time_nonce_and_mac() -> None:
    signature = REQUEST.signed()
    assert re.fullmatch(rf"t={int(NOW)},n={NONCE},v2=[0-9a-f]{{64}}", signature)
    assert REQUEST.check(signature) is None


def test_a_signer_gives_every_request_its_own_nonce() -> None:
    signer = Signer(SECRET, audience="nssf", target="/graphql")
    nonces = {Signature.parse(signer.sign(b"{}")).nonce for _ in range(100)}
    assert len(nonces) == 100


def test_a_signer_signs_what_sign_signs() -> None:
    signer = Signer(SECRET, audience="identity", target="/graphql")
    assert signer.sign(REQUEST.body, REQUEST.headers, now=NOW, nonce=NONCE) == REQUEST.signed()


TAMPERED: dict[str, dict[str, Any]] = {
    "method": {"method": "GET"},
    "audience (another subgraph)": {"audience": "nssf"},
    "path": {"target": "/graphql/"},
    "query string": {"target": "/graphql?debug=1"},
    "body": {"body": REQUEST.body.replace(b"familyName", b"khmerId")},
    "widened scope": {
        "headers": (
            ("X-Tonle-Partner", "moh"),
            ("X-Tonle-Purpose", "eligibility_check"),
            ("X-Tonle-Scope", '{"areas":["01"]}'),
        )
    },
    "removed scope": {
        "headers": (("X-Tonle-Partner", "moh"), ("X-Tonle-Purpose", "eligibility_check"))
    },
    "added header": {"headers": (*REQUEST.headers, ("X-Tonle-Operator", "nssf"))},
    "header sent twice": {"headers": (*REQUEST.headers, ("X-Tonle-Partner", "moh"))},
    "header renamed": {
        "headers": (
            ("X-Tonle-Partner", "moh"),
            ("X-Tonle-End-User", "eligibility_check"),
            ("X-Tonle-Scope", '{"areas":["0102"]}'),
        )
    },
}


@pytest.mark.parametrize("change", TAMPERED.values(), ids=TAMPERED.keys())
def test_each_signed_part_changed_is_refused(change: dict[str, Any]) -> None:
    tampered = replace(REQUEST, **change)
    reason = tampered.check(REQUEST.signed())
    assert reason is not None and reason.startswith("bad signature")


def test_header_names_are_signed_without_regard_to_case_or_order() -> None:
    shuffled = replace(REQUEST, headers=tuple((n.lower(), v) for n, v in reversed(REQUEST.headers)))
    assert shuffled.check(REQUEST.signed()) is None


def test_headers_outside_x_tonle_and_the_signature_itself_are_not_signed() -> None:
    more = replace(
        REQUEST,
        headers=(
            *REQUEST.headers,
            ("Accept", "application/json"),
            ("X-Forwarded-For", "10.0.0.1"),
            (SIGNATURE_HEADER, "whatever"),
        ),
    )
    assert more.check(REQUEST.signed()) is None


def test_another_secret_is_refused() -> None:
    assert (REQUEST.check(REQUEST.signed(secret="guessed")) or "").startswith("bad signature")
    assert "TONLE_GATEWAY_SECRET" in (REQUEST.check(REQUEST.signed(secret="guessed")) or "")


def test_a_changed_time_or_nonce_in_the_header_is_refused() -> None:
    signature = REQUEST.signed()
    later = signature.replace(f"t={int(NOW)}", f"t={int(NOW) + 1}")
    other_nonce = signature.replace(NONCE, "another-nonce-0123456")
    assert (REQUEST.check(later) or "").startswith("bad signature")
    assert (REQUEST.check(other_nonce) or "").startswith("bad signature")


def test_signatures_pass_within_the_skew_and_not_beyond() -> None:
    assert MAX_SKEW_SECONDS == 60
    signature = REQUEST.signed()
    assert REQUEST.check(signature, now=NOW + 60) is None
    assert REQUEST.check(signature, now=NOW - 60) is None
    stale = REQUEST.check(signature, now=NOW + 61) or ""
    early = REQUEST.check(signature, now=NOW - 61) or ""
    assert stale.startswith("stale signature (61 s old") and "clocks" in stale
    assert early.startswith("stale signature (61 s in the future")


def test_a_nonce_is_forgotten_only_after_the_signature_is_stale() -> None:
    parsed = Signature.parse(REQUEST.signed())
    assert parsed.expires_at > NOW + MAX_SKEW_SECONDS


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing X-Tonle-Signature"),
        ("", "missing X-Tonle-Signature"),
        ("garbage", "malformed X-Tonle-Signature"),
        (f"t={int(NOW)},v1={'a' * 64}", "X-Tonle-Signature v1 is no longer accepted"),
        (f"t={int(NOW)},n={NONCE},v2={'A' * 64}", "malformed"),  # upper-case hex
        (f"t={int(NOW)},n=short,v2={'a' * 64}", "malformed"),
        (f"n={NONCE},t={int(NOW)},v2={'a' * 64}", "malformed"),  # order is fixed
        (f"t={int(NOW)},n={NONCE},v2={'a' * 64},x=1", "malformed"),
        (f"t={'9' * 40},n={NONCE},v2={'a' * 64}", "malformed"),
    ],
)
def test_missing_and_malformed_signatures_are_refused(header: str | None, reason: str) -> None:
    assert (REQUEST.check(header) or "").startswith(reason)


def test_a_refusal_does_not_echo_what_the_attacker_sent() -> None:
    attack = "t=1,n=<script>" + "A" * 10_000 + ",v2=" + "f" * 64
    reason = REQUEST.check(attack) or ""
    assert len(reason) < 300
    assert "AAAA" not in reason and "<script>" not in reason


def test_a_nonce_given_to_the_signer_must_be_well_formed() -> None:
    with pytest.raises(ValueError, match="nonce"):
        REQUEST.signed(nonce="a,v2=ff")


# -- property: any single-byte change of any signed part is refused --------------------------

TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30)
PARTS = ("method", "audience", "target", "body", "header name", "header value", "t", "n", "v2")


@st.composite
def requests(draw: st.DrawFn) -> Request:
    names = draw(st.lists(TEXT, min_size=1, max_size=4, unique_by=str.lower))
    return Request(
        method=draw(TEXT),
        audience=draw(TEXT),
        target="/" + draw(TEXT),
        body=draw(st.binary(min_size=1, max_size=300)),
        headers=tuple(("X-Tonle-" + name, draw(TEXT)) for name in names),
    )


def _flip(data: bytes, position: int, byte: int) -> bytes:
    i = position % len(data)
    new = byte if byte != data[i] else (byte + 1) % 256
    return data[:i] + bytes([new]) + data[i + 1 :]


def _flip_text(text: str, position: int, byte: int) -> str:
    # Within printable ASCII, so that the change is one byte and still a header's text.
    i = position % len(text)
    choices = [c for c in range(0x20, 0x7F) if c != ord(text[i])]
    return text[:i] + chr(choices[byte % len(choices)]) + text[i + 1 :]


@given(requests(), st.sampled_from(PARTS), st.integers(0, 10_000), st.integers(0, 255))
def test_any_single_byte_change_of_any_signed_part_is_refused(
    req: Request, part: str, position: int, byte: int
) -> None:
    signature = req.signed()
    assert req.check(signature) is None
    tampered = req
    if part in ("method", "audience", "target"):
        changed: dict[str, Any] = {part: _flip_text(getattr(req, part), position, byte)}
        tampered = replace(req, **changed)
    elif part == "body":
        tampered = replace(req, body=_flip(req.body, position, byte))
    elif part in ("header name", "header value"):
        headers = list(req.headers)
        i = position % len(headers)
        name, value = headers[i]
        if part == "header value":
            headers[i] = (name, _flip_text(value, position, byte))
        else:
            renamed = _flip_text(name, position, byte)
            if renamed.lower() == name.lower():  # names are case-insensitive in HTTP
                renamed = _flip_text(name, position, byte + 1)
            headers[i] = (renamed, value)
        tampered = replace(req, headers=tuple(headers))
    else:
        fields = dict(item.split("=", 1) for item in signature.split(","))
        fields[part] = _flip_text(fields[part], position, byte)
        signature = ",".join(f"{k}={v}" for k, v in fields.items())
    assert tampered.check(signature) is not None
