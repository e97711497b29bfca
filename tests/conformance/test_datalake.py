"""Data Lake Store Gen1 as its users meet it: the tutorial "Use a Linux VM system-assigned
managed identity to access Azure Data Lake Store" as written (curl under `azlite run`, the
demo VM's identity), the same identity refused at every step without X on the root, and
azure-datalake-store's AzureDLFileSystem as a service principal.

Setup is the tutorial's portal steps, one command each: the owner makes the account through
ARM, the folder with `azlite dls fs mkdir`, and grants with `azlite dls fs access set-entry`.

Safety: every client of Data Lake runs inside `azlite run`'s loopback-only namespace, where
`<account>.azuredatalakestore.net` and login.microsoftonline.com are azlite; the owner's CLI
talks to the listener on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import Azlite, azlite_bin, azlite_run, demo_vm, python_in_vm, vm_environment

API_VERSION = "2016-11-01"
IMDS_TOKEN = (
    "curl 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
    "&resource=https%3A%2F%2Fdatalake.azure.net%2F' -H Metadata:true -s"
)


def cli(azlite: Azlite, *args: str) -> str:
    env = vm_environment()
    result = subprocess.run([str(azlite_bin()), "--data-dir", str(azlite.data_dir), *args],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, f"azlite {' '.join(args)}: exit {result.returncode}\n{result.stderr}"
    return result.stdout


def new_account(azlite: Azlite, resource_groups) -> str:
    """An account made by the owner through ARM (as `az dls account create` does)."""
    group = resource_groups("dls", location="eastus2")
    name = f"dls{uuid.uuid4().hex[:12]}"
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.DataLakeStore/accounts/{name}"
    response = azlite.arm("PUT", path, {"location": "eastus2"}, api_version=API_VERSION)
    code = response.json().get("error", {}).get("code") if response.status_code in (400, 404) else None
    if code in ("NoRegisteredProviderFound", "InvalidResourceType"):
        # Until ARM serves the type (issue 12's control plane, branch arm-storage), these
        # tests cannot make their account; they run as soon as it does.
        pytest.skip(f"ARM does not serve Microsoft.DataLakeStore/accounts yet: {response.text}")
    assert response.status_code in (200, 201), response.text
    return name


def sh(azlite: Azlite, script: str) -> subprocess.CompletedProcess[str]:
    env = vm_environment()
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return azlite_run(azlite, "sh", "-c", textwrap.dedent(script), env=env)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def tutorial_setup(azlite: Azlite, resource_groups) -> tuple[str, str]:
    account = new_account(azlite, resource_groups)
    vm = demo_vm(azlite)["principalId"]
    cli(azlite, "dls", "fs", "mkdir", "--account", account, "--path", "/TestFolder")
    cli(azlite, "dls", "fs", "access", "set-entry", "--account", account, "--path", "/", "--acl-spec", f"user:{vm}:r-x")
    cli(azlite, "dls", "fs", "access", "set-entry", "--account", account, "--path", "/TestFolder",
        "--acl-spec", f"user:{vm}:rwx,default:user:{vm}:rwx")
    return account, vm


def test_the_tutorial_as_written(azlite, resource_groups):
    account, vm = tutorial_setup(azlite, resource_groups)
    out = ok(sh(azlite, f"""
        set -e
        response=$({IMDS_TOKEN})
        echo "$response" | jq -r .resource
        ACCESS_TOKEN=$(echo "$response" | jq -r .access_token)
        curl https://{account}.azuredatalakestore.net/webhdfs/v1/?op=LISTSTATUS -H "Authorization: Bearer $ACCESS_TOKEN" -s
        echo
        cd "$(mktemp -d)"
        echo "Test file." > Test1.txt
        curl -i -X PUT -L -T Test1.txt -H "Authorization: Bearer $ACCESS_TOKEN" 'https://{account}.azuredatalakestore.net/webhdfs/v1/TestFolder/Test1.txt?op=CREATE'
        echo "--- read back"
        curl -s -L 'https://{account}.azuredatalakestore.net/webhdfs/v1/TestFolder/Test1.txt?op=OPEN' -H "Authorization: Bearer $ACCESS_TOKEN"
        """))
    resource, listing, rest = out.split("\n", 2)
    assert resource == "https://datalake.azure.net/"
    body = json.loads(listing)
    statuses = body["FileStatuses"]["FileStatus"]
    assert [s["pathSuffix"] for s in statuses] == ["TestFolder"], body
    folder = statuses[0]
    assert folder["type"] == "DIRECTORY" and folder["length"] == 0 and folder["permission"] == "770", folder
    assert re.fullmatch(r"[0-9a-f-]{36}", folder["owner"]) and folder["owner"] != vm, folder
    assert isinstance(folder["accessTime"], int) and isinstance(folder["modificationTime"], int), folder
    upload, read_back = rest.split("--- read back\n")
    status_lines = [line.strip() for line in upload.splitlines() if line.startswith("HTTP/")]
    assert status_lines == ["HTTP/1.1 100 Continue", "HTTP/1.1 307 Temporary Redirect",
                            "HTTP/1.1 100 Continue", "HTTP/1.1 201 Created"], upload
    locations = re.findall(r"(?im)^location: (\S+)", upload)
    expected = f"https://{account}.azuredatalakestore.net/webhdfs/v1/TestFolder/Test1.txt?op=CREATE&write=true"
    assert locations == [expected, expected], upload
    assert re.search(r"(?im)^x-ms-webhdfs-version: ", upload) and re.search(r"(?im)^Status: 0x0", upload), upload
    assert read_back == "Test file.\n"


def test_without_x_on_the_root_every_step_is_refused(azlite, resource_groups):
    account, vm = tutorial_setup(azlite, resource_groups)
    cli(azlite, "dls", "fs", "access", "set-entry", "--account", account, "--path", "/", "--acl-spec", f"user:{vm}:r--")
    out = ok(sh(azlite, f"""
        ACCESS_TOKEN=$({IMDS_TOKEN} | jq -r .access_token)
        base=https://{account}.azuredatalakestore.net/webhdfs/v1
        auth="Authorization: Bearer $ACCESS_TOKEN"
        curl -s -o /dev/null -w '%{{http_code}}\\n' "$base/TestFolder?op=LISTSTATUS" -H "$auth"
        curl -s -o /dev/null -w '%{{http_code}}\\n' "$base/TestFolder/x?op=GETFILESTATUS" -H "$auth"
        curl -s -o /dev/null -w '%{{http_code}}\\n' -X PUT -L --data-binary x "$base/TestFolder/Test1.txt?op=CREATE" -H "$auth"
        curl -s -o /dev/null -w '%{{http_code}}\\n' -L "$base/TestFolder/Test1.txt?op=OPEN" -H "$auth"
        curl -s -o /dev/null -w '%{{http_code}}\\n' -X PUT "$base/TestFolder/sub?op=MKDIRS" -H "$auth"
        curl -s "$base/TestFolder?op=LISTSTATUS" -H "$auth"
        """))
    *codes, body = out.strip().split("\n")
    assert codes == ["403"] * 5, out
    exception = json.loads(body)["RemoteException"]
    assert exception["exception"] == "AccessControlException", exception
    assert "Either the resource does not exist or the user is not authorized" in exception["message"]


ADL_CLIENT = r"""
import hashlib, json, os, sys
from azure.identity import ClientSecretCredential
from azure.datalake.store import core

