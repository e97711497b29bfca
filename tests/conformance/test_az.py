"""The real az CLI (azure-cli from PyPI, pinned in az-requirements.txt), unmodified, as a new
user runs it on a VM: every command under `azlite run` (a loopback-only namespace where
Azure's host names are azlite and 169.254.169.254 is the chosen VM's IMDS), with
`AZURE_CORE_COLLECT_TELEMETRY=0`, a temporary `AZURE_CONFIG_DIR` per signed-in identity and
`--output json`; each test asserts on az's JSON output, or on its exit code and the Azure
error code it prints for a denial.

az lives in its own venv (`scripts/az-venv`, cached like .venv; `$AZLITE_AZ_VENV`, default
<repo>/.venv-az), not in the suite's: it brings about 150 packages.

Safety: az runs only inside `azlite run`, never in the suite's own namespace.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, Azlite, azlite_bin, azlite_run, demo_vm, vm_environment
from jwt_helpers import jwt_parts

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
# az 2.91 makes RBAC vaults unless told otherwise; with access policies, it gives the signed-in
# principal (found through Graph) every permission, as the tutorials' vaults have.
POLICY_VAULT = ("--enable-rbac-authorization", "false")
AZ_TIMEOUT_S = 180


def az_venv() -> Path:
    venv = Path(os.environ.get("AZLITE_AZ_VENV", REPO / ".venv-az"))
    if not (venv / "bin" / "az").is_file():
        pytest.fail(f"az is not installed in {venv}: run scripts/az-venv (scripts/test does)")
    return venv


class Az:
    """One signed-in az: its own AZURE_CONFIG_DIR, always run under `azlite run` (`vm`: the
    VM whose IMDS it sees; the demo VM by default)."""

    def __init__(self, azlite: Azlite, config_dir: Path, vm: str | None = None) -> None:
        self.azlite = azlite
        self.config_dir = config_dir
        self.vm = vm
        config_dir.mkdir(parents=True, exist_ok=True)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = vm_environment()
        env.update(
            AZURE_CONFIG_DIR=str(self.config_dir),
            AZURE_CORE_COLLECT_TELEMETRY="0",
            AZURE_CORE_SURVEY_MESSAGE="false",
            AZURE_CORE_NO_COLOR="true",
        )
        az = str(az_venv() / "bin" / "az")
        return azlite_run(self.azlite, az, *args, "--output", "json", vm=self.vm, env=env, timeout=AZ_TIMEOUT_S)

    def ok(self, *args: str) -> Any:
        """Runs az, which must succeed; its JSON output (None when it printed nothing)."""
        result = self.run(*args)
        assert result.returncode == 0, f"az {' '.join(args)}: exit {result.returncode}\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else None

    def refused(self, code: str, *args: str, exit_code: int = 1) -> str:
        """Runs az, which must fail with `exit_code` (az's 3 for a 404, 1 otherwise) and print
        Azure's error `code`; its stderr."""
        result = self.run(*args)
        assert result.returncode == exit_code, f"az {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        # az prints `(Code) message` for SDK errors and the body for `az rest`.
        assert any(form in result.stderr for form in (f"({code})", f"Code: {code}", f'"code":"{code}"')), result.stderr
        return result.stderr


def graph_refused(az: Az, *args: str) -> str:
    """Runs an `az ad …` command that Microsoft Graph must refuse with 403
    Authorization_RequestDenied: az exits 1 and prints Graph's message. Its stderr."""
    result = az.run(*args)
    assert result.returncode == 1, f"az {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Insufficient privileges to complete the operation" in result.stderr, result.stderr
    return result.stderr


def owner_cli(azlite: Azlite, *args: str) -> Any:
    """The azlite CLI as the owner (for what az cannot do on Azure either, e.g. make a VM
    record without a deployment)."""
    result = subprocess.run(
        [str(azlite_bin()), "--data-dir", str(azlite.data_dir), *args],
        capture_output=True, text=True, timeout=60, env=vm_environment(),
    )
    assert result.returncode == 0, f"azlite {' '.join(args)}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture(scope="module")
def az_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    az_venv()
    return tmp_path_factory.mktemp("az")


@pytest.fixture(scope="module")
def owner_az(azlite: Azlite, az_root: Path) -> Az:
    """az signed in as azlite's owner service principal, as `az login --service-principal`."""
    az = Az(azlite, az_root / "owner")
    accounts = az.ok("login", "--service-principal", "--username", azlite.client_id,
                     "--password", azlite.client_secret, "--tenant", azlite.tenant)
    assert [a["id"] for a in accounts] == [azlite.subscription_id], accounts
    assert accounts[0]["user"] == {"name": azlite.client_id, "type": "servicePrincipal"}
    return az


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def group(owner_az: Az) -> Any:
    """A resource group made with `az group create`, deleted with `az group delete` after."""
    names: list[str] = []

    def make(location: str = "eastus") -> str:
        name = unique("az-rg-")
        created = owner_az.ok("group", "create", "-n", name, "-l", location)
        assert created["name"] == name and created["properties"]["provisioningState"] == "Succeeded", created
        names.append(name)
        return name

    yield make
    for name in names:
        owner_az.ok("group", "delete", "-n", name, "--yes")


# --- sign-in and the account --------------------------------------------------------------------


def test_service_principal_login_account_show_list_and_tokens(azlite, owner_az):
    account = owner_az.ok("account", "show")
    assert account["id"] == azlite.subscription_id and account["tenantId"] == azlite.tenant, account
    assert account["isDefault"] is True and account["state"] == "Enabled", account
    assert account["user"] == {"name": azlite.client_id, "type": "servicePrincipal"}, account
    assert [a["id"] for a in owner_az.ok("account", "list")] == [azlite.subscription_id]

    token = owner_az.ok("account", "get-access-token")
    assert token["tokenType"] == "Bearer" and token["subscription"] == azlite.subscription_id, token
    assert token["tenant"] == azlite.tenant, token
    claims = jwt_parts(token["accessToken"])[1]
    assert claims["aud"] in ("https://management.core.windows.net/", "https://management.azure.com/"), claims
    assert claims["tid"] == azlite.tenant and claims["appid"] == azlite.client_id, claims

    vault = owner_az.ok("account", "get-access-token", "--resource", "https://vault.azure.net")
    assert jwt_parts(vault["accessToken"])[1]["aud"] == "https://vault.azure.net"


def test_login_identity_on_the_demo_vm_reader_on_its_group(azlite, az_root):
    """The VM's identity has Reader on the demo group only: az lists the subscription, reads
    the group, and a write is refused as in Azure."""
    demo = demo_vm(azlite)
    az = Az(azlite, az_root / "demo-vm")
    accounts = az.ok("login", "--identity")
    assert [a["id"] for a in accounts] == [azlite.subscription_id], accounts
    assert accounts[0]["user"] == {"assignedIdentityInfo": "MSI", "name": "systemAssignedIdentity", "type": "servicePrincipal"}
    account = az.ok("account", "show")
    assert account["tenantId"] == azlite.tenant and account["id"] == azlite.subscription_id, account

    token = az.ok("account", "get-access-token")
    claims = jwt_parts(token["accessToken"])[1]
    assert claims["oid"] == demo["principalId"] and claims["xms_mirid"].endswith(f"/virtualMachines/{demo['vm']}"), claims

    shown = az.ok("group", "show", "-n", demo["resourceGroup"])
    assert shown["id"] == f"/subscriptions/{azlite.subscription_id}/resourceGroups/{demo['resourceGroup']}", shown
    assert [g["name"] for g in az.ok("group", "list")] == [demo["resourceGroup"]]

    # az rest: ARM's host and the token for it, from the URL.
    url = f"https://management.azure.com/subscriptions/{azlite.subscription_id}/resourcegroups/{demo['resourceGroup']}?api-version=2024-11-01"
    assert az.ok("rest", "--method", "get", "--url", url)["name"] == demo["resourceGroup"]

    # Denial: Reader cannot create a group.
    stderr = az.refused("AuthorizationFailed", "group", "create", "-n", unique("denied-"), "-l", "eastus")
    assert demo["principalId"] in stderr and "microsoft.resources/subscriptions/resourcegroups/write" in stderr.lower(), stderr

    # Denial: a managed identity holds no Microsoft Graph permission, so Graph refuses it.
    graph_refused(az, "ad", "sp", "list", "--display-name", "azlite")


def test_login_identity_user_assigned_by_client_id_and_resource_id(azlite, owner_az, az_root, group):
    rg = group()
    uai = owner_az.ok("identity", "create", "-g", rg, "-n", "uai")
    vm_name = unique("vm")
    owner_cli(azlite, "vm", "create", "-g", rg, "-n", vm_name, "--assign-identity", uai["id"])
    group_id = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{rg}"
    owner_az.ok("role", "assignment", "create", "--assignee-object-id", uai["principalId"],
                "--assignee-principal-type", "ServicePrincipal", "--role", "Reader", "--scope", group_id)

    for selector in (["--client-id", uai["clientId"]], ["--resource-id", uai["id"]]):
        az = Az(azlite, az_root / unique("uai-"), vm=f"{rg}/{vm_name}")
        accounts = az.ok("login", "--identity", *selector)
        assert [a["id"] for a in accounts] == [azlite.subscription_id], accounts
        assert accounts[0]["user"]["type"] == "servicePrincipal", accounts
        claims = jwt_parts(az.ok("account", "get-access-token")["accessToken"])[1]
        assert claims["oid"] == uai["principalId"], claims
        assert az.ok("group", "show", "-n", rg)["name"] == rg


# --- groups, identities, VM identities ----------------------------------------------------------


def test_group_commands(azlite, owner_az, group):
    rg = group("westus")
    assert owner_az.ok("group", "exists", "-n", rg) is True
    shown = owner_az.ok("group", "show", "-n", rg)
    assert shown["location"] == "westus" and shown["type"] == "Microsoft.Resources/resourceGroups", shown
    updated = owner_az.ok("group", "update", "-n", rg, "--tags", "env=dev")
    assert updated["tags"] == {"env": "dev"}, updated
    assert rg in [g["name"] for g in owner_az.ok("group", "list")]
    assert [g["name"] for g in owner_az.ok("group", "list", "--tag", "env=dev")] == [rg]


def test_identity_create_show_list_delete(azlite, owner_az, group):
    rg = group()
    created = owner_az.ok("identity", "create", "-g", rg, "-n", "id1")
    assert created["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities", created
    assert created["tenantId"] == azlite.tenant and created["principalId"] and created["clientId"], created
    assert owner_az.ok("identity", "show", "-g", rg, "-n", "id1")["principalId"] == created["principalId"]
    assert [i["name"] for i in owner_az.ok("identity", "list", "-g", rg)] == ["id1"]
    owner_az.ok("identity", "delete", "-g", rg, "-n", "id1")
    assert owner_az.ok("identity", "list", "-g", rg) == []
    owner_az.refused("ResourceNotFound", "identity", "show", "-g", rg, "-n", "id1", exit_code=3)


def test_vm_identity_assign_show_remove(azlite, owner_az, group):
    rg = group()
    vm = unique("vm")
    owner_cli(azlite, "vm", "create", "-g", rg, "-n", vm)
    uai = owner_az.ok("identity", "create", "-g", rg, "-n", "vm-uai")
    assigned = owner_az.ok("vm", "identity", "assign", "-g", rg, "-n", vm, "--identities", "[system]", uai["id"])
    assert assigned["systemAssignedIdentity"], assigned
    assert {k.lower() for k in assigned["userAssignedIdentities"]} == {uai["id"].lower()}, assigned
    shown = owner_az.ok("vm", "identity", "show", "-g", rg, "-n", vm)
    assert {k.lower() for k in shown["userAssignedIdentities"]} == {uai["id"].lower()}, shown
    assert shown["principalId"] == assigned["systemAssignedIdentity"], shown
    owner_az.ok("vm", "identity", "remove", "-g", rg, "-n", vm, "--identities", uai["id"])
    shown = owner_az.ok("vm", "identity", "show", "-g", rg, "-n", vm)
    assert shown["type"] == "SystemAssigned" and not shown.get("userAssignedIdentities"), shown


# --- RBAC ------------------------------------------------------------------------------------------


def test_role_assignments_and_definitions(azlite, owner_az, group):
    rg = group()
    scope = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{rg}"
    sp = owner_az.ok("ad", "sp", "create-for-rbac", "-n", unique("az-rbac-"))
    # --assignee: az asks Graph who the appId is.
    by_app = owner_az.ok("role", "assignment", "create", "--assignee", sp["appId"], "--role", "Reader", "--scope", scope)
    assert by_app["roleDefinitionId"].endswith(READER) and by_app["principalType"] == "ServicePrincipal", by_app
    assert by_app["scope"].lower() == scope.lower(), by_app
    uai = owner_az.ok("identity", "create", "-g", rg, "-n", "rbac-uai")
    by_oid = owner_az.ok("role", "assignment", "create", "--assignee-object-id", uai["principalId"],
                         "--assignee-principal-type", "ServicePrincipal", "--role", "Contributor", "--scope", scope)
    assert by_oid["principalId"] == uai["principalId"], by_oid
    listed = owner_az.ok("role", "assignment", "list", "--scope", scope)
    assert {(a["principalId"], a["roleDefinitionName"]) for a in listed} == {
        (by_app["principalId"], "Reader"), (uai["principalId"], "Contributor")}, listed
    assert [a["id"] for a in owner_az.ok("role", "assignment", "list", "--assignee", sp["appId"], "--all")] == [by_app["id"]]
    owner_az.ok("role", "assignment", "delete", "--ids", by_app["id"])
    assert [a["principalId"] for a in owner_az.ok("role", "assignment", "list", "--scope", scope)] == [uai["principalId"]]

    reader = owner_az.ok("role", "definition", "list", "--name", "Reader")
    assert [r["name"] for r in reader] == [READER] and reader[0]["roleType"] == "BuiltInRole", reader
    app = owner_az.ok("ad", "app", "list", "--app-id", sp["appId"])
    owner_az.ok("ad", "app", "delete", "--id", app[0]["id"])


def test_ad_sp_create_for_rbac_and_a_group_scoped_login(azlite, owner_az, az_root, group):
    """create-for-rbac --scopes <group>; that principal signs in (the subscription is listed
    because of its one assignment), reads its group and nothing else; then list, show, delete."""
    rg, other = group(), group()
    scope = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{rg}"
    name = unique("az-sp-")
    sp = owner_az.ok("ad", "sp", "create-for-rbac", "-n", name, "--role", "Reader", "--scopes", scope)
    assert sp["displayName"] == name and sp["tenant"] == azlite.tenant and sp["password"], {k: v for k, v in sp.items() if k != "password"}

    az = Az(azlite, az_root / unique("sp-"))
    accounts = az.ok("login", "--service-principal", "--username", sp["appId"], "--password", sp["password"], "--tenant", azlite.tenant)
    assert [a["id"] for a in accounts] == [azlite.subscription_id], accounts
    assert az.ok("account", "show")["id"] == azlite.subscription_id
    assert az.ok("group", "show", "-n", rg)["name"] == rg
    assert [g["name"] for g in az.ok("group", "list")] == [rg]
    az.refused("AuthorizationFailed", "group", "show", "-n", other)
    # create-for-rbac grants no Graph permission: the new principal cannot list principals.
    graph_refused(az, "ad", "sp", "list", "--display-name", name)
    graph_refused(az, "ad", "app", "list", "--display-name", name)

    listed = owner_az.ok("ad", "sp", "list", "--display-name", name)
    assert [s["appId"] for s in listed] == [sp["appId"]], listed
    shown = owner_az.ok("ad", "sp", "show", "--id", sp["appId"])
    assert shown["displayName"] == name and shown["servicePrincipalType"] == "Application", shown
    assert [a["appId"] for a in owner_az.ok("ad", "app", "list", "--display-name", name)] == [sp["appId"]]
    owner_az.ok("ad", "sp", "delete", "--id", sp["appId"])
    assert owner_az.ok("ad", "sp", "list", "--display-name", name) == []
    app = owner_az.ok("ad", "app", "list", "--display-name", name)
    owner_az.ok("ad", "app", "delete", "--id", app[0]["id"])
    assert owner_az.ok("ad", "app", "list", "--display-name", name) == []


# --- resources ---------------------------------------------------------------------------------


def test_resource_list_and_show(azlite, owner_az, group):
    rg = group()
    one = owner_az.ok("identity", "create", "-g", rg, "-n", "res-one")
    owner_az.ok("identity", "create", "-g", rg, "-n", "res-two")
    vault = unique("kv")
    owner_az.ok("keyvault", "create", "-g", rg, "-n", vault, *POLICY_VAULT)

    in_group = owner_az.ok("resource", "list", "-g", rg)
    assert sorted(r["name"] for r in in_group) == sorted(["res-one", "res-two", vault]), in_group
    assert all(r["resourceGroup"] == rg for r in in_group), in_group
    by_name = owner_az.ok("resource", "list", "-n", "res-one")
    assert [r["id"] for r in by_name] == [one["id"]], by_name
    by_type = owner_az.ok("resource", "list", "-g", rg, "--resource-type", "Microsoft.ManagedIdentity/userAssignedIdentities")
    assert sorted(r["name"] for r in by_type) == ["res-one", "res-two"], by_type
    shown = owner_az.ok("resource", "show", "-g", rg, "-n", "res-one", "--resource-type", "Microsoft.ManagedIdentity/userAssignedIdentities")
    assert shown["properties"]["principalId"] == one["principalId"], shown
    assert owner_az.ok("resource", "show", "--ids", one["id"])["name"] == "res-one"
    # Paging: $top sets the page, nextLink carries $skiptoken, and the pages add up.
    listing = f"https://management.azure.com/subscriptions/{azlite.subscription_id}/resourceGroups/{rg}/resources?api-version=2024-11-01&$top=2"
    first = owner_az.ok("rest", "--method", "get", "--url", listing)
    assert len(first["value"]) == 2 and first["nextLink"].startswith("https://management.azure.com/"), first
    second = owner_az.ok("rest", "--method", "get", "--url", first["nextLink"])
    assert "nextLink" not in second, second
    assert sorted(r["name"] for r in first["value"] + second["value"]) == sorted(["res-one", "res-two", vault])
    stderr = owner_az.refused("InvalidFilterInQueryString", "rest", "--method", "get", "--url",
                              f"https://management.azure.com/subscriptions/{azlite.subscription_id}/resources?api-version=2024-11-01&$filter=plan eq 'x'")
    assert "Invalid $filter 'plan eq 'x'' specified in the query string." in stderr, stderr


# --- Key Vault -----------------------------------------------------------------------------------


def test_keyvault_create_show_list_and_set_policy_with_and_without_group(azlite, owner_az, group):
    rg = group()
    name = unique("kv")
    created = owner_az.ok("keyvault", "create", "-g", rg, "-n", name, *POLICY_VAULT)
    assert created["properties"]["vaultUri"] == f"https://{name}.vault.azure.net/", created
    assert owner_az.ok("keyvault", "show", "-n", name)["id"] == created["id"]
    assert owner_az.ok("keyvault", "show", "-g", rg, "-n", name)["id"] == created["id"]
    assert [v["name"] for v in owner_az.ok("keyvault", "list", "-g", rg)] == [name]
    assert name in [v["name"] for v in owner_az.ok("keyvault", "list")]

    demo = demo_vm(azlite)
    policy = owner_az.ok("keyvault", "set-policy", "-n", name, "--object-id", demo["principalId"], "--secret-permissions", "get", "list")
    entries = {p["objectId"]: p["permissions"]["secrets"] for p in policy["properties"]["accessPolicies"]}
    assert sorted(entries[demo["principalId"]]) == ["get", "list"], entries
    policy = owner_az.ok("keyvault", "set-policy", "-g", rg, "-n", name, "--object-id", demo["principalId"], "--secret-permissions", "get")
    entries = {p["objectId"]: p["permissions"]["secrets"] for p in policy["properties"]["accessPolicies"]}
    assert entries[demo["principalId"]] == ["get"], entries


def test_keyvault_secrets_and_their_soft_delete(azlite, owner_az, group):
    rg = group()
    name = unique("kv")
    owner_az.ok("keyvault", "create", "-g", rg, "-n", name, *POLICY_VAULT)
    secret = owner_az.ok("keyvault", "secret", "set", "--vault-name", name, "-n", "s1", "--value", "v1")
    assert secret["value"] == "v1" and secret["id"].startswith(f"https://{name}.vault.azure.net/secrets/s1/"), secret
    assert owner_az.ok("keyvault", "secret", "show", "--vault-name", name, "-n", "s1")["value"] == "v1"
    assert [s["name"] for s in owner_az.ok("keyvault", "secret", "list", "--vault-name", name)] == ["s1"]
    deleted = owner_az.ok("keyvault", "secret", "delete", "--vault-name", name, "-n", "s1")
    assert deleted["recoveryId"] == f"https://{name}.vault.azure.net/deletedsecrets/s1", deleted
    assert [s["name"] for s in owner_az.ok("keyvault", "secret", "list-deleted", "--vault-name", name)] == ["s1"]
    owner_az.ok("keyvault", "secret", "recover", "--vault-name", name, "-n", "s1")
    assert owner_az.ok("keyvault", "secret", "show", "--vault-name", name, "-n", "s1")["value"] == "v1"
    owner_az.ok("keyvault", "secret", "delete", "--vault-name", name, "-n", "s1")
    owner_az.ok("keyvault", "secret", "purge", "--vault-name", name, "-n", "s1")
    assert owner_az.ok("keyvault", "secret", "list-deleted", "--vault-name", name) == []


def test_a_vault_without_a_policy_refuses_the_vms_identity(azlite, owner_az, az_root, group):
    rg = group()
    name = unique("kv")
    owner_az.ok("keyvault", "create", "-g", rg, "-n", name, *POLICY_VAULT)
    owner_az.ok("keyvault", "secret", "set", "--vault-name", name, "-n", "s", "--value", "v")
    az = Az(azlite, az_root / unique("kv-vm-"))
    az.ok("login", "--identity")
    stderr = az.refused("Forbidden", "keyvault", "secret", "show", "--vault-name", name, "-n", "s")
    assert demo_vm(azlite)["principalId"] in stderr, stderr


def test_keyvault_delete_list_deleted_recover_and_purge(azlite, owner_az, group):
    """Soft delete as in Azure: the deleted vault keeps its name and secrets until it is
    recovered or purged; purge protection refuses the purge."""
    rg = group()
    name = unique("kv")
    vault = owner_az.ok("keyvault", "create", "-g", rg, "-n", name, *POLICY_VAULT)
    owner_az.ok("keyvault", "secret", "set", "--vault-name", name, "-n", "kept", "--value", "still-here")
    owner_az.ok("keyvault", "delete", "-n", name)  # no -g: az finds the group through /resources

    deleted = [d for d in owner_az.ok("keyvault", "list-deleted") if d["name"] == name]
    assert len(deleted) == 1, deleted
    props = deleted[0]["properties"]
    assert props["vaultId"].lower() == vault["id"].lower() and props["location"] == "eastus", deleted
    assert props["deletionDate"] < props["scheduledPurgeDate"] and props["purgeProtectionEnabled"] is False, deleted
    assert deleted[0]["type"] == "Microsoft.KeyVault/deletedVaults", deleted
    assert owner_az.ok("keyvault", "show-deleted", "-n", name)["properties"]["vaultId"].lower() == vault["id"].lower()
    owner_az.refused("ResourceNotFound", "keyvault", "show", "-g", rg, "-n", name, exit_code=3)
    assert name not in [r["name"] for r in owner_az.ok("resource", "list", "-g", rg)]
    owner_az.refused("ConflictError", "keyvault", "create", "-g", rg, "-n", name, *POLICY_VAULT)

    recovered = owner_az.ok("keyvault", "recover", "-n", name)
    assert recovered["id"].lower() == vault["id"].lower(), recovered
    assert owner_az.ok("keyvault", "secret", "show", "--vault-name", name, "-n", "kept")["value"] == "still-here"

    owner_az.ok("keyvault", "delete", "-g", rg, "-n", name)
    owner_az.ok("keyvault", "purge", "-n", name)
    assert name not in [d["name"] for d in owner_az.ok("keyvault", "list-deleted")]
    again = owner_az.ok("keyvault", "create", "-g", rg, "-n", name, *POLICY_VAULT)
    assert again["id"].lower() == vault["id"].lower()
    owner_az.refused("SecretNotFound", "keyvault", "secret", "show", "--vault-name", name, "-n", "kept", exit_code=3)

    protected = unique("kv")
    owner_az.ok("keyvault", "create", "-g", rg, "-n", protected, "--enable-purge-protection", "true", *POLICY_VAULT)
    owner_az.ok("keyvault", "delete", "-n", protected)
    stderr = owner_az.refused("MethodNotAllowed", "keyvault", "purge", "-n", protected)
    assert "Operation 'DeletedVaultPurge' is not allowed." in stderr, stderr
    assert protected in [d["name"] for d in owner_az.ok("keyvault", "list-deleted")]
