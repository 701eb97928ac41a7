"""A gateway stand-in for the crash test: appends to the access log until it is killed.

    python -m tests.policies.audit.appender DATABASE_URL

Eight concurrent requests, each returning 300 people; every seq is printed (and flushed) as
soon as its append returned, that is once it was committed. The signing key, if any, comes
from TONLE_AUDIT_SIGNING_KEY, as in a gateway.
"""

from __future__ import annotations

import asyncio
import sys

from identity_store import create_engine, session_factory
from policies.audit import AccessLog
from tests.policies.audit.conftest import entry, spid


async def main(url: str) -> None:
    engine = create_engine(url)
    log = AccessLog.from_env(session_factory(engine), checkpoint_every=50)
    await log.start()

    async def request(worker: int) -> None:
        n = worker
        while True:
            people = tuple(spid(n * 1000 + i) for i in range(300))
            seq = await log.append(entry(n, spids=people))
            print(seq, flush=True)
            n += 8

    await asyncio.gather(*(request(w) for w in range(8)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
