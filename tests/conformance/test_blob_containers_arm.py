"""Blob containers through ARM (issue 11), as azure-mgmt-storage uses them:
`blob_containers.create/get/list/update/delete` and `blob_services.get_service_properties`,
with Azure's codes for a container that exists already or is missing and for public access on
an account that forbids it; RBAC (`…/blobServices/containers/read|write|delete`: a Reader reads,
cannot write); and one store with the Blob service: a container made through ARM is served by
the account's blob endpoint, and one made there is listed and deleted through ARM (the data
plane's clients run inside `azlite run`'s loopback-only namespace).
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.storage.models import BlobContainer

from test_blob_keys_sas import PRELUDE, run_in_vm
from test_storage_arm import (
    READER,
    account_name,
    account_path,
    assign,
    create_parameters,
    keys_of,
    statuses,
    storage_client,
)

CONTAINER_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers"


@pytest.fixture
def account(azlite, resource_groups) -> tuple[str, str]:
    group = resource_groups("stc")
    name = account_name("ctr")
    with storage_client(azlite) as client:
        client.storage_accounts.begin_create(group, name, create_parameters()).result()
    return group, name


def test_the_sdk_creates_gets_lists_updates_and_deletes_containers(azlite, account):
    group, name = account
    with storage_client(azlite) as client:
        seen, hook = statuses()
        created = client.blob_containers.create(group, name, "logs", BlobContainer(metadata={"env": "test"}), **hook)
        assert seen == [201]
        assert created.id == account_path(azlite, group, name) + "/blobServices/default/containers/logs"
        assert (created.name, created.type) == ("logs", CONTAINER_TYPE)
        assert created.etag.startswith('"0x')
        assert created.public_access == "None"
        assert (created.lease_status, created.lease_state) == ("Unlocked", "Available")
        assert created.metadata == {"env": "test"}
        assert created.has_immutability_policy is False and created.has_legal_hold is False

        got = client.blob_containers.get(group, name, "logs")
        assert (got.id, got.etag, got.metadata) == (created.id, created.etag, {"env": "test"})
        assert got.last_modified_time is not None

        client.blob_containers.create(group, name, "data", BlobContainer())
        assert [c.name for c in client.blob_containers.list(group, name)] == ["data", "logs"]

        with pytest.raises(ResourceExistsError) as exists:
            client.blob_containers.create(group, name, "logs", BlobContainer())
        assert (exists.value.status_code, exists.value.error.code) == (409, "ContainerAlreadyExists")

        updated = client.blob_containers.update(group, name, "logs", BlobContainer(metadata={"team": "a"}))
        assert updated.metadata == {"team": "a"}
        assert updated.etag != created.etag
        assert client.blob_containers.get(group, name, "logs").metadata == {"team": "a"}

        # Public access needs the account's allowBlobPublicAccess, as on the data plane.
        with pytest.raises(HttpResponseError) as public:
            client.blob_containers.create(group, name, "public", BlobContainer(public_access="Container"))
        assert (public.value.status_code, public.value.error.code) == (409, "PublicAccessNotPermitted")
        with pytest.raises(HttpResponseError) as invalid:
            client.blob_containers.create(group, name, "Not_Valid", BlobContainer())
        assert invalid.value.status_code == 400

        seen, hook = statuses()
        client.blob_containers.delete(group, name, "logs", **hook)
        client.blob_containers.delete(group, name, "logs", **hook)
        assert seen == [200, 204]
        with pytest.raises(ResourceNotFoundError) as missing:
            client.blob_containers.get(group, name, "logs")
        assert missing.value.error.code == "ContainerNotFound"
        assert [c.name for c in client.blob_containers.list(group, name)] == ["data"]

        with pytest.raises(ResourceNotFoundError) as no_account:
            client.blob_containers.list(group, "nosuchaccount1").next()
        assert no_account.value.error.code == "ResourceNotFound"

        service = client.blob_services.get_service_properties(group, name)
        assert (service.name, service.type) == ("default", "Microsoft.Storage/storageAccounts/blobServices")
        assert service.sku.name == "Standard_LRS"


def test_arm_and_the_blob_service_share_containers(azlite, account):
    group, name = account
    with storage_client(azlite) as client:
        client.blob_containers.create(group, name, "fromarm", BlobContainer(metadata={"made": "arm"}))
        key = keys_of(client, group, name)["key1"]
    url = f"https://{name}.blob.core.windows.net"
    first = PRELUDE + """
service = BlobServiceClient(URL, credential={"account_name": NAME, "account_key": KEY})
props = service.get_container_client("fromarm").get_container_properties()
service.get_container_client("fromarm").upload_blob("a.txt", b"into an ARM container")
service.create_container("fromblob", metadata={"made": "blob"})
print(json.dumps({"metadata": props.metadata, "containers": sorted(c.name for c in service.list_containers())}))
"""
    result = run_in_vm(azlite, first, ACCOUNT=name, KEY=key, ACCOUNT_URL=url)
    assert result == {"metadata": {"made": "arm"}, "containers": ["fromarm", "fromblob"]}

    with storage_client(azlite) as client:
        listed = {c.name: c for c in client.blob_containers.list(group, name)}
        assert sorted(listed) == ["fromarm", "fromblob"]
        assert client.blob_containers.get(group, name, "fromblob").metadata == {"made": "blob"}
        client.blob_containers.delete(group, name, "fromarm")

    second = PRELUDE + """
