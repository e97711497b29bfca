"""`azlite run`: unmodified programs see a VM with a managed identity (issue 5).

Under `azlite run`, 169.254.169.254:80 is the VM's IMDS, 127.0.0.1:50342 its extension
endpoint, Azure's host names resolve to azlite on port 443, and azlite's CA is trusted; the
program's network namespace holds nothing but loopback. The tutorials' commands run here as
written, and the SDKs run with no azlite-specific setting in their code or environment
(`conftest.vm_environment` removes every AZURE_/IDENTITY_/MSI_/IMDS_/AZLITE_ variable).

Safety: each program runs inside the sandbox's loopback-only namespace (itself inside the
suite's); nothing here sends a packet anywhere but loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import (
    Azlite,
    azlite_bin,
    azlite_run,
    demo_group_path,
    demo_vm,
    demo_vm_path,
    python_in_vm,
    vm_environment,
)
from jwt_helpers import jwt_parts


def unverified_claims(token: str) -> dict:
    return jwt_parts(token)[1]

IMDS_ARM_TOKEN = (
    "curl 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
    "&resource=https%3A%2F%2Fmanagement.azure.com%2F' -H Metadata:true"
)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def sh(azlite: Azlite, script: str, **kwargs) -> subprocess.CompletedProcess[str]:
    """A shell script under `azlite run`, with the suite's Python first on PATH (the
    tutorials call `python`)."""
    env = kwargs.pop("env", vm_environment())
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return azlite_run(azlite, "sh", "-c", textwrap.dedent(script), env=env, **kwargs)


# --- the tutorials, verbatim ----------------------------------------------------------------


def test_arm_tutorial_curl_commands_verbatim(azlite):
    """The Linux VM → ARM tutorial: a token from IMDS, then the resource group with it."""
    group = demo_vm(azlite)["resourceGroup"]
    out = ok(sh(azlite, f"""
        set -e
        {IMDS_ARM_TOKEN} -s > token.json
        ACCESS_TOKEN=$(jq -r .access_token token.json)
        curl https://management.azure.com/subscriptions/{azlite.subscription_id}/resourceGroups/{group}?api-version=2016-09-01 -H "Authorization: Bearer $ACCESS_TOKEN" -s
        """, cwd=_scratch(azlite)))
    body = json.loads(out)
    assert body["id"].lower() == demo_group_path(azlite).lower(), body
    assert body["name"] == group and body["properties"]["provisioningState"] == "Succeeded", body


def test_cloud_shell_tutorial_commands_verbatim(azlite):
    """Cloud Shell's tutorial: the extension endpoint on localhost:50342, parsed by Python."""
    out = ok(sh(azlite, """
        response=$(curl http://localhost:50342/oauth2/token --data "resource=https://management.azure.com/" -H Metadata:true -s)
        access_token=$(echo $response | python -c 'import sys, json; print (json.load(sys.stdin)["access_token"])')
        echo The MSI access token is $access_token
        """))
    token = out.strip().removeprefix("The MSI access token is ")
    claims = unverified_claims(token)
    assert claims["oid"] == demo_vm(azlite)["principalId"], claims
    assert claims["aud"] == "https://management.azure.com/", claims


def test_imds_token_names_the_vm_and_is_accepted_by_arm_by_name(azlite):
    token = json.loads(ok(sh(azlite, IMDS_ARM_TOKEN + " -s")))["access_token"]
    claims = unverified_claims(token)
    assert claims["xms_mirid"].lower() == demo_vm_path(azlite).lower(), claims
    assert claims["iss"] == f"https://sts.windows.net/{azlite.tenant}/", claims


# --- real SDKs, no azlite-specific setting ---------------------------------------------------

LIST_GROUPS = """
import os
from azure.identity import DefaultAzureCredential
from azure.mgmt.resource.resources import ResourceManagementClient
client = ResourceManagementClient(DefaultAzureCredential(), os.environ["SUBSCRIPTION"])
print("\\n".join(g.name for g in client.resource_groups.list()))
"""


def test_default_azure_credential_and_azure_mgmt_resource_list_groups(azlite):
    env = vm_environment()
    env["SUBSCRIPTION"] = azlite.subscription_id  # the program's input, as on a real VM
    out = ok(python_in_vm(azlite, LIST_GROUPS, env=env))
    # The demo VM holds Reader on its group only: that is what it can list.
    assert out.split() == [demo_vm(azlite)["resourceGroup"]], out


