"""The az-style CLI (`azlite group|role|identity|vm …`) against a running azlite: an HTTPS
client of ARM like any other, authenticated as the owner from connection.json."""

from __future__ import annotations

import json
import subprocess
import uuid

from conftest import azlite_bin


def cli(azlite, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(azlite_bin()), "--data-dir", str(azlite.data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert result.returncode == 0, f"{args}: {result.stderr}"
    return result


def test_group_lifecycle_through_the_cli(azlite):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = json.loads(cli(azlite, "group", "create", "-n", name, "-l", "westeurope", "--tags", "env=dev").stdout)
    assert created["name"] == name
    assert created["location"] == "westeurope"
    assert created["tags"] == {"env": "dev"}
    assert created["properties"]["provisioningState"] == "Succeeded"
    shown = json.loads(cli(azlite, "group", "show", "-n", name.upper()).stdout)
    assert shown["name"] == name, "ARM keeps the casing of creation"
    listed = json.loads(cli(azlite, "group", "list").stdout)
    assert name in [g["name"] for g in listed]
    cli(azlite, "group", "delete", "-n", name, "--yes")
    missing = cli(azlite, "group", "show", "-n", name, check=False)
    assert missing.returncode != 0
    assert "ResourceGroupNotFound" in missing.stderr


def test_role_assignments_through_the_cli(azlite):
    name = f"cli-role-{uuid.uuid4().hex[:8]}"
    cli(azlite, "group", "create", "-n", name, "-l", "eastus")
    app = azlite.admin("POST", "applications", json={"displayName": name, "password": True}).json()
    scope = f"/subscriptions/{azlite.info['subscriptionId']}/resourceGroups/{name}"
    created = json.loads(
        cli(azlite, "role", "assignment", "create", "--assignee-object-id", app["servicePrincipalObjectId"],
            "--role", "Reader", "--scope", scope).stdout
    )
    assert created["principalId"] == app["servicePrincipalObjectId"]
    assert created["principalType"] == "ServicePrincipal"
    assert created["roleDefinitionId"].endswith("acdd72a7-3385-48ef-bd42-f606fba81ae7")
    listed = json.loads(
        cli(azlite, "role", "assignment", "list", "--assignee-object-id", app["servicePrincipalObjectId"], "--scope", scope).stdout
    )
    assert [a["id"] for a in listed] == [created["id"]]
    again = cli(azlite, "role", "assignment", "create", "--assignee-object-id", app["servicePrincipalObjectId"],
                "--role", "Reader", "--scope", scope, check=False)
    assert again.returncode != 0 and "RoleAssignmentExists" in again.stderr
    cli(azlite, "role", "assignment", "delete", "--assignee-object-id", app["servicePrincipalObjectId"],
        "--role", "Reader", "--scope", scope)
    assert json.loads(cli(azlite, "role", "assignment", "list", "--assignee-object-id",
                          app["servicePrincipalObjectId"], "--scope", scope).stdout) == []
    readers = json.loads(cli(azlite, "role", "definition", "list", "--name", "Reader").stdout)
    assert [r["roleName"] for r in readers] == ["Reader"]


def test_bad_input_gets_a_clear_message_and_a_non_zero_exit(azlite):
    unknown_role = cli(azlite, "role", "assignment", "create", "--assignee-object-id", str(uuid.uuid4()),
                       "--role", "No Such Role", check=False)
    assert unknown_role.returncode != 0
    assert "Role 'No Such Role' doesn't exist." in unknown_role.stderr
    missing_flag = cli(azlite, "group", "create", "-n", "x", check=False)
    assert missing_flag.returncode != 0
    assert "--location" in missing_flag.stderr
    bad_tag = cli(azlite, "group", "create", "-n", "x", "-l", "eastus", "--tags", "=v", check=False)
    assert bad_tag.returncode != 0 and "tag needs a name" in bad_tag.stderr


def test_identities_and_vm_identities_through_the_cli(azlite):
    group = f"cli-vm-{uuid.uuid4().hex[:8]}"
    cli(azlite, "group", "create", "-n", group, "-l", "eastus")
    identity = json.loads(cli(azlite, "identity", "create", "-g", group, "-n", "app-id").stdout)
    assert identity["name"] == "app-id" and identity["resourceGroup"] == group
    assert identity["location"] == "eastus", "the group's location by default"
    for key in ("clientId", "principalId", "tenantId"):
        uuid.UUID(identity[key])
    listed = json.loads(cli(azlite, "identity", "list", "-g", group).stdout)
    assert [i["principalId"] for i in listed] == [identity["principalId"]]

    vm = json.loads(cli(azlite, "vm", "create", "-g", group, "-n", "vm1", "--assign-identity").stdout)
    system = vm["identity"]["principalId"]
    assert vm["identity"]["type"] == "SystemAssigned"
    assigned = json.loads(cli(azlite, "vm", "identity", "assign", "-g", group, "-n", "vm1", "--identities", "app-id").stdout)
    assert assigned["systemAssignedIdentity"] == system, "assigning a user identity keeps the system one"
    (key,) = assigned["userAssignedIdentities"].keys()
    assert key.lower().endswith("/userassignedidentities/app-id")
    assert assigned["userAssignedIdentities"][key]["principalId"] == identity["principalId"]
    shown = json.loads(cli(azlite, "vm", "identity", "show", "-g", group, "-n", "vm1").stdout)
    assert shown["type"] == "SystemAssigned, UserAssigned"
    removed = json.loads(cli(azlite, "vm", "identity", "remove", "-g", group, "-n", "vm1").stdout)
    assert removed["systemAssignedIdentity"] == "" and list(removed["userAssignedIdentities"]) == [key]
    # The system identity's principal is gone from the directory with it.
    gone = cli(azlite, "role", "assignment", "create", "--assignee-object-id", system, "--role", "Reader",
               "--scope", f"/subscriptions/{azlite.info['subscriptionId']}/resourceGroups/{group}", check=False)
    assert gone.returncode != 0 and "PrincipalNotFound" in gone.stderr
    cli(azlite, "identity", "delete", "-g", group, "-n", "app-id")
    assert json.loads(cli(azlite, "identity", "list", "-g", group).stdout) == []


def test_keyvault_lifecycle_and_set_policy_through_the_cli(azlite):
    group = f"cli-kv-{uuid.uuid4().hex[:8]}"
    name = f"cli-kv-{uuid.uuid4().hex[:10]}"
    owner = azlite.admin("GET", "whoami").json()["oid"]
    cli(azlite, "group", "create", "-n", group, "-l", "westeurope")
    vault = json.loads(cli(azlite, "keyvault", "create", "-g", group, "-n", name).stdout)
    assert vault["name"] == name and vault["resourceGroup"] == group
    assert vault["location"] == "westeurope", "the group's location by default"
    props = vault["properties"]
    assert props["vaultUri"] == f"https://{name}.vault.azure.net/"
    assert props["enableRbacAuthorization"] is False and props["softDeleteRetentionInDays"] == 90
    # As az: the creator gets every permission of every kind.
    assert props["accessPolicies"] == [{
        "tenantId": azlite.tenant,
        "objectId": owner,
        "permissions": {"keys": ["all"], "secrets": ["all"], "certificates": ["all"], "storage": ["all"]},
    }]
    again = cli(azlite, "keyvault", "create", "-g", group, "-n", name, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr

    app = str(uuid.uuid4())
    cli(azlite, "keyvault", "set-policy", "-n", name, "--object-id", app, "--secret-permissions", "get", "list", "get")
    set_again = json.loads(cli(azlite, "keyvault", "set-policy", "-n", name, "-g", group, "--object-id", app,
                               "--key-permissions", "wrapKey").stdout)
    entry = next(p for p in set_again["properties"]["accessPolicies"] if p["objectId"] == app)
    assert entry["permissions"]["secrets"] == ["get", "list"], "kinds not given stay; duplicates dropped"
    assert entry["permissions"]["keys"] == ["wrapKey"]
    replaced = json.loads(cli(azlite, "keyvault", "set-policy", "-n", name, "--object-id", app,
                              "--secret-permissions", "set").stdout)
    entry = next(p for p in replaced["properties"]["accessPolicies"] if p["objectId"] == app)
    assert entry["permissions"]["secrets"] == ["set"], "the kinds given are replaced, not merged"
    bad = cli(azlite, "keyvault", "set-policy", "-n", name, "--object-id", app, "--secret-permissions", "gett", check=False)
    assert bad.returncode != 0 and "BadRequest" in bad.stderr

    shown = json.loads(cli(azlite, "keyvault", "show", "-n", name).stdout)
    assert shown["id"] == vault["id"]
    assert [v["name"] for v in json.loads(cli(azlite, "keyvault", "list", "-g", group).stdout)] == [name]
    assert name in [v["name"] for v in json.loads(cli(azlite, "keyvault", "list").stdout)]

    rbac_name = f"cli-kvr-{uuid.uuid4().hex[:10]}"
    rbac = json.loads(cli(azlite, "keyvault", "create", "-g", group, "-n", rbac_name, "--enable-rbac-authorization",
                          "--retention-days", "7").stdout)
    assert rbac["properties"]["enableRbacAuthorization"] is True
    assert rbac["properties"]["accessPolicies"] == []
    assert rbac["properties"]["softDeleteRetentionInDays"] == 7
    refused = cli(azlite, "keyvault", "set-policy", "-n", rbac_name, "--object-id", app, "--secret-permissions", "get", check=False)
    assert refused.returncode != 0 and "enable-rbac-authorization" in refused.stderr

    cli(azlite, "keyvault", "delete", "-n", name)
    missing = cli(azlite, "keyvault", "show", "-n", name, "-g", group, check=False)
    assert missing.returncode != 0 and "ResourceNotFound" in missing.stderr
    cli(azlite, "group", "delete", "-n", group, "--yes")
