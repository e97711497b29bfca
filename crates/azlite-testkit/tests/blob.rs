//! The Blob service end to end over HTTPS on the account's host name (and path-style on the
//! IP listener): the challenge, Bearer checks, RBAC actions and data actions, block and
//! append blobs, ranges, conditions, leases, listings, copies, and content after a restart.

use std::collections::BTreeMap;

use azlite_store::{Resource, ResourceGroup, WriteBatch};
use azlite_testkit::{TestCloud, oid};
use base64::Engine;
use serde_json::json;

const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
const DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
const DATA_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const VERSION: &str = "2021-08-06";

struct Account {
    name: String,
    id: String,
    base: String,
    http: reqwest::Client,
}

fn client(cloud: &TestCloud, account: &str) -> reqwest::Client {
    cloud.client_for(&format!("{account}.blob.core.windows.net"))
}

/// Writes a storage account (and its group) into the store, as ARM will.
async fn create_account(cloud: &TestCloud, properties: serde_json::Value) -> Account {
    let body =
        json!({ "kind": "StorageV2", "sku": { "name": "Standard_LRS" }, "properties": properties });
    create_account_with(cloud, body).await
}

/// Writes a storage account with the stored `body` (kind, sku, properties).
async fn create_account_with(cloud: &TestCloud, body: serde_json::Value) -> Account {
    let name = format!("st{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let subscription = cloud.info.subscription_id.parse().unwrap();
    let group = ResourceGroup {
        subscription_id: subscription,
        name: "st-rg".into(),
        location: "eastus".into(),
        tags: BTreeMap::new(),
        managed_by: None,
        created_at: 0,
        updated_at: 0,
    };
    let id = format!(
        "/subscriptions/{}/resourceGroups/st-rg/providers/Microsoft.Storage/storageAccounts/{name}",
        cloud.info.subscription_id
    );
    let resource = Resource {
        id: id.parse().unwrap(),
        subscription_id: subscription,
        resource_group: "st-rg".into(),
        resource_type: "Microsoft.Storage/storageAccounts".into(),
        name: name.clone(),
        location: "eastus".into(),
        tags: BTreeMap::new(),
        body,
        created_at: 0,
        updated_at: 0,
    };
    cloud
        .store
        .apply(WriteBatch {
            resource_groups: vec![group],
            resources: vec![resource],
            ..Default::default()
        })
        .await
        .unwrap();
    Account {
        base: format!("https://{name}.blob.core.windows.net:{}", cloud.addr.port()),
        http: client(cloud, &name),
        name,
        id,
    }
}

impl Account {
    fn request(&self, method: &str, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("x-ms-version", VERSION);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    }
}

fn code(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-ms-error-code")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn anonymous_requests_get_the_bearer_challenge_and_azure_headers() {
    let cloud = TestCloud::start().await.unwrap();
    let account = create_account(&cloud, json!({})).await;
    let response = account
        .request("GET", "/?comp=list", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(code(&response), "NoAuthenticationInformation");
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge,
        format!(
            "Bearer authorization_uri=https://login.microsoftonline.com/{}/oauth2/authorize resource_id=https://storage.azure.com",
            cloud.info.tenant_id
        )
    );
    for name in ["x-ms-request-id", "x-ms-version", "date"] {
        assert!(response.headers().contains_key(name), "{name}");
    }
    let body = response.text().await.unwrap();
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>NoAuthenticationInformation</Code><Message>"), "{body}");
    assert!(body.contains("RequestId:"), "{body}");

    // A host that names no account: 404, before any authentication.
    let missing = client(&cloud, "nosuchaccount1");
    let response = missing
        .get(format!(
            "https://nosuchaccount1.blob.core.windows.net:{}/?comp=list",
            cloud.addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn account_information_is_the_accounts_own() {
    let cloud = TestCloud::start().await.unwrap();
    let account = create_account_with(
        &cloud,
        json!({ "kind": "BlockBlobStorage", "sku": { "name": "Premium_ZRS" }, "properties": { "isHnsEnabled": true } }),
    )
    .await;
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    cloud
        .assign_role(&account.id, DATA_READER, &oid(&token))
        .await;
    let response = account
        .request("GET", "/?restype=account&comp=properties", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("x-ms-sku-name"), "Premium_ZRS");
    assert_eq!(header("x-ms-account-kind"), "BlockBlobStorage");
    assert_eq!(header("x-ms-is-hns-enabled"), "true");
}

#[tokio::test]
async fn bearer_tokens_are_checked_and_data_needs_a_data_role() {
    let cloud = TestCloud::start().await.unwrap();
    let account = create_account(&cloud, json!({})).await;
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();

    // Below 2017-11-09 a bearer token is not accepted.
    let response = account
        .http
        .get(format!("{}/?comp=list", account.base))
        .bearer_auth(&token)
        .header("x-ms-version", "2017-04-17")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (response.status().as_u16(), code(&response)),
        (403, "AuthenticationFailed".into())
    );
    assert!(response.text().await.unwrap().contains("<AuthenticationErrorDetail>Authentication scheme Bearer is not supported in this version.</AuthenticationErrorDetail>"));

    // A token for another audience: 401 with the challenge.
    let arm = cloud.owner_arm_token().await;
    let response = account
        .request("GET", "/?comp=list", Some(&arm))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (response.status().as_u16(), code(&response)),
        (401, "InvalidAuthenticationInfo".into())
    );
    assert!(response.headers().contains_key("www-authenticate"));

    // The subscription's Owner may manage containers (actions), but no blob data.
    let response = account
        .request("PUT", "/box1?restype=container", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let response = account
        .request("PUT", "/box1/b", Some(&token))
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (response.status().as_u16(), code(&response)),
        (403, "AuthorizationPermissionMismatch".into())
    );
    let response = account
        .request("GET", "/box1?restype=container&comp=list", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    // The account's own URL is an audience too (v1 token), with and without a slash.
    let own = cloud
        .owner_v1_token(&format!("https://{}.blob.core.windows.net/", account.name))
        .await
        .unwrap();
    cloud
        .assign_role(&account.id, DATA_READER, &oid(&token))
        .await;
    let response = account
        .request("GET", "/box1?restype=container&comp=list", Some(&own))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let response = account
        .request("PUT", "/box1/b", Some(&token))
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "a reader cannot write");
}

#[tokio::test]
async fn blobs_blocks_ranges_conditions_leases_and_listings() {
    let cloud = TestCloud::start().await.unwrap();
    let account = create_account(&cloud, json!({})).await;
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    cloud
        .assign_role(&account.id, DATA_OWNER, &oid(&token))
        .await;
    let t = Some(token.as_str());
    let send = |r: reqwest::RequestBuilder| async move { r.send().await.unwrap() };

    assert_eq!(
        send(
            account
                .request("PUT", "/data?restype=container", t)
                .header("x-ms-meta-Owner", "me")
        )
        .await
        .status(),
        201
    );
    let again = send(account.request("PUT", "/data?restype=container", t)).await;
    assert_eq!(
        (again.status().as_u16(), code(&again)),
        (409, "ContainerAlreadyExists".into())
    );

    // Put Blob: the service computes Content-MD5, checks a sent one, and reads back.
    let body = b"Hello world! :)".to_vec();
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5_of(&body));
    let put = send(
        account
            .request("PUT", "/data/dir/hello.txt", t)
            .header("x-ms-blob-type", "BlockBlob")
            .header("content-type", "text/plain")
            .body(body.clone()),
    )
    .await;
    assert_eq!(put.status(), 201);
    assert_eq!(put.headers()["content-md5"].to_str().unwrap(), md5);
    let etag = put.headers()["etag"].to_str().unwrap().to_owned();
    let bad = send(
        account
            .request("PUT", "/data/x", t)
            .header("x-ms-blob-type", "BlockBlob")
            .header("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")
            .body("nope"),
    )
    .await;
    assert_eq!(
        (bad.status().as_u16(), code(&bad)),
        (400, "Md5Mismatch".into())
    );
    let absent = send(account.request("GET", "/data/x", t)).await;
    assert_eq!(
        (absent.status().as_u16(), code(&absent)),
        (404, "BlobNotFound".into())
    );

    let got = send(account.request("GET", "/data/dir/hello.txt", t)).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "text/plain");
    assert_eq!(got.headers()["x-ms-blob-type"], "BlockBlob");
    assert_eq!(got.bytes().await.unwrap().as_ref(), body.as_slice());
    let ranged = send(
        account
            .request("GET", "/data/dir/hello.txt", t)
            .header("x-ms-range", "bytes=6-10")
            .header("x-ms-range-get-content-md5", "true"),
    )
    .await;
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-range"], "bytes 6-10/15");
    assert_eq!(
        ranged.headers()["content-md5"].to_str().unwrap(),
        base64::engine::general_purpose::STANDARD.encode(md5_of(b"world"))
    );
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), b"world");
    let past = send(
        account
            .request("GET", "/data/dir/hello.txt", t)
            .header("range", "bytes=15-"),
    )
    .await;
    assert_eq!(
        (
            past.status().as_u16(),
            past.headers()["content-range"].to_str().unwrap()
        ),
        (416, "bytes */15")
    );

    // Conditions.
    let not_modified = send(
        account
            .request("GET", "/data/dir/hello.txt", t)
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(not_modified.status(), 304);
    let failed = send(
        account
            .request("GET", "/data/dir/hello.txt", t)
            .header("if-match", "\"0x1\""),
    )
    .await;
    assert_eq!(
        (failed.status().as_u16(), code(&failed)),
        (412, "ConditionNotMet".into())
    );
    let exists = send(
        account
            .request("PUT", "/data/dir/hello.txt", t)
            .header("x-ms-blob-type", "BlockBlob")
            .header("if-none-match", "*")
            .body("x"),
    )
    .await;
    assert_eq!(
        (exists.status().as_u16(), code(&exists)),
        (409, "BlobAlreadyExists".into())
    );

    // Blocks: staged, listed, committed with Latest; the uncommitted rest discarded.
    for (id, data) in [("QUFB", "aaa"), ("QkJC", "bbbb"), ("Q0ND", "unused")] {
        let r = send(
            account
                .request(
                    "PUT",
                    &format!("/data/blocks.bin?comp=block&blockid={id}"),
                    t,
                )
                .body(data),
        )
        .await;
        assert_eq!(r.status(), 201, "{id}");
    }
    let list = send(account.request(
        "GET",
        "/data/blocks.bin?comp=blocklist&blocklisttype=all",
        t,
    ))
    .await
    .text()
    .await
    .unwrap();
    assert!(
        list.contains("<UncommittedBlocks><Block><Name>QUFB</Name><Size>3</Size></Block>"),
        "{list}"
    );
    let commit = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QkJC</Latest><Latest>QUFB</Latest></BlockList>";
    assert_eq!(
        send(
            account
                .request("PUT", "/data/blocks.bin?comp=blocklist", t)
                .body(commit)
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        send(account.request("GET", "/data/blocks.bin", t))
            .await
            .text()
            .await
            .unwrap(),
        "bbbbaaa"
    );
    let list = send(account.request(
        "GET",
        "/data/blocks.bin?comp=blocklist&blocklisttype=all",
        t,
    ))
    .await
    .text()
    .await
    .unwrap();
    assert!(list.contains("<CommittedBlocks><Block><Name>QkJC</Name><Size>4</Size></Block><Block><Name>QUFB</Name>") && list.contains("<UncommittedBlocks></UncommittedBlocks>"), "{list}");
    let bad = send(
        account
            .request("PUT", "/data/blocks.bin?comp=blocklist", t)
            .body("<BlockList><Uncommitted>WllZ</Uncommitted></BlockList>"),
    )
    .await;
    assert_eq!(
        (bad.status().as_u16(), code(&bad)),
        (400, "InvalidBlockList".into())
    );

    // Append blobs with appendpos.
    assert_eq!(
        send(
            account
                .request("PUT", "/data/log", t)
                .header("x-ms-blob-type", "AppendBlob")
        )
        .await
        .status(),
        201
    );
    let first = send(
        account
            .request("PUT", "/data/log?comp=appendblock", t)
            .header("x-ms-blob-condition-appendpos", "0")
            .body("one,"),
    )
    .await;
    assert_eq!(
        (
            first.status().as_u16(),
            first.headers()["x-ms-blob-append-offset"].to_str().unwrap()
        ),
        (201, "0")
    );
    let wrong = send(
        account
            .request("PUT", "/data/log?comp=appendblock", t)
            .header("x-ms-blob-condition-appendpos", "0")
            .body("two"),
    )
    .await;
    assert_eq!(
        (wrong.status().as_u16(), code(&wrong)),
        (412, "AppendPositionConditionNotMet".into())
    );
    assert_eq!(
        send(
            account
                .request("PUT", "/data/log?comp=appendblock", t)
                .body("two")
        )
        .await
        .status(),
        201
    );
    let log = send(account.request("GET", "/data/log", t)).await;
    assert_eq!(log.headers()["x-ms-blob-committed-block-count"], "2");
    assert_eq!(log.text().await.unwrap(), "one,two");

    // Leases: a write without the lease id is refused; with it, accepted.
    let lease_id = "11111111-2222-3333-4444-555555555555";
    let acquired = send(
        account
            .request("PUT", "/data/dir/hello.txt?comp=lease", t)
            .header("x-ms-lease-action", "acquire")
            .header("x-ms-lease-duration", "-1")
            .header("x-ms-proposed-lease-id", lease_id),
    )
    .await;
    assert_eq!(
        (
            acquired.status().as_u16(),
            acquired.headers()["x-ms-lease-id"].to_str().unwrap()
        ),
        (201, lease_id)
    );
    let refused = send(
        account
            .request("PUT", "/data/dir/hello.txt?comp=metadata", t)
            .header("x-ms-meta-k", "v"),
    )
    .await;
    assert_eq!(
        (refused.status().as_u16(), code(&refused)),
        (412, "LeaseIdMissing".into())
    );
    let ok = send(
        account
            .request("PUT", "/data/dir/hello.txt?comp=metadata", t)
            .header("x-ms-meta-k", "v")
            .header("x-ms-lease-id", lease_id),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let head = send(account.request("HEAD", "/data/dir/hello.txt", t)).await;
    assert_eq!(
        (
            head.headers()["x-ms-lease-state"].to_str().unwrap(),
            head.headers()["x-ms-meta-k"].to_str().unwrap()
        ),
        ("leased", "v")
    );
    assert_eq!(head.headers()["content-length"], "15");
    let delete = send(account.request("DELETE", "/data/dir/hello.txt", t)).await;
    assert_eq!(delete.status(), 412);

    // Copy within the service, then listings: flat with metadata, hierarchical, paged.
    let copy = send(account.request("PUT", "/data/dir/sub/copy.txt", t).header(
        "x-ms-copy-source",
        format!(
            "https://{}.blob.core.windows.net/data/dir/hello.txt",
            account.name
        ),
    ))
    .await;
    assert_eq!(
        (
            copy.status().as_u16(),
            copy.headers()["x-ms-copy-status"].to_str().unwrap()
        ),
        (202, "success")
    );
    assert_eq!(
        send(account.request("GET", "/data/dir/sub/copy.txt", t))
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        body.as_slice()
    );
    let flat = send(account.request(
        "GET",
        "/data?restype=container&comp=list&include=metadata",
        t,
    ))
    .await
    .text()
    .await
    .unwrap();
    for name in ["blocks.bin", "dir/hello.txt", "dir/sub/copy.txt", "log"] {
        assert!(
            flat.contains(&format!("<Name>{name}</Name>")),
            "{name} in {flat}"
        );
    }
    assert!(flat.contains("<Metadata><k>v</k></Metadata>"), "{flat}");
    let tree = send(account.request("GET", "/data?restype=container&comp=list&delimiter=/", t))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        tree.contains("<BlobPrefix><Name>dir/</Name></BlobPrefix>")
            && !tree.contains("dir/hello.txt"),
        "{tree}"
    );
    let page = send(account.request("GET", "/data?restype=container&comp=list&maxresults=2", t))
        .await
        .text()
        .await
        .unwrap();
    let marker = page
        .split("<NextMarker>")
        .nth(1)
        .unwrap()
        .split("</NextMarker>")
        .next()
        .unwrap()
        .to_owned();
    let rest = send(account.request(
        "GET",
        &format!("/data?restype=container&comp=list&maxresults=2&marker={marker}"),
        t,
    ))
    .await
    .text()
    .await
    .unwrap();
    assert!(
        rest.contains("<Name>dir/sub/copy.txt</Name>")
            && rest.contains("<Name>log</Name>")
            && rest.contains("<NextMarker />"),
        "{rest}"
    );
    let containers = send(account.request("GET", "/?comp=list&include=metadata", t))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        containers.contains("<Name>data</Name>")
            && containers.contains("<Metadata><owner>me</owner></Metadata>"),
        "{containers}"
    );

    // Path-style on the IP listener reaches the same account.
    let path_style = cloud
        .http
        .get(cloud.url(&format!("/{}/data/log", account.name)))
        .bearer_auth(&token)
        .header("x-ms-version", VERSION)
        .send()
        .await
        .unwrap();
    assert_eq!(path_style.text().await.unwrap(), "one,two");

    // Deleting the container takes its blobs.
    assert_eq!(
        send(account.request("DELETE", "/data?restype=container", t))
            .await
            .status(),
        202
    );
    let gone = send(account.request("GET", "/data/log", t)).await;
    assert_eq!(code(&gone), "ContainerNotFound");
}

