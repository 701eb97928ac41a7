"""``python -m subgraphs.identity`` serves a registry it migrated itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.servers import free_port


def test_the_identity_subgraph_runs_alone_on_a_registry_it_migrates(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "subgraphs.identity", "--port", str(port)),
            *("--database-url", url, "--migrate"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "TONLE_GATEWAY_SECRET"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the subgraph did not answer /health in 30 s"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=json.dumps(
                {"query": '{ people(villageCode: "01020101") { totalCount } }'}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {"data": {"people": {"totalCount": 0}}}
    finally:
        process.terminate()
        process.wait(timeout=10)
