"""Storage accounts through ARM, as their users meet them: azure-mgmt-storage's
StorageManagementClient (its own default api-version) creating an account with
`begin_create` (an LRO the poller must see finished at once), reading, listing, updating,
listing and regenerating keys, checking names and deleting; the tutorial's listKeys curl
exactly as written; and RBAC in front of the keys.

Every SDK client gets conftest's `mgmt_options()` (ARM by path on the listener's IP host,
ARM's scope, azlite's CA).
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import (
    StorageAccountCheckNameAvailabilityParameters,
    StorageAccountCreateParameters,
    StorageAccountRegenerateKeyParameters,
    StorageAccountUpdateParameters,
)
from azure.mgmt.storage.models import Sku as StorageSku

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"


def storage_client(azlite, credential: Any = None) -> StorageManagementClient:
    return StorageManagementClient(credential or azlite.credential(), azlite.subscription_id, **azlite.mgmt_options())


def account_name(prefix: str = "st") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def statuses() -> tuple[list[int], dict[str, Any]]:
    seen: list[int] = []
    return seen, {"raw_response_hook": lambda pipeline_response: seen.append(pipeline_response.http_response.status_code)}


def create_parameters(**properties: Any) -> StorageAccountCreateParameters:
    return StorageAccountCreateParameters(
        sku=StorageSku(name="Standard_LRS"), kind="StorageV2", location="westeurope", tags={"env": "test"}, **properties
    )


def key_list(result: Any) -> list[dict[str, Any]]:
    """The `keys` of a listKeys/regenerateKey result. The SDK's models are mappings whose
    `.keys` is the mapping method, so the list is read by its wire name."""
    return list(result["keys"])


def keys_of(client: StorageManagementClient, group: str, name: str) -> dict[str, str]:
    return {k["keyName"]: k["value"] for k in key_list(client.storage_accounts.list_keys(group, name))}


def account_path(azlite, group: str, name: str) -> str:
    return f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"


def assign(azlite, scope: str, role: str, principal_id: str) -> None:
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    from conftest import authorization_client

    definition = f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    with authorization_client(azlite) as authz:
        authz.role_assignments.create(
            scope,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(role_definition_id=definition, principal_id=principal_id, principal_type=None),
        )


def test_the_sdk_creates_reads_lists_updates_and_deletes_an_account(azlite, resource_groups):
    group = resource_groups("st")
    name = account_name()
    seen, hook = statuses()
    with storage_client(azlite) as client:
        poller = client.storage_accounts.begin_create(group, name, create_parameters(), **hook)
        account = poller.result(timeout=10)
        assert poller.done()
        assert seen == [200], "the first answer is final: no polling request"
        assert account.name == name and account.type == ACCOUNT_TYPE
        assert account.location == "westeurope" and account.tags == {"env": "test"}
        assert account.kind == "StorageV2"
        assert (account.sku.name, account.sku.tier) == ("Standard_LRS", "Standard")
        props = account.properties
        assert props.provisioning_state == "Succeeded"
        assert props.primary_endpoints.blob == f"https://{name}.blob.core.windows.net/"
        assert props.primary_endpoints.dfs == f"https://{name}.dfs.core.windows.net/"
        assert props.primary_endpoints.queue == f"https://{name}.queue.core.windows.net/"
        assert props.primary_location == "westeurope"
        assert props.allow_shared_key_access is True
        assert props.is_hns_enabled is False
        assert props.enable_https_traffic_only is True
        assert props.creation_time is not None
        assert props.key_creation_time.key1 is not None

        got = client.storage_accounts.get_properties(group, name)
        assert got.id == account.id

        assert [a.name for a in client.storage_accounts.list_by_resource_group(group)] == [name]
        assert name in [a.name for a in client.storage_accounts.list()]

        updated = client.storage_accounts.update(
            group, name, StorageAccountUpdateParameters(tags={"team": "a"}, allow_shared_key_access=False)
        )
        assert updated.tags == {"team": "a"}
        assert updated.properties.allow_shared_key_access is False
        assert updated.properties.primary_endpoints.blob == props.primary_endpoints.blob, "a PATCH keeps the rest"

        keys = keys_of(client, group, name)
        assert sorted(keys) == ["key1", "key2"]
        for value in keys.values():
            assert len(value) == 88 and len(base64.b64decode(value)) == 64
        listed = key_list(client.storage_accounts.list_keys(group, name))
        assert {k["permissions"].upper() for k in listed} == {"FULL"}

        renewed = client.storage_accounts.regenerate_key(group, name, StorageAccountRegenerateKeyParameters(key_name="key1"))
        now = {k["keyName"]: k["value"] for k in key_list(renewed)}
        assert now["key1"] != keys["key1"] and now["key2"] == keys["key2"]
        assert keys_of(client, group, name) == now, "the new value is the one kept"

        seen, hook = statuses()
        client.storage_accounts.delete(group, name, **hook)
        client.storage_accounts.delete(group, name, **hook)
        assert seen == [200, 204]
        with pytest.raises(ResourceNotFoundError) as missing:
            client.storage_accounts.get_properties(group, name)
        assert missing.value.error.code == "ResourceNotFound"

        # The keys went with the account: the same name made again has new ones.
        client.storage_accounts.begin_create(group, name, create_parameters()).result()
        again = keys_of(client, group, name)
        assert set(again.values()).isdisjoint(now.values())
        client.storage_accounts.delete(group, name)


def test_account_names_are_checked_and_global(azlite, resource_groups):
    first, second = resource_groups("st-a"), resource_groups("st-b")
    name = account_name("glob")
    with storage_client(azlite) as client:
        with pytest.raises(HttpResponseError) as invalid:
            client.storage_accounts.begin_create(first, "Not-Valid", create_parameters()).result()
        assert (invalid.value.status_code, invalid.value.error.code) == (400, "AccountNameInvalid")
        assert "Storage account name must be between 3 and 24 characters" in invalid.value.error.message

        check = StorageAccountCheckNameAvailabilityParameters(name=name, type=ACCOUNT_TYPE)
        assert client.storage_accounts.check_name_availability(check).name_available is True
        client.storage_accounts.begin_create(first, name, create_parameters()).result()
        taken = client.storage_accounts.check_name_availability(check)
        assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
        bad = client.storage_accounts.check_name_availability(
            StorageAccountCheckNameAvailabilityParameters(name="UPPER", type=ACCOUNT_TYPE)
        )
        assert (bad.name_available, bad.reason) == (False, "AccountNameInvalid")

        with pytest.raises(HttpResponseError) as conflict:
            client.storage_accounts.begin_create(second, name, create_parameters()).result()
        assert (conflict.value.status_code, conflict.value.error.code) == (409, "StorageAccountAlreadyTaken")
        assert conflict.value.error.message == f"The storage account named {name} is already taken."

        # A create of the existing account updates it.
        again = client.storage_accounts.begin_create(first, name, create_parameters(allow_shared_key_access=False)).result()
        assert again.properties.allow_shared_key_access is False
        client.storage_accounts.delete(first, name)


def test_the_tutorials_list_keys_curl(azlite, resource_groups):
    """`curl https://management.azure.com/…/listKeys?api-version=2016-12-01 --request POST -d ""
    -H "Authorization: Bearer <ACCESS TOKEN>"`: an empty form-encoded body."""
    group = resource_groups("st-tut")
    name = account_name("tut")
    with storage_client(azlite) as client:
        client.storage_accounts.begin_create(group, name, create_parameters()).result()
        expected = keys_of(client, group, name)
    response = azlite.session.post(
        azlite.url(account_path(azlite, group, name) + "/listKeys?api-version=2016-12-01"),
        data="",
        headers={"Authorization": f"Bearer {azlite.owner_token()}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    keys = response.json()["keys"]
    assert [(k["keyName"], k["permissions"]) for k in keys] == [("key1", "FULL"), ("key2", "FULL")]
    assert {k["keyName"]: k["value"] for k in keys} == expected


def test_rbac_guards_the_keys(azlite, resource_groups, new_principal):
    group = resource_groups("st-rbac")
    name = account_name("rbac")
    with storage_client(azlite) as client:
        client.storage_accounts.begin_create(group, name, create_parameters()).result()
    scope = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}"
    reader, contributor = new_principal("st-reader"), new_principal("st-contributor")
    assign(azlite, scope, READER, reader.object_id)
    assign(azlite, account_path(azlite, group, name), STORAGE_ACCOUNT_CONTRIBUTOR, contributor.object_id)

    with storage_client(azlite, reader.credential()) as client:
        assert client.storage_accounts.get_properties(group, name).name == name
        with pytest.raises(HttpResponseError) as denied:
            client.storage_accounts.list_keys(group, name)
        assert (denied.value.status_code, denied.value.error.code) == (403, "AuthorizationFailed")
        message = denied.value.error.message
        assert "'Microsoft.Storage/storageAccounts/listkeys/action'" in message
        assert f"over scope '{account_path(azlite, group, name)}'" in message
        assert reader.app_id in message and reader.object_id in message
        with pytest.raises(HttpResponseError) as denied:
            client.storage_accounts.regenerate_key(group, name, StorageAccountRegenerateKeyParameters(key_name="key2"))
        assert denied.value.status_code == 403
        assert "Microsoft.Storage/storageAccounts/regeneratekey/action" in denied.value.error.message

    with storage_client(azlite, contributor.credential()) as client:
        before = keys_of(client, group, name)
        after = client.storage_accounts.regenerate_key(group, name, StorageAccountRegenerateKeyParameters(key_name="key2"))
        assert {k["keyName"]: k["value"] for k in key_list(after)}["key2"] != before["key2"]
        client.storage_accounts.delete(group, name)


def test_storage_accounts_and_keys_through_the_cli(azlite, resource_groups):
    import json

    from test_cli import cli

    group = resource_groups("st-cli", location="westeurope")
    name = account_name("cli")
    created = json.loads(cli(azlite, "storage", "account", "create", "-g", group, "-n", name, "--sku", "Standard_LRS").stdout)
    assert (created["name"], created["resourceGroup"], created["location"]) == (name, group, "westeurope")
    assert created["primaryEndpoints"]["blob"] == f"https://{name}.blob.core.windows.net/"
    assert created["provisioningState"] == "Succeeded" and created["sku"]["name"] == "Standard_LRS"

    shown = json.loads(cli(azlite, "storage", "account", "show", "-n", name).stdout)
    assert shown["id"] == created["id"]
    assert [a["name"] for a in json.loads(cli(azlite, "storage", "account", "list", "-g", group).stdout)] == [name]

    keys = json.loads(cli(azlite, "storage", "account", "keys", "list", "-n", name).stdout)
    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    renewed = json.loads(cli(azlite, "storage", "account", "keys", "renew", "-n", name, "-g", group, "--key", "secondary").stdout)
    assert renewed[0]["value"] == keys[0]["value"] and renewed[1]["value"] != keys[1]["value"]

    taken = cli(azlite, "storage", "account", "create", "-g", resource_groups("st-cli2"), "-n", name, check=False)
    assert taken.returncode != 0 and "StorageAccountAlreadyTaken" in taken.stderr
    cli(azlite, "storage", "account", "delete", "-n", name)
    missing = cli(azlite, "storage", "account", "show", "-n", name, check=False)
    assert missing.returncode != 0


def test_the_tutorials_list_service_sas_curl(azlite, resource_groups, new_principal):
    """`curl https://management.azure.com/…/listServiceSas/?api-version=2017-06-01 -X POST
    -d "{\\"canonicalizedResource\\":…}" -H "Authorization: Bearer <ACCESS TOKEN>"`: a slash
    before the query and a JSON body sent as a form."""
    group = resource_groups("st-sas")
    name = account_name("sas")
    with storage_client(azlite) as client:
        client.storage_accounts.begin_create(group, name, create_parameters()).result()
    body = (
        f'{{"canonicalizedResource":"/blob/{name}/mycontainer","signedResource":"c",'
        '"signedPermission":"rcw","signedProtocol":"https","signedExpiry":"2030-02-01T00:00:00Z"}'
    )
    url = azlite.url(account_path(azlite, group, name) + "/listServiceSas/?api-version=2017-06-01")

    def post(token: str):
        return azlite.session.post(
            url,
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-www-form-urlencoded"},
        )

    response = post(azlite.owner_token())
    assert response.status_code == 200, response.text
    token = response.json()["serviceSasToken"]
    assert token.startswith("sv=2015-04-05&") and "sr=c" in token and "sp=rcw" in token and "sig=" in token

    reader = new_principal("sas-reader")
    assign(azlite, f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}", READER, reader.object_id)
    denied = post(reader.token())
    assert denied.status_code == 403
    assert "Microsoft.Storage/storageAccounts/ListServiceSas/action" in denied.json()["error"]["message"]
