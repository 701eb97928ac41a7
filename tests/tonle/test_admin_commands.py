"""``tonle admin``: accounts from the command line, passwords never in arguments or output."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from identity_store import create_engine, migrate, session_factory
from policies.console.accounts import list_users
from policies.console.trail import TrailEntry, entries
from tonle.cli import main

PASSWORD = "correct horse battery staple"


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    asyncio.run(migrate(url))
    return url


def _read(url: str) -> tuple[list[object], list[TrailEntry]]:
    async def work() -> tuple[list[object], list[TrailEntry]]:
        engine = create_engine(url)
        try:
            sessions = session_factory(engine)
            return list(await list_users(sessions)), await entries(sessions)
        finally:
            await engine.dispose()

    return asyncio.run(work())


def _admin(monkeypatch: pytest.MonkeyPatch, database: str, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["admin", *args, "--database", database])


def _create(
    monkeypatch: pytest.MonkeyPatch, database: str, username: str, role: str, password: str
) -> int:
    return _admin(
        monkeypatch,
        database,
        *("create-user", username, "--role", role, "--password-stdin"),
        stdin=password + "\n",
    )


def test_create_user_reads_the_password_from_stdin_and_never_prints_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database: str
) -> None:
    status = _admin(
        monkeypatch,
        database,
        *("create-user", "sokha", "--role", "editor", "--role", "approver"),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert status == 0
    printed = capsys.readouterr()
    assert PASSWORD not in printed.out + printed.err
    assert "created sokha (editor, approver)" in printed.err
    (account,), trail = _read(database)
    assert account.roles == ("editor", "approver")  # type: ignore[attr-defined]
    (entry,) = trail
    assert (entry.action, entry.target, entry.client_address) == (
        "account_create",
        "account sokha",
        "command line",
    )
    assert entry.username.endswith("(command line)") and PASSWORD not in str(entry)
    assert _admin(monkeypatch, database, "list-users") == 0
    assert "sokha" in capsys.readouterr().out


def test_weak_passwords_unknown_roles_and_twins_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database: str
) -> None:
    short = _create(monkeypatch, database, "dara", "editor", "short")
    assert short == 2 and "at least 12 characters" in capsys.readouterr().err
    named = _create(monkeypatch, database, "dara", "editor", "dara-dara-dara-dara")
    assert named == 2 and "must not contain the username" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _admin(monkeypatch, database, "create-user", "dara", "--role", "king")
    for expected in (0, 2):
        assert _create(monkeypatch, database, "dara", "auditor", PASSWORD) == expected
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # there is no --password option to leak it through
        _admin(monkeypatch, database, "create-user", "x", "--role", "auditor", "--password", "p")


def test_unlock_disable_and_enable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database: str
) -> None:
    _create(monkeypatch, database, "dara", "auditor", PASSWORD)
    assert _admin(monkeypatch, database, "disable", "dara") == 0
    assert _admin(monkeypatch, database, "list-users") == 0
    assert "disabled since" in capsys.readouterr().out
    assert _admin(monkeypatch, database, "enable", "dara") == 0
    assert _admin(monkeypatch, database, "unlock", "dara") == 0
    assert _admin(monkeypatch, database, "unlock", "nobody") == 2
    assert "no account is named 'nobody'" in capsys.readouterr().err
    _, trail = _read(database)
    assert [e.action for e in reversed(trail)] == [
        "account_create",
        "account_disable",
        "account_enable",
        "account_unlock",
    ]
