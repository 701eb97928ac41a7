"""The demo's supervisor with real child processes: deaths reported, stops bounded."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from tests.servers import free_port
from tonle.supervisor import Child, ChildFailed, Supervisor

NEVER_HEALTHY = f"http://127.0.0.1:{free_port()}/health"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_a_child_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "logs")
    await supervisor.start(
        Child("quitter", python("print('cannot bind'); raise SystemExit(3)"), NEVER_HEALTHY)
    )
    await supervisor.start(Child("sleeper", python("import time; time.sleep(60)"), NEVER_HEALTHY))
    started = time.monotonic()
    with pytest.raises(ChildFailed) as failed:
        await supervisor.wait_healthy(["quitter", "sleeper"], timeout_s=30)
    assert time.monotonic() - started < 5
    notice = str(failed.value)
    assert "quitter stopped unexpectedly: it exited with code 3" in notice
    assert "cannot bind" in notice and str(tmp_path / "logs" / "quitter.log") in notice
    await supervisor.stop()
    assert all(r.process.returncode is not None for r in supervisor.children.values())


async def test_a_child_that_ignores_sigterm_is_killed_at_the_deadline(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "logs", stop_deadline_s=1.0)
    stubborn = python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    running = await supervisor.start(Child("stubborn", stubborn, NEVER_HEALTHY))
    polite = await supervisor.start(
        Child("polite", python("import time; time.sleep(60)"), NEVER_HEALTHY)
    )
    log = tmp_path / "logs" / "stubborn.log"
    while "ready" not in log.read_text():  # noqa: ASYNC110 - the child's own output
        await asyncio.sleep(0.02)
    said: list[str] = []
    started = time.monotonic()
    await supervisor.stop(said.append)
    took = time.monotonic() - started
    assert 1.0 <= took < 2.0
    assert running.process.returncode == -9 and polite.process.returncode == -15
    assert said == ["stubborn did not stop in 1 s: killed"]
    assert not supervisor.failed.done()  # a stop asked for is no death to report
