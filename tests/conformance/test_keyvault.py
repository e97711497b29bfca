"""Key Vault's secrets data plane as its users meet it, all under `azlite run` (the demo VM):
the two Linux-VM tutorials' curl commands verbatim, azure-keyvault-secrets' SecretClient with
ManagedIdentityCredential, DefaultAzureCredential and EnvironmentCredential (a service
principal's secret), default options (challenge verification on), and the authorization
answers: access policies, RBAC vaults, the 401 challenge and audience checks.

Setup is the tutorials': the owner makes the vault (`azlite keyvault create`) and sets a
secret (`azlite keyvault secret set`, an HTTPS client of the vault's host name), then grants
the VM's identity an access policy (`azlite keyvault set-policy`); on RBAC vaults it assigns
Key Vault Secrets User/Officer at the vault's scope (`azlite role assignment create`).

Safety: every client of Key Vault runs inside `azlite run`'s loopback-only namespace, where
`<vault>.vault.azure.net` and login.microsoftonline.com are azlite; the owner's CLI talks to
the listener on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import Azlite, azlite_bin, azlite_run, demo_vm, python_in_vm, vm_environment
from jwt_helpers import jwt_parts

# The portal's "Secret Management" template (reference §1.6): purge is not in it.
SECRET_MANAGEMENT = ["get", "list", "set", "delete", "recover", "backup", "restore"]
KEY_VAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"


# --- helpers ----------------------------------------------------------------------------------


def cli(azlite: Azlite, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`azlite --data-dir D ARGS...`: the owner's az-style CLI, an HTTPS client of azlite."""
    env = vm_environment()
    result = subprocess.run(
        [str(azlite_bin()), "--data-dir", str(azlite.data_dir), *args],
        capture_output=True, text=True, timeout=60, env=env,
    )
    if check:
        assert result.returncode == 0, f"azlite {' '.join(args)}: exit {result.returncode}\n{result.stderr}"
    return result


def cli_json(azlite: Azlite, *args: str) -> Any:
    return json.loads(cli(azlite, *args).stdout)


def new_vault(azlite: Azlite, resource_groups, *extra: str) -> dict[str, Any]:
    """A vault made by the owner with the CLI, in a group deleted at the end of the test."""
    group = resource_groups("kv")
    name = f"kv{uuid.uuid4().hex[:12]}"
    vault = cli_json(azlite, "keyvault", "create", "-g", group, "-n", name, *extra)
    assert vault["properties"]["vaultUri"] == f"https://{name}.vault.azure.net/", vault
    return vault


def set_policy(azlite: Azlite, vault: dict[str, Any], object_id: str, permissions: list[str]) -> None:
    cli(azlite, "keyvault", "set-policy", "-n", vault["name"], "-g", vault["resourceGroup"],
        "--object-id", object_id, "--secret-permissions", *permissions)


