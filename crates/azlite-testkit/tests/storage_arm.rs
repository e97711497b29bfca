//! Storage accounts through ARM, in-process: the account lifecycle, its keys (`listKeys`,
//! `regenerateKey`, gone with the account or its group), name rules and global names,
//! `checkNameAvailability`, validation before any write, and RBAC on the key actions.

use azlite_testkit::TestCloud;
use base64::Engine;
use serde_json::{Value, json};

/// The version the SDKs sent when this was written; ARM accepts any date-style version.
const API: &str = "2023-05-01";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const STORAGE_ACCOUNT_CONTRIBUTOR: &str = "17d1049b-9a84-46fb-8f53-869881c3d3ab";
const KEY_OPERATOR: &str = "81a9662b-bebf-436f-a333-f67b29880f12";
const TYPE: &str = "Microsoft.Storage/storageAccounts";

fn account_path(cloud: &TestCloud, group: &str, name: &str) -> String {
    format!("{}/providers/{TYPE}/{name}", cloud.group_path(group))
}

async fn call(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    cloud.arm(token, method, path, body, API).await
}

async fn create_group(cloud: &TestCloud, token: &str, name: &str) {
    let (status, body) = call(
        cloud,
        token,
        "PUT",
        &cloud.group_path(name),
        Some(json!({ "location": "westeurope" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

fn account_body() -> Value {
    json!({
        "location": "westeurope",
        "tags": { "env": "test" },
        "sku": { "name": "Standard_LRS" },
        "kind": "StorageV2",
        "properties": {},
    })
}

async fn create_account(cloud: &TestCloud, token: &str, group: &str, name: &str) -> Value {
    let path = account_path(cloud, group, name);
    let (status, body) = call(cloud, token, "PUT", &path, Some(account_body())).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `keyName` → `value` of a `listKeys` or `regenerateKey` answer.
fn keys(answer: &Value) -> Vec<(String, String)> {
    answer["keys"]
        .as_array()
        .expect("a keys list")
        .iter()
        .map(|k| {
            assert_eq!(k["permissions"], "FULL");
            assert!(k["creationTime"].as_str().is_some_and(|t| t.ends_with('Z')));
            (
                k["keyName"].as_str().unwrap().to_owned(),
                k["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn list_keys(cloud: &TestCloud, token: &str, path: &str) -> Vec<(String, String)> {
    let (status, body) = call(cloud, token, "POST", &format!("{path}/listKeys"), None).await;
    assert_eq!(status, 200, "{body}");
    keys(&body)
}

#[tokio::test]
async fn an_account_is_created_read_listed_updated_and_deleted_with_its_keys() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "st-rg").await;
    let path = account_path(&cloud, "st-rg", "stlife1");

    let created = create_account(&cloud, &owner, "st-rg", "stlife1").await;
    assert_eq!(created["type"], TYPE);
    assert_eq!(created["name"], "stlife1");
    assert_eq!(created["kind"], "StorageV2");
    assert_eq!(
        created["sku"],
        json!({ "name": "Standard_LRS", "tier": "Standard" })
    );
    assert_eq!(created["tags"], json!({ "env": "test" }));
    let p = &created["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["primaryLocation"], "westeurope");
    assert_eq!(p["statusOfPrimary"], "available");
    assert_eq!(
        p["primaryEndpoints"]["blob"],
        "https://stlife1.blob.core.windows.net/"
    );
    assert_eq!(
        p["primaryEndpoints"]["dfs"],
        "https://stlife1.dfs.core.windows.net/"
    );
    assert_eq!(
        p["primaryEndpoints"]["table"],
        "https://stlife1.table.core.windows.net/"
    );
    assert_eq!(p["allowSharedKeyAccess"], true);
    assert_eq!(p["isHnsEnabled"], false);
    assert_eq!(p["supportsHttpsTrafficOnly"], true);
    assert_eq!(p["minimumTlsVersion"], "TLS1_2");
    assert_eq!(p["accessTier"], "Hot");
    assert_eq!(p["keyCreationTime"]["key1"], p["creationTime"]);

    let (status, got) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!((status, &got), (200, &created));
    for scope in [
        cloud.group_path("st-rg"),
        format!("/subscriptions/{}", cloud.info.subscription_id),
    ] {
        let (status, list) = call(
            &cloud,
            &owner,
            "GET",
            &format!("{scope}/providers/{TYPE}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["value"], json!([created]));
    }

    let (status, patched) = call(
        &cloud,
        &owner,
        "PATCH",
        &path,
        Some(json!({ "tags": { "team": "a" }, "properties": { "allowSharedKeyAccess": false } })),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["tags"], json!({ "team": "a" }));
    assert_eq!(patched["properties"]["allowSharedKeyAccess"], false);
    assert_eq!(patched["properties"]["creationTime"], p["creationTime"]);

    let before = list_keys(&cloud, &owner, &path).await;
    assert_eq!(
        before.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["key1", "key2"]
    );
    for (_, value) in &before {
        assert_eq!(value.len(), 88);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .unwrap();
        assert_eq!(bytes.len(), 64);
    }
    assert_ne!(before[0].1, before[1].1);

    let (status, renewed) = call(
        &cloud,
        &owner,
        "POST",
        &format!("{path}/regenerateKey"),
        Some(json!({ "keyName": "key1" })),
    )
    .await;
    assert_eq!(status, 200, "{renewed}");
    let after = keys(&renewed);
    assert_ne!(after[0].1, before[0].1, "key1 changed");
    assert_eq!(after[1], before[1], "key2 stayed");
    assert_eq!(list_keys(&cloud, &owner, &path).await, after);

    let (status, body) = call(
        &cloud,
        &owner,
        "POST",
        &format!("{path}/regenerateKey"),
        Some(json!({ "keyName": "key3" })),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "InvalidValuesForRequestParameters");

    let (status, _) = call(&cloud, &owner, "DELETE", &path, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&cloud, &owner, "DELETE", &path, None).await;
    assert_eq!(status, 204);
    let (status, body) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (status, body) = call(&cloud, &owner, "POST", &format!("{path}/listKeys"), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );

    // The keys went with the account: the same name made again has new ones.
    create_account(&cloud, &owner, "st-rg", "stlife1").await;
    let again = list_keys(&cloud, &owner, &path).await;
    assert!(again.iter().all(|k| !after.contains(k)));
}

#[tokio::test]
async fn names_are_checked_global_and_free_again_after_the_group_goes() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "st-a").await;
    create_group(&cloud, &owner, "st-b").await;
    for bad in ["ab", "Upper1", "has-hyphen", &"a".repeat(25)] {
        let path = account_path(&cloud, "st-a", bad);
        let (status, body) = call(&cloud, &owner, "PUT", &path, Some(account_body())).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "AccountNameInvalid");
        assert_eq!(
            body["error"]["message"],
            format!(
                "{bad} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
            )
        );
    }

    let check = |name: &str| {
        let path = format!(
            "/subscriptions/{}/providers/Microsoft.Storage/checkNameAvailability",
            cloud.info.subscription_id
        );
        let body = json!({ "name": name, "type": TYPE });
        let owner = owner.clone();
        let cloud = &cloud;
        async move {
            let (status, answer) = call(cloud, &owner, "POST", &path, Some(body)).await;
            assert_eq!(status, 200, "{answer}");
            answer
        }
    };
    assert_eq!(check("globalname1").await, json!({ "nameAvailable": true }));
    assert_eq!(check("Bad").await["reason"], "AccountNameInvalid");

    create_account(&cloud, &owner, "st-a", "globalname1").await;
    assert_eq!(
        check("globalname1").await,
        json!({
            "nameAvailable": false,
            "reason": "AlreadyExists",
            "message": "The storage account named globalname1 is already taken.",
        })
    );
    let other = account_path(&cloud, "st-b", "globalname1");
    let (status, body) = call(&cloud, &owner, "PUT", &other, Some(account_body())).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "StorageAccountAlreadyTaken");
    assert_eq!(
        body["error"]["message"],
        "The storage account named globalname1 is already taken."
    );

    // A create of the existing account updates it (200), keeping its keys.
    let path = account_path(&cloud, "st-a", "globalname1");
    let keys_before = list_keys(&cloud, &owner, &path).await;
    let mut update = account_body();
    update["properties"]["allowSharedKeyAccess"] = json!(false);
    let (status, body) = call(&cloud, &owner, "PUT", &path, Some(update)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["allowSharedKeyAccess"], false);
    assert_eq!(list_keys(&cloud, &owner, &path).await, keys_before);

    // Deleting the group deletes the account and its keys, and frees the name.
    let (status, _) = call(&cloud, &owner, "DELETE", &cloud.group_path("st-a"), None).await;
    assert_eq!(status, 200);
    assert_eq!(check("globalname1").await, json!({ "nameAvailable": true }));
    create_account(&cloud, &owner, "st-b", "globalname1").await;
    let moved = list_keys(&cloud, &owner, &other).await;
    assert!(moved.iter().all(|k| !keys_before.contains(k)));
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_is_written() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "st-v").await;
    let path = account_path(&cloud, "st-v", "stvalid1");
    let cases = [
        (
            json!({ "location": "westeurope", "kind": "StorageV2" }),
            400,
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({ "location": "westeurope", "sku": { "name": "Standard_XYZ" }, "kind": "StorageV2" }),
            400,
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({ "location": "westeurope", "sku": { "name": "Standard_LRS" }, "kind": "StorageV9" }),
            400,
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({ "location": "westeurope", "sku": { "name": "Premium_LRS" }, "kind": "BlobStorage" }),
            400,
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({ "sku": { "name": "Standard_LRS" }, "kind": "StorageV2" }),
            400,
            "LocationRequired",
        ),
        (
            json!({ "location": "westeurope", "sku": { "name": "Standard_LRS" }, "kind": "Storage", "properties": { "isHnsEnabled": true } }),
            400,
            "InvalidRequestPropertyValue",
        ),
        (
            json!({ "location": "westeurope", "sku": { "name": "Standard_LRS" }, "kind": "StorageV2", "properties": { "minimumTlsVersion": "SSL3" } }),
            400,
            "InvalidRequestPropertyValue",
        ),
        (json!("not an object"), 400, "InvalidRequestContent"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = call(&cloud, &owner, "PUT", &path, Some(body.clone())).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    let (status, _) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(status, 404, "nothing was written");
    let missing_group = account_path(&cloud, "no-such-rg", "stvalid1");
    let (status, body) = call(&cloud, &owner, "PUT", &missing_group, Some(account_body())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );

    create_account(&cloud, &owner, "st-v", "stvalid1").await;
    let (status, body) = call(
        &cloud,
        &owner,
        "PATCH",
        &path,
        Some(json!({ "properties": { "isHnsEnabled": true } })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("AccountPropertyCannotBeUpdated"))
    );
    let (status, body) = call(
        &cloud,
        &owner,
        "PATCH",
        &path,
        Some(json!({ "kind": "Storage" })),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["kind"].as_str(),
            body["properties"]["isHnsEnabled"].as_bool()
        ),
        (Some("StorageV2"), Some(false))
    );
    let (status, _) = call(&cloud, &owner, "GET", &format!("{path}/listKeys"), None).await;
    assert_eq!(status, 405, "listKeys is a POST");
}

#[tokio::test]
async fn the_key_actions_need_their_own_permissions() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "st-rbac").await;
    create_account(&cloud, &owner, "st-rbac", "strbac1").await;
    let path = account_path(&cloud, "st-rbac", "strbac1");
    let reader = cloud.new_principal("st-reader").await;
    let operator = cloud.new_principal("st-key-operator").await;
    let contributor = cloud.new_principal("st-contributor").await;
    cloud
        .assign_role(&cloud.group_path("st-rbac"), READER, &reader.object_id)
        .await;
    cloud
        .assign_role(&path, KEY_OPERATOR, &operator.object_id)
        .await;
    cloud
        .assign_role(&path, STORAGE_ACCOUNT_CONTRIBUTOR, &contributor.object_id)
        .await;

    let (status, _) = call(&cloud, &reader.token, "GET", &path, None).await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &cloud,
        &reader.token,
        "POST",
        &format!("{path}/listKeys"),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "AuthorizationFailed");
    assert_eq!(
        body["error"]["message"],
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action 'Microsoft.Storage/storageAccounts/listkeys/action' over scope '{path}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            reader.app_id, reader.object_id
        )
    );
    let regenerate = format!("{path}/regenerateKey");
    let key2 = Some(json!({ "keyName": "key2" }));
    let (status, body) = call(&cloud, &reader.token, "POST", &regenerate, key2.clone()).await;
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'Microsoft.Storage/storageAccounts/regeneratekey/action'")
    );

    // The key operator lists and renews keys, and reads nothing else.
    let listed = list_keys(&cloud, &operator.token, &path).await;
    let (status, body) = call(&cloud, &operator.token, "POST", &regenerate, key2.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(keys(&body)[1], listed[1]);
    let (status, _) = call(&cloud, &operator.token, "GET", &path, None).await;
    assert_eq!(status, 403);

    // The contributor manages the account, keys included.
    assert_eq!(
        list_keys(&cloud, &contributor.token, &path).await,
        keys(&body)
    );
    let (status, body) = call(
        &cloud,
        &contributor.token,
        "PATCH",
        &path,
        Some(json!({ "tags": { "by": "contributor" } })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&cloud, &contributor.token, "DELETE", &path, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_tutorials_list_service_sas_request_gets_a_token_signed_with_key1() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "st-sas").await;
    create_account(&cloud, &owner, "st-sas", "stsas1").await;
    let path = account_path(&cloud, "st-sas", "stsas1");
    // As seed 002 writes it: lowercase action, a slash before the query, 2017-06-01, the
    // JSON body sent by `curl -d` (a form content type).
    let url = cloud.url(&format!("{path}/listServiceSas/?api-version=2017-06-01"));
    let body = r#"{"canonicalizedResource":"/blob/stsas1/container1","signedResource":"c","signedPermission":"rcw","signedProtocol":"https","signedExpiry":"2030-01-01T00:00:00.1234567Z"}"#;
    let send = |token: String| {
        let request = cloud
            .http
            .post(url.clone())
            .bearer_auth(token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, answer) = send(owner.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let token = answer["serviceSasToken"].as_str().unwrap();
    assert!(token.starts_with("sv=2015-04-05&"), "{token}");
    for part in [
        "sr=c",
        "sp=rcw",
        "spr=https",
        "se=2030-01-01T00%3A00%3A00Z",
        "sig=",
    ] {
        assert!(token.contains(part), "{part} in {token}");
    }

    // The signature is HMAC-SHA256 under key1: the 2015-04-05 string-to-sign, recomputed.
    let keys = list_keys(&cloud, &owner, &path).await;
    let key = base64::engine::general_purpose::STANDARD
        .decode(&keys[0].1)
        .unwrap();
    let string_to_sign =
        "rcw\n\n2030-01-01T00:00:00Z\n/blob/stsas1/container1\n\n\nhttps\n2015-04-05\n\n\n\n\n";
    let mac = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key),
        string_to_sign.as_bytes(),
    );
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.as_ref());
    let sig = token
        .split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .unwrap();
    // Base64 in a query: `+`, `/` and `=` percent-encoded.
    let sig = sig
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    assert_eq!(sig, expected);

    // A reader may not; a regenerated key1 signs differently.
    let reader = cloud.new_principal("sas-reader").await;
    cloud.assign_role(&path, READER, &reader.object_id).await;
    let (status, denied) = send(reader.token.clone()).await;
    assert_eq!(status, 403, "{denied}");
    assert!(
        denied["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'Microsoft.Storage/storageAccounts/ListServiceSas/action'")
    );
    let (status, _) = call(
        &cloud,
        &owner,
        "POST",
        &format!("{path}/regenerateKey"),
        Some(json!({ "keyName": "key1" })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, again) = send(owner.clone()).await;
    assert_ne!(again["serviceSasToken"], answer["serviceSasToken"]);

    let (status, account_sas) = call(
        &cloud,
        &owner,
        "POST",
        &format!("{path}/ListAccountSas"),
        Some(json!({ "signedServices": "b", "signedResourceTypes": "sco", "signedPermission": "rl", "signedExpiry": "2030-01-01T00:00:00Z", "keyToSign": "key2" })),
    )
    .await;
    assert_eq!(status, 200, "{account_sas}");
    let token = account_sas["accountSasToken"].as_str().unwrap();
    assert!(
        token.contains("ss=b") && token.contains("srt=sco") && token.contains("sv=2015-04-05"),
        "{token}"
    );
    let (status, bad) = call(
        &cloud,
        &owner,
        "POST",
        &format!("{path}/listServiceSas"),
        Some(json!({ "canonicalizedResource": "/blob/otheraccount/c", "signedResource": "c", "signedPermission": "r", "signedExpiry": "2030-01-01T00:00:00Z" })),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
}
