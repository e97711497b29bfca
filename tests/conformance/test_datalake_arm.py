"""Data Lake Store Gen1 accounts through ARM (api-version 2016-11-01), with `requests` as
the REST calls of the spec are written (azure-mgmt-datalake-store is a 2018 msrestazure
client that no longer installs beside the current azure-core): create, get, list, update
tags, name checks under a location, global names, delete, and RBAC in front of them."""

from __future__ import annotations

import uuid

API = "2016-11-01"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
TYPE = "Microsoft.DataLakeStore/accounts"


def account_path(azlite, group: str, name: str) -> str:
    return f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/{TYPE}/{name}"


def account_name(prefix: str = "adls") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def check(azlite, name: str, token: str | None = None):
    path = f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.DataLakeStore/locations/eastus2/checkNameAvailability"
    return azlite.arm("POST", path, {"name": name, "type": TYPE}, token=token, api_version=API)


def test_an_account_is_created_read_listed_updated_and_deleted(azlite, resource_groups):
    group = resource_groups("dls")
    name = account_name()
    path = account_path(azlite, group, name)

    created = azlite.arm("PUT", path, {"location": "eastus2", "tags": {"env": "test"}, "properties": {"defaultGroup": "grp"}}, api_version=API)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["type"], body["location"], body["tags"]) == (name, TYPE, "eastus2", {"env": "test"})
    props = body["properties"]
    assert props["endpoint"] == f"{name}.azuredatalakestore.net"
    assert (props["provisioningState"], props["state"]) == ("Succeeded", "Active")
    assert props["defaultGroup"] == "grp"
    assert str(uuid.UUID(props["accountId"])) == props["accountId"]
    assert props["encryptionState"] == "Enabled" and props["currentTier"] == "Consumption"
    assert props["creationTime"].endswith("Z")

    got = azlite.arm("GET", path, api_version=API)
    assert got.status_code == 200 and got.json() == body

    in_group = azlite.arm("GET", f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/{TYPE}", api_version=API)
    assert [a["name"] for a in in_group.json()["value"]] == [name]
    everywhere = azlite.arm("GET", f"/subscriptions/{azlite.subscription_id}/providers/{TYPE}", api_version=API)
    assert name in [a["name"] for a in everywhere.json()["value"]]

    patched = azlite.arm("PATCH", path, {"tags": {"team": "a"}}, api_version=API)
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == {"team": "a"}
    assert patched.json()["properties"]["accountId"] == props["accountId"], "the account keeps its id"

    replaced = azlite.arm("PUT", path, {"location": "eastus2"}, api_version=API)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["properties"]["accountId"] == props["accountId"]

    assert azlite.arm("DELETE", path, api_version=API).status_code == 200
    assert azlite.arm("DELETE", path, api_version=API).status_code == 204
    missing = azlite.arm("GET", path, api_version=API)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ResourceNotFound")


def test_names_are_checked_and_global(azlite, resource_groups):
    first, second = resource_groups("dls-a"), resource_groups("dls-b")
    name = account_name("glob")
    assert check(azlite, name).json() == {"nameAvailable": True}
    bad = azlite.arm("PUT", account_path(azlite, first, "Bad-Name"), {"location": "eastus2"}, api_version=API)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "InvalidResourceName")
    invalid = check(azlite, "Bad-Name").json()
    assert (invalid["nameAvailable"], invalid["reason"]) == (False, "Invalid")

    assert azlite.arm("PUT", account_path(azlite, first, name), {"location": "eastus2"}, api_version=API).status_code == 201
    taken = check(azlite, name).json()
    assert (taken["nameAvailable"], taken["reason"]) == (False, "AlreadyExists")
    conflict = azlite.arm("PUT", account_path(azlite, second, name), {"location": "eastus2"}, api_version=API)
    assert conflict.status_code == 409, conflict.text
    assert azlite.arm("DELETE", account_path(azlite, first, name), api_version=API).status_code == 200
    assert check(azlite, name).json() == {"nameAvailable": True}


def test_rbac_guards_the_account(azlite, resource_groups, new_principal):
    group = resource_groups("dls-rbac")
    name = account_name("rbac")
    path = account_path(azlite, group, name)
    assert azlite.arm("PUT", path, {"location": "eastus2"}, api_version=API).status_code == 201
    reader, nobody = new_principal("dls-reader"), new_principal("dls-nobody")
    assignment = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    role = f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    made = azlite.arm("PUT", assignment, {"properties": {"roleDefinitionId": role, "principalId": reader.object_id}}, api_version="2022-04-01")
    assert made.status_code == 201, made.text

    token = reader.token()
    assert azlite.arm("GET", path, token=token, api_version=API).status_code == 200
    denied = azlite.arm("PATCH", path, {"tags": {"x": "y"}}, token=token, api_version=API)
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "AuthorizationFailed")
    assert "'Microsoft.DataLakeStore/accounts/write'" in denied.json()["error"]["message"]
    denied = azlite.arm("DELETE", path, token=token, api_version=API)
    assert denied.status_code == 403
    hidden = azlite.arm("GET", path, token=nobody.token(), api_version=API)
    assert hidden.status_code == 403
    assert azlite.arm("DELETE", path, api_version=API).status_code == 200


def test_accounts_through_the_cli(azlite, resource_groups):
    import json

    from test_cli import cli

    group = resource_groups("dls-cli", location="eastus2")
    name = account_name("cli")
    created = json.loads(cli(azlite, "dls", "account", "create", "-g", group, "-n", name, "--default-group", "staff").stdout)
    assert (created["name"], created["resourceGroup"]) == (name, group)
    assert created["endpoint"] == f"{name}.azuredatalakestore.net" and created["defaultGroup"] == "staff"
    assert json.loads(cli(azlite, "dls", "account", "show", "-n", name).stdout)["accountId"] == created["accountId"]
    assert [a["name"] for a in json.loads(cli(azlite, "dls", "account", "list", "-g", group).stdout)] == [name]
    cli(azlite, "dls", "account", "delete", "-n", name)
    assert cli(azlite, "dls", "account", "show", "-n", name, check=False).returncode != 0
