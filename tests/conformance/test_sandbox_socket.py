"""The sandbox socket speaks for one VM per session (issue 10, findings 3 and 9).

`azlite run` opens a session with `hello`; the server answers with a secret that only the
forwarder holds, and serves `connect` for that session's VM only, while the forwarder's
`hello` connection stays open. These tests speak to the socket from outside, as a program
that had reached it would (inside a sandbox the socket is hidden: test_sandbox_boundary.py).

Safety: nothing here sends a packet anywhere but loopback and a Unix socket.
"""

from __future__ import annotations

import json
import socket
import subprocess
import textwrap
import time
import uuid

from conftest import Azlite, azlite_bin, demo_vm, demo_vm_path, vm_environment
from jwt_helpers import jwt_parts


# --- the socket: bound to one VM, by a secret only the forwarder holds ---------------------------


def socket_exchange(azlite: Azlite, line: str, then: bytes = b"", keep: socket.socket | None = None) -> bytes:
    """One connection to the sandbox socket (from outside: as a program that reached it
    would): the header `line`, then `then`; everything the server sent until it closed."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(azlite.data_dir / "sandbox.sock"))
    s.sendall(line.encode() + b"\n" + then)
    chunks = []
    try:
        while chunk := s.recv(65536):
            chunks.append(chunk)
    except socket.timeout:
        pass
    s.close()
    return b"".join(chunks)


IMDS_REQUEST = (
    b"GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/ HTTP/1.1\r\n"
    b"Host: 169.254.169.254\r\nMetadata: true\r\nConnection: close\r\n\r\n"
)
IMDS_TOKEN = (
    "curl 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
    "&resource=https%3A%2F%2Fmanagement.azure.com%2F' -H Metadata:true"
)


def test_a_vm_id_alone_gets_nothing_from_the_socket(azlite):
    """The version 1 header named any VM by id: refused; so is a made-up session."""
    vm = demo_vm_path(azlite)
    old = socket_exchange(azlite, f"AZLITE-SANDBOX/1 connect imds {vm}", IMDS_REQUEST)
    assert b"access_token" not in old and not old.startswith(b"HTTP/"), old
    for session in (vm, "0" * 64, "x"):
        answer = socket_exchange(azlite, f"AZLITE-SANDBOX/2 connect imds {session}", IMDS_REQUEST)
        assert answer.startswith(b"error "), answer
        assert b"access_token" not in answer, answer


def test_a_session_speaks_for_its_vm_while_its_forwarder_holds_it(azlite):
    hello = socket.socket(socket.AF_UNIX)
    hello.settimeout(10)
    hello.connect(str(azlite.data_dir / "sandbox.sock"))
    hello.sendall(b"AZLITE-SANDBOX/2 hello " + demo_vm_path(azlite).encode() + b"\n")
    line = b""
    while not line.endswith(b"\n"):
        byte = hello.recv(1)
        assert byte, line
        line += byte
    reply = json.loads(line.decode().removeprefix("ok "))
    session = reply["session"]
    assert len(session) == 64, reply.keys()
    answer = socket_exchange(azlite, f"AZLITE-SANDBOX/2 connect imds {session}", IMDS_REQUEST)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    token = json.loads(answer.split(b"\r\n\r\n", 1)[1])["access_token"]
    assert jwt_parts(token)[1]["oid"] == demo_vm(azlite)["principalId"]
    # The session ends with its connection.
    hello.close()
    deadline = time.monotonic() + 5
    while True:
        answer = socket_exchange(azlite, f"AZLITE-SANDBOX/2 connect imds {session}", IMDS_REQUEST)
        if answer.startswith(b"error ") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert answer.startswith(b"error "), answer[:200]


# --- finding 9: on-VM endpoints for open sessions only ---------------------------------------------


def test_unknown_vms_get_an_error_and_no_endpoint(azlite):
    missing = f"/subscriptions/{azlite.subscription_id}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/nope"
    assert socket_exchange(azlite, f"AZLITE-SANDBOX/2 hello {missing}").startswith(b"error "), missing
    answer = socket_exchange(azlite, f"AZLITE-SANDBOX/2 connect imds {missing}", IMDS_REQUEST)
    assert answer.startswith(b"error "), answer


def test_a_vm_deleted_while_its_sandbox_runs_gets_imds_errors(azlite, resource_groups, tmp_path):
    group = resource_groups()
    name = f"vm-{uuid.uuid4().hex[:8]}"
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}"
    created = azlite.arm("PUT", path, json={"location": "eastus", "identity": {"type": "SystemAssigned"}}, api_version="2023-03-01")
    assert created.status_code in (200, 201), created.text
    scratch = azlite.log_dir / f"deleted-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    script = f"""
        {IMDS_TOKEN} -s -o /dev/null -w '%{{http_code}}\\n'
        touch {scratch}/started
        while [ ! -e {scratch}/deleted ]; do sleep 0.05; done
        {IMDS_TOKEN} -s -w '\\n%{{http_code}}\\n'
        """
    env = vm_environment()
    proc = subprocess.Popen([str(azlite_bin()), "--data-dir", str(azlite.data_dir), "run", "--vm", name, "--",
                             "sh", "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (scratch / "started").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        deleted = azlite.arm("DELETE", path, api_version="2023-03-01")
        assert deleted.status_code in (200, 202, 204), deleted.text
        (scratch / "deleted").touch()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = out.strip().splitlines()
    assert lines[0] == "200", (out, err)
    assert lines[-1] in ("400", "404"), (out, err)
    assert "access_token" not in out, out
    body = json.loads(lines[-2])
    assert "error" in body, body