#[tokio::test]
async fn content_survives_a_restart_and_orphans_are_swept() {
    let cloud = TestCloud::start().await.unwrap();
    let account = create_account(&cloud, json!({})).await;
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    cloud
        .assign_role(&account.id, DATA_OWNER, &oid(&token))
        .await;
    let t = Some(token.as_str());
    account
        .request("PUT", "/keep?restype=container", t)
        .send()
        .await
        .unwrap();
    let data: Vec<u8> = (0..3_000_000u32).map(|n| (n % 251) as u8).collect();
    let put = account
        .request("PUT", "/keep/big", t)
        .header("x-ms-blob-type", "BlockBlob")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let content = cloud.data_dir().join("content");
    std::fs::write(
        content.join("tmp").join(uuid::Uuid::new_v4().to_string()),
        b"half an upload",
    )
    .unwrap();
    let orphan = content
        .join("extents")
        .join("ab")
        .join(format!("ab{}", &uuid::Uuid::new_v4().to_string()[2..]));
    std::fs::write(&orphan, b"an extent nothing references").unwrap();

    let dir = cloud.stop().await;
    let cloud = TestCloud::start_in(dir).await.unwrap();
    assert_eq!(std::fs::read_dir(content.join("tmp")).unwrap().count(), 0);
    assert!(!orphan.exists());
    let account = Account {
        http: client(&cloud, &account.name),
        base: format!(
            "https://{}.blob.core.windows.net:{}",
            account.name,
            cloud.addr.port()
        ),
        ..account
    };
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    let got = account
        .request("GET", "/keep/big", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), data.as_slice());
}

