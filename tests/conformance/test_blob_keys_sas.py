"""Blob Storage with the account's keys and with shared access signatures, as azure-storage-blob
uses them (issue 11): a connection string with AccountKey (Shared Key), SDK-generated blob,
container, account and user delegation SAS, and Azure's denials (a wrong signature, an expired
SAS, a container SAS on another container, a read-only SAS used to write, a key and a SAS after
regenerateKey, Shared Key on an account with allowSharedKeyAccess=false).

The owner creates the account and reads its keys through ARM (as the tutorial's listKeys curl);
every client of the blob host runs inside `azlite run`'s loopback-only namespace.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from typing import Any

import pytest

from conftest import Azlite, demo_vm, python_in_vm, vm_environment
from test_blob import DATA_CONTRIBUTOR, assign

API = "2023-05-01"


@pytest.fixture
def account(azlite: Azlite, resource_groups) -> dict[str, Any]:
    group = resource_groups("stk")
    name = f"st{uuid.uuid4().hex[:12]}"
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"
    response = azlite.arm("PUT", path, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {}},
                          api_version=API)
    assert response.status_code in (200, 201, 202), response.text
    return {"name": name, "id": path, "url": f"https://{name}.blob.core.windows.net"}


def keys(azlite: Azlite, account: dict[str, Any]) -> dict[str, str]:
    response = azlite.arm("POST", account["id"] + "/listKeys", api_version=API)
    assert response.status_code == 200, response.text
    return {k["keyName"]: k["value"] for k in response.json()["keys"]}


def run_in_vm(azlite: Azlite, code: str, **env: str) -> dict[str, Any]:
    environment = vm_environment()
    environment.update(env)
    result = python_in_vm(azlite, textwrap.dedent(code), env=environment, timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


PRELUDE = """
import json, os
from datetime import datetime, timedelta, timezone
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (AccountSasPermissions, BlobClient, BlobSasPermissions, BlobServiceClient,
    ContainerClient, ContainerSasPermissions, ResourceTypes, generate_account_sas, generate_blob_sas,
    generate_container_sas)

NAME, KEY, URL = os.environ["ACCOUNT"], os.environ.get("KEY", ""), os.environ["ACCOUNT_URL"]
now = datetime.now(timezone.utc)
later = now + timedelta(hours=1)

def outcome(f):
    try:
        result = f()
        return ["ok", result.decode() if isinstance(result, bytes) else None]
    except HttpResponseError as error:
        return [error.status_code, error.error_code]
"""

KEY_AND_SAS = PRELUDE + """
conn = f"DefaultEndpointsProtocol=https;AccountName={NAME};AccountKey={KEY};EndpointSuffix=core.windows.net"
service = BlobServiceClient.from_connection_string(conn)
service.create_container("one")
service.create_container("two")
service.get_blob_client("one", "b.txt").upload_blob(b"by key")
out = {"key": outcome(lambda: service.get_blob_client("one", "b.txt").download_blob().readall())}

blob_sas = generate_blob_sas(NAME, "one", "b.txt", account_key=KEY, permission=BlobSasPermissions(read=True), expiry=later)
out["blob_sas"] = outcome(lambda: BlobClient(URL, "one", "b.txt", credential=blob_sas).download_blob().readall())
out["blob_sas_write"] = outcome(lambda: BlobClient(URL, "one", "b.txt", credential=blob_sas).upload_blob(b"x", overwrite=True))

container_sas = generate_container_sas(NAME, "one", account_key=KEY,
    permission=ContainerSasPermissions(read=True, write=True, create=True, list=True), expiry=later)
out["container_sas_write"] = outcome(lambda: BlobClient(URL, "one", "new.txt", credential=container_sas).upload_blob(b"by container sas"))
out["container_sas_read"] = outcome(lambda: BlobClient(URL, "one", "new.txt", credential=container_sas).download_blob().readall())
out["container_sas_list"] = outcome(lambda: ",".join(b.name for b in ContainerClient(URL, "one", credential=container_sas).list_blobs()).encode())
out["container_sas_other"] = outcome(lambda: BlobClient(URL, "two", "b.txt", credential=container_sas).upload_blob(b"x"))

account_sas = generate_account_sas(NAME, KEY, ResourceTypes(service=True, container=True, object=True),
    AccountSasPermissions(read=True, write=True, create=True, list=True), expiry=later)
out["account_sas_write"] = outcome(lambda: BlobClient(URL, "two", "a.txt", credential=account_sas).upload_blob(b"by account sas"))
out["account_sas_read"] = outcome(lambda: BlobClient(URL, "two", "a.txt", credential=account_sas).download_blob().readall())
out["account_sas_list"] = outcome(lambda: ",".join(sorted(c.name for c in BlobServiceClient(URL, credential=account_sas).list_containers())).encode())

wrong = blob_sas.replace("sig=", "sig=A")
out["wrong_sig"] = outcome(lambda: BlobClient(URL, "one", "b.txt", credential=wrong).download_blob().readall())
expired = generate_blob_sas(NAME, "one", "b.txt", account_key=KEY, permission=BlobSasPermissions(read=True),
    start=now - timedelta(hours=2), expiry=now - timedelta(hours=1))
