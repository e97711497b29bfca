"""Key vaults through ARM, as their users meet them: azure-mgmt-keyvault's
KeyVaultManagementClient (its own default api-version) creating a vault with
`begin_create_or_update` (an LRO the poller must see finished at once), reading, listing,
updating, changing access policies, checking names and deleting; and RBAC in front of it.

Every SDK client gets conftest's `mgmt_options()` (ARM by path on the listener's IP host,
ARM's scope, azlite's CA).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    Sku,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
    VaultCheckNameAvailabilityParameters,
    VaultCreateOrUpdateParameters,
    VaultPatchParameters,
    VaultPatchProperties,
    VaultProperties,
)

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VAULT_TYPE = "Microsoft.KeyVault/vaults"


def keyvault_client(azlite, credential: Any = None) -> KeyVaultManagementClient:
    return KeyVaultManagementClient(credential or azlite.credential(), azlite.subscription_id, **azlite.mgmt_options())


def vault_name(prefix: str = "kv") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def statuses() -> tuple[list[int], dict[str, Any]]:
    seen: list[int] = []
    return seen, {"raw_response_hook": lambda pipeline_response: seen.append(pipeline_response.http_response.status_code)}


def create_parameters(azlite, object_id: str, secrets: list[str], **properties: Any) -> VaultCreateOrUpdateParameters:
    return VaultCreateOrUpdateParameters(
        location="westeurope",
        tags={"env": "test"},
        properties=VaultProperties(
            tenant_id=azlite.tenant,
            sku=Sku(family="A", name="standard"),
            access_policies=[
                AccessPolicyEntry(tenant_id=azlite.tenant, object_id=object_id, permissions=Permissions(secrets=secrets))
            ],
            **properties,
        ),
    )


def test_the_sdk_creates_reads_lists_updates_and_deletes_a_vault(azlite, resource_groups, owner_whoami):
    group = resource_groups("kv")
    name = vault_name()
    seen, hook = statuses()
    with keyvault_client(azlite) as client:
        poller = client.vaults.begin_create_or_update(
            group, name, create_parameters(azlite, owner_whoami["oid"], ["get", "list", "set"]), **hook
        )
        vault = poller.result(timeout=10)
        assert poller.done()
        assert seen == [201], "the first answer is final: no polling request"
        assert vault.name == name and vault.type == VAULT_TYPE
        assert vault.location == "westeurope" and vault.tags == {"env": "test"}
        props = vault.properties
        assert props.tenant_id == azlite.tenant
        assert props.sku.name == "standard" and props.sku.family == "A"
        assert props.vault_uri == f"https://{name}.vault.azure.net/"
        assert props.provisioning_state == "Succeeded"
        assert props.enable_soft_delete is True and props.soft_delete_retention_in_days == 90
        assert props.enable_rbac_authorization is False
        (policy,) = props.access_policies
        assert policy.object_id == owner_whoami["oid"]
        assert policy.permissions.secrets == ["get", "list", "set"]

        got = client.vaults.get(group, name)
        assert got.id == vault.id and got.properties.vault_uri == props.vault_uri

        assert [v.name for v in client.vaults.list_by_resource_group(group)] == [name]
        assert name in [v.name for v in client.vaults.list_by_subscription()]
        # `vaults.list()` goes through `/resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults'`.
        listed = list(client.vaults.list())
        assert name in [v.name for v in listed]
        assert {v.type for v in listed} == {VAULT_TYPE}

        updated = client.vaults.update(
            group, name, VaultPatchParameters(tags={"team": "a"}, properties=VaultPatchProperties(enabled_for_deployment=True))
        )
        assert updated.tags == {"team": "a"}
        assert updated.properties.enabled_for_deployment is True
        assert len(updated.properties.access_policies) == 1, "a PATCH keeps what it does not send"

        seen, hook = statuses()
        client.vaults.delete(group, name, **hook)
        client.vaults.delete(group, name, **hook)
        assert seen == [200, 204]
        with pytest.raises(ResourceNotFoundError) as missing:
            client.vaults.get(group, name)
        assert missing.value.error.code == "ResourceNotFound"


def test_access_policy_updates_merge_add_and_remove(azlite, resource_groups):
    group = resource_groups("kv-ap")
    name = vault_name("kv-ap")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    def entry(object_id: str, secrets: list[str]) -> AccessPolicyEntry:
        return AccessPolicyEntry(tenant_id=azlite.tenant, object_id=object_id, permissions=Permissions(secrets=secrets))

    def parameters(*entries: AccessPolicyEntry) -> VaultAccessPolicyParameters:
        return VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=list(entries)))

    with keyvault_client(azlite) as client:
        client.vaults.begin_create_or_update(group, name, create_parameters(azlite, first, ["get"])).result()
        answer = client.vaults.update_access_policy(group, name, "add", parameters(entry(first, ["list"]), entry(second, ["get"])))
        assert [p.object_id for p in answer.properties.access_policies] == [first, second]
        policies = {p.object_id: p.permissions.secrets for p in client.vaults.get(group, name).properties.access_policies}
        assert policies == {first: ["get", "list"], second: ["get"]}

        client.vaults.update_access_policy(group, name, "remove", parameters(entry(first, ["get"]), entry(second, ["get"])))
        policies = {p.object_id: p.permissions.secrets for p in client.vaults.get(group, name).properties.access_policies}
        assert policies == {first: ["list"]}, "an entry left without permissions is dropped"

        client.vaults.update_access_policy(group, name, "replace", parameters(entry(second, ["all"])))
        (only,) = client.vaults.get(group, name).properties.access_policies
        assert (only.object_id, only.permissions.secrets) == (second, ["all"])

        with pytest.raises(HttpResponseError) as bad:
            client.vaults.update_access_policy(group, name, "add", parameters(entry(first, ["gett"])))
        assert bad.value.status_code == 400


def test_vault_names_are_checked_and_global(azlite, resource_groups):
    one, two = resource_groups("kv-n1"), resource_groups("kv-n2")
    name = vault_name("kv-g")
    with keyvault_client(azlite) as client:
        def check(candidate: str) -> Any:
            return client.vaults.check_name_availability(VaultCheckNameAvailabilityParameters(name=candidate, type=VAULT_TYPE))

        assert check(name).name_available is True
        client.vaults.begin_create_or_update(one, name, create_parameters(azlite, str(uuid.uuid4()), ["get"])).result()
        taken = check(name.upper())
        assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
        invalid = check("1-bad")
        assert (invalid.name_available, invalid.reason) == (False, "AccountNameInvalid")

        with pytest.raises(ResourceExistsError) as conflict:
            client.vaults.begin_create_or_update(two, name, create_parameters(azlite, str(uuid.uuid4()), ["get"])).result()
        assert conflict.value.error.code == "VaultAlreadyExists"
        with pytest.raises(HttpResponseError) as bad_name:
            client.vaults.begin_create_or_update(two, "my--vault", create_parameters(azlite, str(uuid.uuid4()), ["get"])).result()
        assert bad_name.value.error.code == "VaultNameNotValid"


def test_rbac_guards_the_vault(azlite, resource_groups, new_principal):
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    from conftest import authorization_client

    group = resource_groups("kv-rbac")
    name = vault_name("kv-r")
    with keyvault_client(azlite) as client:
        client.vaults.begin_create_or_update(group, name, create_parameters(azlite, str(uuid.uuid4()), ["get"])).result()
    reader, nobody = new_principal("kv-reader"), new_principal("kv-nobody")
    scope = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}"
    role = f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    with authorization_client(azlite) as authz:
        authz.role_assignments.create(
            scope, str(uuid.uuid4()), RoleAssignmentCreateParameters(role_definition_id=role, principal_id=reader.object_id, principal_type=None)
        )

    with keyvault_client(azlite, reader.credential()) as client:
        assert client.vaults.get(group, name).name == name
        with pytest.raises(HttpResponseError) as denied:
            client.vaults.update(group, name, VaultPatchParameters(tags={"x": "y"}))
        assert (denied.value.status_code, denied.value.error.code) == (403, "AuthorizationFailed")
        assert "Microsoft.KeyVault/vaults/write" in denied.value.error.message
        with pytest.raises(HttpResponseError) as denied:
            client.vaults.delete(group, name)
        assert denied.value.status_code == 403
    with keyvault_client(azlite, nobody.credential()) as client:
        with pytest.raises(HttpResponseError) as denied:
            client.vaults.get(group, name)
        assert (denied.value.status_code, denied.value.error.code) == (403, "AuthorizationFailed")
