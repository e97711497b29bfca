"""Blob Storage's data plane as its users meet it, all under `azlite run` (the demo VM): the
storage tutorial's Bearer curl after a Storage Blob Data Reader assignment, azure-storage-blob's
BlobServiceClient with DefaultAzureCredential (a 300 MiB upload in blocks with concurrency,
ranged and full downloads checked by MD5, 10,000 blobs listed through paging, hierarchical
listing, conditional requests, leases), and the denial of a Reader without a data role.

Setup is the tutorial's: the owner creates a storage account through ARM and grants roles
with `azlite role assignment create`. Storage accounts come from ARM's storage provider; a
build without it skips these tests (they are the acceptance of both together).

Safety: every client of the blob host runs inside `azlite run`'s loopback-only namespace,
where `<account>.blob.core.windows.net` and login.microsoftonline.com are azlite.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from typing import Any

import pytest

from conftest import Azlite, azlite_bin, demo_vm, python_in_vm, vm_environment

DATA_READER = "Storage Blob Data Reader"
DATA_CONTRIBUTOR = "Storage Blob Data Contributor"
READER = "Reader"


def cli(azlite: Azlite, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(azlite_bin()), "--data-dir", str(azlite.data_dir), *args],
        capture_output=True, text=True, timeout=60, env=vm_environment(),
    )
    assert result.returncode == 0, f"azlite {' '.join(args)}: exit {result.returncode}\n{result.stderr}"
    return result


def assign(azlite: Azlite, principal: str, role: str, scope: str) -> None:
    cli(azlite, "role", "assignment", "create", "--assignee-object-id", principal, "--role", role, "--scope", scope)


@pytest.fixture
def account(azlite: Azlite, resource_groups) -> dict[str, Any]:
    group = resource_groups("st")
    name = f"st{uuid.uuid4().hex[:12]}"
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"
    response = azlite.arm("PUT", path, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {}},
                          api_version="2023-05-01")
    if response.status_code not in (200, 201, 202):
        pytest.skip(f"ARM does not create storage accounts in this build: {response.status_code} {response.text[:200]}")
    return {"name": name, "id": path, "url": f"https://{name}.blob.core.windows.net"}


def run_in_vm(azlite: Azlite, code: str, **env: str) -> dict[str, Any]:
    environment = vm_environment()
    environment.update(env)
    result = python_in_vm(azlite, textwrap.dedent(code), env=environment, timeout=900)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


SETUP_AND_TUTORIAL = """
import json, os, requests
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient

service = BlobServiceClient(os.environ["ACCOUNT_URL"], credential=DefaultAzureCredential())
service.create_container("tutorial")
service.get_blob_client("tutorial", "test.txt").upload_blob(b"Hello world! :)")

# The tutorial, as written: a token from IMDS for https://storage.azure.com/, then a GET.
token = requests.get(
    "http://169.254.169.254/metadata/identity/oauth2/token",
    params={"api-version": "2018-02-01", "resource": "https://storage.azure.com/"},
    headers={"Metadata": "true"}).json()["access_token"]
answer = requests.get(os.environ["ACCOUNT_URL"] + "/tutorial/test.txt",
                      headers={"x-ms-version": "2017-11-09", "Authorization": "Bearer " + token})
old = requests.get(os.environ["ACCOUNT_URL"] + "/tutorial/test.txt",
                   headers={"x-ms-version": "2017-04-17", "Authorization": "Bearer " + token})
anonymous = requests.get(os.environ["ACCOUNT_URL"] + "/tutorial/test.txt", headers={"x-ms-version": "2017-11-09"})
print(json.dumps({"status": answer.status_code, "body": answer.text,
                  "old": [old.status_code, old.headers.get("x-ms-error-code")],
                  "anonymous": [anonymous.status_code, anonymous.headers.get("x-ms-error-code"),
                                anonymous.headers.get("WWW-Authenticate")]}))
"""


def test_the_tutorials_bearer_curl_after_a_data_role(azlite, account):
    vm = demo_vm(azlite)
    assign(azlite, vm["principalId"], DATA_CONTRIBUTOR, account["id"])
    out = run_in_vm(azlite, SETUP_AND_TUTORIAL, ACCOUNT_URL=account["url"])
    assert out["status"] == 200 and out["body"] == "Hello world! :)", out
    assert out["old"] == [403, "AuthenticationFailed"], out
    status, code, challenge = out["anonymous"]
    assert (status, code) == (401, "NoAuthenticationInformation"), out
    assert challenge == f"Bearer authorization_uri=https://login.microsoftonline.com/{azlite.tenant}/oauth2/authorize resource_id=https://storage.azure.com"


DENIED = """
import json, os
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient

