"""``tonle audit``: verify's exit status and findings, who-saw, keygen, clear errors."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import stat
from pathlib import Path

import pytest

from identity_store import create_engine, migrate, new_spid, session_factory
from policies.audit import AccessLog, load_signing_key
from tests.policies.audit import tamper
from tests.policies.audit.conftest import entry
from tonle.cli import main

rng = random.Random(7)
A, B = new_spid(rng), new_spid(rng)


async def _run(argv: list[str]) -> int:
    # The command runs its own event loop; keep it off the test's.
    return await asyncio.to_thread(main, argv)


async def _logged(url: str, keys_dir: Path) -> Path:
    """A log of five requests, with checkpoints at 2 and 4 and on close; the key pair's folder."""
    assert main(["audit", "keygen", "--out", str(keys_dir)]) == 0
    key = load_signing_key(keys_dir / "access-log-signing-key.pem")
    await migrate(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        async with AccessLog(sessions, signing_key=key, checkpoint_every=2) as log:
            await log.append(entry(1, spids=(A, B)))
            await log.append(entry(2, spids=(B,)))
            await log.append(entry(3, spids=(A,), households=("HH-9",)))
            await log.append(entry(4, spids=()))
            await log.append(entry(5, spids=(B,)))
    finally:
        await engine.dispose()
    return keys_dir / "access-log-public-key.pem"


async def _tamper(url: str, *statements: str, recompute: bool = False) -> None:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        await tamper.drop_triggers(sessions)
        for statement in statements:
            await tamper.sql(sessions, statement)
        if recompute:
            await tamper.recompute_chain(sessions)
    finally:
        await engine.dispose()


def test_keygen_writes_the_pair_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "keygen", "--out", str(tmp_path / "k")]) == 0
    out = capsys.readouterr().out
    private = tmp_path / "k" / "access-log-signing-key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (tmp_path / "k" / "access-log-public-key.pem").exists()
    assert "key ID " in out and "TONLE_AUDIT_SIGNING_KEY=" in out
    assert main(["audit", "keygen", "--out", str(tmp_path / "k")]) == 2
    assert "never overwritten" in capsys.readouterr().err