cred = ClientSecretCredential(os.environ["T"], os.environ["C"], os.environ["S"])
adl = core.AzureDLFileSystem(token_credential=cred, store_name=os.environ["A"])
out = {}
adl.mkdir("/work/sub")
out["ls"] = sorted(adl.ls("/work"))
block = hashlib.sha256(b"seed").digest() * (1024 * 1024 // 32)
digest = hashlib.sha256()
with adl.open("/work/big.bin", "wb") as f:
    for i in range(100):
        chunk = bytes([i]) + block[1:]
        digest.update(chunk)
        f.write(chunk)
out["put"] = digest.hexdigest()
got = hashlib.sha256()
with adl.open("/work/big.bin", "rb", blocksize=2**25) as f:
    while True:
        data = f.read(2**22)
        if not data:
            break
        got.update(data)
out["get"] = got.hexdigest()
out["size"] = adl.info("/work/big.bin")["length"]
with adl.open("/work/log.txt", "wb") as f:
    f.write(b"one\n")
with adl.open("/work/log.txt", "ab") as f:
    f.write(b"two\n")
out["log"] = adl.cat("/work/log.txt").decode()
adl.mv("/work/log.txt", "/work/sub/log.txt")
out["moved"] = adl.exists("/work/sub/log.txt") and not adl.exists("/work/log.txt")
other = "11111111-2222-3333-4444-555555555555"
adl.modify_acl_entries("/work/sub", f"user:{other}:r-x,default:user:{other}:rwx")
status = adl.get_acl_status("/work/sub")
out["acl"] = status["entries"]
adl.remove_acl_entries("/work/sub", f"user:{other}")
adl.remove_default_acl("/work/sub")
adl.chmod("/work/sub/log.txt", "0750")
out["perm"] = adl.info("/work/sub/log.txt")["permission"]
out["summary"] = adl.du("/work", total=True)
adl.rm("/work/big.bin")
adl.rm("/work/sub", recursive=True)
out["after"] = sorted(adl.ls("/work"))
try:
    adl.chown("/work", owner=other)
    out["chown"] = "allowed"
except PermissionError:
    out["chown"] = "refused"
print(json.dumps(out))
"""


def test_azure_datalake_store_client_as_a_service_principal(azlite, resource_groups):
    account = new_account(azlite, resource_groups)
    app = azlite.create_app(displayName="adl-client", password=True)
    sp = app["servicePrincipalObjectId"]
    cli(azlite, "dls", "fs", "mkdir", "--account", account, "--path", "/work")
    cli(azlite, "dls", "fs", "access", "set-entry", "--account", account, "--path", "/", "--acl-spec", f"user:{sp}:r-x")
    cli(azlite, "dls", "fs", "access", "set-entry", "--account", account, "--path", "/work",
        "--acl-spec", f"user:{sp}:rwx,default:user:{sp}:rwx")
    env = vm_environment()
    env.update(T=azlite.tenant, C=app["appId"], S=app["password"], A=account)
    result = python_in_vm(azlite, ADL_CLIENT, env=env, timeout=600)
    out = json.loads(ok(result).strip().splitlines()[-1])
    assert out["ls"] == ["work/sub"], out
    assert out["put"] == out["get"] and out["size"] == 100 * 1024 * 1024, out
    assert out["log"] == "one\ntwo\n", out
    assert out["moved"] is True, out
    assert f"user:11111111-2222-3333-4444-555555555555:r-x" in out["acl"], out
    assert "default:user:11111111-2222-3333-4444-555555555555:rwx" in out["acl"], out
    assert out["perm"] == "750", out
    assert out["after"] == [], out
    assert out["chown"] == "refused", out
