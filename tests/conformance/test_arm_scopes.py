"""Role assignments at scopes that are not scopes (issue 10, finding 1): ARM answers 400
before writing anything, through raw requests and the real azure-mgmt-authorization client,
and `azlite up` restarts on the same data directory afterwards.

Before the fix, `…/resourceGroups//providers/Microsoft.Authorization/roleAssignments/G` was
read as the scope `…/resourceGroups`, committed, refused by the in-memory index (500), and
from then on `azlite up` refused to start."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

from conftest import authorization_client

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def body(azlite, role: str, principal: str) -> dict:
    return {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
        }
    }


def put_raw(azlite, scope_path: str, role: str, principal: str, token: str | None = None):
    name = uuid.uuid4()
    path = f"{scope_path}/providers/Microsoft.Authorization/roleAssignments/{name}"
    return azlite.arm("PUT", path, body(azlite, role, principal), token=token, api_version="2022-04-01")


def test_invalid_scopes_get_400_and_the_data_dir_restarts(azlite_factory):
    first = azlite_factory.start()
    sub = f"/subscriptions/{first.subscription_id}"
    rg = f"{sub}/resourceGroups/scopes-rg"
    created = first.arm("PUT", rg, {"location": "westus"})
    assert created.status_code == 201, created.text
    app = first.create_app(displayName="scopes-member", password=True)
    member = app["servicePrincipalObjectId"]
    listed = first.arm("GET", f"{sub}/providers/Microsoft.Authorization/roleAssignments", api_version="2022-04-01")
    assert listed.status_code == 200, listed.text
    before = len(listed.json()["value"])

    for scope in (
        f"{sub}/resourceGroups/",  # the empty segment the parser used to drop
        f"{sub}/resourceGroups",
        f"{rg}/providers/Microsoft.Compute",
        f"{rg}/providers/Microsoft.Compute/virtualMachines",
        f"{sub}/resourceGroups/scopes-rg%2Fproviders%2FMicrosoft.Compute",
    ):
        answer = put_raw(first, scope, READER, member)
        assert answer.status_code == 400, (scope, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "InvalidCreateRoleAssignmentRequest", (scope, error)
        assert error["message"].startswith("The request to create role assignment '"), error

    # An Owner of the group alone, with the real SDK, at a bare provider namespace inside it.
    granted = put_raw(first, rg, OWNER, member)
    assert granted.status_code == 201, granted.text
    client = authorization_client(first, first.credential(app["appId"], app["password"]))
    with pytest.raises(HttpResponseError) as refused:
        client.role_assignments.create(
            f"{rg}/providers/Microsoft.Compute",
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(
                role_definition_id=body(first, READER, member)["properties"]["roleDefinitionId"],
                principal_id=member,
                principal_type="ServicePrincipal",
            ),
        )
    assert refused.value.status_code == 400
    assert refused.value.error.code == "InvalidCreateRoleAssignmentRequest"

    listed = first.arm("GET", f"{sub}/providers/Microsoft.Authorization/roleAssignments", api_version="2022-04-01")
    assert len(listed.json()["value"]) == before + 1, "only the valid assignment was written"

    data_dir = first.data_dir
    assert first.stop() == 0
    second = azlite_factory.start(data_dir)
    group = second.arm("GET", rg)
    assert group.status_code == 200, group.text
    # The member's Owner on the group came back with it.
    member_token = second.client_credentials(app["appId"], app["password"])
    read = second.arm("GET", rg, token=member_token)
    assert read.status_code == 200, read.text
