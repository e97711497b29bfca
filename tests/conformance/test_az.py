"""The real az CLI (azure-cli from PyPI, pinned in az-requirements.txt), unmodified, as a new
user runs it on a VM: every command under `azlite run` (a loopback-only namespace where
Azure's host names are azlite and 169.254.169.254 is the chosen VM's IMDS), with
`AZURE_CORE_COLLECT_TELEMETRY=0`, a temporary `AZURE_CONFIG_DIR` per signed-in identity and
`--output json`; each test asserts on az's JSON output, or on its exit code and the Azure
error code it prints for a denial.

az lives in its own venv (`scripts/az-venv`, cached like .venv; `$AZLITE_AZ_VENV`, default
<repo>/.venv-az), not in the suite's: it brings about 150 packages.

Each az process costs about a second of CPU (its imports), which is most of this module's
time: independent calls run at once (`parallel`), each in its own copy of the signed-in
config dir (`Az.fork`), since az rewrites its session files without a lock.

Safety: az runs only inside `azlite run`, never in the suite's own namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

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

    def fork(self) -> "Az":
        """The same signed-in az in a copy of its config dir: concurrent az processes would
        race on the files az rewrites (sessions, the command index); copies share nothing."""
        copy = self.config_dir.parent / unique(f"{self.config_dir.name}-fork-")
        shutil.copytree(self.config_dir, copy, ignore=shutil.ignore_patterns("commands", "logs"))
        return Az(self.azlite, copy, self.vm)

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


def parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Runs independent az calls at once (each is its own process); their results in order.
    Only for calls that neither depend on each other nor change what another reads."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


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
    parallel(*(lambda name=name, az=owner_az.fork(): az.ok("group", "delete", "-n", name, "--yes") for name in names))


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

    def sign_in(selector: list[str]) -> None:
        az = Az(azlite, az_root / unique("uai-"), vm=f"{rg}/{vm_name}")
        accounts = az.ok("login", "--identity", *selector)
        assert [a["id"] for a in accounts] == [azlite.subscription_id], accounts
        assert accounts[0]["user"]["type"] == "servicePrincipal", accounts
        claims = jwt_parts(az.ok("account", "get-access-token")["accessToken"])[1]
        assert claims["oid"] == uai["principalId"], claims
        assert az.ok("group", "show", "-n", rg)["name"] == rg

    parallel(lambda: sign_in(["--client-id", uai["clientId"]]), lambda: sign_in(["--resource-id", uai["id"]]))


# --- groups, identities, VM identities ----------------------------------------------------------


def test_group_commands(azlite, owner_az, group):
    rg = group("westus")
    exists, shown = parallel(lambda az=owner_az.fork(): az.ok("group", "exists", "-n", rg), lambda az=owner_az.fork(): az.ok("group", "show", "-n", rg))
    assert exists is True
    assert shown["location"] == "westus" and shown["type"] == "Microsoft.Resources/resourceGroups", shown
    updated = owner_az.ok("group", "update", "-n", rg, "--tags", "env=dev")
    assert updated["tags"] == {"env": "dev"}, updated
    listed, tagged = parallel(lambda az=owner_az.fork(): az.ok("group", "list"), lambda az=owner_az.fork(): az.ok("group", "list", "--tag", "env=dev"))
    assert rg in [g["name"] for g in listed]
    assert [g["name"] for g in tagged] == [rg]


def test_identity_create_show_list_delete(azlite, owner_az, group):
    rg = group()
    created = owner_az.ok("identity", "create", "-g", rg, "-n", "id1")
    assert created["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities", created
    assert created["tenantId"] == azlite.tenant and created["principalId"] and created["clientId"], created
    shown, listed = parallel(lambda az=owner_az.fork(): az.ok("identity", "show", "-g", rg, "-n", "id1"),
                             lambda az=owner_az.fork(): az.ok("identity", "list", "-g", rg))
    assert shown["principalId"] == created["principalId"]
    assert [i["name"] for i in listed] == ["id1"]
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


def test_vmss_identity_assign_show_remove_and_an_instances_token(azlite, owner_az, az_root, group):
    """A scale set made with `az rest` (as ARM takes it; azlite runs no guest), its identities
    changed with `az vmss identity`, and an instance (`azlite run --vm <group>/<scale set>_<n>`)
    signing in with `az login --identity` and fetching a token with curl."""
    rg = group()
    name = unique("ss")
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"
    body = {
        "location": "eastus",
        "sku": {"name": "Standard_B1s", "tier": "Standard", "capacity": 2},
        "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
            "osProfile": {"computerNamePrefix": name[:9], "adminUsername": "azureuser"},
            "storageProfile": {"osDisk": {"osType": "Linux", "createOption": "FromImage"}}}},
    }
    created = owner_az.ok("rest", "--method", "put", "--url", f"https://management.azure.com{path}?api-version=2024-11-01",
                          "--body", json.dumps(body))
    assert created["id"] == path and created["sku"]["capacity"] == 2 and "identity" not in created, created
    uai = owner_az.ok("identity", "create", "-g", rg, "-n", "ss-uai")

    assigned = owner_az.ok("vmss", "identity", "assign", "-g", rg, "-n", name, "--identities", "[system]", uai["id"])
    assert assigned["systemAssignedIdentity"], assigned
    assert {k.lower() for k in assigned["userAssignedIdentities"]} == {uai["id"].lower()}, assigned
    shown = owner_az.ok("vmss", "identity", "show", "-g", rg, "-n", name)
    assert shown["type"] == "SystemAssigned, UserAssigned" and shown["principalId"] == assigned["systemAssignedIdentity"], shown
    assert shown["tenantId"] == azlite.tenant, shown
    user = {k.lower(): v for k, v in shown["userAssignedIdentities"].items()}[uai["id"].lower()]
    assert user == {"principalId": uai["principalId"], "clientId": uai["clientId"]}, shown

    group_id = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{rg}"
    reader = ("role", "assignment", "create", "--assignee-principal-type", "ServicePrincipal", "--role", "Reader", "--scope", group_id)
    vmss, listed, instances, _, _ = parallel(
        lambda az=owner_az.fork(): az.ok("vmss", "show", "-g", rg, "-n", name),
        lambda az=owner_az.fork(): az.ok("vmss", "list", "-g", rg),
        lambda az=owner_az.fork(): az.ok("vmss", "list-instances", "-g", rg, "-n", name),
        # Reader on the group for both identities; the instance's az signs in as each.
        lambda az=owner_az.fork(): az.ok(*reader, "--assignee-object-id", shown["principalId"]),
        lambda az=owner_az.fork(): az.ok(*reader, "--assignee-object-id", uai["principalId"]),
    )
    assert vmss["identity"]["principalId"] == shown["principalId"] and vmss["sku"]["capacity"] == 2, vmss
    assert [v["name"] for v in listed] == [name]
    assert sorted(i["instanceId"] for i in instances) == ["0", "1"], instances

    instance = f"{rg}/{name}_1"

    def as_system() -> None:
        az = Az(azlite, az_root / unique("vmss-"), vm=instance)
        accounts = az.ok("login", "--identity")
        assert [a["id"] for a in accounts] == [azlite.subscription_id], accounts
        claims = jwt_parts(az.ok("account", "get-access-token")["accessToken"])[1]
        assert claims["oid"] == shown["principalId"] and claims["xms_mirid"].lower() == path.lower(), claims
        assert az.ok("vmss", "show", "-g", rg, "-n", name)["name"] == name
        # Denial: Reader cannot change the scale set's identities.
        stderr = az.refused("AuthorizationFailed", "vmss", "identity", "remove", "-g", rg, "-n", name)
        assert "microsoft.compute/virtualmachinescalesets/write" in stderr.lower(), stderr

    def as_user_assigned() -> None:
        az = Az(azlite, az_root / unique("vmss-uai-"), vm=instance)
        az.ok("login", "--identity", "--client-id", uai["clientId"])
        claims = jwt_parts(az.ok("account", "get-access-token")["accessToken"])[1]
        assert claims["oid"] == uai["principalId"], claims

    parallel(as_system, as_user_assigned)

    # curl on the instance, as the tutorial does; and its metadata names the scale set.
    imds = "http://169.254.169.254/metadata"
    curl = azlite_run(azlite, "curl", "-sS", "-H", "Metadata: true",
                      f"{imds}/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/", vm=instance)
    assert curl.returncode == 0, curl.stderr
    assert jwt_parts(json.loads(curl.stdout)["access_token"])[1]["oid"] == shown["principalId"], curl.stdout
    compute = azlite_run(azlite, "curl", "-sS", "-H", "Metadata: true", f"{imds}/instance/compute?api-version=2021-02-01",
                         vm=f"{path}/virtualMachines/0")
    assert compute.returncode == 0, compute.stderr
    compute = json.loads(compute.stdout)
    assert compute["vmScaleSetName"] == name and compute["name"] == f"{name}_0", compute
    assert compute["resourceId"] == f"{path}/virtualMachines/0", compute

    owner_az.ok("vmss", "identity", "remove", "-g", rg, "-n", name, "--identities", uai["id"])
    shown = owner_az.ok("vmss", "identity", "show", "-g", rg, "-n", name)
    assert shown["type"] == "SystemAssigned" and not shown.get("userAssignedIdentities"), shown
    owner_az.ok("vmss", "identity", "remove", "-g", rg, "-n", name)
    assert owner_az.ok("vmss", "identity", "show", "-g", rg, "-n", name) in (None, {}, {"type": "None"})
    # The system identity is gone, and so are its tokens on the instance.
    curl = azlite_run(azlite, "curl", "-sS", "-H", "Metadata: true",
                      f"{imds}/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/", vm=instance)
    assert curl.returncode == 0 and json.loads(curl.stdout)["error"] == "invalid_request", curl.stdout


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
    vault = unique("kv")
    one, _, _ = parallel(
        lambda az=owner_az.fork(): az.ok("identity", "create", "-g", rg, "-n", "res-one"),
        lambda az=owner_az.fork(): az.ok("identity", "create", "-g", rg, "-n", "res-two"),
        lambda az=owner_az.fork(): az.ok("keyvault", "create", "-g", rg, "-n", vault, *POLICY_VAULT),
    )

    uai_type = ("--resource-type", "Microsoft.ManagedIdentity/userAssignedIdentities")
    in_group, by_name, by_type, shown, by_id = parallel(
        lambda az=owner_az.fork(): az.ok("resource", "list", "-g", rg),
        lambda az=owner_az.fork(): az.ok("resource", "list", "-n", "res-one"),
        lambda az=owner_az.fork(): az.ok("resource", "list", "-g", rg, *uai_type),
        lambda az=owner_az.fork(): az.ok("resource", "show", "-g", rg, "-n", "res-one", *uai_type),
        lambda az=owner_az.fork(): az.ok("resource", "show", "--ids", one["id"]),
    )
    assert sorted(r["name"] for r in in_group) == sorted(["res-one", "res-two", vault]), in_group
    assert all(r["resourceGroup"] == rg for r in in_group), in_group
    assert [r["id"] for r in by_name] == [one["id"]], by_name
    assert sorted(r["name"] for r in by_type) == ["res-one", "res-two"], by_type
    assert shown["properties"]["principalId"] == one["principalId"], shown
    assert by_id["name"] == "res-one"
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


# --- Storage -------------------------------------------------------------------------------------

BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def test_storage_account_create_show_list_keys_and_delete(azlite, owner_az, group):
    rg = group()
    name = unique("azst")
    created = owner_az.ok("storage", "account", "create", "-g", rg, "-n", name, "-l", "eastus", "--sku", "Standard_LRS")
    assert created["name"] == name and created["type"] == "Microsoft.Storage/storageAccounts", created
    assert created["primaryEndpoints"]["blob"] == f"https://{name}.blob.core.windows.net/", created
    assert created["provisioningState"] == "Succeeded" and created["sku"]["name"] == "Standard_LRS", created
    shown, in_group, everywhere, keys = parallel(
        lambda az=owner_az.fork(): az.ok("storage", "account", "show", "-g", rg, "-n", name),
        lambda az=owner_az.fork(): az.ok("storage", "account", "list", "-g", rg),
        lambda az=owner_az.fork(): az.ok("storage", "account", "list"),
        lambda az=owner_az.fork(): az.ok("storage", "account", "keys", "list", "-g", rg, "-n", name),
    )
    assert shown["id"] == created["id"], shown
    assert [a["name"] for a in in_group] == [name]
    assert name in [a["name"] for a in everywhere]

    keys = {k["keyName"]: k["value"] for k in keys}
    assert set(keys) == {"key1", "key2"} and keys["key1"] != keys["key2"], keys
    renewed = {k["keyName"]: k["value"] for k in owner_az.ok("storage", "account", "keys", "renew", "-g", rg, "-n", name, "--key", "primary")}
    assert renewed["key1"] != keys["key1"] and renewed["key2"] == keys["key2"], (keys, renewed)

    owner_az.ok("storage", "account", "delete", "-g", rg, "-n", name, "--yes")
    owner_az.refused("ResourceNotFound", "storage", "account", "show", "-g", rg, "-n", name, exit_code=3)
    assert owner_az.ok("storage", "account", "list", "-g", rg) == []


# What az prints instead of the message for a 403 with these x-ms-error-codes, and only for
# them (azure/cli/command_modules/storage/__init__.py, get_handler_suppress_some_400).
AZ_STORAGE_403_TEXT = {
    "AuthorizationPermissionMismatch": "You do not have the required permissions needed to perform this operation.",
    "AuthenticationFailed": "Authentication failure. This may be caused by either invalid account key, connection string or sas token",
}


def storage_refused(az: Az, code: str, *args: str) -> str:
    """az storage …, which must fail with the Blob service's error `code` (az prints the
    SDK's `ErrorCode:<code>`, or its own text for some 403s); its stderr."""
    result = az.run(*args)
    assert result.returncode != 0, f"az {' '.join(args)} succeeded:\n{result.stdout}"
    expected = AZ_STORAGE_403_TEXT.get(code, code)
    assert expected in result.stderr, result.stderr
    return result.stderr