MI_CREDENTIAL_ARM = """
import os, json, sys
from azure.identity import ManagedIdentityCredential
from azure.mgmt.resource.resources import ResourceManagementClient
credential = ManagedIdentityCredential()
token = credential.get_token("https://management.azure.com/.default").token
group = ResourceManagementClient(credential, os.environ["SUBSCRIPTION"]).resource_groups.get(os.environ["GROUP"])
print(json.dumps({"token": token, "group": group.id}))
"""


def test_azure_identity_takes_the_arc_path_under_arc(azlite):
    env = vm_environment()
    env["SUBSCRIPTION"] = azlite.subscription_id
    env["GROUP"] = demo_vm(azlite)["resourceGroup"]
    env["AZURE_LOG_LEVEL"] = "debug"
    code = "import logging, sys\nlogging.basicConfig(stream=sys.stderr, level=logging.INFO)\n" + MI_CREDENTIAL_ARM
    result = python_in_vm(azlite, code, env=env, arc=True)
    out = json.loads(ok(result))
    assert out["group"].lower() == demo_group_path(azlite).lower(), out
    assert unverified_claims(out["token"])["oid"] == demo_vm(azlite)["principalId"]
    # azure-identity chose Azure Arc: its log names the Arc credential, and it read a key file
    # under /var/opt/azcmagent/tokens (a challenge answered).
    assert "AzureArcCredential" in result.stderr, result.stderr[-3000:]


def test_arc_sandbox_environment_and_key_directory(azlite):
    out = ok(sh(azlite, """
        echo "$IDENTITY_ENDPOINT $IMDS_ENDPOINT"
        test -d /var/opt/azcmagent/tokens && echo tokens-dir
        curl -s -o /dev/null -D - "$IDENTITY_ENDPOINT?api-version=2020-06-01&resource=https://management.azure.com" -H Metadata:true | tr -d '\\r' | grep -i '^www-authenticate'
        """, arc=True))
    lines = out.splitlines()
    assert lines[0] == "http://localhost:40342/metadata/identity/oauth2/token http://localhost:40342", out
    assert lines[1] == "tokens-dir", out
    realm = lines[2].split("realm=", 1)[1]
    assert realm.startswith("/var/opt/azcmagent/tokens/") and realm.endswith(".key"), realm


def test_arc_key_directory_is_private_to_the_sandbox(azlite):
    assert not Path("/var/opt/azcmagent/tokens").exists() or _machine_is_arc()
    ok(sh(azlite, "test -d /var/opt/azcmagent/tokens", arc=True))
    assert not Path("/var/opt/azcmagent/tokens").exists() or _machine_is_arc()


def _machine_is_arc() -> bool:
    return Path("/opt/azcmagent").exists()


# --- the sandbox itself ------------------------------------------------------------------------


def test_only_loopback_inside_the_sandbox(azlite):
    """No interface but `lo`, no route beyond it: read off the kernel, nothing is sent."""
    out = ok(python_in_vm(azlite, textwrap.dedent("""
        import json, socket
        routes = [line.split()[:2] for line in open("/proc/net/route").read().splitlines()[1:]]
        routes6 = [line.split()[-1] for line in open("/proc/net/ipv6_route").read().splitlines()]
        print(json.dumps({"interfaces": [name for _, name in socket.if_nameindex()],
                          "routes": routes, "routes6": sorted(set(routes6))}))
        """)))
    seen = json.loads(out)
    assert seen["interfaces"] == ["lo"], seen
    assert seen["routes"] == [], seen  # the main table is empty: no default route, no gateway
    assert set(seen["routes6"]) <= {"lo"}, seen


def test_azure_names_resolve_to_azlite_and_others_do_not(azlite):
    vault = f"v{uuid.uuid4().hex[:12]}"
    out = ok(python_in_vm(azlite, textwrap.dedent(f"""
        import json, socket
        def resolve(name):
            try:
                return sorted({{a[4][0] for a in socket.getaddrinfo(name, 443, socket.AF_INET)}})
            except socket.gaierror:
                return None
        names = ["login.microsoftonline.com", "management.azure.com", "graph.microsoft.com",
                 "{vault}.vault.azure.net", "acct1.blob.core.windows.net",
                 "store1.azuredatalakestore.net", "example.com", "pypi.org", "a.b.vault.azure.net"]
        print(json.dumps({{n: resolve(n) for n in names}}))
        """)))
    seen = json.loads(out)
    for name in ["login.microsoftonline.com", "management.azure.com", "graph.microsoft.com",
                 f"{vault}.vault.azure.net", "acct1.blob.core.windows.net", "store1.azuredatalakestore.net"]:
        assert seen[name] == ["127.0.0.1"], (name, seen)
    for name in ["example.com", "pypi.org", "a.b.vault.azure.net"]:
        assert seen[name] is None, (name, seen)


