"""Export and report jobs run for an analyst over HTTP: started, watched, downloaded, removed.

A job belongs to the API key that started it (kept as its SHA-256 only): another key asking
for it is told it does not exist, as for a job that never did. A key runs at most
``per_owner`` jobs at once. A job's files are the analyst's own export, written under the
job's directory and deleted ``keep_s`` after the job ends (and all of them when the service
stops): the service is not a store of exports.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNNING, DONE, FAILED = "running", "done", "failed"
log = logging.getLogger("tonle.analysts")


class JobRefused(RuntimeError):
    """A job that cannot start now, and why."""


def owner_of(key: str) -> str:
    """What a job remembers of the key that started it."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Job:
    """One job: what it is, how far it has got, and its files once done."""

    id: str
    kind: str
    owner: str
    directory: Path
    status: str = RUNNING
    progress: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    error: str | None = None
    ended: float | None = None
    task: asyncio.Task[None] | None = None

    def written_bytes(self) -> int:
        """What the job has written so far."""
        return sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file())

    def view(self) -> dict[str, Any]:
        """The job as its owner sees it (no paths of the server)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "files": sorted(self.files),
            "error": self.error,
        }


Work = Callable[[Job], Awaitable[dict[str, Path]]]


class Jobs:
    """The jobs of one service process."""

    def __init__(
        self,
        root: Path,
        *,
        told: tuple[type[Exception], ...] = (),
        per_owner: int = 2,
        keep_s: float = 3600.0,
    ) -> None:
        """``told``: the errors whose messages are written for analysts (they say what to
        change); any other failure is logged by type and told as a failure of the service."""
        self.root = root
        self.told = told
        self.per_owner = per_owner
        self.keep_s = keep_s
        self._jobs: dict[str, Job] = {}

    def start(self, owner: str, kind: str, work: Work) -> Job:
        """Run ``work`` as a new job of ``owner``'s."""
        self.sweep()
        running = [j for j in self._jobs.values() if j.owner == owner and j.status == RUNNING]
        if len(running) >= self.per_owner:
            raise JobRefused(
                f"{len(running)} of your jobs are running; wait for one to end "
                f"(at most {self.per_owner} at once)"
            )
        job_id = secrets.token_urlsafe(12)
        directory = self.root / job_id
        directory.mkdir(parents=True)
        job = Job(job_id, kind, owner, directory)
        job.task = asyncio.create_task(self._run(job, work))
        self._jobs[job_id] = job
        return job

    async def _run(self, job: Job, work: Work) -> None:
        try:
            job.files = await work(job)
            job.status = DONE
        except asyncio.CancelledError:
            job.status, job.error = FAILED, "stopped: the service is shutting down"
            raise
        except self.told as error:
            job.status, job.error = FAILED, str(error).strip() or type(error).__name__
            _empty(job.directory)
        except Exception as error:
            # Its message may quote data; the log gets where it happened, not what it held.
            where = error.__traceback__
            while where is not None and where.tb_next is not None:
                where = where.tb_next
            place = f"{where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where else "?"
            log.error("%s job %s failed: %s at %s", job.kind, job.id, type(error).__name__, place)
            job.status, job.error = FAILED, "the job failed in the service; its log says where"
            _empty(job.directory)
        finally:
            job.ended = time.monotonic()

    def get(self, job_id: str, owner: str) -> Job | None:
        """The job, if ``owner`` started it."""
        self.sweep()
        job = self._jobs.get(job_id)
        if job is None or not secrets.compare_digest(job.owner, owner):
            return None
        return job

    def sweep(self) -> None:
        """Forget ended jobs older than ``keep_s`` and delete their files."""
        now = time.monotonic()
        for job_id, job in list(self._jobs.items()):
            if job.ended is not None and now - job.ended > self.keep_s:
                shutil.rmtree(job.directory, ignore_errors=True)
                del self._jobs[job_id]

    async def close(self) -> None:
        """Stop every running job and delete every job's files."""
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for job in self._jobs.values():
            shutil.rmtree(job.directory, ignore_errors=True)
        self._jobs.clear()


def _empty(directory: Path) -> None:
    """A failed job keeps no half-written files."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
