"""The tutorial with user-assigned identities, curl-style through `requests`: the owner makes
a user-assigned identity in the demo group, attaches it to the demo VM next to its system
identity and gives it Reader on the group; the VM then asks IMDS for a token of that identity
by `client_id`, `object_id` and `msi_res_id`, and reads the group with each.

`azlite up` serves IMDS for the demo VM only, so this test changes the demo VM and puts it
back (identity detached, role assignment and identity deleted) in a finally.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests

from conftest import demo_group_path, demo_vm, demo_vm_path
from jwt_helpers import is_guid, jwt_parts

ARM = "https://management.azure.com/"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VM_API = "2018-06-01"
MSI_API = "2023-01-31"
RBAC_API = "2022-04-01"


def imds_token(azlite, **selector: str) -> requests.Response:
    """The tutorial's curl: GET with `Metadata: true`, api-version 2018-02-01."""
    return requests.get(
        f"{azlite.info['imds']}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": ARM, **selector},
        headers={"Metadata": "true"},
        timeout=10,
    )


def token_of(response: requests.Response) -> tuple[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert all(isinstance(v, str) for v in body.values()), body
    assert body["resource"] == ARM and body["token_type"] == "Bearer", body
    return body["access_token"], body


def read_group(azlite, token: str) -> requests.Response:
    return azlite.arm("GET", demo_group_path(azlite), token=token, api_version="2016-09-01")


def test_imds_tutorial_user_assigned_identity_on_the_demo_vm(azlite):
    demo = demo_vm(azlite)
    group, vm = demo_group_path(azlite), demo_vm_path(azlite)
    name = f"uai-{uuid.uuid4().hex[:8]}"
    uai_path = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    assignment = f"{group}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"

    before = azlite.arm("GET", vm, api_version=VM_API)
    assert before.status_code == 200, before.text
    assert before.json()["identity"]["type"] == "SystemAssigned", before.json()
    assert before.json()["identity"]["principalId"] == demo["principalId"]

    created = azlite.arm("PUT", uai_path, {"location": "westus"}, api_version=MSI_API)
    assert created.status_code == 201, created.text
    uai = created.json()
    uai_id = uai["id"]
    principal, client = uai["properties"]["principalId"], uai["properties"]["clientId"]
    assert is_guid(principal) and is_guid(client)
    try:
        # Attach it next to the system identity.
        attach = {"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai_id: {}}}}
        response = azlite.arm("PATCH", vm, attach, api_version=VM_API)
        assert response.status_code == 200, response.text
        identity = response.json()["identity"]
        assert identity["type"] == "SystemAssigned, UserAssigned"
        assert identity["principalId"] == demo["principalId"]

        # Reader on the group for the new identity, as the owner.
        grant = {
            "properties": {
                "roleDefinitionId": f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                "principalId": principal,
                "principalType": "ServicePrincipal",
            }
        }
        response = azlite.arm("PUT", assignment, grant, api_version=RBAC_API)
        assert response.status_code == 201, response.text

        # One token per selector: each is the user-assigned identity's and reads the group.
        tokens = {}
        for selector, value in (("client_id", client), ("object_id", principal), ("msi_res_id", uai_id)):
            token, body = token_of(imds_token(azlite, **{selector: value}))
            claims = jwt_parts(token)[1]
            assert claims["oid"] == principal, (selector, claims)
            assert claims["appid"] == client, (selector, claims)
            assert claims["xms_mirid"].lower() == uai_id.lower(), (selector, claims)
            assert body["client_id"] == client, (selector, body)
            read = read_group(azlite, token)
            assert read.status_code == 200, (selector, read.text)
            assert read.json()["name"] == demo["resourceGroup"]
            tokens[selector] = token

        # No selector: still the system identity, the VM's default.
        token, _ = token_of(imds_token(azlite))
        claims = jwt_parts(token)[1]
        assert claims["oid"] == demo["principalId"], claims
        assert claims["xms_mirid"].lower() == vm.lower(), claims

        # The role goes: the very same token is refused on the next call.
        response = azlite.arm("DELETE", assignment, api_version=RBAC_API)
        assert response.status_code == 200, response.text
        refused = read_group(azlite, tokens["client_id"])
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["code"] == "AuthorizationFailed", error
        assert principal in error["message"], error
        assert "Microsoft.Resources/subscriptions/resourceGroups/read" in error["message"], error

        # Detached, the identity is unknown to IMDS at once.
        detach = {"identity": {"type": "SystemAssigned", "userAssignedIdentities": {uai_id: None}}}
        response = azlite.arm("PATCH", vm, detach, api_version=VM_API)
        assert response.status_code == 200, response.text
        for selector, value in (("client_id", client), ("object_id", principal), ("msi_res_id", uai_id)):
            answer = imds_token(azlite, **{selector: value})
            assert answer.status_code == 400, (selector, answer.text)
            assert answer.json() == {"error": "invalid_request", "error_description": "Identity not found"}, selector
        # The system identity is untouched.
        token, _ = token_of(imds_token(azlite))
        assert jwt_parts(token)[1]["oid"] == demo["principalId"]
        assert read_group(azlite, token).status_code == 200
    finally:
        restore = {"identity": {"type": "SystemAssigned", "userAssignedIdentities": {uai_id: None}}}
        azlite.arm("PATCH", vm, restore, api_version=VM_API)
        azlite.arm("DELETE", assignment, api_version=RBAC_API)
        azlite.arm("DELETE", uai_path, api_version=MSI_API)
    after = azlite.arm("GET", vm, api_version=VM_API).json()["identity"]
    assert after == before.json()["identity"]
