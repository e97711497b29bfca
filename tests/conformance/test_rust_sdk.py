"""The Azure SDK for Rust on the demo VM: `rust-client/` (azure_identity's
ManagedIdentityCredential, azure_core's HTTP client, azure_security_keyvault_secrets'
SecretClient, all unmodified and with default options) run under `azlite run`, where
169.254.169.254:80 is the demo VM's IMDS, Azure's host names reach azlite and azlite's CA is
trusted. The crate has no IMDS override (reference §2.7), so this is the only way to test it.

The client is `$AZLITE_RUST_CLIENT` (`scripts/test` builds it with `scripts/build-rust-client`),
else `rust-client/target/debug/azlite-rust-client`.

Safety: the client runs only through `azlite run`, inside its loopback-only namespace (and the
whole suite inside another one). Its environment has no AZURE_*/IDENTITY_*/MSI_*/IMDS_* nor
proxy variables, so the crate takes IMDS at its fixed address, which `azlite run` serves.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import ARM_SCOPE, Azlite, azlite_bin, azlite_run, demo_group_path, demo_vm, demo_vm_path

def rust_client() -> Path:
    default = Path(__file__).parent / "rust-client" / "target" / "debug" / "azlite-rust-client"
    path = Path(os.environ.get("AZLITE_RUST_CLIENT", default))
    if not path.is_file():
        pytest.fail(f"Rust client not found at {path}: run scripts/build-rust-client (scripts/test does)")
    return path


def run_in_vm(azlite: Azlite, *args: str, vm: str | None = None) -> subprocess.CompletedProcess[str]:
    """`azlite run [--vm VM] -- <rust client> ARGS...`, as is (the caller checks the code)."""
    return azlite_run(azlite, str(rust_client()), *args, vm=vm)


def run_json(azlite: Azlite, *args: str) -> Any:
    result = run_in_vm(azlite, *args)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return json.loads(result.stdout)


def test_rust_sdk_token_is_the_demo_vms_system_identity(azlite):
    claims = run_json(azlite, "token", "--resource", ARM_SCOPE.removesuffix("/.default"))
    demo = demo_vm(azlite)
    assert claims["oid"] == demo["principalId"], claims
    assert claims["tid"] == azlite.tenant, claims
    assert claims["aud"].rstrip("/") == "https://management.azure.com", claims
    assert claims["xms_mirid"].lower() == demo_vm_path(azlite).lower(), claims


def test_rust_sdk_reads_the_demo_group_through_arm(azlite):
    demo = demo_vm(azlite)
    group = run_json(azlite, "arm-group", "--subscription", azlite.subscription_id, "--group", demo["resourceGroup"])
    assert group["name"] == demo["resourceGroup"], group
    assert group["id"].lower() == demo_group_path(azlite).lower(), group
    assert group["properties"]["provisioningState"] == "Succeeded", group


def test_rust_sdk_gets_arms_403_on_a_group_the_vm_has_no_role_on(azlite, resource_groups):
    other = resource_groups("rust-no-role")
    result = run_in_vm(azlite, "arm-group", "--subscription", azlite.subscription_id, "--group", other)
    assert result.returncode == 1, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    assert "HTTP 403" in result.stderr and "AuthorizationFailed" in result.stderr, result.stderr
    assert demo_vm(azlite)["principalId"] in result.stderr, result.stderr


def azlite_cli(azlite: Azlite, *args: str) -> str:
    """`azlite --data-dir D ARGS...` (an HTTPS client of the running azlite, as its owner)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZLITE_")}
    command = [str(azlite_bin()), "--data-dir", str(azlite.data_dir), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, f"azlite {' '.join(args)}: exit {result.returncode}\n{result.stderr}"
    return result.stdout


def test_rust_sdk_sets_and_gets_a_secret_with_an_access_policy(azlite, resource_groups):
    demo = demo_vm(azlite)
    group = resource_groups("rust-kv")
    name = f"rustkv{uuid.uuid4().hex[:12]}"
    # The owner makes the vault (and gets an access policy), then gives the demo VM's identity one.
    vault = json.loads(azlite_cli(azlite, "keyvault", "create", "--resource-group", group, "--name", name))
    try:
        vault_url = vault["properties"]["vaultUri"]
        assert vault_url == f"https://{name}.vault.azure.net/", vault
        azlite_cli(
            azlite, "keyvault", "set-policy", "--name", name, "--object-id", demo["principalId"], "--secret-permissions", "get", "set"
        )

        secret_name, value = "rust-secret", f"value-{uuid.uuid4().hex}"
        # The SDK's first request carries no token: Key Vault's 401 challenge names the resource
        # (https://vault.azure.net, which must be a suffix of the vault's host), then the client
        # asks IMDS for a token for it and sends the request again.
        written = run_json(azlite, "kv-set", "--vault-url", vault_url, "--name", secret_name, "--value", value)
        assert written["value"] == value, written
        assert written["id"].startswith(f"{vault_url}secrets/{secret_name}/"), written

        read = run_in_vm(azlite, "kv-get", "--vault-url", vault_url, "--name", secret_name)
        assert read.returncode == 0, f"exit {read.returncode}\nstdout: {read.stdout}\nstderr: {read.stderr}"
        assert read.stdout.strip() == value

        missing = run_in_vm(azlite, "kv-get", "--vault-url", vault_url, "--name", "no-such-secret")
        assert missing.returncode == 1, f"stdout: {missing.stdout}\nstderr: {missing.stderr}"
        assert 'HttpResponse(NotFound, "SecretNotFound")' in missing.stderr, missing.stderr
    finally:
        azlite_cli(azlite, "keyvault", "delete", "--name", name)


def test_rust_sdk_blob_client_round_trip(azlite, resource_groups):
    """azure_storage_blob 1.1.0 (with the same azure_core and azure_identity): the demo VM's
    identity, given Storage Blob Data Contributor on a new account, creates a container,
    uploads a blob and downloads it through `<account>.blob.core.windows.net`."""
    demo = demo_vm(azlite)
    group = resource_groups("rust-blob")
    name = f"rustblob{uuid.uuid4().hex[:12]}"
    account = json.loads(azlite_cli(azlite, "storage", "account", "create", "-g", group, "-n", name, "--sku", "Standard_LRS"))
    azlite_cli(
        azlite, "role", "assignment", "create", "--assignee-object-id", demo["principalId"],
        "--role", "Storage Blob Data Contributor", "--scope", account["id"],
    )
    data = f"hello from the Rust SDK {uuid.uuid4().hex}"
    url = f"https://{name}.blob.core.windows.net/rustdata"
    result = run_json(azlite, "blob-round-trip", "--container-url", url, "--blob", "dir/hello.txt", "--data", data)
    assert result == {"downloaded": data, "exists": True}, result

    # Without a data role the same client gets Azure's 403.
    other = f"rustblob{uuid.uuid4().hex[:12]}"
    azlite_cli(azlite, "storage", "account", "create", "-g", group, "-n", other, "--sku", "Standard_LRS")
    denied = run_in_vm(azlite, "blob-round-trip", "--container-url", f"https://{other}.blob.core.windows.net/rustdata",
                       "--blob", "b", "--data", "x")
    assert denied.returncode == 1, f"stdout: {denied.stdout}\nstderr: {denied.stderr}"
    assert "AuthorizationPermissionMismatch" in denied.stderr, denied.stderr