service = BlobServiceClient(URL, credential={"account_name": NAME, "account_key": KEY})
print(json.dumps({"gone": outcome(lambda: service.get_container_client("fromarm").get_container_properties() and b""),
                  "blob": outcome(lambda: service.get_blob_client("fromarm", "a.txt").download_blob().readall())}))
"""
    result = run_in_vm(azlite, second, ACCOUNT=name, KEY=key, ACCOUNT_URL=url)
    assert result == {"gone": [404, "ContainerNotFound"], "blob": [404, "ContainerNotFound"]}


def test_rbac_guards_containers(azlite, account, new_principal):
    group, name = account
    with storage_client(azlite) as client:
        client.blob_containers.create(group, name, "guarded", BlobContainer())
    reader = new_principal("ctr-reader")
    assign(azlite, f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}", READER, reader.object_id)
    with storage_client(azlite, reader.credential()) as client:
        assert [c.name for c in client.blob_containers.list(group, name)] == ["guarded"]
        assert client.blob_containers.get(group, name, "guarded").name == "guarded"
        for attempt in (
            lambda: client.blob_containers.create(group, name, "another", BlobContainer()),
            lambda: client.blob_containers.update(group, name, "guarded", BlobContainer(metadata={"a": "b"})),
            lambda: client.blob_containers.delete(group, name, "guarded"),
        ):
            with pytest.raises(HttpResponseError) as denied:
                attempt()
            assert (denied.value.status_code, denied.value.error.code) == (403, "AuthorizationFailed")
        message = denied.value.error.message
        assert "'Microsoft.Storage/storageAccounts/blobServices/containers/delete'" in message
        assert f"over scope '{account_path(azlite, group, name)}/blobServices/default/containers/guarded'" in message
    with storage_client(azlite) as client:
        assert [c.name for c in client.blob_containers.list(group, name)] == ["guarded"]


def test_the_container_list_pages_and_filters_by_prefix(azlite, account):
    group, name = account
    with storage_client(azlite) as client:
        for container in ("alpha-1", "alpha-2", "alpha-3", "beta-1", "beta-2"):
            client.blob_containers.create(group, name, container, BlobContainer())
        pages = client.blob_containers.list(group, name, maxpagesize="2").by_page()
        sizes = [[c.name for c in page] for page in pages]
        assert sizes == [["alpha-1", "alpha-2"], ["alpha-3", "beta-1"], ["beta-2"]]
        assert [c.name for c in client.blob_containers.list(group, name, filter="beta")] == ["beta-1", "beta-2"]
        paged = client.blob_containers.list(group, name, maxpagesize="1", filter="alpha")
        assert [c.name for c in paged] == ["alpha-1", "alpha-2", "alpha-3"]
        everything = ["alpha-1", "alpha-2", "alpha-3", "beta-1", "beta-2"]
        assert [c.name for c in client.blob_containers.list(group, name, include="deleted")] == everything
        for bad in ({"maxpagesize": "0"}, {"maxpagesize": "many"}, {"include": "everything"}):
            with pytest.raises(HttpResponseError) as refused:
                client.blob_containers.list(group, name, **bad).next()
            assert (refused.value.status_code, refused.value.error.code) == (400, "InvalidQueryParameterValue")


def test_the_blob_service_properties_are_set_kept_and_checked(azlite, account, new_principal):
    from azure.mgmt.storage.models import BlobServiceProperties, CorsRule, CorsRules, DeleteRetentionPolicy

    group, name = account
    with storage_client(azlite) as client:
        rule = CorsRule(
            allowed_origins=["https://app.example"],
            allowed_methods=["GET", "PUT"],
            max_age_in_seconds=300,
            exposed_headers=["x-ms-meta-*"],
            allowed_headers=["*"],
        )
        set_ = client.blob_services.set_service_properties(
            group, name, BlobServiceProperties(cors=CorsRules(cors_rules=[rule]))
        )
        assert [r.allowed_origins for r in set_.cors.cors_rules] == [["https://app.example"]]
        # A second PUT changes what it sends and keeps the CORS rules.
        client.blob_services.set_service_properties(
            group, name, BlobServiceProperties(delete_retention_policy=DeleteRetentionPolicy(enabled=True, days=7))
        )
        got = client.blob_services.get_service_properties(group, name)
        assert (got.delete_retention_policy.enabled, got.delete_retention_policy.days) == (True, 7)
        assert got.cors.cors_rules[0].max_age_in_seconds == 300
        assert got.is_versioning_enabled is False

        with pytest.raises(HttpResponseError) as refused:
            client.blob_services.set_service_properties(
                group, name, BlobServiceProperties(delete_retention_policy=DeleteRetentionPolicy(enabled=True, days=400))
            )
        assert (refused.value.status_code, refused.value.error.code) == (400, "InvalidRequestPropertyValue")
        assert client.blob_services.get_service_properties(group, name).delete_retention_policy.days == 7

        # An update of the account keeps the service's properties.
        client.storage_accounts.update(group, name, {"tags": {"team": "a"}})
        assert client.blob_services.get_service_properties(group, name).delete_retention_policy.days == 7

    reader = new_principal("svc-reader")
    assign(azlite, f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}", READER, reader.object_id)
    with storage_client(azlite, reader.credential()) as client:
        assert client.blob_services.get_service_properties(group, name).delete_retention_policy.days == 7
        with pytest.raises(HttpResponseError) as denied:
            client.blob_services.set_service_properties(group, name, BlobServiceProperties(is_versioning_enabled=True))
        assert (denied.value.status_code, denied.value.error.code) == (403, "AuthorizationFailed")
