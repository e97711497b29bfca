"""Microsoft Graph (v1.0, by path on the listener's IP host) as az drives it: resolving an
assignee (`servicePrincipalNames/any` filter, `directoryObjects/getByIds`, reference
arm-rbac-protocol.md §4.5), who may read and write (Graph's application permissions, granted
as app role assignments, in the `roles` claim), and `azlite ad sp create-for-rbac` end to
end: the printed password works with MSAL and azure-identity, and ARM shows the role
assignment.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import requests

from conftest import ARM_SCOPE, authorization_client, azlite_bin, demo_vm
from jwt_helpers import jwt_parts

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
METADATA = "https://graph.microsoft.com/v1.0/$metadata"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def graph(azlite, method: str, path: str, token: str | None = None, **kwargs: Any):
    """Call Graph at /v1.0/<path> with the owner's Graph token (or the given one)."""
    headers = {"Authorization": f"Bearer {token or azlite.owner_token(GRAPH_SCOPE)}"}
    return azlite.session.request(method, azlite.url("/v1.0/" + path.lstrip("/")), headers=headers, **kwargs)


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


def test_graph_resolves_an_assignee_like_az_role_assignment_create(azlite, new_principal):
    principal = new_principal("graph-assignee")
    # --assignee <appId>: the servicePrincipalNames filter.
    found = graph(
        azlite,
        "GET",
        "servicePrincipals",
        params={"$filter": f"servicePrincipalNames/any(c:c eq '{principal.app_id}')"},
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["@odata.context"] == f"{METADATA}#servicePrincipals"
    assert [sp["id"] for sp in body["value"]] == [principal.object_id]
    sp = body["value"][0]
    assert sp["appId"] == principal.app_id
    assert sp["displayName"] == "graph-assignee"
    assert sp["servicePrincipalType"] == "Application"
    assert principal.app_id in sp["servicePrincipalNames"]
    assert found.headers["request-id"]

    # --assignee-object-id <oid> without a type, or a GUID nothing matched: getByIds.
    by_ids = graph(
        azlite,
        "POST",
        "directoryObjects/getByIds",
        json={
            "ids": [principal.object_id, str(uuid.uuid4())],
            "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"],
        },
    )
    assert by_ids.status_code == 200, by_ids.text
    value = by_ids.json()["value"]
    assert len(value) == 1, value
    assert value[0]["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert value[0]["id"] == principal.object_id
    assert value[0]["appId"] == principal.app_id

    # The principal itself, without Graph permissions, neither reads nor writes the directory.
    own = azlite.client_credentials(principal.app_id, principal.secret, GRAPH_SCOPE)
    for method, path, body in (
        ("POST", "directoryObjects/getByIds", {"ids": [principal.object_id]}),
        ("GET", "servicePrincipals", None),
        ("POST", "applications", {"displayName": "not allowed"}),
    ):
        denied = graph(azlite, method, path, token=own, json=body)
        assert denied.status_code == 403, denied.text
        error = denied.json()["error"]
        assert error["code"] == "Authorization_RequestDenied"
        assert error["message"] == "Insufficient privileges to complete the operation."
        assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}

    # An ARM token is not a Graph token.
    wrong = graph(azlite, "GET", "servicePrincipals", token=azlite.owner_token(ARM_SCOPE))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer ")


