"""The command line: compose, plan, and the gateway's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway import classic
from tonle.cli import main


def write_subgraphs(tmp_path: Path) -> list[str]:
    args = []
    for name, schema in classic.SUBGRAPHS.items():
        path = tmp_path / f"{name}.graphql"
        path.write_text(schema.execute_sync("{ _service { sdl } }").data["_service"]["sdl"])
        args += ["--subgraph", f"{name}={path}@http://127.0.0.1:9/{name}"]
    return args


def test_compose_from_files_then_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "supergraph.graphql"
    assert main(["compose", *write_subgraphs(tmp_path), "-o", str(out)]) == 0
    assert '@join__graph(name: "reviews", url: "http://127.0.0.1:9/reviews")' in out.read_text()
    assert main(["plan", "--supergraph", str(out), "--query", "{ me { reviews { body } } }"]) == 0
    printed = capsys.readouterr().out
    assert 'Fetch(service: "accounts")' in printed
    assert 'Flatten(path: "me")' in printed


def test_compose_reports_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.graphql"
    bad.write_text("type Query { me: Int }")
    args = [*write_subgraphs(tmp_path), "--subgraph", f"bad={bad}@http://127.0.0.1:9/bad"]
    assert main(["compose", *args]) == 1
    assert "INVALID_FIELD_SHARING" in capsys.readouterr().err


def test_a_file_subgraph_needs_a_routing_url(tmp_path: Path) -> None:
    sdl = tmp_path / "a.graphql"
    sdl.write_text("type Query { a: Int }")
    with pytest.raises(SystemExit, match="routing URL"):
        main(["compose", "--subgraph", f"a={sdl}"])
    with pytest.raises(SystemExit, match="NAME=SOURCE"):
        main(["compose", "--subgraph", "nonsense"])


def test_the_gateway_refuses_to_start_without_a_published_policy_or_open(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    main(["compose", *write_subgraphs(tmp_path), "-o", str(out)])
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    with pytest.raises(SystemExit, match=r"there is no registry database at .*tonle migrate"):
        main(["gateway", "--supergraph", str(out), "--database", url])
    assert main(["migrate", "--database", url]) == 0
    with pytest.raises(SystemExit, match=r"no access policy is published .* or run with --open"):
        main(["gateway", "--supergraph", str(out), "--database", url])
    with pytest.raises(SystemExit, match="does not exist"):
        main(["gateway", "--supergraph", str(tmp_path / "missing.graphql"), "--open"])


def test_a_malformed_supergraph_is_refused_with_where(tmp_path: Path) -> None:
    broken = tmp_path / "broken.graphql"
    broken.write_text(
        'schema @link(url: "https://specs.apollo.dev/link/v1.0") { query: Query }\ntype Query {'
    )
    with pytest.raises(SystemExit, match="line 2"):
        main(["plan", "--supergraph", str(broken), "--query", "{ a }"])


def test_open_gateway_is_healthy_within_5_seconds_and_answers_typename(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.servers import free_port

    out = tmp_path / "supergraph.graphql"
    main(["compose", *write_subgraphs(tmp_path), "-o", str(out)])
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tonle.cli",
            "gateway",
            "--supergraph",
            str(out),
            "--port",
            str(port),
            "--open",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        healthy = False
        while time.monotonic() - started < 5:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    healthy = r.status == 200
                    break
            except OSError:
                time.sleep(0.05)
        assert healthy, "no 200 from /health within 5 s"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=b'{"query":"query { __typename }"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.read() == b'{"data":{"__typename":"Query"}}'
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "--open" in err and "OFF" in err  # says so loudly
