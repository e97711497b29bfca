"""The demo VM's managed identity through unmodified clients, each pointed at azlite's
loopback endpoints by the environment variables `azlite up` prints (reference §2.6–2.7):
azure-identity's ManagedIdentityCredential (IMDS, App Service, Cloud Shell), MSAL's
ManagedIdentityClient and DefaultAzureCredential. Every token must be the demo VM's system
identity and read its group through ARM.

Safety: `mi_env` clears every AZURE_*/IDENTITY_*/MSI_*/MSAL_* variable first, and the only
ones set here name azlite's 127.0.0.1 endpoints: nothing falls back to 169.254.169.254.
"""

from __future__ import annotations

import pytest
import requests

from conftest import ARM_SCOPE, demo_group_path, demo_vm, demo_vm_path
from jwt_helpers import jwt_parts

ARM_RESOURCE = "https://management.azure.com/"


def assert_demo_token(azlite, token: str) -> None:
    """The token is the demo VM's system identity's and ARM lets it read the demo group."""
    demo = demo_vm(azlite)
    claims = jwt_parts(token)[1]
    assert claims["oid"] == demo["principalId"], claims
    assert claims["tid"] == azlite.tenant, claims
    assert claims["aud"].rstrip("/") == ARM_RESOURCE.rstrip("/"), claims
    assert claims["xms_mirid"].lower() == demo_vm_path(azlite).lower(), claims
    read = azlite.arm("GET", demo_group_path(azlite), token=token, api_version="2016-09-01")
    assert read.status_code == 200, read.text
    assert read.json()["name"] == demo["resourceGroup"]


def imds_env(azlite, env: pytest.MonkeyPatch) -> None:
    env.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", azlite.info["imds"])


def app_service_env(azlite, env: pytest.MonkeyPatch) -> None:
    env.setenv("IDENTITY_ENDPOINT", azlite.info["imds"] + "/msi/token")
    env.setenv("IDENTITY_HEADER", azlite.info["identityHeader"])


def cloud_shell_env(azlite, env: pytest.MonkeyPatch) -> None:
    env.setenv("MSI_ENDPOINT", azlite.info["extension"] + "/oauth2/token")


@pytest.mark.parametrize(
    ("configure", "source"),
    [(imds_env, "ImdsCredential"), (app_service_env, "AppServiceCredential"), (cloud_shell_env, "CloudShellCredential")],
    ids=["imds", "app-service", "cloud-shell"],
)
def test_imds_clients_managed_identity_credential(azlite, mi_env, configure, source):
    from azure.identity import ManagedIdentityCredential

    demo_vm(azlite)
    configure(azlite, mi_env)
    with ManagedIdentityCredential() as credential:
        # The environment picked the source we meant (not IMDS at its real address).
        assert type(credential._credential).__name__ == source
        token = credential.get_token(ARM_SCOPE)
        # A second call is served (from azure-identity's cache or azlite's) with the same identity.
        again = credential.get_token(ARM_SCOPE)
    assert token.expires_on > 0
    assert_demo_token(azlite, token.token)
    assert_demo_token(azlite, again.token)


def test_imds_clients_msal_managed_identity_client(azlite, mi_env):
    import msal

    demo_vm(azlite)
    imds_env(azlite, mi_env)  # what MSAL 1.39's _obtain_token_on_azure_vm reads
    assert msal.managed_identity.get_managed_identity_source() is msal.managed_identity.DEFAULT_TO_VM
    with requests.Session() as http:
        client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=http)
        result = client.acquire_token_for_client(resource=ARM_RESOURCE)
        assert "access_token" in result, result
        assert result["token_source"] == "identity_provider"
        cached = client.acquire_token_for_client(resource=ARM_RESOURCE)
    assert cached["token_source"] == "cache"
    assert cached["access_token"] == result["access_token"]
    assert result["expires_in"] > 3600, result
    assert_demo_token(azlite, result["access_token"])


def test_imds_clients_default_azure_credential(azlite, mi_env):
    from azure.identity import DefaultAzureCredential

    demo_vm(azlite)
    imds_env(azlite, mi_env)
    with DefaultAzureCredential(
        exclude_cli_credential=True,
        exclude_powershell_credential=True,
        exclude_developer_cli_credential=True,
    ) as credential:
        token = credential.get_token(ARM_SCOPE)
        assert type(credential._successful_credential).__name__ == "ManagedIdentityCredential"
    assert_demo_token(azlite, token.token)
