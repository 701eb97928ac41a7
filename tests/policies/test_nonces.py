"""The nonce store: a signed request is answered once, and memory stays bounded."""

from __future__ import annotations

import pytest

from policies import MemoryNonceStore, NonceStoreFull


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_nonce_is_accepted_once() -> None:
    store = MemoryNonceStore(clock=Clock(1000.0))
    assert await store.first_use("nonce-a", 1061)
    assert not await store.first_use("nonce-a", 1061)
    assert await store.first_use("nonce-b", 1061)
    assert len(store) == 2


async def test_a_nonce_is_remembered_until_it_expires_and_then_forgotten() -> None:
    clock = Clock(1000.0)
    store = MemoryNonceStore(clock=clock)
    assert await store.first_use("nonce-a", 1061)
    clock.now = 1061.0  # the last moment it may come again
    assert not await store.first_use("nonce-a", 1061)
    clock.now = 1063.0  # expired sets go at the next sweep, at most a second later
    assert await store.first_use("nonce-b", 1100)
    assert len(store) == 1  # nonce-a has gone


async def test_a_full_store_refuses_rather_than_forget_a_live_nonce() -> None:
    clock = Clock(1000.0)
    store = MemoryNonceStore(capacity=2, clock=clock)
    assert await store.first_use("nonce-a", 1010)
    assert await store.first_use("nonce-b", 1061)
    with pytest.raises(NonceStoreFull, match="replicas"):
        await store.first_use("nonce-c", 1061)
    assert not await store.first_use("nonce-a", 1010)  # still a replay, full or not
    clock.now = 1011.0
    assert await store.first_use("nonce-c", 1061)  # nonce-a expired: room again