service = BlobServiceClient(os.environ["ACCOUNT_URL"], credential=DefaultAzureCredential())
try:
    service.get_blob_client("c", "b").download_blob().readall()
    print(json.dumps({"denied": None}))
except HttpResponseError as error:
    print(json.dumps({"denied": [error.status_code, error.error_code]}))
"""


def test_a_reader_without_a_data_role_is_denied(azlite, account):
    assign(azlite, demo_vm(azlite)["principalId"], READER, account["id"])
    out = run_in_vm(azlite, DENIED, ACCOUNT_URL=account["url"])
    assert out["denied"] == [403, "AuthorizationPermissionMismatch"], out


SDK = """
import hashlib, json, os
from concurrent.futures import ThreadPoolExecutor
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceModifiedError
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient

service = BlobServiceClient(os.environ["ACCOUNT_URL"], credential=DefaultAzureCredential(),
                            max_single_put_size=4 * 1024 * 1024, max_block_size=4 * 1024 * 1024)
container = service.create_container("sdk")
out = {}

# 300 MiB in 4 MiB blocks, 4 at a time; ranged and full downloads checked by MD5.
size = 300 * 1024 * 1024
data = bytearray(os.urandom(1024 * 1024)) * 300
big = container.get_blob_client("big.bin")
big.upload_blob(bytes(data), max_concurrency=4)
whole = hashlib.md5(data).hexdigest()
out["full"] = hashlib.md5(big.download_blob(max_concurrency=4).readall()).hexdigest() == whole
start, length = 123_456_789, 10_000_000
out["ranged"] = hashlib.md5(big.download_blob(offset=start, length=length).readall()).hexdigest() == hashlib.md5(data[start:start + length]).hexdigest()
out["size"] = big.get_blob_properties().size == size
del data

# 10,000 blobs, listed through paging (5,000 per page).
names = [f"many/{n:05d}" for n in range(10_000)]
with ThreadPoolExecutor(16) as pool:
    list(pool.map(lambda name: container.get_blob_client(name).upload_blob(b"x"), names))
pages = container.list_blobs(name_starts_with="many/").by_page()
listed, page_count = [], 0
for page in pages:
    page_count += 1
    listed.extend(blob.name for blob in page)
out["listed"] = listed == names
out["pages"] = page_count

# Hierarchical listing.
for name in ["tree/a.txt", "tree/sub/b.txt", "tree/sub/c.txt", "tree/other/d.txt"]:
    container.get_blob_client(name).upload_blob(b"t")
out["walk"] = [item.name for item in container.walk_blobs(name_starts_with="tree/", delimiter="/")]

# Conditional requests.
blob = container.get_blob_client("cond.txt")
etag = blob.upload_blob(b"v1")["etag"]
try:
    blob.upload_blob(b"v2")
    out["overwrite_refused"] = False
except ResourceExistsError as error:
    out["overwrite_refused"] = error.error_code
blob.upload_blob(b"v2", overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)
try:
    blob.upload_blob(b"v3", overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)
    out["stale_refused"] = False
except ResourceModifiedError as error:
    out["stale_refused"] = error.error_code
out["content"] = blob.download_blob().readall().decode()

# Leases.
lease = blob.acquire_lease(lease_duration=15)
try:
    blob.set_blob_metadata({"k": "v"})
    out["lease_refused"] = False
except HttpResponseError as error:
    out["lease_refused"] = error.error_code
blob.set_blob_metadata({"k": "v"}, lease=lease)
props = blob.get_blob_properties()
out["lease"] = [props.lease.state, props.lease.status, props.metadata]
lease.release()
blob.delete_blob()
out["exists_after_delete"] = blob.exists()
print(json.dumps(out))
"""


def test_the_sdk_with_default_azure_credential(azlite, account):
    assign(azlite, demo_vm(azlite)["principalId"], DATA_CONTRIBUTOR, account["id"])
    out = run_in_vm(azlite, SDK, ACCOUNT_URL=account["url"])
    assert out["full"] and out["ranged"] and out["size"], out
    assert out["listed"] and out["pages"] == 2, out
    assert out["walk"] == ["tree/a.txt", "tree/other/", "tree/sub/"], out
    assert out["overwrite_refused"] == "BlobAlreadyExists" and out["stale_refused"] == "ConditionNotMet", out
    assert out["content"] == "v2", out
    assert out["lease_refused"] == "LeaseIdMissing", out
    assert out["lease"] == ["leased", "locked", {"k": "v"}], out
    assert out["exists_after_delete"] is False, out