def test_the_ca_is_trusted_through_every_common_setting(azlite):
    out = ok(sh(azlite, """
        echo "$SSL_CERT_FILE|$REQUESTS_CA_BUNDLE|$CURL_CA_BUNDLE|$NODE_EXTRA_CA_CERTS"
        grep -c 'BEGIN CERTIFICATE' "$SSL_CERT_FILE"
        python -c 'import ssl, urllib.request; print(urllib.request.urlopen("https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/v2.0/authorize", context=ssl.create_default_context()).status)'
        """))
    settings, count, status = out.splitlines()
    bundle, requests_bundle, curl_bundle, node = settings.split("|")
    assert bundle == requests_bundle == curl_bundle, settings
    assert Path(node) == Path(azlite.ca), settings
    if Path("/etc/ssl/certs/ca-certificates.crt").is_file():
        assert bundle == "/etc/ssl/certs/ca-certificates.crt", settings
        # The machine's bundle, with azlite's CA added (inside the sandbox only).
        machine = Path(bundle).read_text().count("BEGIN CERTIFICATE")
        assert int(count) == machine + 1, (count, machine)
        assert Path(azlite.ca).read_text().strip() not in Path(bundle).read_text()
    assert status == "200", out


def test_another_vm_by_name(azlite, resource_groups):
    group = resource_groups()
    vm_name = f"vm-{uuid.uuid4().hex[:8]}"
    response = azlite.arm(
        "PUT",
        f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{vm_name}",
        json={"location": "eastus", "identity": {"type": "SystemAssigned"}},
        api_version="2023-03-01",
    )
    assert response.status_code in (200, 201), response.text
    principal = response.json()["identity"]["principalId"]
    for vm in (vm_name, f"{group}/{vm_name}", response.json()["id"]):
        token = json.loads(ok(sh(azlite, IMDS_ARM_TOKEN + " -s", vm=vm)))["access_token"]
        assert unverified_claims(token)["oid"] == principal, vm


def test_nothing_is_left_behind(azlite):
    """The files mounted into the sandbox are removed once mounted: no trace in /tmp."""
    before = set(Path(tempfile.gettempdir()).glob("azlite-run-*"))
    ok(azlite_run(azlite, "true"))
    ok(azlite_run(azlite, "true", arc=True))
    assert set(Path(tempfile.gettempdir()).glob("azlite-run-*")) == before


def test_errors_say_what_is_wrong(azlite, tmp_path):
    missing = azlite_run(azlite, "true", vm="no-such-vm")
    assert missing.returncode == 125, missing
    assert "no-such-vm" in missing.stderr, missing.stderr

    not_running = subprocess.run(
        [str(azlite_bin()), "--data-dir", str(tmp_path / "nothing"), "run", "--", "true"],
        capture_output=True, text=True, timeout=30, env=vm_environment(),
    )
    assert not_running.returncode == 125, not_running
    assert "azlite up" in not_running.stderr, not_running.stderr

    not_found = azlite_run(azlite, "/nonexistent/program")
    assert not_found.returncode == 127, not_found
    assert "/nonexistent/program" in not_found.stderr


def test_exit_status_and_signals_pass_through(azlite):
    assert azlite_run(azlite, "sh", "-c", "exit 7").returncode == 7
    assert azlite_run(azlite, "sh", "-c", "kill -TERM $$").returncode == 128 + signal.SIGTERM

    # A signal sent to `azlite run` reaches the program; its end is azlite run's end.
    marker = _scratch(azlite) / f"started-{uuid.uuid4().hex}"
    argv = [str(azlite_bin()), "--data-dir", str(azlite.data_dir), "run", "--",
            "sh", "-c", f"trap 'echo got-term; exit 42' TERM; touch {marker}; while :; do sleep 0.1; done"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=vm_environment(), stdin=subprocess.DEVNULL)
    try:
        _wait_for(marker.exists, "the program to start")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 42, (proc.returncode, out, err)
    assert "got-term" in out

    # SIGINT (not from a terminal: stdin is not one) is passed on too; `sleep` dies of it.
    marker = _scratch(azlite) / f"started-{uuid.uuid4().hex}"
    argv[-1] = f"touch {marker}; exec sleep 30"
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=vm_environment(), stdin=subprocess.DEVNULL)
    try:
        _wait_for(marker.exists, "the program to start")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGINT, proc.returncode