def test_storage_containers_and_blobs_with_login_key_and_sas(azlite, owner_az, group, tmp_path):
    rg = group()
    name = unique("azst")
    account = owner_az.ok("storage", "account", "create", "-g", rg, "-n", name, "-l", "eastus", "--sku", "Standard_LRS")
    payload = os.urandom(300 * 1024) + b"end"
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    login = ("--account-name", name, "--auth-mode", "login")

    # Containers take control-plane actions, which the subscription's Owner has; blobs take
    # data actions, which it has not without a data role: refused as in Azure.
    assert owner_az.ok("storage", "container", "create", *login, "-n", "docs") == {"created": True}
    assert [c["name"] for c in owner_az.ok("storage", "container", "list", *login)] == ["docs"]
    storage_refused(owner_az, "AuthorizationPermissionMismatch", "storage", "blob", "upload", *login, "-c", "docs",
                    "-n", "denied.bin", "-f", str(source))
    owner_az.ok("role", "assignment", "create", "--assignee", azlite.client_id, "--role", BLOB_DATA_CONTRIBUTOR, "--scope", account["id"])

    uploaded = owner_az.ok("storage", "blob", "upload", *login, "-c", "docs", "-n", "dir/a.bin", "-f", str(source))
    assert uploaded["etag"] and uploaded["lastModified"], uploaded
    listed = owner_az.ok("storage", "blob", "list", *login, "-c", "docs")
    assert [(b["name"], b["properties"]["contentLength"]) for b in listed] == [("dir/a.bin", len(payload))], listed
    back = tmp_path / "login.bin"
    owner_az.ok("storage", "blob", "download", *login, "-c", "docs", "-n", "dir/a.bin", "-f", str(back))
    assert back.read_bytes() == payload

    # The account key (Shared Key).
    key = owner_az.ok("storage", "account", "keys", "list", "-g", rg, "-n", name)[0]["value"]
    with_key = ("--account-name", name, "--account-key", key)
    owner_az.ok("storage", "blob", "upload", *with_key, "-c", "docs", "-n", "b.bin", "-f", str(source))
    assert sorted(b["name"] for b in owner_az.ok("storage", "blob", "list", *with_key, "-c", "docs")) == ["b.bin", "dir/a.bin"]
    back = tmp_path / "key.bin"
    owner_az.ok("storage", "blob", "download", *with_key, "-c", "docs", "-n", "dir/a.bin", "-f", str(back))
    assert back.read_bytes() == payload
    owner_az.ok("storage", "blob", "delete", *with_key, "-c", "docs", "-n", "b.bin")

    # A container SAS made by az with the key.
    sas = owner_az.ok("storage", "container", "generate-sas", *with_key, "-n", "docs", "--permissions", "racwdl",
                      "--expiry", "2099-01-01T00:00:00Z", "--https-only")
    assert "sig=" in sas, sas
    with_sas = ("--account-name", name, "--sas-token", sas)
    owner_az.ok("storage", "blob", "upload", *with_sas, "-c", "docs", "-n", "c.bin", "-f", str(source))
    back = tmp_path / "sas.bin"
    owner_az.ok("storage", "blob", "download", *with_sas, "-c", "docs", "-n", "c.bin", "-f", str(back))
    assert back.read_bytes() == payload
    assert sorted(b["name"] for b in owner_az.ok("storage", "blob", "list", *with_sas, "-c", "docs")) == ["c.bin", "dir/a.bin"]
    owner_az.ok("storage", "blob", "delete", *with_sas, "-c", "docs", "-n", "c.bin")

    # A wrong signature, and an expired SAS: AuthenticationFailed.
    signature = sas.split("sig=")[1].split("&")[0]
    forged = sas.replace(f"sig={signature}", "sig=" + ("A" * 43) + "%3D")
    storage_refused(owner_az, "AuthenticationFailed", "storage", "blob", "list", "--account-name", name, "--sas-token", forged, "-c", "docs")
    expired = owner_az.ok("storage", "container", "generate-sas", *with_key, "-n", "docs", "--permissions", "rl",
                          "--expiry", "2020-01-01T00:00:00Z")
    storage_refused(owner_az, "AuthenticationFailed", "storage", "blob", "download", "--account-name", name, "--sas-token", expired,
                    "-c", "docs", "-n", "dir/a.bin", "-f", str(tmp_path / "never.bin"))

    owner_az.ok("storage", "blob", "delete", *login, "-c", "docs", "-n", "dir/a.bin")
    assert owner_az.ok("storage", "blob", "list", *login, "-c", "docs") == []
    assert owner_az.ok("storage", "container", "delete", *login, "-n", "docs") == {"deleted": True}
    assert owner_az.ok("storage", "container", "list", *login) == []


# --- Key Vault -----------------------------------------------------------------------------------


def test_keyvault_create_show_list_and_set_policy_with_and_without_group(azlite, owner_az, group):
    rg = group()
    name = unique("kv")
    created = owner_az.ok("keyvault", "create", "-g", rg, "-n", name, *POLICY_VAULT)
    assert created["properties"]["vaultUri"] == f"https://{name}.vault.azure.net/", created
    by_name, by_group, in_group, everywhere = parallel(
        lambda az=owner_az.fork(): az.ok("keyvault", "show", "-n", name),
        lambda az=owner_az.fork(): az.ok("keyvault", "show", "-g", rg, "-n", name),
        lambda az=owner_az.fork(): az.ok("keyvault", "list", "-g", rg),
        lambda az=owner_az.fork(): az.ok("keyvault", "list"),
    )
    assert by_name["id"] == created["id"] and by_group["id"] == created["id"]
    assert [v["name"] for v in in_group] == [name]
    assert name in [v["name"] for v in everywhere]

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
