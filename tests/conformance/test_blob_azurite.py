"""Azurite's drop-in mode (issue 11): `azlite up --blob-listen 127.0.0.1:10000` serves the
development account `devstoreaccount1` with Azurite's well-known key, path-style over plain
HTTP, so that `UseDevelopmentStorage=true` and Azurite's full connection string work
unmodified with azure-storage-blob: container create, upload, list, download, an SDK-made SAS
signed with the development key, and the denials (a wrong key, another account, Bearer over
HTTP). No ARM call comes first: the account exists from the start.

The suite runs in a loopback-only network namespace of its own, so port 10000 is free.
"""

from __future__ import annotations

import uuid
from xml.etree import ElementTree
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.storage.blob import BlobClient, BlobSasPermissions, BlobServiceClient, generate_blob_sas

from conftest import Azlite, AzliteFactory

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
ENDPOINT = f"http://127.0.0.1:10000/{ACCOUNT}"
# Azurite's documented full connection string (Blob, Queue and Table endpoints).
AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={KEY};"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


@pytest.fixture(scope="module")
def dropin(azlite_factory: AzliteFactory) -> Iterator[Azlite]:
    instance = azlite_factory.start(extra_args=["--blob-listen", "127.0.0.1:10000"])
    yield instance
    instance.stop()


def round_trip(service: BlobServiceClient) -> dict[str, Any]:
    container = f"c{uuid.uuid4().hex[:10]}"
    client = service.create_container(container)
    data = uuid.uuid4().bytes * 1000
    client.upload_blob("dir/hello.bin", data)
    client.upload_blob("top.txt", b"top")
    names = [b.name for b in client.list_blobs()]
    body = client.download_blob("dir/hello.bin").readall()
    containers = [c.name for c in service.list_containers(name_starts_with=container)]
    return {"container": container, "names": names, "same": body == data, "containers": containers}


@pytest.mark.parametrize("connection_string", ["UseDevelopmentStorage=true", AZURITE])
def test_connection_strings_work_unmodified(dropin: Azlite, connection_string: str) -> None:
    service = BlobServiceClient.from_connection_string(connection_string)
    assert service.url.rstrip("/") == ENDPOINT
    result = round_trip(service)
    assert result["names"] == ["dir/hello.bin", "top.txt"]
    assert result["same"]
    assert result["containers"] == [result["container"]]


def test_the_account_is_in_arm_with_the_well_known_key(dropin: Azlite) -> None:
    accounts = dropin.arm(
        "GET", f"/subscriptions/{dropin.subscription_id}/providers/Microsoft.Storage/storageAccounts",
        api_version="2023-05-01",
    ).json()["value"]
    [account] = [a for a in accounts if a["name"] == ACCOUNT]
    assert account["properties"]["allowSharedKeyAccess"] is True
    keys = dropin.arm("POST", account["id"] + "/listKeys", api_version="2023-05-01").json()["keys"]
    assert {k["keyName"]: k["value"] for k in keys}["key1"] == KEY


def test_sdk_generated_sas_with_the_development_key(dropin: Azlite) -> None:
    service = BlobServiceClient.from_connection_string("UseDevelopmentStorage=true")
    container = f"sas{uuid.uuid4().hex[:10]}"
    service.create_container(container).upload_blob("b.txt", b"signed")
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    sas = generate_blob_sas(ACCOUNT, container, "b.txt", account_key=KEY,
                            permission=BlobSasPermissions(read=True), expiry=expiry)
    reader = BlobClient.from_blob_url(f"{ENDPOINT}/{container}/b.txt?{sas}")
    assert reader.download_blob().readall() == b"signed"
    # The read-only SAS cannot write.
    with pytest.raises(HttpResponseError) as denied:
        reader.upload_blob(b"x", overwrite=True)
    assert denied.value.status_code == 403
    assert denied.value.error_code == "AuthorizationPermissionMismatch"
    # A SAS signed with another key is refused.
    forged = generate_blob_sas(ACCOUNT, container, "b.txt", account_key="AAAA" + KEY[4:],
                               permission=BlobSasPermissions(read=True), expiry=expiry)
    with pytest.raises(ClientAuthenticationError) as refused:
        BlobClient.from_blob_url(f"{ENDPOINT}/{container}/b.txt?{forged}").download_blob()
    assert refused.value.status_code == 403
    assert refused.value.error_code == "AuthenticationFailed"


