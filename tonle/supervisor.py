"""Running parts of Tonle as processes of their own, watched and stopped together.

The demo runs every part as production does, one process each. A child that dies is
reported (its name, exit code and the end of its log) and the others are stopped: half a
system is not left running. Stopping sends SIGTERM to every child at once (each lets its
requests in flight finish for ``TONLE_SHUTDOWN_GRACE_S``, then cancels them) and SIGKILL
to any still there at the deadline, so a stop is bounded even with requests hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ChildFailed(RuntimeError):
    """A child process stopped on its own, or never became healthy."""


@dataclass(frozen=True)
class Child:
    """One process to run: its name in messages, its command, its environment, and the
    URL that answers 200 once it is ready."""

    name: str
    argv: Sequence[str]
    health_url: str
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def log_name(self) -> str:
        return self.name.lower().replace(" ", "-") + ".log"


@dataclass
class Running:
    child: Child
    process: asyncio.subprocess.Process
    log: Path
    watcher: asyncio.Task[int] | None = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Ask Linux to send the child SIGTERM if the supervisor dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the supervisor died before the request took effect
        os._exit(1)


class Supervisor:
    """Starts children, waits for their health, and stops them all (see the module doc)."""

    def __init__(self, log_dir: Path, *, stop_deadline_s: float = 4.0) -> None:
        self.log_dir = log_dir
        self.stop_deadline_s = stop_deadline_s
        self.children: dict[str, Running] = {}
        self.stopping = asyncio.Event()
        self.failed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._stop_requested = False

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)

    async def start(self, child: Child) -> Running:
        """Start ``child``, its output going to ``<log_dir>/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / child.log_name
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *child.argv,
                env={**os.environ, **child.env},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches the supervisor only,
                # which stops the children in order rather than all at once by surprise.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        running = Running(child, process, log)
        running.watcher = asyncio.create_task(self._watch(running), name=f"watch {child.name}")
        self.children[child.name] = running
        return running

    async def _watch(self, running: Running) -> int:
        code = await running.process.wait()
        if not self._stop_requested and not self.failed.done():
            self.failed.set_result(self._death_notice(running, code))
        return code

    def _death_notice(self, running: Running, code: int) -> str:
        how = (
            f"was killed by {signal.Signals(-code).name} (exit code {code})"
            if code < 0 and -code in signal.valid_signals()
            else f"exited with code {code}"
        )
        lines = running.log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        tail = "".join(f"\n    {line}" for line in lines)
        return (
            f"{running.child.name} stopped unexpectedly: it {how}.\n"
            f"  The end of its log, {running.log}:{tail or ' (empty)'}"
        )

    async def wait_healthy(self, names: Sequence[str], *, timeout_s: float = 60.0) -> None:
        """Wait until every named child answers its health URL with 200."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            checks = [self._healthy(session, self.children[n], timeout_s) for n in names]
            waiting = asyncio.gather(*checks)
            either: set[asyncio.Future[Any]] = {waiting, self.failed}
            try:
                done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                # A child died, or the demo is stopping: no check outlives its session.
                if not waiting.done():
                    waiting.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ChildFailed):
                        await waiting
            if self.failed in done:
                raise ChildFailed(self.failed.result())
            waiting.result()

    async def _healthy(
        self, session: aiohttp.ClientSession, running: Running, timeout_s: float
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(running.child.health_url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise ChildFailed(
            f"{running.child.name} did not answer {running.child.health_url} within "
            f"{timeout_s:g} s; its log: {running.log}"
        )

    async def run_until_stopped(self) -> str | None:
        """Wait for a stop signal (None) or a child's death (what happened)."""
        stopped = asyncio.create_task(self.stopping.wait())
        either: set[asyncio.Future[Any]] = {stopped, self.failed}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        return self.failed.result() if self.failed.done() else None

    async def stop(self, say: Callable[[str], None] | None = None) -> None:
        """SIGTERM every child, SIGKILL those still there at the deadline, reap them all."""
        self._stop_requested = True
        alive = [r for r in self.children.values() if r.process.returncode is None]
        for running in alive:
            with contextlib.suppress(ProcessLookupError):
                running.process.send_signal(signal.SIGTERM)
        watchers = [r.watcher for r in alive if r.watcher is not None]
        if watchers:
            await asyncio.wait(watchers, timeout=self.stop_deadline_s)
        for running in alive:
            if running.process.returncode is None:
                if say is not None:
                    say(f"{running.child.name} did not stop in {self.stop_deadline_s:g} s: killed")
                with contextlib.suppress(ProcessLookupError):
                    running.process.kill()
        if watchers:
            await asyncio.gather(*watchers, return_exceptions=True)
