"""The PostgreSQL variants of the database tests fail, never skip, when CI requires them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "tests/identity_store/test_repository.py::test_migrations_run_twice_without_harm"


def run_probe(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TONLE_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", PROBE],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreachable_postgres_fails_the_run() -> None:
    result = run_probe(
        TONLE_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:1/test",
        TONLE_REQUIRE_POSTGRES="1",
    )
    assert result.returncode != 0
    assert "cannot be reached" in result.stdout
    assert "skipped" not in result.stdout


def test_a_missing_url_fails_when_postgres_is_required() -> None:
    result = run_probe(TONLE_REQUIRE_POSTGRES="1")
    assert result.returncode != 0
    assert "PostgreSQL tests must run" in result.stdout


def test_without_the_requirement_a_missing_url_skips_postgres_only() -> None:
    result = run_probe()
    assert result.returncode == 0
    assert "1 passed, 1 skipped" in result.stdout
