"""``tonle partners documents``: register a partner's operations from files, list and remove
them, and say clearly what is wrong."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tonle.cli import main

DOCUMENT = "query Check($spid: String!) {\r\n  person(spid: $spid) { spid }\r\n}\r\n"


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    assert main(["migrate", "--database", url]) == 0
    created = ["partners", "create", "ngo-cash", "--name", "Cash", "--kind",
               "development_partner", "--no-key", "--database", url]  # fmt: skip
    assert main(created) == 0
    return url


def test_documents_are_added_listed_and_removed(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "check.graphql"
    file.write_bytes(DOCUMENT.encode())
    sha = hashlib.sha256(file.read_bytes()).hexdigest()  # sha256sum FILE: bytes as they are
    capsys.readouterr()
    add = ["partners", "documents", "add", "ngo-cash", str(file), "--database", database]
    assert main(add) == 0
    assert capsys.readouterr().out == f"registered {sha} for ngo-cash (Check)\n"
    assert main(add) == 0
    assert "already registered" in capsys.readouterr().out
    listing = ["partners", "documents", "list", "ngo-cash", "--database", database]
    assert main(listing) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(sha + "  ") and line.endswith("  Check")
    assert main([*listing, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["sha256"], row["name"], row["document"]) == (sha, "Check", DOCUMENT)
    remove = ["partners", "documents", "remove", "ngo-cash", sha[:12], "--database", database]
    assert main(remove) == 0
    assert capsys.readouterr().out.startswith(f"removed {sha} of ngo-cash")
    assert main(listing) == 0
    assert "has registered no documents" in capsys.readouterr().out


def test_documents_commands_say_what_is_wrong(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.graphql"
    bad.write_text("type Query { a: Int }")
    good = tmp_path / "good.graphql"
    good.write_text("{ __typename }")
    cases = [
        (["add", "ngo-cash", str(tmp_path / "missing.graphql")], "cannot read"),
        (["add", "ngo-cash", str(bad)], "only operations and fragments"),
        (["add", "nobody", str(good)], "no partner has code 'nobody'"),
        (["remove", "ngo-cash", "0" * 64], "no document whose SHA-256 starts with"),
        (["remove", "ngo-cash", "xyz"], "is not a SHA-256"),
    ]
    for args, says in cases:
        capsys.readouterr()
        assert main(["partners", "documents", *args, "--database", database]) == 2
        err = capsys.readouterr().err
        assert err.startswith("tonle partners documents ") and says in err, err
