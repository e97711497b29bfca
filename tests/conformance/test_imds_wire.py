"""The demo VM's endpoints on the wire, as curl (here `requests`) meets them: IMDS's answer
and its request rules (reference §1.1–1.3, 1.7), the VM extension and Cloud Shell address
(§2.1–2.2), App Service's `/msi/token` in both API versions (§2.3), and azure-identity's
Azure ML source, which azlite serves on that same path (crates/azlite-imds app_service.rs).

Only the demo VM's system identity is used here: nothing is changed.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from conftest import ARM_SCOPE, demo_group_path, demo_vm, demo_vm_path
from jwt_helpers import is_guid, jwt_parts

ARM = "https://management.azure.com/"
TOKEN_PATH = "/metadata/identity/oauth2/token"


def imds(azlite, path: str = TOKEN_PATH, params=None, headers=None, method: str = "GET") -> requests.Response:
    all_headers = {"Metadata": "true"}
    all_headers.update(headers or {})
    all_headers = {k: v for k, v in all_headers.items() if v is not None}
    query = {"api-version": "2018-02-01", "resource": ARM} if params is None else params
    return requests.request(method, azlite.info["imds"] + path, params=query, headers=all_headers, timeout=10)


def reads_the_group(azlite, token: str) -> bool:
    return azlite.arm("GET", demo_group_path(azlite), token=token, api_version="2016-09-01").status_code == 200


# ---------------------------------------------------------------------------------------
# IMDS: the answer
# ---------------------------------------------------------------------------------------


def test_imds_wire_answer_matches_the_token(azlite):
    demo = demo_vm(azlite)
    answer = imds(azlite)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert all(isinstance(v, str) for v in body.values()), body
    claims = jwt_parts(body["access_token"])[1]
    # expires_on is exp, not_before is nbf, as epoch-second strings; about 24 h.
    assert int(body["expires_on"]) == claims["exp"], (body, claims)
    assert int(body["not_before"]) == claims["nbf"], (body, claims)
    assert 23 * 3600 < int(body["expires_in"]) <= 24 * 3600 + 300, body
    assert abs(int(body["expires_on"]) - int(body["expires_in"]) - time.time()) < 600, body
    # The system identity's client id is returned too, and is the token's appid.
    assert is_guid(body["client_id"]) and body["client_id"] == claims["appid"], (body, claims)
    assert claims["oid"] == demo["principalId"]
    assert claims["appidacr"] == "2"
    assert claims["xms_mirid"].lower() == demo_vm_path(azlite).lower()


def test_imds_wire_repeated_requests_share_a_cached_token_unless_bypassed(azlite):
    first = imds(azlite).json()
    second = imds(azlite).json()
    assert second["access_token"] == first["access_token"]
    bypassed = imds(azlite, params={"api-version": "2018-02-01", "resource": ARM, "bypass_cache": "true"})
    assert bypassed.status_code == 200, bypassed.text
    assert bypassed.json()["access_token"] != first["access_token"]
    assert reads_the_group(azlite, bypassed.json()["access_token"])


def test_imds_wire_metadata_header_value_is_case_insensitive(azlite):
    answer = imds(azlite, headers={"Metadata": "True"})
    assert answer.status_code == 200, answer.text


def test_imds_wire_resource_without_trailing_slash(azlite):
    answer = imds(azlite, params={"api-version": "2019-08-01", "resource": "https://management.azure.com"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["resource"] == "https://management.azure.com"
    assert reads_the_group(azlite, answer.json()["access_token"])


# ---------------------------------------------------------------------------------------
# IMDS: the request rules and their errors
# ---------------------------------------------------------------------------------------


def test_imds_wire_x_forwarded_for_is_refused(azlite):
    answer = imds(azlite, headers={"X-Forwarded-For": "10.0.0.1"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_request"
    assert "access_token" not in answer.json()


def test_imds_wire_x_forwarded_for_is_checked_before_metadata(azlite):
    answer = imds(azlite, headers={"Metadata": None, "X-Forwarded-For": "10.0.0.1"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_request"


def test_imds_wire_several_selectors_are_refused(azlite):
    answer = imds(azlite, params={"api-version": "2018-02-01", "resource": ARM, "client_id": str(uuid.uuid4()), "object_id": str(uuid.uuid4())})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"


def test_imds_wire_duplicate_parameters_are_refused(azlite):
    answer = requests.get(
        f"{azlite.info['imds']}{TOKEN_PATH}?api-version=2018-02-01&resource={ARM}&resource={ARM}",
        headers={"Metadata": "true"},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"
    assert "resource" in answer.json()["error_description"]


def test_imds_wire_only_get(azlite):
    answer = imds(azlite, method="POST")
    assert answer.status_code == 405, answer.text
    assert "GET" in answer.headers["Allow"]


@pytest.mark.parametrize("version", [None, "2017-12-01", "2099-01-01", "latest"])
def test_imds_wire_api_version_of_the_identity_endpoint(azlite, version):
    params = {"resource": ARM} if version is None else {"api-version": version, "resource": ARM}
    answer = imds(azlite, params=params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == (
        "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds"
    )
    assert body["newest-versions"][0] >= "2025-04-07", body


@pytest.mark.parametrize("version", ["2018-02-01", "2019-08-01", "2021-02-01", "2025-04-07"])
def test_imds_wire_api_versions_clients_send(azlite, version):
    answer = imds(azlite, params={"api-version": version, "resource": ARM})
    assert answer.status_code == 200, answer.text


def test_imds_wire_unknown_resource(azlite):
    resource = f"api://{uuid.uuid4()}"
    answer = imds(azlite, params={"api-version": "2018-02-01", "resource": resource})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "invalid_resource", body
    assert body["error_description"].startswith("AADSTS500011:") or body["error_description"].startswith("AADSTS50001:"), body
    assert resource in body["error_description"], body


# ---------------------------------------------------------------------------------------
# IMDS siblings
# ---------------------------------------------------------------------------------------


def test_imds_wire_versions_and_instance(azlite):
    demo = demo_vm(azlite)
    versions = imds(azlite, path="/metadata/versions", params={})
    assert versions.status_code == 200, versions.text
    listed = versions.json()["apiVersions"]
    assert "2018-02-01" in listed and "2025-04-07" in listed
    instance = imds(azlite, path="/metadata/instance", params={"api-version": "2021-02-01"})
    assert instance.status_code == 200, instance.text
    compute = instance.json()["compute"]
    assert compute["name"] == demo["vm"]
    assert compute["resourceGroupName"] == demo["resourceGroup"]
    assert compute["subscriptionId"] == azlite.subscription_id
    # IMDS's vmId is ARM's properties.vmId (a GUID); connection.json's demo.vmId is the ARM id.
    vm = azlite.arm("GET", demo_vm_path(azlite), api_version="2018-06-01").json()
    assert is_guid(compute["vmId"]) and compute["vmId"] == vm["properties"]["vmId"], (compute, vm)
    assert compute["resourceId"].lower() == demo_vm_path(azlite).lower() == demo["vmId"].lower()


# ---------------------------------------------------------------------------------------
# The VM extension's address: GET (extension) and form POST (extension, Cloud Shell)
# ---------------------------------------------------------------------------------------


def test_imds_wire_extension_get(azlite):
    demo = demo_vm(azlite)
    answer = requests.get(f"{azlite.info['extension']}/oauth2/token", params={"resource": ARM}, headers={"Metadata": "true"}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert all(isinstance(v, str) for v in body.values()), body
    assert jwt_parts(body["access_token"])[1]["oid"] == demo["principalId"]
    assert reads_the_group(azlite, body["access_token"])
    bare = requests.get(f"{azlite.info['extension']}/oauth2/token", params={"resource": ARM}, timeout=10)
    assert bare.status_code == 400
    assert bare.json() == {"error": "bad_request_102", "error_description": "Required metadata header not specified"}


def test_imds_wire_cloud_shell_errors_in_its_shape(azlite):
    demo_vm(azlite)
    answer = requests.post(f"{azlite.info['extension']}/oauth2/token", data={}, headers={"Metadata": "true"}, timeout=10)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert set(error) >= {"code", "message"}, error
    assert "resource" in error["message"], error


# ---------------------------------------------------------------------------------------
# App Service: /msi/token
# ---------------------------------------------------------------------------------------


def msi_token(azlite, params: dict[str, str], headers: dict[str, str]) -> requests.Response:
    return requests.get(f"{azlite.info['imds']}/msi/token", params=params, headers=headers, timeout=10)


def test_imds_wire_app_service_2019(azlite):
    demo = demo_vm(azlite)
    secret = azlite.info["identityHeader"]
    answer = msi_token(azlite, {"api-version": "2019-08-01", "resource": ARM}, {"X-IDENTITY-HEADER": secret})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    claims = jwt_parts(body["access_token"])[1]
    assert body["token_type"] == "Bearer" and body["resource"] == ARM, body
    assert isinstance(body["expires_on"], str) and int(body["expires_on"]) == claims["exp"], body
    assert body["client_id"] == claims["appid"], body
    assert claims["oid"] == demo["principalId"]
    assert reads_the_group(azlite, body["access_token"])

    wrong = msi_token(azlite, {"api-version": "2019-08-01", "resource": ARM}, {"X-IDENTITY-HEADER": str(uuid.uuid4())})
    assert wrong.status_code == 403, wrong.text
    assert wrong.json()["statusCode"] == 403 and wrong.json()["message"], wrong.text
    missing = msi_token(azlite, {"api-version": "2019-08-01", "resource": ARM}, {})
    assert missing.status_code == 403, missing.text

    unknown = msi_token(
        azlite, {"api-version": "2019-08-01", "resource": ARM, "client_id": str(uuid.uuid4())}, {"X-IDENTITY-HEADER": secret}
    )
    assert unknown.status_code == 400, unknown.text
    assert unknown.json() == {"statusCode": 400, "message": "Identity not found"}


def test_imds_wire_app_service_2017(azlite):
    demo = demo_vm(azlite)
    secret = azlite.info["identityHeader"]
    answer = msi_token(azlite, {"api-version": "2017-09-01", "resource": ARM}, {"Secret": secret})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert jwt_parts(body["access_token"])[1]["oid"] == demo["principalId"]
    assert reads_the_group(azlite, body["access_token"])
    # An unknown clientid falls back to the system identity on this API version.
    fallback = msi_token(azlite, {"api-version": "2017-09-01", "resource": ARM, "clientid": str(uuid.uuid4())}, {"Secret": secret})
    assert fallback.status_code == 200, fallback.text
    assert jwt_parts(fallback.json()["access_token"])[1]["oid"] == demo["principalId"]
    wrong = msi_token(azlite, {"api-version": "2017-09-01", "resource": ARM}, {"Secret": str(uuid.uuid4())})
    assert wrong.status_code == 401, wrong.text


@pytest.mark.xfail(
    strict=True,
    reason="azlite bug: GET /msi/token?api-version=2017-09-01 (which app_service.rs says also serves Azure ML's "
    "MSI_ENDPOINT + MSI_SECRET) answers expires_on as a date string ('11/24/2026 07:31:14 PM +00:00'); azure-identity "
    "1.27's AzureMLCredential goes through MSAL 1.39 _obtain_token_on_machine_learning, which does "
    "int(payload['expires_on']) -> ValueError, so no Azure ML client can get a token",
)
def test_imds_wire_azure_ml_through_azure_identity(azlite, mi_env):
    """azure-identity's Azure ML source (MSI_ENDPOINT + MSI_SECRET, reference §2.3, 2.6), which
    azlite's `/msi/token` says it serves with its 2017-09-01 API."""
    from azure.identity import ManagedIdentityCredential

    demo = demo_vm(azlite)
    mi_env.setenv("MSI_ENDPOINT", azlite.info["imds"] + "/msi/token")
    mi_env.setenv("MSI_SECRET", azlite.info["identityHeader"])
    with ManagedIdentityCredential() as credential:
        assert type(credential._credential).__name__ == "AzureMLCredential"
        token = credential.get_token(ARM_SCOPE).token
    assert jwt_parts(token)[1]["oid"] == demo["principalId"]
    assert reads_the_group(azlite, token)
