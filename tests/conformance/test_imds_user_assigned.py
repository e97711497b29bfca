"""A user-assigned identity on the demo VM through unmodified clients (azure-identity's
ManagedIdentityCredential with `client_id`/`identity_config`, MSAL's
UserAssignedManagedIdentity), over IMDS and the App Service protocol; and the errors those
clients and curl meet (reference §1.3): an identity the VM does not have, a missing
resource, a bad api-version, a wrong App Service secret.

The fixture `attached` changes the demo VM (the only VM `azlite up` serves IMDS for) and
puts it back in a finally. `mi_env` clears every managed-identity variable first; only
azlite's 127.0.0.1 endpoints are ever set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import requests

from conftest import ARM_SCOPE, demo_group_path, demo_vm, demo_vm_path
from jwt_helpers import jwt_parts

ARM_RESOURCE = "https://management.azure.com/"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VM_API = "2018-06-01"
MSI_API = "2023-01-31"
RBAC_API = "2022-04-01"


@dataclass
class Attached:
    id: str
    principal_id: str
    client_id: str


@pytest.fixture
def attached(azlite) -> Iterator[Attached]:
    """A user-assigned identity in the demo group with Reader on it, attached to the demo VM
    next to its system identity; detached and deleted at the end."""
    group, vm = demo_group_path(azlite), demo_vm_path(azlite)
    path = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-{uuid.uuid4().hex[:8]}"
    assignment = f"{group}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    created = azlite.arm("PUT", path, {"location": "westus"}, api_version=MSI_API)
    assert created.status_code == 201, created.text
    uai = Attached(created.json()["id"], created.json()["properties"]["principalId"], created.json()["properties"]["clientId"])
    try:
        grant = {
            "properties": {
                "roleDefinitionId": f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                "principalId": uai.principal_id,
                "principalType": "ServicePrincipal",
            }
        }
        response = azlite.arm("PUT", assignment, grant, api_version=RBAC_API)
        assert response.status_code == 201, response.text
        attach = {"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai.id: {}}}}
        response = azlite.arm("PATCH", vm, attach, api_version=VM_API)
        assert response.status_code == 200, response.text
        yield uai
    finally:
        restore = {"identity": {"type": "SystemAssigned", "userAssignedIdentities": {uai.id: None}}}
        azlite.arm("PATCH", vm, restore, api_version=VM_API)
        azlite.arm("DELETE", assignment, api_version=RBAC_API)
        azlite.arm("DELETE", path, api_version=MSI_API)
    # The demo VM is as `azlite up` made it, for the tests after this one.
    restored = azlite.arm("GET", vm, api_version=VM_API).json()["identity"]
    assert restored == {"type": "SystemAssigned", "principalId": demo_vm(azlite)["principalId"], "tenantId": azlite.tenant}, restored


def assert_token_of(azlite, token: str, principal_id: str) -> None:
    claims = jwt_parts(token)[1]
    assert claims["oid"] == principal_id, claims
    read = azlite.arm("GET", demo_group_path(azlite), token=token, api_version="2016-09-01")
    assert read.status_code == 200, read.text


def imds_env(azlite, env: pytest.MonkeyPatch) -> None:
    env.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", azlite.info["imds"])


def app_service_env(azlite, env: pytest.MonkeyPatch, header: str | None = None) -> None:
    env.setenv("IDENTITY_ENDPOINT", azlite.info["imds"] + "/msi/token")
    env.setenv("IDENTITY_HEADER", header or azlite.info["identityHeader"])


def imds_get(azlite, params: dict[str, str]) -> requests.Response:
    return requests.get(
        f"{azlite.info['imds']}/metadata/identity/oauth2/token", params=params, headers={"Metadata": "true"}, timeout=10
    )


# ---------------------------------------------------------------------------------------
# azure-identity
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["client_id", "identity_config-client_id", "identity_config-object_id", "identity_config-resource_id"])
def test_imds_user_assigned_azure_identity_over_imds(azlite, mi_env, attached, how):
    from azure.identity import ManagedIdentityCredential

    imds_env(azlite, mi_env)
    kwargs: dict[str, Any] = {
        "client_id": {"client_id": attached.client_id},
        "identity_config-client_id": {"identity_config": {"client_id": attached.client_id}},
        "identity_config-object_id": {"identity_config": {"object_id": attached.principal_id}},
        # azure-identity 1.27 goes through MSAL, which sends a resource_id as msi_res_id.
        "identity_config-resource_id": {"identity_config": {"resource_id": attached.id}},
    }[how]
    with ManagedIdentityCredential(**kwargs) as credential:
        assert type(credential._credential).__name__ == "ImdsCredential"
        token = credential.get_token(ARM_SCOPE).token
    assert_token_of(azlite, token, attached.principal_id)


@pytest.mark.parametrize("how", ["client_id", "object_id", "resource_id"])
def test_imds_user_assigned_azure_identity_over_app_service(azlite, mi_env, attached, how):
    from azure.identity import ManagedIdentityCredential

    app_service_env(azlite, mi_env)
    kwargs: dict[str, Any] = {
        "client_id": {"client_id": attached.client_id},
        # azure-identity hands these to MSAL, which sends object_id and mi_res_id (App Service's name).
        "object_id": {"identity_config": {"object_id": attached.principal_id}},
        "resource_id": {"identity_config": {"resource_id": attached.id}},
    }[how]
    with ManagedIdentityCredential(**kwargs) as credential:
        assert type(credential._credential).__name__ == "AppServiceCredential"
        token = credential.get_token(ARM_SCOPE).token
    assert_token_of(azlite, token, attached.principal_id)


def test_imds_user_assigned_azure_identity_unknown_client_id_is_unavailable(azlite, mi_env):
    from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

    demo_vm(azlite)
    imds_env(azlite, mi_env)
    with ManagedIdentityCredential(client_id=str(uuid.uuid4())) as credential, pytest.raises(CredentialUnavailableError) as raised:
        credential.get_token(ARM_SCOPE)
    # IMDS's 400 means "no such identity here", not a failure (so a chain moves on); azure-identity
    # 1.27 (through MSAL) quotes IMDS's error.
    assert "(invalid_request) Identity not found" in raised.value.message


def test_imds_user_assigned_azure_identity_wrong_app_service_secret(azlite, mi_env):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ManagedIdentityCredential

    demo_vm(azlite)
    app_service_env(azlite, mi_env, header=str(uuid.uuid4()))
    with ManagedIdentityCredential() as credential, pytest.raises(ClientAuthenticationError) as raised:
        credential.get_token(ARM_SCOPE)
    assert "403" in str(raised.value), str(raised.value)


# ---------------------------------------------------------------------------------------
# MSAL
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("selector", ["client_id", "object_id", "resource_id"])
def test_imds_user_assigned_msal_over_imds(azlite, mi_env, attached, selector):
    import msal

    imds_env(azlite, mi_env)
    value = {"client_id": attached.client_id, "object_id": attached.principal_id, "resource_id": attached.id}[selector]
    with requests.Session() as http:
        client = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(**{selector: value}), http_client=http)
        result = client.acquire_token_for_client(resource=ARM_RESOURCE)
    assert "access_token" in result, result
    assert_token_of(azlite, result["access_token"], attached.principal_id)


def test_imds_user_assigned_msal_unknown_identity_gets_imds_error(azlite, mi_env):
    import msal

    demo_vm(azlite)
    imds_env(azlite, mi_env)
    with requests.Session() as http:
        client = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=str(uuid.uuid4())), http_client=http)
        result = client.acquire_token_for_client(resource=ARM_RESOURCE)
    assert result == {"error": "invalid_request", "error_description": "Identity not found"}


# ---------------------------------------------------------------------------------------
# curl: IMDS's error bodies (reference §1.3)
# ---------------------------------------------------------------------------------------


def test_imds_user_assigned_errors_of_the_token_endpoint(azlite):
    demo_vm(azlite)
    missing_resource = imds_get(azlite, {"api-version": "2018-02-01"})
    assert missing_resource.status_code == 400
    assert missing_resource.json() == {"error": "invalid_request", "error_description": "Required query variable 'resource' is missing"}

    bad_version = imds_get(azlite, {"api-version": "2017-01-01", "resource": ARM_RESOURCE})
    assert bad_version.status_code == 400
    body = bad_version.json()
    assert body["error"].startswith("Bad request. api-version is invalid or was not specified in the request."), body
    assert body["newest-versions"] and all(isinstance(v, str) for v in body["newest-versions"]), body

    unknown = imds_get(azlite, {"api-version": "2018-02-01", "resource": ARM_RESOURCE, "client_id": str(uuid.uuid4())})
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "invalid_request", "error_description": "Identity not found"}


def test_imds_user_assigned_identity_info_names_the_tenant(azlite):
    demo_vm(azlite)
    answer = requests.get(
        f"{azlite.info['imds']}/metadata/identity/info", params={"api-version": "2018-02-01"}, headers={"Metadata": "true"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["tenantId"] == azlite.tenant


def test_imds_user_assigned_selectors_on_the_wire(azlite, attached):
    """Each selector IMDS takes (and the older `mi_res_id`), with the echo of `object_id` and
    `msi_res_id` that the IMDS spec describes and MSAL checks on Arc (reference §1.2, §2.4)."""
    cases = [
        ("client_id", attached.client_id, None),
        ("object_id", attached.principal_id, "object_id"),
        ("msi_res_id", attached.id, "msi_res_id"),
        ("mi_res_id", attached.id, "mi_res_id"),
        # Ids are GUIDs and ARM ids: any case names the same identity.
        ("client_id", attached.client_id.upper(), None),
        ("msi_res_id", attached.id.lower(), "msi_res_id"),
    ]
    for selector, value, echo in cases:
        answer = imds_get(azlite, {"api-version": "2018-02-01", "resource": ARM_RESOURCE, selector: value})
        assert answer.status_code == 200, (selector, value, answer.text)
        body = answer.json()
        assert all(isinstance(v, str) for v in body.values()), body
        assert body["client_id"] == attached.client_id, (selector, body)
        if echo:
            assert body[echo].lower() == value.lower(), (selector, body)
        assert_token_of(azlite, body["access_token"], attached.principal_id)
    # The system identity is still the default, and has no selector.
    default = imds_get(azlite, {"api-version": "2018-02-01", "resource": ARM_RESOURCE})
    assert jwt_parts(default.json()["access_token"])[1]["oid"] == demo_vm(azlite)["principalId"]


def test_imds_user_assigned_app_service_selectors_on_the_wire(azlite, attached):
    secret = {"X-IDENTITY-HEADER": azlite.info["identityHeader"]}
    for selector, value in (
        ("client_id", attached.client_id),
        ("principal_id", attached.principal_id),
        ("object_id", attached.principal_id),
        ("mi_res_id", attached.id),
    ):
        answer = requests.get(
            f"{azlite.info['imds']}/msi/token",
            params={"api-version": "2019-08-01", "resource": ARM_RESOURCE, selector: value},
            headers=secret,
            timeout=10,
        )
        assert answer.status_code == 200, (selector, answer.text)
        assert answer.json()["client_id"] == attached.client_id, (selector, answer.json())
        assert_token_of(azlite, answer.json()["access_token"], attached.principal_id)


def test_imds_user_assigned_default_azure_credential_with_client_id(azlite, mi_env, attached):
    from azure.identity import DefaultAzureCredential

    imds_env(azlite, mi_env)
    with DefaultAzureCredential(
        managed_identity_client_id=attached.client_id,
        exclude_cli_credential=True,
        exclude_powershell_credential=True,
        exclude_developer_cli_credential=True,
    ) as credential:
        token = credential.get_token(ARM_SCOPE).token
    assert_token_of(azlite, token, attached.principal_id)


def test_imds_user_assigned_msal_over_app_service(azlite, mi_env, attached):
    import msal

    app_service_env(azlite, mi_env)
    assert msal.managed_identity.get_managed_identity_source() is msal.managed_identity.APP_SERVICE
    with requests.Session() as http:
        system = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=http)
        result = system.acquire_token_for_client(resource=ARM_RESOURCE)
        assert "access_token" in result, result
        assert_token_of(azlite, result["access_token"], demo_vm(azlite)["principalId"])
        user = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(resource_id=attached.id), http_client=http)
        result = user.acquire_token_for_client(resource=ARM_RESOURCE)
        assert "access_token" in result, result
        assert_token_of(azlite, result["access_token"], attached.principal_id)



def delete_attached(azlite, attached: Attached) -> dict[str, str]:
    """Warm IMDS's cache for the identity, then delete the identity without detaching it."""
    params = {"api-version": "2018-02-01", "resource": ARM_RESOURCE, "client_id": attached.client_id}
    assert imds_get(azlite, params).status_code == 200
    deleted = azlite.arm("DELETE", attached.id, api_version=MSI_API)
    assert deleted.status_code == 200, deleted.text
    return params


