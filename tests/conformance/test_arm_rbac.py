"""Azure RBAC on ARM, seen through the real SDKs: what Reader, Contributor and no role at all
let a service principal do, how fast an assignment's removal bites, and the rules of role
assignments (RoleAssignmentExists, idempotent PUT, PrincipalNotFound, deletion with the group).

Each test makes its own principal (conftest's `new_principal`) and its own groups
(`resource_groups`, deleted at the end); the owner of connection.json grants the roles.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.resource.resources.models import ResourceGroup, ResourceGroupPatchable

from conftest import authorization_client, resource_client, subscription_client

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
RG_READ = "Microsoft.Resources/subscriptions/resourceGroups/read"
RG_WRITE = "Microsoft.Resources/subscriptions/resourceGroups/write"
RG_DELETE = "Microsoft.Resources/subscriptions/resourceGroups/delete"
ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write"


def group_scope(azlite, name: str) -> str:
    return f"/subscriptions/{azlite.subscription_id}/resourceGroups/{name}"


def role_id(azlite, guid: str) -> str:
    return f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def assign(azlite, scope: str, guid: str, principal_id: str, name: str | None = None, **kwargs: Any) -> Any:
    """The owner creates a role assignment with azure-mgmt-authorization; returns it."""
    name = name or str(uuid.uuid4())
    with authorization_client(azlite) as client:
        return client.role_assignments.create(
            scope,
            name,
            RoleAssignmentCreateParameters(
                role_definition_id=role_id(azlite, guid), principal_id=principal_id, principal_type="ServicePrincipal"
            ),
            **kwargs,
        )


def unassign(azlite, scope: str, name: str) -> None:
    with authorization_client(azlite) as client:
        client.role_assignments.delete(scope, name)


def assert_authorization_failed(error: HttpResponseError, principal: Any, action: str, scope: str) -> None:
    """403 AuthorizationFailed in ARM's words, naming the app id, object id, action and scope.
    Real ARM often echoes the scope lowercased (reference §1.8), so the scope compares
    case-insensitively; everything else exactly."""
    assert error.status_code == 403, error
    assert error.error.code == "AuthorizationFailed", error.error
    pattern = (
        re.escape(f"The client '{principal.app_id}' with object id '{principal.object_id}' ")
        + re.escape(f"does not have authorization to perform action '{action}' over scope '")
        + "(?P<scope>[^']+)"
        + re.escape("' or the scope is invalid. If access was recently granted, please refresh your credentials.")
    )
    match = re.fullmatch(pattern, error.error.message)
    assert match, error.error.message
    assert match["scope"].lower() == scope.lower(), error.error.message


# ---------------------------------------------------------------------------------------
# Reader, Contributor, nothing
# ---------------------------------------------------------------------------------------


def test_arm_reader_on_a_group_reads_it_but_cannot_write_it(azlite, resource_groups, new_principal):
    name = resource_groups("reader")
    scope = group_scope(azlite, name)
    principal = new_principal("arm-reader")
    assign(azlite, scope, READER, principal.object_id)

    with principal.resource_client() as client:
        got = client.resource_groups.get(name)
        assert got.name == name
        assert client.resource_groups.check_existence(name) is True

        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.create_or_update(name, ResourceGroup(location="eastus", tags={"by": "reader"}))
        assert_authorization_failed(raised.value, principal, RG_WRITE, scope)

        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.update(name, ResourceGroupPatchable(tags={"by": "reader"}))
        assert_authorization_failed(raised.value, principal, RG_WRITE, scope)

        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.begin_delete(name).result()
        assert_authorization_failed(raised.value, principal, RG_DELETE, scope)

        # Reader is no licence to create groups next to it either.
        other = resource_groups("reader-new", create=False)
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.create_or_update(other, ResourceGroup(location="eastus"))
        assert_authorization_failed(raised.value, principal, RG_WRITE, group_scope(azlite, other))

    with resource_client(azlite) as owner:
        assert owner.resource_groups.get(name).tags == {}
        assert owner.resource_groups.check_existence(other) is False


def test_arm_no_assignment_means_403_even_to_read(azlite, resource_groups, new_principal):
    name = resource_groups("none")
    principal = new_principal("arm-nobody")
    with principal.resource_client() as client:
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.get(name)
        assert_authorization_failed(raised.value, principal, RG_READ, group_scope(azlite, name))

        # Authorization comes before existence: a missing group is 403 too, not 404.
        missing = resource_groups("none-missing", create=False)
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.get(missing)
        assert_authorization_failed(raised.value, principal, RG_READ, group_scope(azlite, missing))

        with pytest.raises(HttpResponseError) as raised:
            list(client.resource_groups.list())
        assert raised.value.status_code == 403
        assert raised.value.error.code == "AuthorizationFailed"

    with subscription_client(azlite, principal.credential()) as client:
        assert list(client.subscriptions.list()) == []


def test_arm_reader_on_one_group_sees_only_that_group(azlite, resource_groups, new_principal):
    name = resource_groups("seen")
    hidden = resource_groups("hidden")
    # Scopes match by whole segments: Reader on `name` says nothing about `name` + "0".
    prefixed = resource_groups(name=name + "0")
    principal = new_principal("arm-one-group")
    assign(azlite, group_scope(azlite, name), READER, principal.object_id)
    with principal.resource_client() as client:
        assert [g.name for g in client.resource_groups.list()] == [name]
        for other in (hidden, prefixed):
            with pytest.raises(HttpResponseError) as raised:
                client.resource_groups.get(other)
            assert_authorization_failed(raised.value, principal, RG_READ, group_scope(azlite, other))


def test_arm_reader_on_the_subscription_reads_every_group(azlite, resource_groups, new_principal):
    names = {resource_groups("sub-reader"), resource_groups("sub-reader")}
    principal = new_principal("arm-subscription-reader")
    subscription = f"/subscriptions/{azlite.subscription_id}"
    assignment = assign(azlite, subscription, READER, principal.object_id)
    try:
        with resource_client(azlite) as owner:
            everything = {g.name for g in owner.resource_groups.list()}
        with principal.resource_client() as client:
            listed = {g.name for g in client.resource_groups.list()}
            assert names <= listed
            assert listed == everything
            for name in names:
                assert client.resource_groups.get(name).name == name
            with pytest.raises(HttpResponseError) as raised:
                client.resource_groups.update(sorted(names)[0], ResourceGroupPatchable(tags={"x": "y"}))
            assert_authorization_failed(raised.value, principal, RG_WRITE, group_scope(azlite, sorted(names)[0]))
        with subscription_client(azlite, principal.credential()) as client:
            assert [s.subscription_id for s in client.subscriptions.list()] == [azlite.subscription_id]
    finally:
        unassign(azlite, subscription, assignment.name)


def test_arm_contributor_writes_the_group_but_cannot_assign_roles(azlite, resource_groups, new_principal):
    name = resource_groups("contrib")
    scope = group_scope(azlite, name)
    principal = new_principal("arm-contributor")
    bystander = new_principal("arm-bystander")
    assign(azlite, scope, CONTRIBUTOR, principal.object_id)

    with principal.resource_client() as client:
        updated = client.resource_groups.create_or_update(name, ResourceGroup(location="eastus", tags={"by": "contributor"}))
        assert updated.tags == {"by": "contributor"}
        assert client.resource_groups.update(name, ResourceGroupPatchable(tags={"v": "2"})).tags == {"v": "2"}

    with principal.authorization_client() as client:
        # Contributor reads assignments (*), but Microsoft.Authorization/*/Write is a notAction.
        assert any(a.principal_id == principal.object_id for a in client.role_assignments.list_for_scope(scope))
        with pytest.raises(HttpResponseError) as raised:
            client.role_assignments.create(
                scope,
                str(uuid.uuid4()),
                RoleAssignmentCreateParameters(
                    role_definition_id=role_id(azlite, READER), principal_id=bystander.object_id, principal_type="ServicePrincipal"
                ),
            )
        assert_authorization_failed(raised.value, principal, ASSIGNMENT_WRITE, scope)

    with authorization_client(azlite) as owner:
        mine = f"principalId eq '{bystander.object_id}'"
        assert list(owner.role_assignments.list_for_scope(f"/subscriptions/{azlite.subscription_id}", filter=mine)) == []


# ---------------------------------------------------------------------------------------
# Changes take effect at once
# ---------------------------------------------------------------------------------------


def test_arm_removed_assignment_bites_on_the_very_next_call(azlite, resource_groups, new_principal):
    name = resource_groups("revoke")
    scope = group_scope(azlite, name)
    principal = new_principal("arm-revoked")
    assignment = assign(azlite, scope, READER, principal.object_id)

    sent_tokens: list[str] = []
    record = {"raw_request_hook": lambda request: sent_tokens.append(request.http_request.headers["Authorization"])}
    with principal.resource_client() as client:
        assert client.resource_groups.get(name, **record).name == name
        unassign(azlite, scope, assignment.name)
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.get(name, **record)
        assert_authorization_failed(raised.value, principal, RG_READ, scope)
        # And back: granting bites at once too, still with the same token.
        assign(azlite, scope, READER, principal.object_id)
        assert client.resource_groups.get(name, **record).name == name
    # The SDK kept its token: the role changed, not the credential.
    assert len(sent_tokens) == 3 and len(set(sent_tokens)) == 1


def test_arm_deleting_a_group_deletes_its_role_assignments(azlite, resource_groups, new_principal):
    name = resource_groups("recreated")
    scope = group_scope(azlite, name)
    principal = new_principal("arm-gone-with-the-group")
    assign(azlite, scope, READER, principal.object_id)
    with principal.resource_client() as client:
        assert client.resource_groups.get(name).name == name

    with resource_client(azlite) as owner:
        owner.resource_groups.begin_delete(name).result()
        owner.resource_groups.create_or_update(name, ResourceGroup(location="eastus"))

    with authorization_client(azlite) as owner:
        mine = f"principalId eq '{principal.object_id}'"
        assert list(owner.role_assignments.list_for_scope(scope, filter=mine)) == []
        assert list(owner.role_assignments.list_for_scope(f"/subscriptions/{azlite.subscription_id}", filter=mine)) == []
    with principal.resource_client() as client:
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.get(name)
        assert_authorization_failed(raised.value, principal, RG_READ, scope)


# ---------------------------------------------------------------------------------------
# Rules of role assignments
# ---------------------------------------------------------------------------------------


def test_arm_role_assignment_exists_under_another_name(azlite, resource_groups, new_principal):
    scope = group_scope(azlite, resource_groups("dup"))
    principal = new_principal("arm-dup")
    first = assign(azlite, scope, READER, principal.object_id)
    with pytest.raises(ResourceExistsError) as raised:
        assign(azlite, scope, READER, principal.object_id, name=str(uuid.uuid4()))
    assert raised.value.status_code == 409
    assert raised.value.error.code == "RoleAssignmentExists"
    assert raised.value.error.message == "The role assignment already exists."
    with authorization_client(azlite) as owner:
        mine = list(owner.role_assignments.list_for_scope(scope, filter=f"principalId eq '{principal.object_id}'"))
    assert [a.name for a in mine] == [first.name]
    # Another role for the same principal and scope is a different assignment.
    assert assign(azlite, scope, CONTRIBUTOR, principal.object_id).name != first.name


def test_arm_identical_role_assignment_put_twice_answers_200(azlite, resource_groups, new_principal):
    scope = group_scope(azlite, resource_groups("idem"))
    principal = new_principal("arm-idempotent")
    name = str(uuid.uuid4())
    seen: list[int] = []
    hook = {"raw_response_hook": lambda response: seen.append(response.http_response.status_code)}
    first = assign(azlite, scope, READER, principal.object_id, name=name, **hook)
    second = assign(azlite, scope, READER, principal.object_id, name=name, **hook)
    assert seen == [201, 200]
    assert (second.id, second.name, second.principal_id, second.role_definition_id, second.scope) == (
        first.id,
        first.name,
        first.principal_id,
        first.role_definition_id,
        first.scope,
    )

    # The same on the wire.
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    body = {
        "properties": {"roleDefinitionId": role_id(azlite, READER), "principalId": principal.object_id, "principalType": "ServicePrincipal"}
    }
    raw = azlite.arm("PUT", path, body, api_version="2022-04-01")
    assert raw.status_code == 200, raw.text
    assert raw.json()["name"] == name


def test_arm_unknown_principal_is_principal_not_found(azlite, resource_groups):
    scope = group_scope(azlite, resource_groups("ghost"))
    ghost = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as raised:
        assign(azlite, scope, READER, ghost)
    assert raised.value.status_code == 400
    assert raised.value.error.code == "PrincipalNotFound"
    message = raised.value.error.message
    # Real ARM prints the id without hyphens ("Principal 3b0a…44 does not exist…").
    assert message.startswith(f"Principal {ghost.replace('-', '')} does not exist in the directory {azlite.tenant}.") or message.startswith(
        f"Principal {ghost} does not exist in the directory {azlite.tenant}."
    ), message
    assert "principalType" in message
    with authorization_client(azlite) as owner:
        assert list(owner.role_assignments.list_for_scope(scope, filter=f"principalId eq '{ghost}'")) == []


def test_arm_principal_type_comes_from_the_directory_when_omitted(azlite, resource_groups, new_principal):
    # Raw request: the SDK's RoleAssignmentCreateParameters always sends a principalType
    # ("User" by default), so only a hand-made body can leave it out.
    scope = group_scope(azlite, resource_groups("ptype"))
    principal = new_principal("arm-principal-type")
    body = {"properties": {"roleDefinitionId": role_id(azlite, READER), "principalId": principal.object_id}}
    response = azlite.arm("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["principalType"] == "ServicePrincipal"


def test_arm_principal_type_must_match_the_directory(azlite, resource_groups, new_principal):
    scope = group_scope(azlite, resource_groups("ptype-user"))
    principal = new_principal("arm-principal-type-user")
    with authorization_client(azlite) as client, pytest.raises(HttpResponseError) as raised:
        client.role_assignments.create(
            scope,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(
                role_definition_id=role_id(azlite, READER), principal_id=principal.object_id, principal_type="User"
            ),
        )
    assert raised.value.status_code == 400
    assert raised.value.error.code == "UnmatchedPrincipalType"


def test_arm_reader_cannot_grant_itself_more(azlite, resource_groups, new_principal):
    scope = group_scope(azlite, resource_groups("escalate"))
    principal = new_principal("arm-escalate")
    assign(azlite, scope, READER, principal.object_id)
    with principal.authorization_client() as client:
        with pytest.raises(HttpResponseError) as raised:
            client.role_assignments.create(
                scope,
                str(uuid.uuid4()),
                RoleAssignmentCreateParameters(
                    role_definition_id=role_id(azlite, CONTRIBUTOR), principal_id=principal.object_id, principal_type="ServicePrincipal"
                ),
            )
    assert_authorization_failed(raised.value, principal, ASSIGNMENT_WRITE, scope)


# ---------------------------------------------------------------------------------------
# What survives a restart
# ---------------------------------------------------------------------------------------


def test_arm_role_assignments_survive_a_restart(azlite_factory):
    """The assignment index is rebuilt from the store: what was granted still is, what was
    removed (one by one, or with its group) stays removed, and the owner is still Owner."""
    instance = azlite_factory.start()
    s = instance.subscription_id
    kept, revoked, doomed = (f"restart-{what}-{uuid.uuid4().hex[:6]}" for what in ("kept", "revoked", "doomed"))
    app = instance.create_app(displayName="arm-restart", password=True)
    object_id = app["servicePrincipalObjectId"]
    with resource_client(instance) as owner:
        for name in (kept, revoked, doomed):
            owner.resource_groups.create_or_update(name, ResourceGroup(location="eastus"))
    kept_assignment = assign(instance, group_scope(instance, kept), READER, object_id)
    revoked_assignment = assign(instance, group_scope(instance, revoked), READER, object_id)
    assign(instance, group_scope(instance, doomed), READER, object_id)
    unassign(instance, group_scope(instance, revoked), revoked_assignment.name)
    with resource_client(instance) as owner:
        owner.resource_groups.begin_delete(doomed).result()
    assert instance.stop() == 0, instance.stderr_tail()

    again = azlite_factory.start(instance.data_dir)
    assert again.subscription_id == s
    with authorization_client(again) as owner:
        mine = list(owner.role_assignments.list_for_scope(f"/subscriptions/{s}", filter=f"principalId eq '{object_id}'"))
    assert [a.name for a in mine] == [kept_assignment.name]

    with resource_client(again, again.credential(app["appId"], app["password"])) as client:
        assert client.resource_groups.get(kept).name == kept
        assert [g.name for g in client.resource_groups.list()] == [kept]
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.get(revoked)
        assert raised.value.status_code == 403 and raised.value.error.code == "AuthorizationFailed"
        with pytest.raises(HttpResponseError) as raised:
            client.resource_groups.get(doomed)
        assert raised.value.status_code == 403 and raised.value.error.code == "AuthorizationFailed"

    with resource_client(again) as owner:
        owner.resource_groups.update(kept, ResourceGroupPatchable(tags={"after": "restart"}))
        assert owner.resource_groups.get(kept).tags == {"after": "restart"}
    assert again.stop() == 0, again.stderr_tail()
