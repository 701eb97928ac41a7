"""Delegation tokens: issued by the gateway, spent one use per request, refused otherwise."""

from __future__ import annotations

import pytest

from policies.delegation import (
    LIFETIME_S,
    SCHEME,
    Delegation,
    DelegationError,
    DelegationUses,
    issue,
)

SECRET = "delegation-test-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def credential(headers: dict[str, str]) -> str:
    scheme, _, value = headers["Authorization"].partition(" ")
    assert scheme == SCHEME
    return value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def uses(clock: Clock) -> DelegationUses:
    return DelegationUses(SECRET, clock=clock)


def delegation(uses: DelegationUses, end_user: str | None = "ana") -> Delegation:
    token = uses.issue("nspc", "statistics", end_user)
    return Delegation.from_token(token, "nspc", "statistics", end_user)


async def test_each_use_is_accepted_once_as_the_partner(uses: DelegationUses) -> None:
    held = delegation(uses)
    first, second = held.headers(), held.headers()
    assert first["X-Purpose"] == "statistics" and first["X-Tonle-End-User"] == "ana"
    assert (await uses.accept(credential(first), "statistics", "ana")).partner == "nspc"
    assert (await uses.accept(credential(second), "statistics", "ana")).partner == "nspc"
    with pytest.raises(DelegationError, match="replayed"):
        await uses.accept(credential(first), "statistics", "ana")


async def test_another_purpose_end_user_or_partner_is_refused(uses: DelegationUses) -> None:
    use = credential(delegation(uses).headers())
    with pytest.raises(DelegationError, match="bad delegation"):
        await uses.accept(use, "enrolment", "ana")
    with pytest.raises(DelegationError, match="bad delegation"):
        await uses.accept(use, "statistics", "bob")
    with pytest.raises(DelegationError, match="bad delegation"):
        await uses.accept(use.replace("partner=nspc", "partner=registry"), "statistics", "ana")


async def test_a_token_made_with_another_secret_is_refused(uses: DelegationUses) -> None:
    forged = issue("not-the-secret", "nspc", "statistics", None, now=uses.clock())
    held = Delegation.from_token(forged, "nspc", "statistics", None)
    with pytest.raises(DelegationError, match="bad delegation"):
        await uses.accept(credential(held.headers()), "statistics", None)


async def test_a_use_number_the_token_did_not_sign_is_refused(uses: DelegationUses) -> None:
    use = credential(delegation(uses, None).headers())
    with pytest.raises(DelegationError, match="bad delegation"):
        await uses.accept(use.replace("use=1,", "use=2,"), "statistics", None)


async def test_an_expired_token_is_refused(uses: DelegationUses, clock: Clock) -> None:
    held = delegation(uses)
    clock.now += LIFETIME_S + 1
    with pytest.raises(DelegationError, match="expired"):
        await uses.accept(credential(held.headers()), "statistics", "ana")


async def test_a_token_that_lives_longer_than_a_minute_is_refused(
    uses: DelegationUses, clock: Clock
) -> None:
    long = issue(SECRET, "nspc", "statistics", None, now=clock.now + 3600)
    held = Delegation.from_token(long, "nspc", "statistics", None)
    with pytest.raises(DelegationError, match="outlive"):
        await uses.accept(credential(held.headers()), "statistics", None)


@pytest.mark.parametrize(
    "value", ["", "partner=nspc", "partner=nspc,expires=1,nonce=x,use=1,mac=00", "a" * 500]
)
async def test_malformed_uses_are_refused(uses: DelegationUses, value: str) -> None:
    with pytest.raises(DelegationError, match="malformed"):
        await uses.accept(value, "statistics", None)


def test_a_subgraph_without_a_token_cannot_delegate() -> None:
    with pytest.raises(DelegationError, match="no delegation"):
        Delegation.from_token(None, "nspc", "statistics", None)
    with pytest.raises(DelegationError, match="malformed"):
        Delegation.from_token("1.2.3", "nspc", "statistics", None)