out["expired"] = outcome(lambda: BlobClient(URL, "one", "b.txt", credential=expired).download_blob().readall())
bad_key = BlobServiceClient(URL, credential={"account_name": NAME, "account_key": KEY[:-4] + "AAA="})
out["wrong_key"] = outcome(lambda: bad_key.get_blob_client("one", "b.txt").download_blob().readall())
print(json.dumps({"out": out, "blob_sas": blob_sas}))
"""


def test_account_key_and_key_signed_sas(azlite, account):
    key1 = keys(azlite, account)["key1"]
    result = run_in_vm(azlite, KEY_AND_SAS, ACCOUNT=account["name"], KEY=key1, ACCOUNT_URL=account["url"])
    out = result["out"]
    assert out["key"] == ["ok", "by key"], out
    assert out["blob_sas"] == ["ok", "by key"], out
    assert out["blob_sas_write"] == [403, "AuthorizationPermissionMismatch"], out
    assert out["container_sas_write"] == ["ok", None], out
    assert out["container_sas_read"] == ["ok", "by container sas"], out
    assert out["container_sas_list"] == ["ok", "b.txt,new.txt"], out
    assert out["container_sas_other"] == [403, "AuthenticationFailed"], out
    assert out["account_sas_write"] == ["ok", None], out
    assert out["account_sas_read"] == ["ok", "by account sas"], out
    assert out["account_sas_list"] == ["ok", "one,two"], out
    assert out["wrong_sig"] == [403, "AuthenticationFailed"], out
    assert out["expired"] == [403, "AuthenticationFailed"], out
    assert out["wrong_key"] == [403, "AuthenticationFailed"], out

    # regenerateKey: the old key and a SAS it signed stop working at once; key2 still works.
    response = azlite.arm("POST", account["id"] + "/regenerateKey", {"keyName": "key1"}, api_version=API)
    assert response.status_code == 200, response.text
    after = PRELUDE + f"""
old = BlobServiceClient(URL, credential={{"account_name": NAME, "account_key": KEY}})
sas = {result["blob_sas"]!r}
key2 = BlobServiceClient(URL, credential={{"account_name": NAME, "account_key": os.environ["KEY2"]}})
print(json.dumps({{"old_key": outcome(lambda: old.get_blob_client("one", "b.txt").download_blob().readall()),
    "old_sas": outcome(lambda: BlobClient(URL, "one", "b.txt", credential=sas).download_blob().readall()),
    "key2": outcome(lambda: key2.get_blob_client("one", "b.txt").download_blob().readall())}}))
"""
    out = run_in_vm(azlite, after, ACCOUNT=account["name"], KEY=key1, KEY2=keys(azlite, account)["key2"], ACCOUNT_URL=account["url"])
    assert out == {"old_key": [403, "AuthenticationFailed"], "old_sas": [403, "AuthenticationFailed"], "key2": ["ok", "by key"]}, out


SHARED_KEY_OFF = PRELUDE + """
service = BlobServiceClient(URL, credential={"account_name": NAME, "account_key": KEY})
sas = generate_blob_sas(NAME, "ccc", "b", account_key=KEY, permission=BlobSasPermissions(read=True), expiry=later)
print(json.dumps({"key": outcome(lambda: service.create_container("ccc")),
                  "sas": outcome(lambda: BlobClient(URL, "ccc", "b", credential=sas).download_blob().readall())}))
"""


def test_shared_key_access_off_refuses_keys_and_key_sas(azlite, account):
    key1 = keys(azlite, account)["key1"]
    response = azlite.arm("PATCH", account["id"], {"properties": {"allowSharedKeyAccess": False}}, api_version=API)
    assert response.status_code == 200, response.text
    out = run_in_vm(azlite, SHARED_KEY_OFF, ACCOUNT=account["name"], KEY=key1, ACCOUNT_URL=account["url"])
    assert out == {"key": [403, "KeyBasedAuthenticationNotPermitted"], "sas": [403, "KeyBasedAuthenticationNotPermitted"]}, out


USER_DELEGATION = PRELUDE + """
from azure.identity import DefaultAzureCredential
service = BlobServiceClient(URL, credential=DefaultAzureCredential())
service.create_container("udc")
service.get_blob_client("udc", "b.txt").upload_blob(b"delegated")
udk = service.get_user_delegation_key(now - timedelta(minutes=5), later)
sas = generate_blob_sas(NAME, "udc", "b.txt", user_delegation_key=udk, permission=BlobSasPermissions(read=True), expiry=later)
out = {"read": outcome(lambda: BlobClient(URL, "udc", "b.txt", credential=sas).download_blob().readall()),
       "write": outcome(lambda: BlobClient(URL, "udc", "b.txt", credential=sas).upload_blob(b"x", overwrite=True))}
forged = generate_blob_sas(NAME, "udc", "b.txt", user_delegation_key=udk, permission=BlobSasPermissions(read=True),
                           expiry=later + timedelta(minutes=1))
out["tampered"] = outcome(lambda: BlobClient(URL, "udc", "b.txt", credential=forged.replace("se=", "se=X", 0) + "&sp=rw").download_blob().readall())
udk.value = "A" * 43 + "="
out["wrong_key"] = outcome(lambda: BlobClient(URL, "udc", "b.txt", credential=generate_blob_sas(NAME, "udc", "b.txt",
    user_delegation_key=udk, permission=BlobSasPermissions(read=True), expiry=later)).download_blob().readall())
print(json.dumps(out))
"""


def test_user_delegation_sas(azlite, account):
    assign(azlite, demo_vm(azlite)["principalId"], DATA_CONTRIBUTOR, account["id"])
    out = run_in_vm(azlite, USER_DELEGATION, ACCOUNT=account["name"], ACCOUNT_URL=account["url"])
    assert out["read"] == ["ok", "delegated"], out
    assert out["write"] == [403, "AuthorizationPermissionMismatch"], out
    assert out["wrong_key"] == [403, "AuthenticationFailed"], out
