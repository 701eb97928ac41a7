"""``tonle demo`` as a newcomer runs it: one command, a first query, Ctrl-C, and a restart."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sandbox.nssf.records import nssf_members
from sandbox.population import generate_population
from tonle.demo import DEMO_SEED, DemoPorts


def _free_demo_ports() -> int:
    """A gateway port whose whole demo block (subgraphs, sandboxes) is free right now.

    Chosen below the kernel's ephemeral range (32768 and up), so that the many client
    connections a busy machine holds cannot take one of the block's ports meanwhile.
    """
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 30_000)
        ports = DemoPorts.from_gateway(base)
        wanted = [
            ports.gateway,
            ports.identity,
            *ports.subgraphs.values(),
            *ports.sandboxes.values(),
            ports.coverage,
        ]
        try:
            with contextlib.ExitStack() as held:
                for port in wanted:
                    sock = held.enter_context(socket.socket())
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError("no free block of demo ports below 30000")


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tonle.cli",
            "demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--people",
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "TONLE_GATEWAY_SECRET"},
    )


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        if marker in line:
            return seen
    process.kill()
    raise AssertionError(f"the demo did not print {marker!r} in {timeout} s; it printed:\n{seen}")


def _post(url: str, key: str, query: str, purpose: str = "grievance") -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query}).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "X-Purpose": purpose,
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as error:
        return {"status": error.code, **json.loads(error.read())}


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=20)
    return out


def _get(url: str, token: str | None = None, data: bytes | None = None) -> tuple[int, Any]:
    """An HTTP status and body (JSON when it is), with ``Authorization: Bearer token``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


