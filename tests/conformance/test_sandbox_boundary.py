"""`azlite run` is a boundary (issue 10, findings 2, 3 and 9): each test tries an escape
from INSIDE the sandbox, and each must fail.

- Finding 2: the owner's credential exported on the host does not reach the VM.
- Finding 3: the data directory is hidden, the sandbox socket is bound to one VM by a
  secret the program cannot learn, the program has its own PID namespace, no capabilities
  and no_new_privs, and cannot reach the host's network namespace or undo a mount.
- Finding 9: the server serves the on-VM endpoints of open sessions only.

Safety: programs run inside the sandbox's loopback-only namespace (inside the suite's);
nothing here sends a packet anywhere but loopback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import Azlite, azlite_run, demo_vm, python_in_vm, vm_environment
from jwt_helpers import jwt_parts


def ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


# --- finding 2: no host credential inside ------------------------------------------------------


def owner_exports(azlite: Azlite) -> dict[str, str]:
    """What a shell holds after `azlite up`'s exports (the owner, the demo VM's endpoints
    for host programs), and the other credential variables a developer may have set."""
    return {
        "AZURE_TENANT_ID": azlite.tenant,
        "AZURE_CLIENT_ID": azlite.client_id,
        "AZURE_CLIENT_SECRET": azlite.client_secret,
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
        "AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent/owner.pem",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pw",
        "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": "true",
        "AZURE_USERNAME": "owner@example.com",
        "AZURE_PASSWORD": "pw",
        "AZURE_FEDERATED_TOKEN_FILE": "/nonexistent/token",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9",
        "IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token",
        "IDENTITY_HEADER": "header",
        "IDENTITY_SERVER_THUMBPRINT": "thumbprint",
        "MSI_ENDPOINT": "http://127.0.0.1:9/oauth2/token",
        "MSI_SECRET": "secret",
        "IMDS_ENDPOINT": "http://127.0.0.1:9",
    }


DEFAULT_CREDENTIAL_TOKEN = """
import json, os
from azure.identity import DefaultAzureCredential
token = DefaultAzureCredential().get_token("https://management.azure.com/.default").token
leaked = sorted(n for n in os.environ if n.startswith(("AZURE_", "IDENTITY_", "MSI_", "IMDS_")))
print(json.dumps({"token": token, "leaked": leaked}))
"""


def test_the_owner_credential_exported_on_the_host_does_not_reach_the_vm(azlite):
    env = vm_environment()
    env.update(owner_exports(azlite))
    out = json.loads(ok(python_in_vm(azlite, DEFAULT_CREDENTIAL_TOKEN, env=env)))
    assert out["leaked"] == [], out["leaked"]
    claims = jwt_parts(out["token"])[1]
    # DefaultAzureCredential acts as the VM's identity, not as the subscription's owner.
    assert claims["oid"] == demo_vm(azlite)["principalId"], claims
    assert claims.get("appid") != azlite.client_id, claims


def test_arc_sets_only_its_own_endpoint_variables(azlite):
    env = vm_environment()
    env.update(owner_exports(azlite))
    code = "import json, os; print(json.dumps({n: v for n, v in os.environ.items() if n.startswith(('AZURE_', 'IDENTITY_', 'MSI_', 'IMDS_'))}))"
    seen = json.loads(ok(python_in_vm(azlite, code, env=env, arc=True)))
    assert seen == {
        "IDENTITY_ENDPOINT": "http://localhost:40342/metadata/identity/oauth2/token",
        "IMDS_ENDPOINT": "http://localhost:40342",
    }, seen


IMDS_TOKEN = (
    "curl 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
    "&resource=https%3A%2F%2Fmanagement.azure.com%2F' -H Metadata:true"
)


# --- finding 3: the sandbox holds ----------------------------------------------------------------

PROBE = """
import ctypes, errno, json, os, subprocess, sys
data_dir, ca = sys.argv[1], sys.argv[2]
result = {"pid": os.getpid()}

def attempt(what, fn):
    try:
        fn()
        result[what] = "succeeded"
    except OSError as e:
        result[what] = errno.errorcode.get(e.errno, str(e.errno))

def read(path):
    with open(path, "rb") as f:
        f.read(1)

# The data directory: the owner's secret, the signing keys, the socket.
for name in ("connection.json", "azlite.db", "azlite.db-wal", "keyvault.key", "sandbox.sock"):
    attempt("read " + name, lambda name=name: read(os.path.join(data_dir, name)))
def connect_socket():
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(data_dir, "sandbox.sock"))
attempt("connect sandbox.sock", connect_socket)
result["data dir entries"] = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else None
attempt("read the CA", lambda: read(ca))
# Through every process's root it can see.
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
result["pids"] = pids
for pid in pids:
    attempt(f"read via /proc/{pid}/root", lambda pid=pid: read(f"/proc/{pid}/root{data_dir}/connection.json"))
    attempt(f"read /proc/{pid}/environ", lambda pid=pid: read(f"/proc/{pid}/environ"))
