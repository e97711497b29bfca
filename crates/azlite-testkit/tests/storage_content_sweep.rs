//! Content that ARM's deletes leave behind is removed while azlite runs: a container
//! deleted through `blobServices/default/containers`, a storage account, a resource group.
//! ARM signals, and the server's sweep removes every extent nothing references once the
//! read grace has passed (shortened here), and spares the extents of blobs that remain.

use std::path::Path;
use std::time::Duration;

use azlite_server::SweepTiming;
use azlite_testkit::TestCloud;
use serde_json::{Value, json};

const API: &str = "2023-05-01";
const DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// Larger than the largest blob kept inline in the store, so it has an extent.
const BLOB_BYTES: usize = 200 * 1024;

async fn start() -> TestCloud {
    let dir = tempfile::tempdir().unwrap();
    TestCloud::start_with(dir, |config| {
        config.content_sweep = SweepTiming {
            grace: Duration::from_millis(50),
            period: Duration::from_secs(3600),
            min_age: Duration::ZERO,
        };
    })
    .await
    .unwrap()
}

async fn arm(cloud: &TestCloud, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let owner = cloud.owner_arm_token().await;
    cloud.arm(&owner, method, path, body, API).await
}

/// A group, an account in it with the owner as Storage Blob Data Owner, and `containers`
/// in it; answers the account's path.
async fn account(cloud: &TestCloud, group: &str, name: &str, containers: &[&str]) -> String {
    let path = cloud.storage_account(group, name).await;
    let owner = cloud.owner_object_id().await;
    cloud.assign_role(&path, DATA_OWNER, &owner).await;
    for container in containers {
        let container_path = format!("{path}/blobServices/default/containers/{container}");
        let (status, answer) = arm(cloud, "PUT", &container_path, Some(json!({}))).await;
        assert_eq!(status, 201, "{answer}");
    }
    path
}

/// A client that reaches `<account>.blob.core.windows.net` at the test server.
fn blob_client(cloud: &TestCloud, account: &str) -> reqwest::Client {
    cloud.client_for(&format!("{account}.blob.core.windows.net"))
}

fn blob_url(cloud: &TestCloud, account: &str, container: &str, blob: &str) -> String {
    format!(
        "https://{account}.blob.core.windows.net:{}/{container}/{blob}",
        cloud.addr.port()
    )
}

async fn upload(cloud: &TestCloud, account: &str, container: &str, blob: &str, fill: u8) {
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    let response = blob_client(cloud, account)
        .put(blob_url(cloud, account, container, blob))
        .bearer_auth(token)
        .header("x-ms-version", "2021-08-06")
        .header("x-ms-blob-type", "BlockBlob")
        .body(vec![fill; BLOB_BYTES])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

async fn download(cloud: &TestCloud, account: &str, container: &str, blob: &str) -> Vec<u8> {
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    let response = blob_client(cloud, account)
        .get(blob_url(cloud, account, container, blob))
        .bearer_auth(token)
        .header("x-ms-version", "2021-08-06")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

/// The extent files under the content directory (temporary files aside).
fn extents(dir: &Path) -> usize {
    fn walk(dir: &Path, count: &mut usize) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "tmp") {
                    walk(&path, count);
                }
            } else {
                *count += 1;
            }
        }
    }
    let mut count = 0;
    walk(&dir.join("content"), &mut count);
    count
}

/// Waits (up to 10 s) until the content directory holds `expected` extents.
async fn settles_at(cloud: &TestCloud, expected: usize) {
    for _ in 0..200 {
        if extents(cloud.data_dir()) == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the content directory holds {} extents, not {expected}",
        extents(cloud.data_dir())
    );
}

#[tokio::test]
async fn a_container_deleted_through_arm_takes_its_content_and_spares_the_others() {
    let cloud = start().await;
    let path = account(&cloud, "sweep-ctr", "sweepctr1", &["gone", "kept"]).await;
    upload(&cloud, "sweepctr1", "gone", "a.bin", 1).await;
    upload(&cloud, "sweepctr1", "gone", "b.bin", 2).await;
    upload(&cloud, "sweepctr1", "kept", "c.bin", 3).await;
    assert_eq!(extents(cloud.data_dir()), 3);

    let (status, body) = arm(
        &cloud,
        "DELETE",
        &format!("{path}/blobServices/default/containers/gone"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    settles_at(&cloud, 1).await;
    assert_eq!(
        download(&cloud, "sweepctr1", "kept", "c.bin").await,
        vec![3; BLOB_BYTES]
    );
}

#[tokio::test]
async fn an_account_or_a_group_deleted_through_arm_takes_its_content() {
    let cloud = start().await;
    let first = account(&cloud, "sweep-acct", "sweepacct1", &["data"]).await;
    account(&cloud, "sweep-group", "sweepgroup1", &["data"]).await;
    upload(&cloud, "sweepacct1", "data", "a.bin", 1).await;
    upload(&cloud, "sweepgroup1", "data", "b.bin", 2).await;
    assert_eq!(extents(cloud.data_dir()), 2);

    let (status, body) = arm(&cloud, "DELETE", &first, None).await;
    assert_eq!(status, 200, "{body}");
    settles_at(&cloud, 1).await;

    let (status, body) = arm(&cloud, "DELETE", &cloud.group_path("sweep-group"), None).await;
    assert_eq!(status, 200, "{body}");
    settles_at(&cloud, 0).await;
}