def _console_sign_in(port: int, username: str, password: str) -> int:
    """Sign in to the demo's console at /admin as a browser would; the status of its home
    page afterwards (200), or of the refused sign-in (401)."""
    import http.client
    from urllib.parse import urlencode

    def call(method: str, path: str, cookie: str, body: str | None = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Cookie": cookie}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response, response.read().decode()

    response, page = call("GET", "/admin/login", "")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = urlencode({"csrf_token": token, "username": username, "password": password})
    response, _ = call("POST", "/admin/login", cookie, form)
    if response.status != 303:
        return int(response.status)
    session = response.getheader("Set-Cookie").split(";")[0]
    response, page = call("GET", "/admin/", session)
    assert f"({username}:" in page
    return int(response.status)


def _check_analyst_export(port: int, key: str, province: str) -> None:
    """The analyst page at /analyst/ on the gateway's port, and an export job through it."""
    import time

    status, page = _get(f"http://127.0.0.1:{port}/analyst/")
    assert status == 200 and "Tonle · Analyst" in page
    query = (
        "query($area: String!, $first: Int!, $after: String) { people(provinceCode: $area, "
        "first: $first, after: $after) { edges { node { spid sex } } } }"
    )
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "statistics"}
    body = json.dumps({"query": query, "area": province, "format": "csv"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/analyst/api/exports",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        location = response.headers["Location"]
    deadline = time.monotonic() + 30
    while True:
        job_request = urllib.request.Request(f"http://127.0.0.1:{port}{location}", headers=headers)
        with urllib.request.urlopen(job_request, timeout=10) as response:
            job = json.loads(response.read())
        if job["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"] == "done", job
    assert job["files"] == ["export.csv"] and job["progress"]["nodes"] > 0


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, dead but not reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The demo's processes by name, with their pid and URL, as it wrote them down."""
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    return credentials["operations"]["processes"]  # type: ignore[no-any-return]


def _check_operations_tokens(data_dir: Path, port: int) -> None:
    """/metrics (gateway and subgraphs) and the sandboxes' /admin need the demo's tokens."""
    operations = json.loads((data_dir / "demo-credentials.json").read_text())["operations"]
    metrics, admin = operations["metrics_token"], operations["sandbox_admin_token"]
    processes = operations["processes"]
    assert len(processes) == 11
    for name in ("gateway", "identity subgraph", "nssf subgraph"):
        url = processes[name]["url"] + "/metrics"
        assert _get(url)[0] == 401, name
        status, text = _get(url, metrics)
        assert status == 200 and "tonle_" in text, name
    assert processes["gateway"]["url"] == f"http://127.0.0.1:{port}"
    stats = processes["NSSF sandbox"]["url"] + "/admin/stats"
    assert _get(stats)[0] == 401
    assert _get(stats, admin)[0] == 200


def _hang_a_request_then_interrupt(
    demo: subprocess.Popen[str], data_dir: Path, port: int, key: str, query: str
) -> tuple[float, str]:
    """Make the NSSF sandbox hang, send a query that waits for it, press Ctrl-C: how long
    the demo took to stop, and what it printed."""
    admin = json.loads((data_dir / "demo-credentials.json").read_text())["operations"][
        "sandbox_admin_token"
    ]
    sandbox = _children(data_dir)["NSSF sandbox"]["url"]
    status, _ = _get(sandbox + "/admin/config", admin, json.dumps({"hang": True}).encode())
    assert status == 200
    before = _get(sandbox + "/admin/stats", admin)[1]["requests"]

    def ask() -> None:
        with contextlib.suppress(OSError, ValueError):  # cut off when the demo stops
            _post(f"http://127.0.0.1:{port}/graphql", key, query)

    waiting = threading.Thread(target=ask, daemon=True)
    waiting.start()
    deadline = time.monotonic() + 10
    while _get(sandbox + "/admin/stats", admin)[1]["requests"] == before:
        assert time.monotonic() < deadline, "the query never reached the NSSF sandbox"
        time.sleep(0.05)
    assert waiting.is_alive()  # the request hangs
    interrupted = time.monotonic()
    demo.send_signal(signal.SIGINT)
    out, _ = demo.communicate(timeout=20)
    return time.monotonic() - interrupted, out


def test_the_demo_answers_the_first_query_then_stops_and_restarts_on_its_data(
    tmp_path: Path,
) -> None:
    port = _free_demo_ports()
    demo = _start(tmp_path, port)
    started = time.monotonic()
    try:
        printed = _read_until(demo, "Ctrl-C stops everything", timeout=60)
        assert time.monotonic() - started < 60
        assert "First start" in printed
        village = re.search(r'villageCode: \\"(\d{8})\\"', printed)
        assert village is not None, printed
        credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
        assert credentials["api_key"] in printed
        assert credentials["purpose"] == "grievance"
        partners = credentials["partners"]
        assert set(partners) == {"registry", "nssf", "idpoor", "ngo-cash", "nspc", "pca"}
        for code, partner in partners.items():
            assert partner["api_key"] in printed, code
            assert partner["purposes"] and partner["description"]
        printed_query = re.search(r"-d '(.*)'", printed)
        assert printed_query is not None, printed
        first = json.loads(printed_query.group(1))["query"]
        body = _post(f"http://127.0.0.1:{port}/graphql", credentials["api_key"], first)
        assert "errors" not in body
        edges = body["data"]["people"]["edges"]  # type: ignore[index]
        assert len(edges) == 5
        assert all(len(e["node"]["spid"]) == 12 for e in edges)
        for field in ("idpoor", "nssf", "pcaPayments", "khmerIdVerification"):
            assert all(field in e["node"] for e in edges), field
        # the whole village: every operator answers for someone in it
        whole = first.replace("first: 5", "first: 100")
        body = _post(f"http://127.0.0.1:{port}/graphql", credentials["api_key"], whole)
        assert "errors" not in body
        nodes = [e["node"] for e in body["data"]["people"]["edges"]]  # type: ignore[index]
        assert any(n["idpoor"] for n in nodes)
        assert any(n["nssf"] for n in nodes)
        assert any(n["pcaPayments"] for n in nodes)
        assert {n["khmerIdVerification"]["result"] for n in nodes} >= {"MATCH", "NO_KHMER_ID"}
        households = _post(
            f"http://127.0.0.1:{port}/graphql",
            credentials["api_key"],
            whole.replace("spid familyName", "spid household { householdId idpoor { level } }"),
        )
        assert "errors" not in households
        assert any(
            e["node"]["household"]["idpoor"]
            for e in households["data"]["people"]["edges"]  # type: ignore[index]
        )
        for sandbox in ("idpoor", "nssf", "moi", "pca"):
            assert (tmp_path / f"{sandbox}.db").exists()
        # The NGO sees the same people only in its provinces, Khmer IDs masked, no NSSF.
        ngo = partners["ngo-cash"]["api_key"]
        refused = _post(f"http://127.0.0.1:{port}/graphql", ngo, first, "eligibility_check")
        assert refused["errors"] and "data" not in refused  # nssf is no field of the NGO's
        masked = _post(
            f"http://127.0.0.1:{port}/graphql",
            ngo,
            '{ people(provinceCode: "21", first: 20) { edges { node { khmerId birthDate } } } }',
            "eligibility_check",
        )
        khmer_ids = [e["node"]["khmerId"] for e in masked["data"]["people"]["edges"]]  # type: ignore[index]
        assert khmer_ids and all(k is None or re.fullmatch(r"\*{5}\d{4}", k) for k in khmer_ids)
        # NSSF registered its members at the first start: they, and only they, are its rows.
        population = generate_population(600, DEMO_SEED)
        members = {m.spid for m in nssf_members(population)}
        member = next(p for p in population.people if p.spid in members and p.khmer_id)
        stranger = next(p for p in population.people if p.spid not in members)
        for person, seen in ((member, True), (stranger, False)):
            answer = _post(
                f"http://127.0.0.1:{port}/graphql",
                partners["nssf"]["api_key"],
                f'{{ person(spid: "{person.spid}") {{ spid nssf {{ memberId }} }} }}',
                "enrolment",
            )
            assert (answer["data"]["person"] is not None) == seen, answer  # type: ignore[index]
        _check_operations_tokens(tmp_path, port)
        # The coverage subgraph answers the analyst through the demo's own gateway.
        province = population.people[0].village_code[:2]
        answer = _post(
            f"http://127.0.0.1:{port}/graphql",
            partners["nspc"]["api_key"],
            f'{{ coverage(areaCode: "{province}", period: "2026-10") {{ tables {{ name }} }} }}',
            "statistics",
        )
        assert "errors" not in answer, answer
        names = [t["name"] for t in answer["data"]["coverage"]["tables"]]  # type: ignore[index]
        assert names == ["registered", "idpoor", "nssf", "pca", "overlaps"]
        _check_analyst_export(port, str(partners["nspc"]["api_key"]), province)
        # The policy console on the gateway's port, with one demo admin per role.
        console = credentials["console"]
        assert console["url"] == f"http://127.0.0.1:{port}/admin/"
        assert set(console["accounts"]) == {"editor", "approver", "auditor"}
        for username, account in console["accounts"].items():
            assert account["password"] in printed
            assert _console_sign_in(port, username, account["password"]) == 200
        processes = _children(tmp_path)
        assert all(_alive(p["pid"]) for p in processes.values())
        # Ctrl-C while a request hangs on an operator: everything stops within 5 s.
        took, tail = _hang_a_request_then_interrupt(
            demo, tmp_path, port, credentials["api_key"], first
        )
        assert took < 5.0, f"the demo took {took:.1f} s to stop"
        assert "did not stop" not in tail  # each part stopped itself, none had to be killed
        left = [name for name, p in processes.items() if _alive(p["pid"])]
        assert left == [], f"still running after the demo stopped: {left}"
    finally:
        if demo.poll() is None:
            tail = _stop(demo)
    assert demo.returncode == 0
    assert "Stopped." in tail

    (tmp_path / "nssf.db").unlink()  # as in a data directory from before NSSF joined
    again = _start(tmp_path, port)
    try:
        printed = _read_until(again, "Ctrl-C stops everything", timeout=60)
        assert "Reusing the registry: 600 people" in printed
        assert "Seeded the NSSF sandbox" in printed
        assert "Seeded the IDPoor sandbox" not in printed
        new_key = json.loads((tmp_path / "demo-credentials.json").read_text())["api_key"]
        assert new_key != credentials["api_key"]  # fresh credentials at every start
        old = _post(f"http://127.0.0.1:{port}/graphql", credentials["api_key"], "{ __typename }")
        assert old["status"] == 401  # and the last start's are revoked
        old_password = credentials["console"]["accounts"]["approver"]["password"]
        assert _console_sign_in(port, "approver", old_password) == 401  # so are passwords
    finally:
        _stop(again)
    assert again.returncode == 0


def test_a_part_that_dies_is_reported_and_the_demo_stops_the_others(tmp_path: Path) -> None:
    port = _free_demo_ports()
    demo = _start(tmp_path, port)
    try:
        _read_until(demo, "Ctrl-C stops everything", timeout=60)
        processes = _children(tmp_path)
        os.kill(processes["nssf subgraph"]["pid"], signal.SIGKILL)
        killed = time.monotonic()
        out, _ = demo.communicate(timeout=20)
        took = time.monotonic() - killed
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 1
    assert "nssf subgraph stopped unexpectedly" in out and "exit code -9" in out, out
    assert "Stopped every other part of the demo." in out
    assert took < 5.0, f"the demo took {took:.1f} s to notice and stop"
    left = [name for name, p in processes.items() if _alive(p["pid"])]
    assert left == [], f"still running after the demo stopped: {left}"
