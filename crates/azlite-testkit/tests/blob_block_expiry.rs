//! Uncommitted blocks expire a week after their upload while azlite runs (not only at
//! start): a block staged and never committed is gone once the service's clock has moved
//! more than a week on, while a fresh one stays.

use azlite_testkit::{TestCloud, oid};
use serde_json::json;

const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
const DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
const VERSION: &str = "2021-08-06";

async fn move_clock(cloud: &TestCloud, seconds: i64) {
    let token = cloud.owner_arm_token().await;
    let response = cloud
        .http
        .post(cloud.url("/azlite/admin/clock"))
        .bearer_auth(token)
        .json(&json!({ "offsetSeconds": seconds }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// The uncommitted block ids of a blob, from Get Block List (none: the blob has no block
/// at all, 404 `BlobNotFound`).
async fn uncommitted(http: &reqwest::Client, base: &str, blob: &str, token: &str) -> Vec<String> {
    let response = http
        .get(format!(
            "{base}/data/{blob}?comp=blocklist&blocklisttype=uncommitted"
        ))
        .header("x-ms-version", VERSION)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    if response.status() == 404 {
        assert_eq!(response.headers()["x-ms-error-code"], "BlobNotFound");
        return Vec::new();
    }
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    text.split("<Name>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Name>").map(|(id, _)| id.to_owned()))
        .collect()
}

#[tokio::test]
async fn uncommitted_blocks_expire_after_a_week_while_running() {
    let cloud = TestCloud::start().await.unwrap();
    let name = "stexpiry1";
    let account = cloud.storage_account("expiry", name).await;
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    cloud.assign_role(&account, DATA_OWNER, &oid(&token)).await;

    let http = cloud.client_for(&format!("{name}.blob.core.windows.net"));
    let base = format!("https://{name}.blob.core.windows.net:{}", cloud.addr.port());
    let put = |path: String, token: String| {
        let http = http.clone();
        async move {
            http.put(path)
                .header("x-ms-version", VERSION)
                .bearer_auth(token)
                .body("staged bytes")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        put(format!("{base}/data?restype=container"), token.clone()).await,
        201
    );
    let block = |blob: &str, id: &str| format!("{base}/data/{blob}?comp=block&blockid={id}");
    assert_eq!(put(block("old", "QUFBQQ=="), token.clone()).await, 201);
    assert_eq!(uncommitted(&http, &base, "old", &token).await, ["QUFBQQ=="]);

    // Six days on, the block is still there.
    move_clock(&cloud, 6 * 24 * 3600).await;
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    assert_eq!(put(block("young", "QkJCQg=="), token.clone()).await, 201);
    assert_eq!(uncommitted(&http, &base, "old", &token).await, ["QUFBQQ=="]);

    // Eight days on, the first block is gone, the one staged two days later stays.
    move_clock(&cloud, 8 * 24 * 3600).await;
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    assert_eq!(put(block("third", "Q0NDQw=="), token.clone()).await, 201);
    assert!(uncommitted(&http, &base, "old", &token).await.is_empty());
    assert_eq!(
        uncommitted(&http, &base, "young", &token).await,
        ["QkJCQg=="]
    );
    move_clock(&cloud, 0).await;
}
