"""The tutorial "Use a Linux VM system-assigned managed identity to access Azure Resource
Manager", against the demo VM that `azlite up` makes on its first start: a token from IMDS
and one from the VM extension endpoint, then the resource group read with each; no write."""

from __future__ import annotations

import requests

ARM = "https://management.azure.com/"


def demo(azlite):
    info = azlite.info
    assert {"imds", "extension", "demo"} <= set(info), f"connection.json lacks the demo: {sorted(info)}"
    return info["demo"]


def group_path(azlite) -> str:
    return f"/subscriptions/{azlite.subscription_id}/resourceGroups/{demo(azlite)['resourceGroup']}"


def test_imds_token_reads_the_demo_group_and_cannot_write_it(azlite):
    d = demo(azlite)
    # As the tutorial's curl: GET with Metadata: true, everything a string.
    answer = requests.get(
        f"{azlite.info['imds']}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": ARM},
        headers={"Metadata": "true"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert all(isinstance(v, str) for v in body.values()), body
    assert body["resource"] == ARM and body["token_type"] == "Bearer"
    token = body["access_token"]
    read = azlite.arm("GET", group_path(azlite), token=token, api_version="2016-09-01")
    assert read.status_code == 200, read.text
    assert read.json()["name"] == d["resourceGroup"]
    write = azlite.arm("PUT", group_path(azlite), json={"location": "eastus"}, token=token, api_version="2016-09-01")
    assert write.status_code == 403
    assert write.json()["error"]["code"] == "AuthorizationFailed"
    assert d["principalId"] in write.json()["error"]["message"]


def test_the_extension_endpoint_serves_the_same_identity(azlite):
    answer = requests.post(
        f"{azlite.info['extension']}/oauth2/token",
        data={"resource": ARM},
        headers={"Metadata": "true"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    read = azlite.arm("GET", group_path(azlite), token=token, api_version="2016-09-01")
    assert read.status_code == 200, read.text


def test_imds_refuses_a_request_without_the_metadata_header(azlite):
    answer = requests.get(
        f"{azlite.info['imds']}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": ARM},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json() == {"error": "bad_request_102", "error_description": "Required metadata header not specified"}
