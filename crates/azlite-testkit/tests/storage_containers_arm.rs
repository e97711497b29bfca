//! Blob containers through ARM, in-process: RBAC on `…/blobServices/containers/*` at the
//! container's own scope (checked before anything is read, so a caller without rights
//! learns nothing of what exists), and bad bodies refused before anything is written.

use azlite_testkit::TestCloud;
use serde_json::{Value, json};

const API: &str = "2023-05-01";
const STORAGE_BLOB_DATA_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

async fn call(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    cloud.arm(token, method, path, body, API).await
}

#[tokio::test]
async fn container_actions_are_checked_at_the_containers_scope() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let account = cloud.storage_account("ctr-rbac", "ctrrbac1").await;
    let containers = format!("{account}/blobServices/default/containers");
    for name in ["mine", "theirs"] {
        let (status, body) = call(
            &cloud,
            &owner,
            "PUT",
            &format!("{containers}/{name}"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let nobody = cloud.new_principal("ctr-nobody").await;
    let scoped = cloud.new_principal("ctr-scoped").await;
    let reader = cloud.new_principal("ctr-reader").await;
    cloud
        .assign_role(
            &format!("{containers}/mine"),
            STORAGE_BLOB_DATA_CONTRIBUTOR,
            &scoped.object_id,
        )
        .await;
    cloud
        .assign_role(&cloud.group_path("ctr-rbac"), READER, &reader.object_id)
        .await;

    // No role: 403 whether or not the container exists, and for the list.
    for path in [
        format!("{containers}/mine"),
        format!("{containers}/nosuch"),
        containers.clone(),
    ] {
        let (status, body) = call(&cloud, &nobody.token, "GET", &path, None).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "AuthorizationFailed");
    }
    let (_, body) = call(
        &cloud,
        &nobody.token,
        "GET",
        &format!("{containers}/mine"),
        None,
    )
    .await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains(&format!(
            "'Microsoft.Storage/storageAccounts/blobServices/containers/read' over scope '{containers}/mine'"
        )),
        "{body}"
    );

    // A data contributor on one container manages that one only.
    let patch = Some(json!({ "properties": { "metadata": { "by": "scoped" } } }));
    let (status, body) = call(
        &cloud,
        &scoped.token,
        "PATCH",
        &format!("{containers}/mine"),
        patch.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["metadata"]["by"], "scoped");
    let (status, _) = call(
        &cloud,
        &scoped.token,
        "PATCH",
        &format!("{containers}/theirs"),
        patch,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(&cloud, &scoped.token, "GET", &containers, None).await;
    assert_eq!(status, 403, "listing needs read on the service");

    // A reader reads and lists, and cannot delete.
    let (status, body) = call(&cloud, &reader.token, "GET", &containers, None).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mine", "theirs"]);
    let (status, body) = call(
        &cloud,
        &reader.token,
        "DELETE",
        &format!("{containers}/theirs"),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(&cloud, &owner, "GET", &format!("{containers}/theirs"), None).await;
    assert_eq!(status, 200, "the denied delete deleted nothing");
}

#[tokio::test]
async fn bad_container_requests_write_nothing() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let account = cloud.storage_account("ctr-bad", "ctrbad1").await;
    let containers = format!("{account}/blobServices/default/containers");
    for (name, body, code) in [
        (
            "bad1",
            json!({ "properties": { "publicAccess": "Everyone" } }),
            "InvalidRequestPropertyValue",
        ),
        (
            "bad2",
            json!({ "properties": { "metadata": { "not-an-identifier": "x" } } }),
            "InvalidMetadata",
        ),
        (
            "bad3",
            json!({ "properties": { "publicAccess": "Blob" } }),
            "PublicAccessNotPermitted",
        ),
        ("UPPER", json!({}), "ContainerOperationFailure"),
    ] {
        let path = format!("{containers}/{name}");
        let (status, answer) = call(&cloud, &owner, "PUT", &path, Some(body)).await;
        assert!(status == 400 || status == 409, "{name}: {status} {answer}");
        assert_eq!(answer["error"]["code"], code, "{name}: {answer}");
    }
    let (status, body) = call(&cloud, &owner, "GET", &containers, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], json!([]));
    let missing = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/nosuchacct/blobServices/default/containers/c",
        cloud.group_path("ctr-bad")
    );
    let (status, body) = call(&cloud, &owner, "PUT", &missing, Some(json!({}))).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "ResourceNotFound");
}