def test_graph_unsupported_filters_are_refused(azlite):
    for text, code in [
        ("displayName ne 'x'", "Request_UnsupportedQuery"),
        ("appId eq 'a' and displayName eq 'b'", "Request_UnsupportedQuery"),
        ("appId eq 'unterminated", "Request_BadRequest"),
    ]:
        response = graph(azlite, "GET", "servicePrincipals", params={"$filter": text})
        assert response.status_code == 400, text
        assert response.json()["error"]["code"] == code, text
    missing = graph(azlite, "GET", f"servicePrincipals/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_graph_cli_create_for_rbac_gives_a_working_secret_and_a_reader_assignment(azlite, msal_app):
    name = f"x-{uuid.uuid4().hex[:8]}"
    scope = f"/subscriptions/{azlite.subscription_id}"
    result = cli(azlite, "ad", "sp", "create-for-rbac", "-n", name, "--role", "Reader", "--scopes", scope)
    printed = json.loads(result.stdout)
    assert set(printed) == {"appId", "displayName", "password", "tenant"}
    assert printed["displayName"] == name
    assert printed["tenant"] == azlite.tenant
    assert "Creating 'Reader' role assignment under scope" in result.stderr
    app_id, password = printed["appId"], printed["password"]

    shown = json.loads(cli(azlite, "ad", "sp", "show", "--id", app_id).stdout)
    object_id = shown["id"]
    assert shown["appId"] == app_id
    assert shown["displayName"] == name
    listed = json.loads(cli(azlite, "ad", "sp", "list", "--display-name", name[:6]).stdout)
    assert object_id in [sp["id"] for sp in listed]
    by_object_id = json.loads(cli(azlite, "ad", "sp", "show", "--id", object_id).stdout)
    assert by_object_id["appId"] == app_id

    try:
        # The printed password works with MSAL...
        app = msal_app(app_id, password)
        token = app.acquire_token_for_client([ARM_SCOPE])
        assert "access_token" in token, token
        # ...and with azure-identity, which then reads its own Reader assignment from ARM.
        credential = azlite.credential(app_id, password)
        with authorization_client(azlite, credential) as client:
            mine = [
                a
                for a in client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{object_id}'")
                if a.principal_id == object_id
            ]
        assert len(mine) == 1, mine
        assert mine[0].role_definition_id.lower().endswith(READER)
        assert mine[0].scope.lower() == scope.lower()
        assert mine[0].principal_type == "ServicePrincipal"

        # Running it again reuses the application, adds a secret, and keeps one assignment.
        again = json.loads(
            cli(azlite, "ad", "sp", "create-for-rbac", "-n", name, "--role", "Reader", "--scopes", scope).stdout
        )
        assert again["appId"] == app_id
        assert again["password"] != password
        assert azlite.client_credentials(app_id, again["password"])
        assert azlite.client_credentials(app_id, password), "the first secret still works"
    finally:
        assignments = azlite.arm(
            "GET",
            f"{scope}/providers/Microsoft.Authorization/roleAssignments",
            params={"$filter": f"principalId eq '{object_id}'"},
        )
        assert assignments.status_code == 200, assignments.text
        for assignment in assignments.json()["value"]:
            deleted = azlite.arm("DELETE", assignment["id"])
            assert deleted.status_code in (200, 204), deleted.text

    cli(azlite, "ad", "sp", "delete", "--id", app_id)
    gone = azlite.token(
        form={"grant_type": "client_credentials", "client_id": app_id, "client_secret": password, "scope": ARM_SCOPE}
    )
    assert gone.status_code == 400, gone.text
    assert gone.json()["error_codes"] == [700016]
    missing = cli(azlite, "ad", "sp", "show", "--id", app_id, check=False)
    assert missing.returncode != 0
    assert "doesn't exist" in missing.stderr


def test_graph_cli_refuses_bad_input_without_creating_anything(azlite):
    name = f"bad-{uuid.uuid4().hex[:8]}"
    bad_scope = cli(azlite, "ad", "sp", "create-for-rbac", "-n", name, "--role", "Reader", "--scopes", "subscriptions/x", check=False)
    assert bad_scope.returncode != 0
    assert "invalid scope 'subscriptions/x'" in bad_scope.stderr
    no_scope = cli(azlite, "ad", "sp", "create-for-rbac", "-n", name, "--role", "Reader", check=False)
    assert no_scope.returncode != 0
    assert "--scopes" in no_scope.stderr
    scope = f"/subscriptions/{azlite.subscription_id}"
    no_role = cli(azlite, "ad", "sp", "create-for-rbac", "-n", name, "--role", "No Such Role", "--scopes", scope, check=False)
    assert no_role.returncode != 0
    assert "Role 'No Such Role' doesn't exist." in no_role.stderr
    apps = graph(azlite, "GET", "applications", params={"$filter": f"displayName eq '{name}'"})
    assert apps.status_code == 200, apps.text
    assert apps.json()["value"] == [], "a refused command created nothing"
    unknown = cli(azlite, "ad", "sp", "show", "--id", str(uuid.uuid4()), check=False)
    assert unknown.returncode != 0
    assert "doesn't exist" in unknown.stderr


GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
APPLICATION_READ_ALL = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"


def claims_of(token: str) -> dict[str, Any]:
    return jwt_parts(token)[1]


def test_graph_app_role_assignment_grants_reading_and_revoking_takes_it_back(azlite, new_principal):
    """The owner grants Application.Read.All through `appRoleAssignments`: the principal's next
    token carries `roles` and reads; once revoked, its next token does not and is refused."""
    principal = new_principal("graph-reader")
    before = azlite.client_credentials(principal.app_id, principal.secret, GRAPH_SCOPE)
    assert "roles" not in claims_of(before)
    assert graph(azlite, "GET", "servicePrincipals", token=before).status_code == 403

    resource = graph(azlite, "GET", f"servicePrincipals(appId='{GRAPH_APP_ID}')")
    assert resource.status_code == 200, resource.text
    role = next(r for r in resource.json()["appRoles"] if r["value"] == "Application.Read.All")
    assert role["id"] == APPLICATION_READ_ALL and role["allowedMemberTypes"] == ["Application"], role
    assignments = f"servicePrincipals/{principal.object_id}/appRoleAssignments"
    granted = graph(azlite, "POST", assignments, json={
        "principalId": principal.object_id, "resourceId": resource.json()["id"], "appRoleId": APPLICATION_READ_ALL,
    })
    assert granted.status_code == 201, granted.text
    body = granted.json()
    assert body["@odata.context"] == f"{METADATA}#servicePrincipals('{principal.object_id}')/appRoleAssignments/$entity"
    assert {k: body[k] for k in ("principalId", "resourceId", "appRoleId", "principalType", "principalDisplayName", "resourceDisplayName")} == {
        "principalId": principal.object_id, "resourceId": resource.json()["id"], "appRoleId": APPLICATION_READ_ALL,
        "principalType": "ServicePrincipal", "principalDisplayName": "graph-reader", "resourceDisplayName": "Microsoft Graph",
    }

    after = azlite.client_credentials(principal.app_id, principal.secret, GRAPH_SCOPE)
    assert claims_of(after)["roles"] == ["Application.Read.All"]
    listed = graph(azlite, "GET", "servicePrincipals", token=after, params={"$filter": f"appId eq '{principal.app_id}'"})
    assert listed.status_code == 200, listed.text
    assert [sp["id"] for sp in listed.json()["value"]] == [principal.object_id]
    # Reading is not writing.
    assert graph(azlite, "POST", "applications", token=after, json={"displayName": "x"}).status_code == 403

    revoked = graph(azlite, "DELETE", f"{assignments}/{body['id']}")
    assert revoked.status_code == 204, revoked.text
    assert graph(azlite, "GET", assignments).json()["value"] == []
    later = azlite.client_credentials(principal.app_id, principal.secret, GRAPH_SCOPE)
    assert "roles" not in claims_of(later)
    refused = graph(azlite, "GET", "servicePrincipals", token=later)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied", refused.text


def test_graph_cli_grants_a_graph_role_to_the_vms_identity_seen_through_imds(azlite):
    """`azlite ad sp grant-graph-role` for the demo VM's identity: a Graph token the VM gets
    from IMDS afterwards carries the role and reads the directory; revoked at the end."""
    demo = demo_vm(azlite)
    principal = demo["principalId"]

    def imds_graph_token(resource: str) -> str:
        answer = requests.get(
            f"{azlite.info['imds']}/metadata/identity/oauth2/token",
            params={"api-version": "2018-02-01", "resource": resource},
            headers={"Metadata": "true"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    # IMDS caches a token per resource string, as Azure's does: each step asks for Graph
    # under a spelling of its own, so it gets a token issued at that moment.
    before = imds_graph_token("https://graph.microsoft.com")
    assert "roles" not in claims_of(before)
    assert graph(azlite, "GET", "servicePrincipals", token=before).status_code == 403
    granted = json.loads(cli(azlite, "ad", "sp", "grant-graph-role", "--id", principal, "--role", "Application.Read.All").stdout)
    try:
        assert granted["principalId"] == principal and granted["appRoleId"] == APPLICATION_READ_ALL, granted
        after = imds_graph_token(GRAPH_APP_ID)
        assert claims_of(after)["roles"] == ["Application.Read.All"]
        assert claims_of(after)["oid"] == principal
        listed = graph(azlite, "GET", "servicePrincipals", token=after)
        assert listed.status_code == 200, listed.text
        assert principal in [sp["id"] for sp in listed.json()["value"]]
        # Granting twice keeps the one assignment.
        again = json.loads(cli(azlite, "ad", "sp", "grant-graph-role", "--id", principal, "--role", APPLICATION_READ_ALL).stdout)
        assert again["id"] == granted["id"]
        wrong = cli(azlite, "ad", "sp", "grant-graph-role", "--id", principal, "--role", "Mail.Send", check=False)
        assert wrong.returncode != 0 and "no app role 'Mail.Send'" in wrong.stderr, wrong.stderr
    finally:
        cli(azlite, "ad", "sp", "revoke-graph-role", "--id", principal, "--role", "Application.Read.All")
    held = graph(azlite, "GET", f"servicePrincipals/{principal}/appRoleAssignments")
    assert held.json()["value"] == [], held.text