def test_a_wrong_key_is_refused(dropin: Azlite) -> None:
    wrong = AZURITE.replace(KEY, "AAAA" + KEY[4:])
    service = BlobServiceClient.from_connection_string(wrong)
    container = f"w{uuid.uuid4().hex[:10]}"
    with pytest.raises(ClientAuthenticationError) as refused:
        service.create_container(container)
    assert refused.value.status_code == 403
    assert refused.value.error_code == "AuthenticationFailed"
    # The detail quotes the signature sent and the string to sign the server used, as Azure's
    # does, with the path-style resource (the account twice) that the SDK signed.
    detail = ElementTree.fromstring(refused.value.response.text()).findtext("AuthenticationErrorDetail")
    signature = refused.value.response.request.headers["Authorization"].split(":", 1)[1]
    assert detail.startswith(f"The MAC signature found in the HTTP request '{signature}' is not the same as any "
                             "computed signature. Server used following string to sign: 'PUT\n"), detail
    assert f"\n/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container'." in detail, detail


def test_only_the_development_account_is_served(dropin: Azlite) -> None:
    # Another account exists (on the TLS listener), but this listener does not serve it.
    group = f"dropin-{uuid.uuid4().hex[:8]}"
    made = dropin.arm("PUT", f"/subscriptions/{dropin.subscription_id}/resourceGroups/{group}",
                      {"location": "eastus"})
    assert made.status_code in (200, 201), made.text
    name = f"st{uuid.uuid4().hex[:12]}"
    path = (f"/subscriptions/{dropin.subscription_id}/resourceGroups/{group}"
            f"/providers/Microsoft.Storage/storageAccounts/{name}")
    created = dropin.arm("PUT", path, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
                                       "location": "eastus"}, api_version="2023-05-01")
    assert created.status_code == 200, created.text
    for account in (name, "nosuchaccount"):
        response = requests.get(f"http://127.0.0.1:10000/{account}?comp=list", timeout=10)
        assert response.status_code == 400, response.text
        assert response.headers["x-ms-error-code"] == "InvalidOperation"
        assert "<Message>Invalid storage account." in response.text
        assert response.headers["x-ms-request-id"]


def test_bearer_is_refused_over_http(dropin: Azlite) -> None:
    token = dropin.owner_token("https://storage.azure.com/.default")
    response = requests.get(f"{ENDPOINT}?comp=list", timeout=10, headers={
        "Authorization": f"Bearer {token}", "x-ms-version": "2021-08-06"})
    assert response.status_code == 403, response.text
    assert response.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert "Authentication scheme Bearer is not allowed with HTTP." in response.text


def test_anonymous_requests_get_no_data(dropin: Azlite) -> None:
    response = requests.get(f"{ENDPOINT}?comp=list", timeout=10)
    assert response.status_code == 401
    assert response.headers["x-ms-error-code"] == "NoAuthenticationInformation"


def test_sip_is_checked_against_the_tcp_peer(dropin: Azlite) -> None:
    """A SAS's `sip` is compared with the connection's source address: on loopback a client
    bound to 127.0.0.2 is 127.0.0.2, not 127.0.0.1."""
    import http.client

    service = BlobServiceClient.from_connection_string("UseDevelopmentStorage=true")
    container = f"sip{uuid.uuid4().hex[:10]}"
    service.create_container(container).upload_blob("b.txt", b"by address")
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)

    def read_from(source: str, sip: str) -> tuple[int, str]:
        sas = generate_blob_sas(ACCOUNT, container, "b.txt", account_key=KEY, ip=sip,
                                permission=BlobSasPermissions(read=True), expiry=expiry)
        connection = http.client.HTTPConnection("127.0.0.1", 10000, timeout=10, source_address=(source, 0))
        try:
            connection.request("GET", f"/{ACCOUNT}/{container}/b.txt?{sas}", headers={"x-ms-version": "2021-08-06"})
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("x-ms-error-code") or ""
        finally:
            connection.close()

    assert read_from("127.0.0.2", "127.0.0.2") == (200, "")
    assert read_from("127.0.0.2", "127.0.0.1") == (403, "AuthorizationSourceIPMismatch")
    assert read_from("127.0.0.1", "127.0.0.2") == (403, "AuthorizationSourceIPMismatch")
    assert read_from("127.0.0.2", "127.0.0.0-127.0.0.9") == (200, "")