def test_ctrl_c_at_a_terminal_stops_the_program_cleanly(azlite):
    """At a terminal, Ctrl-C reaches the program once (from the terminal, not also from
    `azlite run`), and `azlite run` ends with it."""
    import fcntl
    import pty
    import termios

    marker = _scratch(azlite) / f"started-{uuid.uuid4().hex}"
    # Takes every SIGINT it gets, with who sent it: the terminal (si_code SI_KERNEL) or a
    # process (SI_USER, with its pid), until none comes for half a second.
    program = textwrap.dedent(f"""
        import signal, sys, time
        signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGINT}})
        open({str(marker)!r}, "w").close()
        got, deadline = [], time.monotonic() + 15
        while time.monotonic() < deadline:
            info = signal.sigtimedwait({{signal.SIGINT}}, 0.5 if got else 1.0)
            if info is None and got:
                break
            if info is not None:
                got.append(info.si_code)
        print("sigint-codes", got, flush=True)
        sys.exit(3)
        """)
    master, slave = pty.openpty()
    argv = [str(azlite_bin()), "--data-dir", str(azlite.data_dir), "run", "--", sys.executable, "-c", program]
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=vm_environment(), start_new_session=True,
        # The pty becomes the session's controlling terminal, its group the foreground one.
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    output = b""
    try:
        _wait_for(marker.exists, "the program to start")
        os.write(master, b"\x03")  # Ctrl-C
        proc.wait(timeout=20)
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == 3, (proc.returncode, output)
    si_kernel = 0x80
    assert f"sigint-codes [{si_kernel}]".encode() in output, output


def test_an_ordinary_user_gets_a_sandbox_through_a_user_namespace():
    """Without root: `azlite up` and `azlite run` as `nobody`, the sandbox made in a user
    namespace (this machine's kernel allows them: scripts/test's own namespace may need it)."""
    setpriv = shutil.which("setpriv")
    # Real root (the initial user namespace's full map), not root mapped in a user namespace
    # (`unshare --map-root-user`), where no other user exists to become.
    full_map = Path("/proc/self/uid_map").read_text().split() == ["0", "0", "4294967295"]
    if os.geteuid() != 0 or not full_map or setpriv is None:
        pytest.skip("needs real root to become another user (setpriv)")
    nobody = 65534
    # Under /tmp itself: pytest's own temporary directories are private to root.
    root = Path(tempfile.mkdtemp(prefix="azlite-nobody-"))
    root.chmod(0o755)
    binary = root / "azlite"
    shutil.copy(azlite_bin(), binary)  # readable wherever the build tree is
    data_dir, log_dir = root / "data", root / "logs"
    for path in (root, data_dir, log_dir):
        path.mkdir(exist_ok=True)
        os.chown(path, nobody, nobody)
    as_nobody = [setpriv, f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    env = vm_environment()
    env["HOME"] = str(root)
    up = subprocess.Popen(
        [*as_nobody, str(binary), "--data-dir", str(data_dir), "up", "--listen", "127.0.0.1:0",
         "--imds-listen", "127.0.0.1:0", "--extension-listen", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL, stdout=open(log_dir / "stdout.log", "wb"),
        stderr=open(log_dir / "stderr.log", "wb"), env=env,
    )
    try:
        _wait_for(lambda: (data_dir / "connection.json").exists() and (data_dir / "sandbox.sock").exists(),
                  "azlite up as nobody", process=up, log=log_dir / "stderr.log")
        result = subprocess.run(
            [*as_nobody, str(binary), "--data-dir", str(data_dir), "run", "--", "sh", "-c",
             "id -u; " + IMDS_ARM_TOKEN + " -s"],
            capture_output=True, text=True, timeout=60, env=env,
        )
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        uid, body = result.stdout.split("\n", 1)
        assert uid == str(nobody), "the program keeps the user's uid"
        token = json.loads(body)["access_token"]
        info = json.loads((data_dir / "connection.json").read_text())
        assert unverified_claims(token)["oid"] == info["demo"]["principalId"]
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=15)
        except subprocess.TimeoutExpired:
            up.kill()
        shutil.rmtree(root, ignore_errors=True)


# --- helpers -----------------------------------------------------------------------------------


def _scratch(azlite: Azlite) -> Path:
    path = azlite.log_dir / "sandbox-scratch"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait_for(predicate, what: str, timeout: float = 30.0, process=None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            detail = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"{what}: exited with {process.returncode}\n{detail}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
