"""Gateway-to-subgraph signatures."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policies import sign, verify
from policies.signing import MAX_SKEW_SECONDS

NOW = 1_800_000_000.0


@given(st.binary(max_size=512), st.text(min_size=1, max_size=40))
def test_a_body_signed_with_the_secret_verifies(body: bytes, secret: str) -> None:
    assert verify(secret, body, sign(secret, body, now=NOW), now=NOW) is None


@given(st.binary(min_size=1, max_size=256), st.integers(min_value=0, max_value=255))
def test_any_change_to_the_body_breaks_the_signature(body: bytes, flip: int) -> None:
    header = sign("s3cret", body, now=NOW)
    tampered = bytes([body[0] ^ (flip or 1)]) + body[1:]
    assert verify("s3cret", tampered, header, now=NOW) is not None


def test_another_secret_is_refused_with_a_reason() -> None:
    header = sign("one", b"{}", now=NOW)
    assert "secret" in (verify("two", b"{}", header, now=NOW) or "")


def test_missing_malformed_and_stale_signatures_are_refused() -> None:
    assert "missing" in (verify("s", b"{}", None, now=NOW) or "")
    assert "malformed" in (verify("s", b"{}", "garbage", now=NOW) or "")
    stale = sign("s", b"{}", now=NOW - MAX_SKEW_SECONDS - 1)
    assert "expired" in (verify("s", b"{}", stale, now=NOW) or "")