def test_imds_user_assigned_deleted_while_attached_gets_no_new_token(azlite, attached):
    """The identity is deleted, not detached (the VM keeps the dangling reference, as in
    Azure): a request IMDS must take to the STS is refused; the system identity keeps working."""
    params = delete_attached(azlite, attached)
    for extra in ({"bypass_cache": "true"}, {"resource": "https://vault.azure.net"}):
        answer = imds_get(azlite, dict(params, **extra))
        assert answer.status_code == 400, (extra, answer.text)
        assert answer.json() == {"error": "invalid_request", "error_description": "Identity not found"}, extra
    default = imds_get(azlite, {"api-version": "2018-02-01", "resource": ARM_RESOURCE})
    assert default.status_code == 200, default.text
    assert jwt_parts(default.json()["access_token"])[1]["oid"] == demo_vm(azlite)["principalId"]


def test_imds_user_assigned_deleted_while_attached_is_refused_cached_or_not(azlite, attached):
    delete_attached(azlite, attached)
    for selector, value in (("client_id", attached.client_id), ("object_id", attached.principal_id), ("msi_res_id", attached.id)):
        answer = imds_get(azlite, {"api-version": "2018-02-01", "resource": ARM_RESOURCE, selector: value})
        assert answer.status_code == 400, (selector, answer.text)
        assert answer.json() == {"error": "invalid_request", "error_description": "Identity not found"}, selector