def owner_sets(azlite: Azlite, vault: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    return cli_json(azlite, "keyvault", "secret", "set", "--vault-name", vault["name"], "-n", name, "--value", value)


def assign(azlite: Azlite, principal: str, role: str, vault: dict[str, Any]) -> None:
    cli(azlite, "role", "assignment", "create", "--assignee-object-id", principal, "--role", role, "--scope", vault["id"])


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def sh(azlite: Azlite, script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A shell script under `azlite run`, the suite's Python first on PATH."""
    env = dict(env or vm_environment())
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return azlite_run(azlite, "sh", "-c", textwrap.dedent(script), env=env)


def host_of(vault: dict[str, Any]) -> str:
    """The tutorials' <YOUR-KEY-VAULT-URL>: the vault URI's host, from the portal's Essentials."""
    return vault["properties"]["vaultUri"].removeprefix("https://").rstrip("/")


def assert_tutorial_bundle(body: dict[str, Any], vault: dict[str, Any], name: str, value: str) -> None:
    assert body["value"] == value, body
    assert re.fullmatch(rf"https://{host_of(vault)}/secrets/{name}/[0-9a-f]{{32}}", body["id"]), body
    attributes = body["attributes"]
    assert attributes["enabled"] is True, body
    assert isinstance(attributes["created"], int) and attributes["updated"] == attributes["created"], body
    assert attributes["recoveryLevel"] == "Recoverable+Purgeable" and attributes["recoverableDays"] == 90, body


# --- the tutorials, verbatim -----------------------------------------------------------------


def test_linux_vm_key_vault_tutorial_curl_commands_verbatim(azlite, resource_groups):
    """"Use a Linux VM system-assigned managed identity to access Azure Key Vault": IMDS token
    for https://vault.azure.net, then the secret with the 2016-10-01 api-version."""
    vault = new_vault(azlite, resource_groups)
    secret, value = "MyTestSecret", "p@ssw0rd!"
    owner_sets(azlite, vault, secret, value)
    set_policy(azlite, vault, demo_vm(azlite)["principalId"], SECRET_MANAGEMENT)
    out = ok(sh(azlite, f"""
        set -e
        response=$(curl 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net' -H Metadata:true -s)
        ACCESS_TOKEN=$(echo "$response" | jq -r .access_token)
        echo "$response" | jq -r .resource
        curl 'https://{host_of(vault)}/secrets/{secret}?api-version=2016-10-01' -H "Authorization: Bearer $ACCESS_TOKEN" -s
        """))
    resource, body = out.split("\n", 1)
    assert resource == "https://vault.azure.net"
    assert_tutorial_bundle(json.loads(body), vault, secret, value)


def test_older_tutorial_extension_endpoint_curl_commands(azlite, resource_groups):
    """The older Linux VM → Key Vault tutorial, through the VM extension endpoint. The seed says `localhost:50432`, a typo of
    the published tutorial (the VM extension listens on 50342; on Azure the typo'd command
    fails to connect too), so it runs here with 50342; otherwise verbatim."""
    vault = new_vault(azlite, resource_groups)
    secret, value = "tutorial-secret", f"value-{uuid.uuid4().hex}"
    owner_sets(azlite, vault, secret, value)
    set_policy(azlite, vault, demo_vm(azlite)["principalId"], SECRET_MANAGEMENT)
    out = ok(sh(azlite, f"""
        set -e
        response=$(curl http://localhost:50342/oauth2/token --data "resource=https://vault.azure.net" -H Metadata:true -s)
        ACCESS_TOKEN=$(echo $response | python -c 'import sys, json; print (json.load(sys.stdin)["access_token"])')
        curl https://{host_of(vault)}/secrets/{secret}?api-version=2016-10-01 -H "Authorization: Bearer $ACCESS_TOKEN" -s
        """))
    assert_tutorial_bundle(json.loads(out), vault, secret, value)


# --- the challenge and the audience ----------------------------------------------------------


def test_the_401_challenge_has_key_vaults_shape_and_the_sdk_parses_it(azlite, resource_groups):
    vault = new_vault(azlite, resource_groups)
    out = ok(sh(azlite, f"""
        curl -s -D - -X PUT 'https://{host_of(vault)}/secrets/x?api-version=7.4' -H 'Content-Length: 0' -H 'Content-Type: application/json'
        """))
    head, body = out.replace("\r", "").split("\n\n", 1)
    status, *lines = head.split("\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    assert status.split()[1] == "401", out
    challenge = headers["www-authenticate"]
    assert challenge == (
        f'Bearer authorization="https://login.microsoftonline.com/{azlite.tenant}", resource="https://vault.azure.net"'
    ), challenge
    assert headers["content-type"].startswith("application/json"), headers
    assert "x-ms-request-id" in headers and "x-ms-keyvault-service-version" in headers, headers
    assert json.loads(body) == {
        "error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}
    }

    # What azure-keyvault-secrets makes of it (its own parser; no network here).
    from azure.keyvault.secrets._shared.challenge_auth_policy import _validate_challenge_resource
    from azure.keyvault.secrets._shared.http_challenge import HttpChallenge

    parsed = HttpChallenge(vault["properties"]["vaultUri"], challenge)
    # ChallengeAuthPolicy's scope: `scope`, else `resource` + "/.default".
    assert parsed.get_scope() == "" and parsed.get_resource() == "https://vault.azure.net"
    scope = parsed.get_scope() or parsed.get_resource() + "/.default"
    assert scope == "https://vault.azure.net/.default"
    _validate_challenge_resource(scope, vault["properties"]["vaultUri"] + "secrets/x")  # raises when it does not match
    assert parsed.tenant_id == azlite.tenant
    assert parsed.get_authorization_server() == f"https://login.microsoftonline.com/{azlite.tenant}"


def test_a_token_for_the_audience_with_a_trailing_slash_is_refused(azlite, resource_groups):
    """Key Vault accepts `https://vault.azure.net` and its app id, not `https://vault.azure.net/`
    (401 AKV10022, reference §0.2): a VM asking IMDS for the latter is refused."""
    vault = new_vault(azlite, resource_groups)
    owner_sets(azlite, vault, "s", "v")
    set_policy(azlite, vault, demo_vm(azlite)["principalId"], ["get"])
    out = ok(sh(azlite, f"""
        set -e
        for resource in https%3A%2F%2Fvault.azure.net%2F https%3A%2F%2Fvault.azure.net; do
            ACCESS_TOKEN=$(curl -s "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$resource" -H Metadata:true | jq -r .access_token)
            curl -s -w '\\n%{{http_code}}\\n' 'https://{host_of(vault)}/secrets/s?api-version=7.4' -H "Authorization: Bearer $ACCESS_TOKEN"
        done
        """))
    refused, refused_status, accepted, accepted_status = out.strip().split("\n")
    assert refused_status == "401", out
    assert json.loads(refused)["error"] == {
        "code": "Unauthorized",
        "message": f"AKV10022: Invalid audience. Expected https://vault.azure.net or {KEY_VAULT_APP_ID}, found: https://vault.azure.net/.",
    }
    assert accepted_status == "200" and json.loads(accepted)["value"] == "v", out


# --- azure-keyvault-secrets -------------------------------------------------------------------

SDK_LIFECYCLE = """
import json, os, sys
from azure.core.exceptions import ResourceNotFoundError
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

credential = {"managed": ManagedIdentityCredential, "default": DefaultAzureCredential}[os.environ["CREDENTIAL"]]()
client = SecretClient(os.environ["VAULT_URL"], credential)
out = {}
name = "sdk-secret"
first = client.set_secret(name, "first", content_type="text/plain", tags={"a": "1"})
second = client.set_secret(name, "second")
out["versions_set"] = [first.properties.version, second.properties.version]
out["ids"] = [first.id, second.id]
out["first_set"] = {"value": first.value, "content_type": first.properties.content_type, "tags": first.properties.tags,
                    "enabled": first.properties.enabled, "recovery_level": first.properties.recovery_level,
                    "vault_url": first.properties.vault_url, "name": first.name}
out["latest"] = client.get_secret(name).value
out["by_version"] = client.get_secret(name, first.properties.version).value
client.set_secret("other", "x")
out["listed"] = sorted(p.name for p in client.list_properties_of_secrets())
out["listed_versions"] = sorted(p.version for p in client.list_properties_of_secret_versions(name))
updated = client.update_secret_properties(name, second.properties.version, enabled=False,
                                          content_type="application/x-test", tags={"k": "v"})
out["updated"] = {"enabled": updated.enabled, "content_type": updated.content_type, "tags": updated.tags,
                  "version": updated.version}
client.update_secret_properties(name, second.properties.version, enabled=True)

deleted = client.begin_delete_secret(name).result()
out["deleted"] = {"name": deleted.name, "recovery_id": deleted.recovery_id,
                  "has_dates": deleted.deleted_date is not None and deleted.scheduled_purge_date is not None}
try:
    client.get_secret(name)
    out["get_after_delete"] = "found"
except ResourceNotFoundError as e:
    out["get_after_delete"] = e.error.code
out["deleted_listed"] = [d.name for d in client.list_deleted_secrets()]
out["get_deleted"] = client.get_deleted_secret(name).name
recovered = client.begin_recover_deleted_secret(name).result()
out["recovered"] = {"name": recovered.name, "version": recovered.version}
out["after_recover"] = client.get_secret(name).value
client.begin_delete_secret(name).wait()
client.purge_deleted_secret(name)
out["deleted_after_purge"] = [d.name for d in client.list_deleted_secrets()]
try:
    client.get_deleted_secret(name)
    out["get_deleted_after_purge"] = "found"
except ResourceNotFoundError as e:
    out["get_deleted_after_purge"] = e.error.code
print(json.dumps(out))
"""


def run_sdk(azlite: Azlite, code: str, env: dict[str, str]) -> dict[str, Any]:
    return json.loads(ok(python_in_vm(azlite, code, env=env)))



@pytest.mark.parametrize("credential", ["managed", "default"])
def test_secret_client_lifecycle_with_the_vms_identity(azlite, resource_groups, credential):
    vault = new_vault(azlite, resource_groups)
    set_policy(azlite, vault, demo_vm(azlite)["principalId"], SECRET_MANAGEMENT + ["purge"])
    vault_url = vault["properties"]["vaultUri"]
    env = vm_environment()
    env["VAULT_URL"] = vault_url  # the program's input, as on a real VM
    env["CREDENTIAL"] = credential
    out = run_sdk(azlite, SDK_LIFECYCLE, env)

    first, second = out["versions_set"]
    assert first != second and re.fullmatch("[0-9a-f]{32}", first), out
    assert out["ids"] == [f"{vault_url}secrets/sdk-secret/{first}", f"{vault_url}secrets/sdk-secret/{second}"]
    assert out["first_set"] == {
        "value": "first", "content_type": "text/plain", "tags": {"a": "1"}, "enabled": True,
        "recovery_level": "Recoverable+Purgeable", "vault_url": vault_url.rstrip("/"), "name": "sdk-secret",
    }
    assert out["latest"] == "second" and out["by_version"] == "first"
    assert out["listed"] == ["other", "sdk-secret"]
    assert out["listed_versions"] == sorted([first, second])
    assert out["updated"] == {"enabled": False, "content_type": "application/x-test", "tags": {"k": "v"}, "version": second}
    assert out["deleted"] == {"name": "sdk-secret", "recovery_id": f"{vault_url}deletedsecrets/sdk-secret", "has_dates": True}
    assert out["get_after_delete"] == "SecretNotFound"
    assert out["deleted_listed"] == ["sdk-secret"]
    assert out["get_deleted"] == "sdk-secret"
    assert out["recovered"] == {"name": "sdk-secret", "version": second}
    assert out["after_recover"] == "second"
    assert out["deleted_after_purge"] == []
    assert out["get_deleted_after_purge"] == "SecretNotFound"


# --- authorization ----------------------------------------------------------------------------

SDK_TRY = """
import json, os
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

# A service principal's credential is the program's own input: `azlite run` removes the
# host's AZURE_* credential variables, so the program sets EnvironmentCredential's itself.
for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
    if "INPUT_" + name in os.environ:
        os.environ[name] = os.environ["INPUT_" + name]
client = SecretClient(os.environ["VAULT_URL"], DefaultAzureCredential())

def attempt(label, call):
    try:
        result = call()
        return {"ok": True, "result": result}
    except HttpResponseError as e:
        inner = (e.error.innererror or {}).get("code") if e.error else None
        return {"ok": False, "type": type(e).__name__, "status": e.status_code,
                "code": e.error.code if e.error else None, "inner": inner,
                "message": e.error.message if e.error else str(e)}

out = {}
for op in os.environ["OPS"].split(","):
    if op == "get":
        out[op] = attempt(op, lambda: client.get_secret("s").value)
    elif op == "list":
        out[op] = attempt(op, lambda: [p.name for p in client.list_properties_of_secrets()])
    elif op == "set":
        out[op] = attempt(op, lambda: client.set_secret("s", "written by " + os.environ.get("WHO", "?")).value)
print(json.dumps(out))
"""


def sdk_try(azlite: Azlite, vault: dict[str, Any], ops: str, principal=None) -> dict[str, Any]:
    """SDK_TRY under `azlite run`: as the demo VM's identity, or, with `principal`, as a
    service principal whose secret is the program's own input (INPUT_AZURE_CLIENT_ID/
    SECRET/TENANT, which the program sets as EnvironmentCredential's variables: `azlite run`
    removes those of the host)."""
    env = vm_environment()
    env["VAULT_URL"] = vault["properties"]["vaultUri"]
    env["OPS"] = ops
    if principal is not None:
        env.update(
            INPUT_AZURE_CLIENT_ID=principal.app_id,
            INPUT_AZURE_CLIENT_SECRET=principal.secret,
            INPUT_AZURE_TENANT_ID=azlite.tenant,
        )
        env["WHO"] = principal.display_name
    return run_sdk(azlite, SDK_TRY, env)


def test_the_vms_identity_without_a_policy_is_denied(azlite, resource_groups):
    vault = new_vault(azlite, resource_groups)
    owner_sets(azlite, vault, "s", "v")
    out = sdk_try(azlite, vault, "get")
    denied = out["get"]
    assert denied["ok"] is False and denied["type"] == "HttpResponseError", out
    assert (denied["status"], denied["code"], denied["inner"]) == (403, "Forbidden", "AccessDenied"), out
    oid = demo_vm(azlite)["principalId"]
    assert f"oid={oid}" in denied["message"], denied
    assert f"does not have secrets get permission on key vault '{vault['name']};location=" in denied["message"], denied


def test_a_get_only_policy_reads_but_cannot_list_or_set(azlite, resource_groups):
    vault = new_vault(azlite, resource_groups)
    owner_sets(azlite, vault, "s", "v")
    set_policy(azlite, vault, demo_vm(azlite)["principalId"], ["get"])
    out = sdk_try(azlite, vault, "get,list,set")
    assert out["get"] == {"ok": True, "result": "v"}, out
    for op in ("list", "set"):
        assert (out[op]["status"], out[op]["code"], out[op]["inner"]) == (403, "Forbidden", "AccessDenied"), out
        assert f"does not have secrets {op} permission" in out[op]["message"], out


def test_a_service_principal_without_a_policy_is_denied(azlite, resource_groups, new_principal):
    vault = new_vault(azlite, resource_groups)
    owner_sets(azlite, vault, "s", "v")
    stranger = new_principal("kv-stranger")
    out = sdk_try(azlite, vault, "get,set", principal=stranger)
    for op in ("get", "set"):
        assert (out[op]["status"], out[op]["code"], out[op]["inner"]) == (403, "Forbidden", "AccessDenied"), out
        assert f"appid={stranger.app_id};oid={stranger.object_id};" in out[op]["message"], out


def test_rbac_vault_secrets_user_reads_and_secrets_officer_writes(azlite, resource_groups, new_principal):
    vault = new_vault(azlite, resource_groups, "--enable-rbac-authorization")
    officer, user = new_principal("kv-officer"), new_principal("kv-user")

    # Nobody has a data action yet (the owner's Owner role has none either).
    refused = sdk_try(azlite, vault, "set", principal=officer)["set"]
    assert (refused["status"], refused["code"], refused["inner"]) == (403, "Forbidden", "ForbiddenByRbac"), refused

    assign(azlite, officer.object_id, "Key Vault Secrets Officer", vault)
    assign(azlite, user.object_id, "Key Vault Secrets User", vault)

    out = sdk_try(azlite, vault, "set,get,list", principal=officer)
    assert out["set"] == {"ok": True, "result": "written by kv-officer"}, out
    assert out["get"]["result"] == "written by kv-officer" and out["list"]["result"] == ["s"], out

    out = sdk_try(azlite, vault, "get,list,set", principal=user)
    assert out["get"] == {"ok": True, "result": "written by kv-officer"}, out
    assert out["list"] == {"ok": True, "result": ["s"]}, out
    denied = out["set"]
    assert (denied["status"], denied["code"], denied["inner"]) == (403, "Forbidden", "ForbiddenByRbac"), out
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'" in denied["message"], denied
    assert f"oid={user.object_id}" in denied["message"], denied

    # The VM's identity, on the same vault, with no role: denied by RBAC as well.
    vm = sdk_try(azlite, vault, "get")["get"]
    assert (vm["status"], vm["code"], vm["inner"]) == (403, "Forbidden", "ForbiddenByRbac"), vm


def test_unverified_token_claims_of_the_vm_for_key_vault(azlite):
    """What the VM's identity presents to Key Vault: a v1 token, aud without the slash."""
    out = ok(sh(azlite, """
        curl -s 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net' -H Metadata:true
        """))
    claims = jwt_parts(json.loads(out)["access_token"])[1]
    assert claims["aud"] == "https://vault.azure.net", claims
    assert claims["oid"] == demo_vm(azlite)["principalId"], claims
    assert claims["tid"] == azlite.tenant, claims


SDK_PAGING_AND_ATTRIBUTES = """
import datetime, json, os
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

client = SecretClient(os.environ["VAULT_URL"], ManagedIdentityCredential())
out = {}
for i in range(30):
    client.set_secret(f"page-{i:02d}", str(i))
for i in range(27):
    client.set_secret("versioned", str(i))
pages = client.list_properties_of_secrets(max_page_size=25).by_page()
out["page_sizes"] = [len(list(page)) for page in pages]
out["names"] = sorted(p.name for p in client.list_properties_of_secrets())
out["versions"] = len(list(client.list_properties_of_secret_versions("versioned")))
nbf = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
exp = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)
dated = client.set_secret("dated", "d", not_before=nbf, expires_on=exp, enabled=False)
out["dated"] = {"nbf": dated.properties.not_before.isoformat(), "exp": dated.properties.expires_on.isoformat(),
                "enabled": dated.properties.enabled}
try:
    client.get_secret("dated")
    out["disabled_get"] = "read"
except HttpResponseError as e:
    out["disabled_get"] = [e.status_code, e.error.code, (e.error.innererror or {}).get("code"), e.error.message]
print(json.dumps(out))
"""


def test_secret_client_pages_lists_and_keeps_attributes(azlite, resource_groups):
    vault = new_vault(azlite, resource_groups)
    set_policy(azlite, vault, demo_vm(azlite)["principalId"], SECRET_MANAGEMENT)
    env = vm_environment()
    env["VAULT_URL"] = vault["properties"]["vaultUri"]
    out = run_sdk(azlite, SDK_PAGING_AND_ATTRIBUTES, env)
    assert out["page_sizes"] == [25, 6], out  # the SDK follows nextLink
    assert out["names"] == sorted([f"page-{i:02d}" for i in range(30)] + ["versioned"]), out
    assert out["versions"] == 27, out
    assert out["dated"] == {"nbf": "2030-01-01T00:00:00+00:00", "exp": "2031-01-01T00:00:00+00:00", "enabled": False}
    assert out["disabled_get"] == [403, "Forbidden", "SecretDisabled", "Operation get is not allowed on a disabled secret."], out
