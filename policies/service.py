"""Everything a gateway process needs to enforce policies, built from its settings.

``policy_enforcement(api_schema, settings)`` gives the gateway's access control and the
lifespan that goes with it: open the registry database, load the published policy
(refusing to start without one), poll for changes, run the access log's writer, and
close it all in order when the gateway stops. With ``TONLE_REDIS_URL`` the rate budgets
are shared with every other gateway through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLSchema

from identity_store import (
    create_engine,
    database_url,
    pool_size,
    session_factory,
    statement_timeout_s,
)
from policies.audit import AccessLog, signing_key_from_env
from policies.cedar import Catalogue
from policies.delegation import DelegationUses
from policies.enforcement import Network, PolicyAccess, parse_networks
from policies.errors import PolicyError
from policies.ratelimit import Limiter, RateLimiter
from policies.redis_nonces import RedisNonceStore
from policies.redis_ratelimit import RedisRateLimiter
from policies.store import PolicyStore

PSEUDONYM_KEY_ENV = "TONLE_PSEUDONYM_KEY"
SECURITY_SERVERS_ENV = "TONLE_XROAD_SECURITY_SERVERS"
POLL_ENV = "TONLE_POLICY_POLL_S"
REDIS_URL_ENV = "TONLE_REDIS_URL"
REDIS_PREFIX_ENV = "TONLE_REDIS_PREFIX"
GATEWAY_SECRET_ENV = "TONLE_GATEWAY_SECRET"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class PolicySettings:
    """Where the policies are, and the secrets enforcing them needs."""

    database_url: str
    pseudonym_key: bytes | None = None
    security_servers: tuple[Network, ...] = ()
    poll_s: float = 2.0
    access_log: bool = True
    checkpoint_every: int = 1000
    checkpoint_interval_s: float = 60.0
    # Rate budgets shared by every gateway through this Redis; None: each process its own.
    redis_url: str | None = None
    redis_prefix: str = "tonle"
    # Keys the delegation tokens of subgraphs that ask again as the partner (coverage); None:
    # TONLE_GATEWAY_SECRET, the secret the gateway signs subgraph requests with.
    gateway_secret: str | None = None

    @classmethod
    def from_env(cls, database: str | None = None) -> PolicySettings:
        key = os.environ.get(PSEUDONYM_KEY_ENV) or None
        if key is not None and len(key) < 32:
            raise PolicyError(
                f"{PSEUDONYM_KEY_ENV} is too short to key pseudonyms: give at least 32 "
                "random characters (e.g. `python -c 'import secrets;print(secrets.token_hex(32))'`)"
            )
        raw_poll = os.environ.get(POLL_ENV) or "2"
        try:
            poll = float(raw_poll)
        except ValueError:
            poll = -1.0
        if not poll > 0:
            raise PolicyError(f"{POLL_ENV}={raw_poll!r} is not a positive number of seconds")
        redis_url = os.environ.get(REDIS_URL_ENV) or None
        if redis_url is not None and not redis_url.startswith(_REDIS_SCHEMES):
            raise PolicyError(
                f"{REDIS_URL_ENV} must be a Redis URL such as redis://127.0.0.1:6379/0 "
                "(or rediss:// for TLS, unix:///path/redis.sock)"
            )
        return cls(
            database_url=database or database_url(),
            pseudonym_key=key.encode() if key else None,
            security_servers=tuple(parse_networks(os.environ.get(SECURITY_SERVERS_ENV, ""))),
            poll_s=poll,
            redis_url=redis_url,
            redis_prefix=os.environ.get(REDIS_PREFIX_ENV) or "tonle",
        )


def preflight(settings: PolicySettings) -> int:
    """Check, before serving, that the database is there, migrated and has a published
    policy; return the published version's number or raise :class:`PolicyError` saying
    what to do."""
    from sqlalchemy.engine import make_url

    parsed = make_url(settings.database_url)
    path = parsed.database
    if parsed.drivername.startswith("sqlite") and path and not Path(path).exists():
        raise PolicyError(
            f"there is no registry database at {path}: give --database URL (or "
            "TONLE_DATABASE_URL), or create one with tonle migrate --database URL"
        )
    return asyncio.run(_published_version(settings))


async def _published_version(settings: PolicySettings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from policies.repository import published

    engine = create_engine(settings.database_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        current = await published(session_factory(engine))
    except (SQLAlchemyError, OSError) as error:
        raise PolicyError(
            f"cannot read the policies in {where} ({type(error).__name__}): is it reachable, "
            "and migrated (tonle migrate --database URL)?"
        ) from None
    finally:
        await engine.dispose()
    if current is None:
        raise PolicyError(
            f"no access policy is published in {where}, so no partner could be served: "
            "create partners (tonle partners create) and publish a policy (tonle policies "
            "import FILE --reason ... --publish), or run with --open for development"
        )
    return current.number


def policy_enforcement(
    api_schema: GraphQLSchema, settings: PolicySettings
) -> tuple[PolicyAccess, Callable[[], AbstractAsyncContextManager[None]]]:
    """The access control for a gateway over ``api_schema``, and its lifespan."""
    # Bounded like the identity subgraph's: a statement that hangs (a lock held elsewhere)
    # fails its request instead of holding a connection of every gateway's pool.
    engine = create_engine(
        settings.database_url,
        statement_timeout_s=statement_timeout_s(),
        pool_size=pool_size(),
    )
    sessions = session_factory(engine)
    secret = settings.gateway_secret or os.environ.get(GATEWAY_SECRET_ENV)
    store = PolicyStore(sessions, Catalogue.of(api_schema), poll_s=settings.poll_s)
    log = (
        AccessLog(
            sessions,
            signing_key=signing_key_from_env(),
            checkpoint_every=settings.checkpoint_every,
            checkpoint_interval_s=settings.checkpoint_interval_s,
        )
        if settings.access_log
        else None
    )
    limiter: Limiter = (
        RedisRateLimiter.from_url(settings.redis_url, prefix=settings.redis_prefix)
        if settings.redis_url
        else RateLimiter()
    )
    # A delegation's use is spent once across every gateway sharing the Redis.
    delegation_nonces = (
        RedisNonceStore.from_url(settings.redis_url, prefix=f"{settings.redis_prefix}:delegation")
        if settings.redis_url and secret
        else None
    )
    access = PolicyAccess(
        store,
        api_schema,
        access_log=log,
        pseudonym_key=settings.pseudonym_key,
        security_servers=settings.security_servers,
        limiter=limiter,
        delegation=DelegationUses(secret, delegation_nonces) if secret else None,
    )

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        try:
            state = await store.load()
            if state.published is None:
                raise PolicyError(
                    "no access policy is published in this database: import and publish one "
                    "(tonle policies import FILE --reason ... --publish) or run with --open"
                )
            watcher = asyncio.create_task(store.watch(), name="tonle-policy-watch")
            try:
                if log is not None:
                    await log.start()
                try:
                    yield
                finally:
                    if log is not None:
                        await log.close()
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        finally:
            await limiter.close()
            if delegation_nonces is not None:
                await delegation_nonces.aclose()
            await engine.dispose()

    return access, lifespan
