"""`azlite run` is a boundary (issue 10, findings 2, 3 and 9): each test tries an escape
from INSIDE the sandbox, and each must fail.

- Finding 2: the owner's credential exported on the host does not reach the VM.
- Finding 3: the data directory is hidden, the sandbox socket is bound to one VM by a
  secret the program cannot learn, the program has its own PID namespace, no capabilities
  and no_new_privs, and cannot reach the host's network namespace or undo a mount.
- Finding 9: the server serves the on-VM endpoints of open sessions only.

Safety: programs run inside the sandbox's loopback-only namespace (inside the suite's);
nothing here sends a packet anywhere but loopback.
"""

from __future__ import annotations

import json
import textwrap

from conftest import Azlite, demo_vm, python_in_vm, vm_environment
from jwt_helpers import jwt_parts


def ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


# --- finding 2: no host credential inside ------------------------------------------------------


def owner_exports(azlite: Azlite) -> dict[str, str]:
    """What a shell holds after `azlite up`'s exports (the owner, the demo VM's endpoints
    for host programs), and the other credential variables a developer may have set."""
    return {
        "AZURE_TENANT_ID": azlite.tenant,
        "AZURE_CLIENT_ID": azlite.client_id,
        "AZURE_CLIENT_SECRET": azlite.client_secret,
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
        "AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent/owner.pem",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pw",
        "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": "true",
        "AZURE_USERNAME": "owner@example.com",
        "AZURE_PASSWORD": "pw",
        "AZURE_FEDERATED_TOKEN_FILE": "/nonexistent/token",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9",
        "IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token",
        "IDENTITY_HEADER": "header",
        "IDENTITY_SERVER_THUMBPRINT": "thumbprint",
        "MSI_ENDPOINT": "http://127.0.0.1:9/oauth2/token",
        "MSI_SECRET": "secret",
        "IMDS_ENDPOINT": "http://127.0.0.1:9",
    }


DEFAULT_CREDENTIAL_TOKEN = """
import json, os
from azure.identity import DefaultAzureCredential
token = DefaultAzureCredential().get_token("https://management.azure.com/.default").token
leaked = sorted(n for n in os.environ if n.startswith(("AZURE_", "IDENTITY_", "MSI_", "IMDS_")))
print(json.dumps({"token": token, "leaked": leaked}))
"""


def test_the_owner_credential_exported_on_the_host_does_not_reach_the_vm(azlite):
    env = vm_environment()
    env.update(owner_exports(azlite))
    out = json.loads(ok(python_in_vm(azlite, DEFAULT_CREDENTIAL_TOKEN, env=env)))
    assert out["leaked"] == [], out["leaked"]
    claims = jwt_parts(out["token"])[1]
    # DefaultAzureCredential acts as the VM's identity, not as the subscription's owner.
    assert claims["oid"] == demo_vm(azlite)["principalId"], claims
    assert claims.get("appid") != azlite.client_id, claims


def test_arc_sets_only_its_own_endpoint_variables(azlite):
    env = vm_environment()
    env.update(owner_exports(azlite))
    code = "import json, os; print(json.dumps({n: v for n, v in os.environ.items() if n.startswith(('AZURE_', 'IDENTITY_', 'MSI_', 'IMDS_'))}))"
    seen = json.loads(ok(python_in_vm(azlite, code, env=env, arc=True)))
    assert seen == {
        "IDENTITY_ENDPOINT": "http://localhost:40342/metadata/identity/oauth2/token",
        "IMDS_ENDPOINT": "http://localhost:40342",
    }, seen