async def test_verify_exits_0_when_intact_and_1_naming_each_changed_record(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = await _logged(database_url, tmp_path / "keys")
    capsys.readouterr()
    args = ["audit", "verify", "--database", database_url, "--public-key", str(public)]
    assert await _run(args) == 0
    captured = capsys.readouterr()
    assert (
        "access log intact: 5 records, 3 checkpoints verified, the last over record 5"
        in captured.out
    )
    assert captured.err == ""

    await _tamper(
        database_url,
        "UPDATE access_log SET partner = 'other' WHERE seq = 3",
        "DELETE FROM access_subject WHERE seq = 5",
    )
    assert await _run(args) == 1
    out = capsys.readouterr().out
    assert "seq 3: changed: record 3 was changed" in out
    assert "seq 5: changed" in out
    assert "access log NOT intact: 2 problems in 5 records" in out
    assert A not in out and B not in out


async def test_verify_catches_a_recomputed_chain_by_its_checkpoints(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = await _logged(database_url, tmp_path / "keys")
    await _tamper(database_url, "UPDATE access_log SET purpose = 'x' WHERE seq = 3", recompute=True)
    capsys.readouterr()
    args = ["audit", "verify", "--database", database_url, "--public-key", str(public)]
    assert await _run(args) == 1
    out = capsys.readouterr().out
    assert "seq 4: rewritten: records 3..4 were rewritten after checkpoint 4 was signed" in out
    # Without a public key the recomputed chain would pass, and the command says so.
    assert await _run(["audit", "verify", "--database", database_url]) == 1  # checkpoint hashes
    assert "checkpoint signatures were not checked" in capsys.readouterr().err


async def test_verify_takes_the_key_and_database_from_the_environment(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _logged(database_url, tmp_path / "keys")
    monkeypatch.setenv("TONLE_DATABASE_URL", database_url)
    monkeypatch.setenv(
        "TONLE_AUDIT_SIGNING_KEY", str(tmp_path / "keys" / "access-log-signing-key.pem")
    )
    capsys.readouterr()
    assert await _run(["audit", "verify"]) == 0
    assert "3 checkpoints verified" in capsys.readouterr().out
    other = tmp_path / "other"
    assert main(["audit", "keygen", "--out", str(other)]) == 0
    monkeypatch.setenv("TONLE_AUDIT_PUBLIC_KEY", str(other / "access-log-public-key.pem"))
    capsys.readouterr()
    assert await _run(["audit", "verify"]) == 1
    assert "seq 2: unknown_key" in capsys.readouterr().out


async def test_who_saw_lists_the_requests_that_returned_that_person_and_no_one_else(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _logged(database_url, tmp_path / "keys")
    capsys.readouterr()
    assert await _run(["audit", "who-saw", A, "--database", database_url]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"2 requests returned the data of person {A}"
    assert [line.split()[0] for line in lines[2:]] == ["3", "1"]
    assert B not in out  # record 1 also returned B: never shown

    assert await _run(["audit", "who-saw", B, "--database", database_url, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [a["seq"] for a in document["accesses"]] == [5, 2, 1]
    assert document["accesses"][0]["partner"] == "nssf"
    assert A not in json.dumps(document)

    assert (
        await _run(
            ["audit", "who-saw", "HH-9", "--household", "--database", database_url, "--json"]
        )
        == 0
    )
    assert [a["seq"] for a in json.loads(capsys.readouterr().out)["accesses"]] == [3]

    tomorrow = "2999-01-01"
    assert await _run(["audit", "who-saw", A, "--since", tomorrow, "--database", database_url]) == 0
    assert capsys.readouterr().out.startswith(f"0 requests returned the data of person {A} since")


async def test_errors_are_one_clear_line_and_exit_2(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await migrate(database_url)
    assert await _run(["audit", "who-saw", "12345", "--database", database_url]) == 2
    assert "not a valid SPID" in capsys.readouterr().err
    nowhere = f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}"
    assert await _run(["audit", "verify", "--database", nowhere]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tonle audit verify: there is no SQLite database at")
    assert not (tmp_path / "nothing.db").exists()  # and it did not create one
    sqlite3.connect(tmp_path / "empty.db").close()
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    assert await _run(["audit", "verify", "--database", empty]) == 2
    assert "check that the database is reachable and migrated" in capsys.readouterr().err
    refused = "postgresql+asyncpg://postgres@127.0.0.1:1/test"
    assert await _run(["audit", "who-saw", A, "--database", refused]) == 2
    err = capsys.readouterr().err
    assert "cannot read the access log" in err and "Traceback" not in err
    missing = str(tmp_path / "missing.pem")
    assert await _run(["audit", "verify", "--database", database_url, "--public-key", missing]) == 2
    assert "cannot read the public key file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["audit", "who-saw", A, "--since", "yesterday"])
    assert "is not a date (YYYY-MM-DD)" in capsys.readouterr().err


async def test_verify_in_the_demo_folder_checks_with_the_demos_own_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The demo's layout: .tonle/registry.db and its key pair in .tonle/secrets.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TONLE_DATABASE_URL", raising=False)
    monkeypatch.delenv("TONLE_AUDIT_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("TONLE_AUDIT_SIGNING_KEY", raising=False)
    await _logged("sqlite+aiosqlite:///.tonle/registry.db", tmp_path / ".tonle" / "secrets")
    capsys.readouterr()
    assert await _run(["audit", "verify"]) == 0
    out, err = capsys.readouterr()
    assert "checkpoints verified" in out and "demo's key" in err
    # Any other database is not checked with the demo's key.
    assert (
        await _run(["audit", "verify", "--database", "sqlite+aiosqlite:///.tonle/registry.db"]) == 0
    )
    out, _ = capsys.readouterr()
    assert "none verified" in out
