"""What a gateway process holds of the policy database: partners, keys, their trusted
documents, the published version.

The store loads everything once and then polls the policy epoch (one small query every
``poll_s`` seconds); when it moves — a key issued or revoked, a partner added, a document
registered or removed, a version published — the store loads again and swaps in the new
state whole. Requests read the
state without touching the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from policies.cedar import Catalogue, CedarPolicies
from policies.errors import PolicyError
from policies.repository import (
    KeyRecord,
    PartnerRecord,
    Published,
    Sessions,
    epoch,
    list_partners,
    published,
)
from policies.trusted_documents import documents_by_partner

logger = logging.getLogger("tonle.policies")


@dataclass(frozen=True)
class PolicyState:
    """One consistent reading of the policy database."""

    epoch: int
    partners: Mapping[str, PartnerRecord]
    keys: Mapping[str, KeyRecord]
    by_xroad_client: Mapping[str, str]
    published: Published | None
    cedar: CedarPolicies | None
    # partner code -> SHA-256 -> the document it registered (trusted documents)
    documents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def version(self) -> int | None:
        return self.published.number if self.published else None


class PolicyStore:
    """The policy state of one gateway process, kept fresh by polling."""

    def __init__(self, sessions: Sessions, catalogue: Catalogue, *, poll_s: float = 2.0) -> None:
        self.sessions = sessions
        self.catalogue = catalogue
        self.poll_s = poll_s
        self._state: PolicyState | None = None

    @property
    def state(self) -> PolicyState:
        if self._state is None:
            raise RuntimeError("the policy store is not loaded: await store.load() first")
        return self._state

    async def load(self) -> PolicyState:
        """Read everything now (raises when the database or the published policy is unusable)."""
        async with self.sessions() as session:
            current = await epoch(session)
        partners = await list_partners(self.sessions)
        version = await published(self.sessions)
        documents = await documents_by_partner(self.sessions)
        cedar = CedarPolicies(version.document, self.catalogue) if version else None
        self._state = PolicyState(
            epoch=current,
            partners={p.code: p for p in partners},
            keys={k.key_id: k for p in partners for k in p.keys},
            by_xroad_client={p.xroad_client: p.code for p in partners if p.xroad_client},
            published=version,
            cedar=cedar,
            documents=documents,
        )
        return self._state

    async def refresh(self) -> bool:
        """Load again if the epoch moved; True when the state changed."""
        async with self.sessions() as session:
            current = await epoch(session)
        if self._state is not None and current == self._state.epoch:
            return False
        await self.load()
        return True

    async def watch(self) -> None:
        """Refresh every ``poll_s`` seconds until cancelled; keep the last good state on errors."""
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                if await self.refresh():
                    logger.info("policy state reloaded (version %s)", self.state.version)
            except PolicyError as error:
                logger.error("the published policy cannot be used; keeping the last: %s", error)
            except Exception as error:  # the database may be away for a while
                logger.warning(
                    "could not read the policy database (%s); keeping the last state",
                    error.__class__.__name__,
                )
