"""Managed identities through ARM, as their users meet them: azure-mgmt-msi's
ManagedServiceIdentityClient creating, reading, listing and deleting user-assigned identities
(and reading a VM's system identity), and the VM tutorial's REST calls (DOC-VMREST: PUT a VM
with a system-assigned identity, PATCH user-assigned identities on and off) through `requests`.

Every SDK client gets conftest's `mgmt_options()` (ARM by path on the listener's IP host,
ARM's scope, azlite's CA); raw calls go through `azlite.arm()` with the tutorial's api-version.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.msi.models import Identity, IdentityUpdate

from conftest import authorization_client, msi_client
from jwt_helpers import is_guid

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
UAI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
# The VM tutorial's api-version (DOC-VMREST); 2017-12-01 for the old `identityIds` form.
VM_API = "2018-06-01"


def statuses() -> tuple[list[int], dict[str, Any]]:
    """A list that fills with the HTTP status of every response of one SDK call, and the
    keyword argument that makes the call fill it."""
    seen: list[int] = []
    return seen, {"raw_response_hook": lambda pipeline_response: seen.append(pipeline_response.http_response.status_code)}


def group_id(azlite, name: str) -> str:
    return f"/subscriptions/{azlite.subscription_id}/resourceGroups/{name}"


def identity_id(azlite, group: str, name: str, groups_segment: str = "resourceGroups") -> str:
    return f"/subscriptions/{azlite.subscription_id}/{groups_segment}/{group}/providers/{UAI_TYPE}/{name}"


def vm_id(azlite, group: str, name: str) -> str:
    return f"{group_id(azlite, group)}/providers/Microsoft.Compute/virtualMachines/{name}"


def role_id(azlite, guid: str) -> str:
    return f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def assign(azlite, scope: str, guid: str, principal_id: str) -> Any:
    """The owner grants a role with azure-mgmt-authorization, without principalType, as
    `az vm identity assign --role` does (reference §4.7: `principal_type=None`, which the
    model would otherwise default to `User`)."""
    parameters = RoleAssignmentCreateParameters(role_definition_id=role_id(azlite, guid), principal_id=principal_id, principal_type=None)
    with authorization_client(azlite) as client:
        return client.role_assignments.create(scope, str(uuid.uuid4()), parameters)


def assign_raw(azlite, scope: str, guid: str, principal_id: str) -> Any:
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    return azlite.arm("PUT", path, {"properties": {"roleDefinitionId": role_id(azlite, guid), "principalId": principal_id}})


def tutorial_vm(azlite, group: str, identity: dict[str, Any]) -> dict[str, Any]:
    """The VM body of the tutorial (DOC-VMREST), with the given identity block."""
    return {
        "location": "westus",
        "name": "myVM",
        "identity": identity,
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2_v2"},
            "storageProfile": {
                "imageReference": {"sku": "2016-Datacenter", "publisher": "MicrosoftWindowsServer", "version": "latest", "offer": "WindowsServer"},
                "osDisk": {"caching": "ReadWrite", "managedDisk": {"storageAccountType": "StandardSSD_LRS"}, "name": "myVM3osdisk", "createOption": "FromImage"},
            },
            "osProfile": {"adminUsername": "azureuser", "computerName": "myVM", "adminPassword": "myPassword12"},
            "networkProfile": {
                "networkInterfaces": [
                    {"id": f"{group_id(azlite, group)}/providers/Microsoft.Network/networkInterfaces/myNic", "properties": {"primary": True}}
                ]
            },
        },
    }


def create_identity(azlite, group: str, name: str) -> Any:
    with msi_client(azlite) as client:
        return client.user_assigned_identities.create_or_update(group, name, Identity(location="westus"))


# ---------------------------------------------------------------------------------------
# User-assigned identities through azure-mgmt-msi
# ---------------------------------------------------------------------------------------


def test_arm_identity_user_assigned_lifecycle_with_the_sdk(azlite, resource_groups):
    group = resource_groups("msi")
    name = f"id-{uuid.uuid4().hex[:8]}"
    with msi_client(azlite) as client:
        seen, hook = statuses()
        created = client.user_assigned_identities.create_or_update(group, name, Identity(location="westus", tags={"env": "test"}), **hook)
        again = client.user_assigned_identities.create_or_update(group, name, Identity(location="westus", tags={"env": "test"}), **hook)
        assert seen == [201, 200]
        assert created.name == name
        assert created.type == UAI_TYPE
        assert created.id.lower() == identity_id(azlite, group, name).lower()
        assert created.location == "westus"
        assert created.tags == {"env": "test"}
        assert created.tenant_id == azlite.tenant
        assert is_guid(created.principal_id) and is_guid(created.client_id)
        assert created.principal_id != created.client_id
        # A second PUT updates: the identity keeps its principal.
        assert (again.principal_id, again.client_id) == (created.principal_id, created.client_id)

        got = client.user_assigned_identities.get(group, name)
        assert (got.principal_id, got.client_id, got.tenant_id) == (created.principal_id, created.client_id, azlite.tenant)

        updated = client.user_assigned_identities.update(group, name, IdentityUpdate(tags={"team": "a"}))
        assert updated.tags == {"team": "a"}
        assert updated.principal_id == created.principal_id

        by_group = list(client.user_assigned_identities.list_by_resource_group(group))
        assert [i.name for i in by_group] == [name]
        by_subscription = list(client.user_assigned_identities.list_by_subscription())
        assert name in [i.name for i in by_subscription]

        seen, hook = statuses()
        client.user_assigned_identities.delete(group, name, **hook)
        client.user_assigned_identities.delete(group, name, **hook)
        assert seen == [200, 204]
        with pytest.raises(ResourceNotFoundError) as raised:
            client.user_assigned_identities.get(group, name)
        assert raised.value.error.code == "ResourceNotFound"
        assert raised.value.error.message == (
            f"The Resource '{UAI_TYPE}/{name}' under resource group '{group}' was not found. "
            "For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        )
        assert name not in [i.name for i in client.user_assigned_identities.list_by_subscription()]


def test_arm_identity_principal_takes_a_role_at_once(azlite, resource_groups):
    group = resource_groups("msi-role")
    identity = create_identity(azlite, group, "role-holder")
    # No replication delay: the very next call may grant the principal a role.
    assignment = assign(azlite, group_id(azlite, group), READER, identity.principal_id)
    assert assignment.principal_id == identity.principal_id
    assert assignment.principal_type == "ServicePrincipal"
    # Once the identity is deleted its principal is gone from the directory.
    with msi_client(azlite) as client:
        client.user_assigned_identities.delete(group, "role-holder")
    response = assign_raw(azlite, group_id(azlite, group), CONTRIBUTOR, identity.principal_id)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "PrincipalNotFound"


def test_arm_identity_in_a_missing_group_is_not_found(azlite, resource_groups):
    group = resource_groups("msi-missing", create=False)
    with msi_client(azlite) as client, pytest.raises(ResourceNotFoundError) as raised:
        client.user_assigned_identities.create_or_update(group, "id1", Identity(location="westus"))
    assert raised.value.error.code == "ResourceGroupNotFound"


def test_arm_identity_old_preview_answers_client_secret_url(azlite, resource_groups):
    group = resource_groups("msi-preview")
    path = identity_id(azlite, group, "legacy")
    response = azlite.arm("PUT", path, {"location": "westus"}, api_version="2015-08-31-preview")
    assert response.status_code == 201, response.text
    properties = response.json()["properties"]
    assert properties["tenantId"] == azlite.tenant
    assert properties["clientSecretUrl"].startswith("https://")
    assert properties["principalId"] in properties["clientSecretUrl"]
    current = azlite.arm("GET", path, api_version="2023-01-31").json()["properties"]
    assert "clientSecretUrl" not in current
    assert current["principalId"] == properties["principalId"]


# ---------------------------------------------------------------------------------------
# The VM tutorial's REST calls
# ---------------------------------------------------------------------------------------


def test_arm_identity_vm_tutorial_system_and_user_assigned(azlite, resource_groups):
    group = resource_groups("myResourceGroup")
    identity = create_identity(azlite, group, "ID1")
    vm = vm_id(azlite, group, "myVM")

    # Create the VM with a system-assigned identity.
    response = azlite.arm("PUT", vm, tutorial_vm(azlite, group, {"type": "SystemAssigned"}), api_version=VM_API)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["identity"]["type"] == "SystemAssigned"
    assert created["identity"]["tenantId"] == azlite.tenant
    system = created["identity"]["principalId"]
    assert is_guid(system)
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert is_guid(created["properties"]["vmId"])
    assert created["properties"]["osProfile"]["computerName"] == "myVM"

    # The tutorial's next step: grant the identity a role.
    assert assign(azlite, vm, READER, system).principal_id == system

    # The system identity through azure-mgmt-msi.
    with msi_client(azlite) as client:
        default = client.system_assigned_identities.get_by_scope(vm.lstrip("/"))
    assert (default.principal_id, default.tenant_id) == (system, azlite.tenant)
    assert is_guid(default.client_id)

    # Add the user-assigned identity, written as loosely as the tutorial writes it.
    loose_key = identity_id(azlite, group, "ID1", groups_segment="resourcegroups")
    body = {"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {loose_key: {}}}}
    response = azlite.arm("PATCH", vm, body, api_version=VM_API)
    assert response.status_code == 200, response.text
    both = response.json()["identity"]
    assert both["type"] == "SystemAssigned, UserAssigned"
    assert both["principalId"] == system
    [(key, value)] = both["userAssignedIdentities"].items()
    assert key.lower() == loose_key.lower()
    assert value == {"principalId": identity.principal_id, "clientId": identity.client_id}

    # A GET as the tutorial says to check before changing identities.
    shown = azlite.arm("GET", vm, api_version=VM_API).json()
    assert shown["identity"] == both
    assert shown["properties"]["vmId"] == created["properties"]["vmId"]

    # Remove the user-assigned identity with null (another casing of its id), keep the system one.
    body = {"identity": {"type": "SystemAssigned", "userAssignedIdentities": {identity_id(azlite, group, "id1"): None}}}
    response = azlite.arm("PATCH", vm, body, api_version=VM_API)
    assert response.status_code == 200, response.text
    assert response.json()["identity"] == {"type": "SystemAssigned", "principalId": system, "tenantId": azlite.tenant}

    # Disable the system identity: its principal leaves the directory.
    response = azlite.arm("PATCH", vm, {"identity": {"type": "None"}}, api_version=VM_API)
    assert response.status_code == 200, response.text
    assert "identity" not in response.json()
    response = assign_raw(azlite, vm, CONTRIBUTOR, system)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "PrincipalNotFound"
    with msi_client(azlite) as client, pytest.raises(ResourceNotFoundError):
        client.system_assigned_identities.get_by_scope(vm.lstrip("/"))

    # The user-assigned identity itself is untouched.
    with msi_client(azlite) as client:
        assert client.user_assigned_identities.get(group, "ID1").principal_id == identity.principal_id

    assert azlite.arm("DELETE", vm, api_version=VM_API).status_code == 200
    assert azlite.arm("DELETE", vm, api_version=VM_API).status_code == 204


def test_arm_identity_vm_old_identity_ids_form(azlite, resource_groups):
    group = resource_groups("vm-old")
    first, second = create_identity(azlite, group, "ID1"), create_identity(azlite, group, "ID2")
    vm = vm_id(azlite, group, "myVM")
    ids = [identity_id(azlite, group, n, groups_segment="resourcegroups") for n in ("ID1", "ID2")]
    body = tutorial_vm(azlite, group, {"type": "userAssigned", "identityIds": ids})
    response = azlite.arm("PUT", vm, body, api_version="2017-12-01")
    assert response.status_code == 201, response.text
    attached = response.json()["identity"]
    assert attached["type"] == "UserAssigned"
    assert "principalId" not in attached
    assert sorted(v["principalId"] for v in attached["userAssignedIdentities"].values()) == sorted(
        [first.principal_id, second.principal_id]
    )
    # The list is the whole set: keep ID1 only.
    response = azlite.arm("PATCH", vm, {"identity": {"type": "UserAssigned", "identityIds": ids[:1]}}, api_version="2017-12-01")
    assert response.status_code == 200, response.text
    assert list(response.json()["identity"]["userAssignedIdentities"]) == ids[:1]


def test_arm_identity_vm_with_an_identity_that_does_not_exist(azlite, resource_groups):
    group = resource_groups("vm-missing-id")
    vm = vm_id(azlite, group, "myVM")
    missing = identity_id(azlite, group, "nobody")
    body = tutorial_vm(azlite, group, {"type": "UserAssigned", "userAssignedIdentities": {missing: {}}})
    response = azlite.arm("PUT", vm, body, api_version=VM_API)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "FailedIdentityOperation"
    assert missing in error["message"]
    # Nothing was created.
    assert azlite.arm("GET", vm, api_version=VM_API).status_code == 404


def test_arm_identity_attaching_needs_managed_identity_operator(azlite, resource_groups, new_principal):
    vms, ids = resource_groups("vms"), resource_groups("ids")
    create_identity(azlite, ids, "shared")
    uai = identity_id(azlite, ids, "shared")
    vm = vm_id(azlite, vms, "vm1")
    assert azlite.arm("PUT", vm, tutorial_vm(azlite, vms, {"type": "None"}), api_version=VM_API).status_code == 201
    operator = new_principal("vm-contributor")
    assign(azlite, group_id(azlite, vms), CONTRIBUTOR, operator.object_id)

    attach = {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uai: {}}}}
    response = azlite.arm("PATCH", vm, attach, token=operator.token(), api_version=VM_API)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "LinkedAuthorizationFailed"
    assert error["message"] == (
        f"The client '{operator.app_id}' with object id '{operator.object_id}' has permission to perform action "
        f"'Microsoft.Compute/virtualMachines/write' on scope '{vm}'; however, it does not have permission to perform "
        f"action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '{uai}' "
        "or the linked scope(s) are invalid."
    )
    assert "identity" not in azlite.arm("GET", vm, api_version=VM_API).json()

    # Managed Identity Operator on the identity is what the tutorial asks for.
    assign(azlite, uai, MANAGED_IDENTITY_OPERATOR, operator.object_id)
    response = azlite.arm("PATCH", vm, attach, token=operator.token(), api_version=VM_API)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["type"] == "UserAssigned"


def test_arm_identity_vms_and_identities_show_in_the_generic_list(azlite, resource_groups):
    group = resource_groups("generic")
    create_identity(azlite, group, "listed")
    vm = vm_id(azlite, group, "vm1")
    response = azlite.arm("PUT", vm, {"location": "westus", "identity": {"type": "SystemAssigned"}}, api_version=VM_API)
    assert response.status_code == 201, response.text
    principal = response.json()["identity"]["principalId"]
    listed = azlite.arm("GET", f"{group_id(azlite, group)}/resources").json()["value"]
    by_type = {r["type"]: r for r in listed}
    assert set(by_type) == {UAI_TYPE, "Microsoft.Compute/virtualMachines"}
    assert by_type["Microsoft.Compute/virtualMachines"]["identity"]["principalId"] == principal
    vms = azlite.arm("GET", f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Compute/virtualMachines", api_version=VM_API)
    assert vm.lower() in [v["id"].lower() for v in vms.json()["value"]]
