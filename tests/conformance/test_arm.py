"""ARM's control plane as its owner sees it: azure-mgmt-resource (subscriptions, providers,
resource groups), azure-mgmt-authorization (role definitions and assignments), and the wire
details a curl user meets (api-version, path casing, 401s, `/metadata/endpoints`).

Every SDK client gets `base_url=azlite.https` (ARM answers by path on the listener's IP host),
`credential_scopes=[ARM_SCOPE]` and `connection_verify=azlite.ca`; its credential is a
ClientSecretCredential on azlite's authority (conftest's `Azlite.credential`).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.resource.resources.models import ResourceGroup, ResourceGroupPatchable

from conftest import authorization_client, resource_client, subscription_client
from jwt_helpers import is_guid

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
RG_TYPE = "Microsoft.Resources/resourceGroups"
MISSING_API_VERSION = "The api-version query parameter (?api-version=) is required for all requests."


def statuses() -> tuple[list[int], dict[str, Any]]:
    """A list that fills with the HTTP status of every response of one SDK call, and the
    keyword argument that makes the call fill it."""
    seen: list[int] = []
    return seen, {"raw_response_hook": lambda pipeline_response: seen.append(pipeline_response.http_response.status_code)}


def group_id(azlite, name: str) -> str:
    return f"/subscriptions/{azlite.subscription_id}/resourceGroups/{name}"


def same_id(a: str | None, b: str) -> bool:
    """ARM ids compare case-insensitively (reference §1.2)."""
    return a is not None and a.lower() == b.lower()


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


# ---------------------------------------------------------------------------------------
# Subscriptions, tenants, providers
# ---------------------------------------------------------------------------------------


def test_arm_subscription_client_lists_the_subscription(azlite):
    with subscription_client(azlite) as client:
        subscriptions = list(client.subscriptions.list())
        one = client.subscriptions.get(azlite.subscription_id)
        tenants = list(client.tenants.list())
    assert [s.subscription_id for s in subscriptions] == [azlite.subscription_id]
    listed = subscriptions[0]
    assert listed.id == f"/subscriptions/{azlite.subscription_id}"
    assert listed.tenant_id == azlite.tenant
    assert listed.state == "Enabled"
    assert listed.display_name
    assert listed.authorization_source == "RoleBased"
    assert one.subscription_id == azlite.subscription_id
    assert one.display_name == listed.display_name
    assert [t.tenant_id for t in tenants] == [azlite.tenant]
    assert tenants[0].id == f"/tenants/{azlite.tenant}"


def test_arm_unknown_subscription_is_not_found(azlite):
    unknown = str(uuid.uuid4())
    with subscription_client(azlite) as client, pytest.raises(HttpResponseError) as raised:
        client.subscriptions.get(unknown)
    # The owner holds no role there, so ARM may refuse (403) before it looks (404).
    assert raised.value.status_code in (403, 404), raised.value
    assert raised.value.error.code in ("AuthorizationFailed", "SubscriptionNotFound")


def test_arm_providers_are_registered(azlite):
    with resource_client(azlite) as client:
        provider = client.providers.get("Microsoft.Resources")
        namespaces = {p.namespace.lower() for p in client.providers.list()}
    assert provider.namespace == "Microsoft.Resources"
    assert provider.registration_state == "Registered"
    types = {t.resource_type.lower(): t for t in provider.resource_types}
    assert "resourcegroups" in types
    assert types["resourcegroups"].api_versions, "the az CLI picks an api-version from this list"
    assert {"microsoft.resources", "microsoft.authorization"} <= namespaces


def test_arm_metadata_endpoints_point_at_the_listener(azlite):
    # No token: az cloud register reads this before anyone is logged in.
    response = azlite.session.get(azlite.url("/metadata/endpoints"), params={"api-version": "2022-09-01"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceManager"].rstrip("/") == azlite.https
    assert body["authentication"]["loginEndpoint"].rstrip("/") == azlite.https
    assert "https://management.azure.com/" in body["authentication"]["audiences"] or (
        "https://management.core.windows.net/" in body["authentication"]["audiences"]
    )


# ---------------------------------------------------------------------------------------
# Resource groups through azure-mgmt-resource
# ---------------------------------------------------------------------------------------


def test_arm_resource_group_lifecycle_with_the_sdk(azlite, resource_groups):
    name = resource_groups("sdk-life", create=False)
    with resource_client(azlite) as client:
        seen, hook = statuses()
        created = client.resource_groups.create_or_update(name, ResourceGroup(location="westeurope", tags={"env": "test"}), **hook)
        again = client.resource_groups.create_or_update(name, ResourceGroup(location="westeurope", tags={"env": "test"}), **hook)
        assert seen == [201, 200]
        for group in (created, again):
            assert group.name == name
            assert same_id(group.id, group_id(azlite, name))
            assert group.type == RG_TYPE
            assert group.location == "westeurope"
            assert group.tags == {"env": "test"}
            assert group.properties.provisioning_state == "Succeeded"

        got = client.resource_groups.get(name)
        assert (got.name, got.location, got.tags) == (name, "westeurope", {"env": "test"})
        assert name in [g.name for g in client.resource_groups.list()]
        assert client.resource_groups.check_existence(name) is True

        updated = client.resource_groups.update(name, ResourceGroupPatchable(tags={"env": "prod", "team": "a"}))
        assert updated.tags == {"env": "prod", "team": "a"}
        assert updated.location == "westeurope"
        assert client.resource_groups.get(name).tags == {"env": "prod", "team": "a"}

        assert list(client.resources.list_by_resource_group(name)) == []

        poller = client.resource_groups.begin_delete(name)
        assert poller.result() is None
        assert poller.status() == "Succeeded"

        with pytest.raises(ResourceNotFoundError) as raised:
            client.resource_groups.get(name)
        assert raised.value.status_code == 404
        assert raised.value.error.code == "ResourceGroupNotFound"
        assert raised.value.error.message == f"Resource group '{name}' could not be found."
        assert client.resource_groups.check_existence(name) is False
        assert name not in [g.name for g in client.resource_groups.list()]


def test_arm_resource_group_list_filters_by_tag(azlite, resource_groups):
    tagged, plain = resource_groups("tagged"), resource_groups("plain")
    marker = uuid.uuid4().hex[:8]
    with resource_client(azlite) as client:
        client.resource_groups.create_or_update(tagged, ResourceGroup(location="eastus", tags={"marker": marker}))
        by_value = [g.name for g in client.resource_groups.list(filter=f"tagName eq 'marker' and tagValue eq '{marker}'")]
        by_name = [g.name for g in client.resource_groups.list(filter="tagName eq 'marker'")]
    assert by_value == [tagged]
    assert tagged in by_name and plain not in by_name


def test_arm_resource_group_put_replaces_tags_and_keeps_its_location(azlite, resource_groups):
    name = resource_groups("sdk-put")
    with resource_client(azlite) as client:
        client.resource_groups.create_or_update(name, ResourceGroup(location="eastus", tags={"a": "1"}))
        replaced = client.resource_groups.create_or_update(name, ResourceGroup(location="eastus", tags={"b": "2"}))
        assert replaced.tags == {"b": "2"}
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.create_or_update(name, ResourceGroup(location="westus"))
        assert raised.value.status_code == 409
        assert raised.value.error.code == "InvalidResourceGroupLocation"
        assert client.resource_groups.get(name).location == "eastus"


# ---------------------------------------------------------------------------------------
# Role definitions and assignments through azure-mgmt-authorization
# ---------------------------------------------------------------------------------------


def test_arm_role_definitions_filtered_by_role_name(azlite, resource_groups):
    subscription = f"/subscriptions/{azlite.subscription_id}"
    with authorization_client(azlite) as client:
        readers = list(client.role_definitions.list(subscription, filter="roleName eq 'Reader'"))
        assert [r.name for r in readers] == [READER]
        reader = readers[0]
        assert reader.role_name == "Reader"
        assert reader.role_type == "BuiltInRole"
        assert reader.type == "Microsoft.Authorization/roleDefinitions"
        assert role_guid(reader.id) == READER
        assert [p.actions for p in reader.permissions] == [["*/read"]]
        assert reader.assignable_scopes == ["/"]

        # Built-ins appear at every scope, and by id in either form.
        group = group_id(azlite, resource_groups("roledefs"))
        at_group = client.role_definitions.get(group, READER)
        assert at_group.role_name == "Reader"
        by_id = client.role_definitions.get_by_id(f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}")
        assert by_id.role_name == "Owner"
        all_roles = {r.role_name: r.name for r in client.role_definitions.list(subscription)}
    assert all_roles["Owner"] == OWNER
    assert all_roles["Contributor"] == CONTRIBUTOR
    assert all_roles["Reader"] == READER
    assert all(is_guid(guid) for guid in all_roles.values())


def test_arm_role_assignment_create_get_list_delete_with_the_sdk(azlite, resource_groups, new_principal):
    principal = new_principal("arm-sdk-assignee")
    subscription = f"/subscriptions/{azlite.subscription_id}"
    group = group_id(azlite, resource_groups("assign"))
    name = str(uuid.uuid4())
    with authorization_client(azlite) as client:
        reader_id = next(iter(client.role_definitions.list(group, filter="roleName eq 'Reader'"))).id
        seen, hook = statuses()
        created = client.role_assignments.create(
            group,
            name,
            RoleAssignmentCreateParameters(
                role_definition_id=reader_id, principal_id=principal.object_id, principal_type="ServicePrincipal"
            ),
            **hook,
        )
        assert seen == [201]
        assert created.name == name
        assert same_id(created.id, f"{group}/providers/Microsoft.Authorization/roleAssignments/{name}")
        assert created.type == "Microsoft.Authorization/roleAssignments"
        assert created.principal_id == principal.object_id
        assert created.principal_type == "ServicePrincipal"
        assert role_guid(created.role_definition_id) == READER
        assert same_id(created.scope, group)

        got = client.role_assignments.get(group, name)
        assert (got.name, got.principal_id, role_guid(got.role_definition_id)) == (name, principal.object_id, READER)
        assert same_id(got.scope, group)

        # atScope(): at and above the scope (the owner's subscription assignment shows), never below.
        at_group = list(client.role_assignments.list_for_scope(group, filter="atScope()"))
        assert name in [a.name for a in at_group]
        assert any(same_id(a.scope, subscription) and role_guid(a.role_definition_id) == OWNER for a in at_group)
        at_subscription = list(client.role_assignments.list_for_scope(subscription, filter="atScope()"))
        assert name not in [a.name for a in at_subscription]
        assert all(same_id(a.scope, subscription) or a.scope == "/" for a in at_subscription)

        for_principal = list(client.role_assignments.list_for_scope(subscription, filter=f"principalId eq '{principal.object_id}'"))
        assert [a.name for a in for_principal] == [name]
        assert name in [a.name for a in client.role_assignments.list_for_subscription()]

        deleted = client.role_assignments.delete(group, name)
        assert deleted is not None and deleted.name == name
        with pytest.raises(ResourceNotFoundError):
            client.role_assignments.get(group, name)
        seen, hook = statuses()
        assert client.role_assignments.delete(group, name, **hook) is None
        assert seen == [204]
        assert list(client.role_assignments.list_for_scope(subscription, filter=f"principalId eq '{principal.object_id}'")) == []


# ---------------------------------------------------------------------------------------
# The wire, as curl sees it
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/subscriptions",
        "/subscriptions/{s}",
        "/subscriptions/{s}/resourcegroups",
        "/subscriptions/{s}/resourcegroups/any-group",
        "/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions",
    ],
)
def test_arm_missing_api_version(azlite, path):
    response = azlite.arm("GET", path.format(s=azlite.subscription_id), api_version=None)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": {"code": "MissingApiVersionParameter", "message": MISSING_API_VERSION}}
    assert response.headers.get("x-ms-request-id")


def test_arm_invalid_api_version(azlite):
    response = azlite.arm("GET", f"/subscriptions/{azlite.subscription_id}/resourcegroups", api_version="latest")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_arm_resource_group_path_casing(azlite, resource_groups):
    name = resource_groups("CasedGroup", create=False)
    s = azlite.subscription_id
    created = azlite.arm("PUT", f"/subscriptions/{s}/resourcegroups/{name}", {"location": "eastus"})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name

    for path in (
        f"/subscriptions/{s}/resourceGroups/{name}",
        f"/subscriptions/{s}/resourcegroups/{name}",
        f"/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/{name.lower()}",
        f"/subscriptions/{s}/resourceGroups/{name.upper()}",
    ):
        got = azlite.arm("GET", path)
        assert got.status_code == 200, (path, got.text)
        assert got.json()["name"] == name, path
        assert same_id(got.json()["id"], group_id(azlite, name))
        assert azlite.arm("HEAD", path).status_code == 204, path

    again = azlite.arm("PUT", f"/subscriptions/{s}/resourceGroups/{name.lower()}", {"location": "eastus"})
    assert again.status_code == 200, again.text
    listed = azlite.arm("GET", f"/subscriptions/{s}/resourceGroups")
    assert listed.status_code == 200, listed.text
    matching = [g["name"] for g in listed.json()["value"] if g["name"].lower() == name.lower()]
    assert len(matching) == 1, matching


def test_arm_resource_group_raw_status_codes(azlite, resource_groups):
    name = resource_groups("raw", create=False)
    path = f"/subscriptions/{azlite.subscription_id}/resourcegroups/{name}"
    assert azlite.arm("HEAD", path).status_code == 404
    missing = azlite.arm("GET", path)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "ResourceGroupNotFound", "message": f"Resource group '{name}' could not be found."}}

    no_location = azlite.arm("PUT", path, {"tags": {}})
    assert no_location.status_code == 400, no_location.text
    assert no_location.json()["error"]["code"] == "LocationRequired"

    created = azlite.arm("PUT", path, {"location": "eastus", "tags": {"k": "v"}})
    assert created.status_code == 201, created.text
    assert created.json() == {
        "id": group_id(azlite, name),
        "name": name,
        "type": RG_TYPE,
        "location": "eastus",
        "tags": {"k": "v"},
        "properties": {"provisioningState": "Succeeded"},
    }
    patched = azlite.arm("PATCH", path, {"tags": {"k2": "v2"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == {"k2": "v2"}
    resources = azlite.arm("GET", path + "/resources")
    assert resources.status_code == 200, resources.text
    assert resources.json()["value"] == []

    deleted = azlite.arm("DELETE", path)
    assert deleted.status_code == 200, deleted.text
    again = azlite.arm("DELETE", path)
    assert again.status_code == 404, again.text
    assert again.json()["error"]["code"] == "ResourceGroupNotFound"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/subscriptions"),
        ("GET", "/tenants"),
        ("GET", "/subscriptions/{s}"),
        ("GET", "/subscriptions/{s}/resourcegroups"),
        ("PUT", "/subscriptions/{s}/resourcegroups/never-created"),
        ("GET", "/subscriptions/{s}/resourceGroups/never-created/providers/Microsoft.Authorization/roleAssignments"),
        ("GET", "/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions"),
    ],
)
def test_arm_without_a_token_is_401(azlite, method, path):
    response = azlite.arm(method, path.format(s=azlite.subscription_id), {"location": "eastus"} if method == "PUT" else None, token="")
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": {"code": "AuthenticationFailed", "message": "Authentication failed. The 'Authorization' header is missing."}
    }
    assert response.headers.get("WWW-Authenticate", "").lower().startswith("bearer")


def test_arm_401_for_a_malformed_header_and_a_wrong_audience(azlite):
    path = f"/subscriptions/{azlite.subscription_id}/resourcegroups"
    malformed = azlite.arm("GET", path, headers={"Authorization": "Basic dXNlcjpwYXNz"}, token="")
    assert malformed.status_code == 401, malformed.text
    assert malformed.json()["error"]["code"] == "AuthenticationFailedInvalidHeader"

    vault_token = azlite.owner_token("https://vault.azure.net/.default")
    wrong = azlite.arm("GET", path, token=vault_token)
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert "https://vault.azure.net" in wrong.json()["error"]["message"]


def test_arm_sdk_without_a_valid_credential_raises_client_authentication_error(azlite):
    from azure.core.exceptions import ClientAuthenticationError

    with resource_client(azlite, azlite.credential(azlite.client_id, "not-the-secret")) as client:
        with pytest.raises(ClientAuthenticationError) as raised:
            client.resource_groups.get("anything")
    assert "AADSTS7000215" in str(raised.value)


def test_arm_echoes_request_ids(azlite):
    client_request_id = str(uuid.uuid4())
    response = azlite.arm(
        "GET",
        "/subscriptions",
        headers={"x-ms-client-request-id": client_request_id, "x-ms-return-client-request-id": "true"},
    )
    assert response.status_code == 200, response.text
    assert is_guid(response.headers.get("x-ms-request-id"))
    assert response.headers.get("x-ms-client-request-id") == client_request_id
