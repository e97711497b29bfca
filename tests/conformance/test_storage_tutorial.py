"""The storage tutorials of seed 002 that use keys and SAS, as written, on the demo VM under
`azlite run`: the VM's identity (Storage Account Contributor on the account, as the tutorial
grants) gets an ARM token from IMDS, then
* POSTs `…/listServiceSas/?api-version=2017-06-01` (trailing slash, the JSON body as curl
  sends it with `-d`, form content type) and uploads and downloads a blob with the SAS;
* POSTs `…/listKeys?api-version=2016-12-01` and uploads and downloads with the key.
The tutorial's `az storage blob upload|download` step is done with azure-storage-blob, the
library az itself uses for it. A Reader is refused `listServiceSas` and `listAccountSas`.
"""

from __future__ import annotations

import uuid

from conftest import demo_vm
from test_blob import READER, assign
from test_blob_keys_sas import API, run_in_vm

STORAGE_ACCOUNT_CONTRIBUTOR = "Storage Account Contributor"

TUTORIAL = """
import json, os, requests
from datetime import datetime, timedelta, timezone
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, BlobServiceClient

NAME, URL, ARM = os.environ["ACCOUNT"], os.environ["ACCOUNT_URL"], "https://management.azure.com" + os.environ["ACCOUNT_ID"]
token = requests.get("http://169.254.169.254/metadata/identity/oauth2/token",
    params={"api-version": "2018-02-01", "resource": "https://management.azure.com/"},
    headers={"Metadata": "true"}).json()["access_token"]
expiry = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
body = '{"canonicalizedResource":"/blob/%s/tutorial","signedResource":"c","signedPermission":"rcw","signedProtocol":"https","signedExpiry":"%s"}' % (NAME, expiry)
# curl -X POST -d "<json>" sends application/x-www-form-urlencoded.
answer = requests.post(ARM + "/listServiceSas/?api-version=2017-06-01", data=body,
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/x-www-form-urlencoded"})
out = {"listServiceSas": answer.status_code}
if answer.status_code != 200:
    out["error"] = answer.text
    print(json.dumps(out)); raise SystemExit
sas = answer.json()["serviceSasToken"]
out["sas"] = sas
client = BlobClient(URL, "tutorial", "test.txt", credential=sas)
client.upload_blob(b"This is a test file.\\n")
out["sas_download"] = client.download_blob().readall().decode()
try:
    BlobClient(URL, "tutorial", "test.txt", credential=sas).delete_blob()
    out["sas_delete"] = "ok"
except HttpResponseError as e:
    out["sas_delete"] = [e.status_code, e.error_code]

keys = requests.post(ARM + "/listKeys?api-version=2016-12-01", data="",
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/x-www-form-urlencoded"})
out["listKeys"] = keys.status_code
key = keys.json()["keys"][0]["value"]
with_key = BlobServiceClient(URL, credential={"account_name": NAME, "account_key": key})
with_key.get_blob_client("tutorial", "by-key.txt").upload_blob(b"with the key")
out["key_download"] = with_key.get_blob_client("tutorial", "by-key.txt").download_blob().readall().decode()
account_sas = requests.post(ARM + "/listAccountSas?api-version=2023-05-01",
    json={"signedServices": "b", "signedResourceTypes": "sco", "signedPermission": "rl", "signedExpiry": expiry},
    headers={"Authorization": "Bearer " + token})
out["listAccountSas"] = account_sas.status_code
out["account_sas_list"] = sorted(b.name for b in BlobServiceClient(URL, credential=account_sas.json()["accountSasToken"])
                                 .get_container_client("tutorial").list_blobs())
print(json.dumps(out))
"""


def test_the_tutorials_list_service_sas_and_list_keys_flows(azlite, resource_groups):
    group = resource_groups("sttut")
    name = f"st{uuid.uuid4().hex[:12]}"
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"
    created = azlite.arm("PUT", path, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {}},
                         api_version=API)
    assert created.status_code in (200, 201, 202), created.text
    key = azlite.arm("POST", path + "/listKeys", api_version=API).json()["keys"][0]["value"]
    # The tutorial creates the container in the portal.
    setup = """
import os
from azure.storage.blob import BlobServiceClient
BlobServiceClient(os.environ["ACCOUNT_URL"], credential={"account_name": os.environ["ACCOUNT"], "account_key": os.environ["KEY"]}).create_container("tutorial")
print("{}")
"""
    url = f"https://{name}.blob.core.windows.net"
    run_in_vm(azlite, setup, ACCOUNT=name, ACCOUNT_URL=url, KEY=key)
    assign(azlite, demo_vm(azlite)["principalId"], STORAGE_ACCOUNT_CONTRIBUTOR, path)
    out = run_in_vm(azlite, TUTORIAL, ACCOUNT=name, ACCOUNT_URL=url, ACCOUNT_ID=path)
    assert out["listServiceSas"] == 200, out
    assert out["sas"].startswith("sv=2015-04-05&") and "sr=c" in out["sas"] and "sp=rcw" in out["sas"] and "spr=https" in out["sas"], out
    assert out["sas_download"] == "This is a test file.\n", out
    assert out["sas_delete"] == [403, "AuthorizationPermissionMismatch"], out
    assert out["listKeys"] == 200 and out["key_download"] == "with the key", out
    assert out["listAccountSas"] == 200 and out["account_sas_list"] == ["by-key.txt", "test.txt"], out


def test_a_reader_cannot_list_sas(azlite, resource_groups):
    group = resource_groups("stsas")
    name = f"st{uuid.uuid4().hex[:12]}"
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"
    assert azlite.arm("PUT", path, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {}},
                      api_version=API).status_code in (200, 201, 202)
    assign(azlite, demo_vm(azlite)["principalId"], READER, path)
    code = """
import json, os, requests
token = requests.get("http://169.254.169.254/metadata/identity/oauth2/token",
    params={"api-version": "2018-02-01", "resource": "https://management.azure.com/"}, headers={"Metadata": "true"}).json()["access_token"]
arm = "https://management.azure.com" + os.environ["ACCOUNT_ID"]
out = {}
for action, body in (("listServiceSas/", {"canonicalizedResource": "/blob/x/c", "signedResource": "c", "signedPermission": "r", "signedExpiry": "2030-01-01T00:00:00Z"}),
                     ("listAccountSas", {"signedServices": "b", "signedResourceTypes": "o", "signedPermission": "r", "signedExpiry": "2030-01-01T00:00:00Z"})):
    r = requests.post(arm + "/" + action + "?api-version=2017-06-01", json=body, headers={"Authorization": "Bearer " + token})
    out[action] = [r.status_code, r.json().get("error", {}).get("code")]
print(json.dumps(out))
"""
    out = run_in_vm(azlite, code, ACCOUNT_ID=path)
    assert out == {"listServiceSas/": [403, "AuthorizationFailed"], "listAccountSas": [403, "AuthorizationFailed"]}, out