fn md5_of(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}

#[tokio::test]
async fn service_properties_are_the_accounts_own_and_go_with_it() {
    let cloud = TestCloud::start().await.unwrap();
    let name = format!("st{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let path = cloud.storage_account("st-props", &name).await;
    let account = Account {
        base: format!("https://{name}.blob.core.windows.net:{}", cloud.addr.port()),
        http: client(&cloud, &name),
        name: name.clone(),
        id: path.clone(),
    };
    let token = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    let properties = |account: &Account| {
        let request = account.request("GET", "/?restype=service&comp=properties", Some(&token));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let default = properties(&account).await;
    assert!(default.contains("<Cors />"), "{default}");

    let document = "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Cors>\
        <CorsRule><AllowedOrigins>https://app.example</AllowedOrigins><AllowedMethods>GET</AllowedMethods>\
        <AllowedHeaders>*</AllowedHeaders><ExposedHeaders>*</ExposedHeaders><MaxAgeInSeconds>60</MaxAgeInSeconds>\
        </CorsRule></Cors></StorageServiceProperties>";
    let response = account
        .request("PUT", "/?restype=service&comp=properties", Some(&token))
        .body(document)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(properties(&account).await, document);

    // Another account does not see them.
    let other = cloud.storage_account("st-props", &format!("{name}0")).await;
    let other_name = other.rsplit('/').next().unwrap();
    let other = Account {
        base: format!(
            "https://{other_name}.blob.core.windows.net:{}",
            cloud.addr.port()
        ),
        http: client(&cloud, other_name),
        name: other_name.to_owned(),
        id: other.clone(),
    };
    assert_eq!(properties(&other).await, default);

    // An account deleted and made again under the same name starts from the defaults.
    let owner = cloud.owner_arm_token().await;
    let (status, body) = cloud.arm(&owner, "DELETE", &path, None, "2023-05-01").await;
    assert!(status == 200 || status == 204, "{body}");
    assert_eq!(cloud.storage_account("st-props", &name).await, path);
    assert_eq!(properties(&account).await, default);
}