attempt("read /proc/1/mem", lambda: read("/proc/1/mem"))
result["init cmdline"] = open("/proc/1/cmdline", "rb").read().split(b"\\0")[:2] and open("/proc/1/cmdline", "rb").read().split(b"\\0")[1].decode()
result["status"] = {k: v.strip() for k, v in (l.split(":", 1) for l in open("/proc/self/status") if l.startswith(("Cap", "NoNewPrivs", "Uid")))}
# The machine's network namespace: through /proc/1 (init's, which is the sandbox's) and setns.
libc = ctypes.CDLL(None, use_errno=True)
def setns(path, kind):
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, kind) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
attempt("setns /proc/1/ns/net", lambda: setns("/proc/1/ns/net", 0x40000000))
attempt("setns /proc/1/ns/mnt", lambda: setns("/proc/1/ns/mnt", 0x00020000))
attempt("setns /proc/self/ns/net", lambda: setns("/proc/self/ns/net", 0x40000000))
result["netns"] = os.stat("/proc/self/ns/net").st_ino
def run(*argv):
    done = subprocess.run(argv, capture_output=True, text=True)
    return [done.returncode, (done.stdout + done.stderr).strip()[-300:]]
result["nsenter"] = run("nsenter", "--net=/proc/1/ns/net", "--", "true")
result["umount"] = run("umount", data_dir)
result["umount -l"] = run("umount", "-l", data_dir)
result["mount proc"] = run("mount", "-t", "proc", "proc", "/proc")
# A user namespace of its own: full capabilities there, but the sandbox's mounts are locked.
result["unshare -Urm umount"] = run("unshare", "-Urm", "sh", "-c",
    f"umount -l {data_dir} 2>&1; cat {data_dir}/connection.json 2>&1 | head -c 200")
print(json.dumps(result))
"""


def probe(azlite: Azlite, **kwargs) -> dict:
    out = ok(python_in_vm_args(azlite, PROBE, str(azlite.data_dir.resolve()), str(Path(azlite.ca).resolve()), **kwargs))
    return json.loads(out)


def python_in_vm_args(azlite: Azlite, code: str, *args: str, **kwargs):
    import sys

    return azlite_run(azlite, sys.executable, "-c", code, *args, **kwargs)


def test_the_data_directory_is_hidden_inside(azlite):
    seen = probe(azlite)
    for name in ("connection.json", "azlite.db", "azlite.db-wal", "keyvault.key", "sandbox.sock"):
        assert seen["read " + name] == "ENOENT", (name, seen)
    assert seen["connect sandbox.sock"] == "ENOENT", seen
    # Only azlite's CA is left there (NODE_EXTRA_CA_CERTS names it), and it is the CA.
    ca = Path(azlite.ca).resolve()
    if ca.parent == azlite.data_dir.resolve():
        assert seen["data dir entries"] == [ca.name], seen
    assert seen["read the CA"] == "succeeded", seen
    for key, value in seen.items():
        if key.startswith("read via /proc/"):
            assert value != "succeeded", (key, seen)


def test_the_program_sees_no_process_of_the_machine(azlite):
    seen = probe(azlite)
    # Its own PID namespace: the sandbox's init (1), the program (2), and the program's children.
    assert seen["pid"] == 2, seen
    assert seen["pids"][:2] == [1, 2] and len(seen["pids"]) <= 4, seen
    assert seen["init cmdline"] == "sandbox-init", seen
    # The forwarder (which holds the session's secret) and `azlite up` are not there; init's
    # memory and environment are closed to the program.
    assert seen["read /proc/1/mem"] in ("EACCES", "EPERM"), seen
    assert seen["read /proc/1/environ"] in ("EACCES", "EPERM"), seen
    # No other process: not this test's, not `azlite up`'s, not the forwarder's.
    assert len(seen["pids"]) <= 4 and max(seen["pids"]) < 16, seen


def test_the_program_has_no_capability_and_no_new_privileges(azlite):
    status = probe(azlite)["status"]
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[name], 16) == 0, status
    assert status["NoNewPrivs"] == "1", status


def test_the_machines_network_namespace_cannot_be_entered(azlite):
    seen = probe(azlite)
    assert seen["netns"] != os.stat("/proc/self/ns/net").st_ino, seen
    # Opening init's namespace files is refused (EACCES: init is not dumpable), or entering
    # one is (EPERM: no CAP_SYS_ADMIN).
    assert seen["setns /proc/1/ns/net"] in ("EACCES", "EPERM"), seen
    assert seen["setns /proc/1/ns/mnt"] in ("EACCES", "EPERM"), seen
    assert seen["setns /proc/self/ns/net"] == "EPERM", seen
    assert seen["nsenter"][0] != 0, seen


def test_the_mounts_cannot_be_undone(azlite):
    seen = probe(azlite)
    assert seen["umount"][0] != 0 and seen["umount -l"][0] != 0, seen
    assert seen["mount proc"][0] != 0, seen
    # In a user namespace of its own the program has every capability, but the mount that
    # hides the data directory is locked: the owner's secret stays out of reach.
    assert azlite.client_secret not in seen["unshare -Urm umount"][1], seen
    assert "clientSecret" not in seen["unshare -Urm umount"][1], seen


def test_under_sudo_the_program_runs_as_the_invoking_user(azlite):
    full_map = Path("/proc/self/uid_map").read_text().split() == ["0", "0", "4294967295"]
    if os.geteuid() != 0 or not full_map:
        pytest.skip("needs real root")
    env = vm_environment()
    env.update(SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
    result = azlite_run(azlite, "sh", "-c", "id -u; id -g; " + IMDS_TOKEN + " -s", env=env, cwd="/")
    uid, gid, body = ok(result).split("\n", 2)
    assert (uid, gid) == ("65534", "65534"), result.stdout
    assert jwt_parts(json.loads(body)["access_token"])[1]["oid"] == demo_vm(azlite)["principalId"]
