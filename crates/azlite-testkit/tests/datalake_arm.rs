//! Data Lake Store Gen1 accounts through ARM, in-process: the account lifecycle, global
//! names, the name check under a location, and RBAC.

use azlite_testkit::TestCloud;
use serde_json::{Value, json};

const API: &str = "2016-11-01";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const TYPE: &str = "Microsoft.DataLakeStore/accounts";

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
        Some(json!({ "location": "eastus2" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

async fn check(cloud: &TestCloud, token: &str, name: &str) -> Value {
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.DataLakeStore/locations/eastus2/checkNameAvailability",
        cloud.info.subscription_id
    );
    let (status, body) = call(
        cloud,
        token,
        "POST",
        &path,
        Some(json!({ "name": name, "type": TYPE })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn an_account_is_created_read_listed_updated_and_deleted() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "dls-rg").await;
    let path = account_path(&cloud, "dls-rg", "adls1");

    let (status, created) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(json!({ "location": "eastus2", "tags": { "env": "test" }, "properties": { "defaultGroup": "staff", "newTier": "consumption" } })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["type"], TYPE);
    assert_eq!(created["name"], "adls1");
    let p = &created["properties"];
    assert_eq!(p["endpoint"], "adls1.azuredatalakestore.net");
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["state"], "Active");
    assert_eq!(p["defaultGroup"], "staff");
    assert_eq!(p["newTier"], "Consumption");
    assert_eq!(p["encryptionState"], "Enabled");
    assert_eq!(p["encryptionConfig"], json!({ "type": "ServiceManaged" }));
    let account_id: uuid::Uuid = p["accountId"].as_str().unwrap().parse().unwrap();

    let (status, got) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!((status, &got), (200, &created));
    let (status, list) = call(
        &cloud,
        &owner,
        "GET",
        &format!(
            "/subscriptions/{}/providers/{TYPE}",
            cloud.info.subscription_id
        ),
        None,
    )
    .await;
    assert_eq!((status, &list["value"]), (200, &json!([created])));

    let (status, patched) = call(
        &cloud,
        &owner,
        "PATCH",
        &path,
        Some(json!({ "tags": { "team": "a" }, "properties": { "firewallState": "Enabled" } })),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["tags"], json!({ "team": "a" }));
    assert_eq!(patched["properties"]["firewallState"], "Enabled");
    assert_eq!(patched["properties"]["accountId"], account_id.to_string());
    assert_eq!(patched["properties"]["defaultGroup"], "staff");

    let (status, body) = call(
        &cloud,
        &owner,
        "PATCH",
        &path,
        Some(json!({ "properties": { "newTier": "Commitment_9TB" } })),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let (status, replaced) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(json!({ "location": "eastus2" })),
    )
    .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["properties"]["accountId"], account_id.to_string());
    assert_eq!(replaced["properties"]["creationTime"], p["creationTime"]);

    let (status, _) = call(&cloud, &owner, "DELETE", &path, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&cloud, &owner, "DELETE", &path, None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn names_are_checked_and_global() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "dls-a").await;
    create_group(&cloud, &owner, "dls-b").await;
    for bad in ["ab", "Upper1", "has-hyphen"] {
        let (status, body) = call(
            &cloud,
            &owner,
            "PUT",
            &account_path(&cloud, "dls-a", bad),
            Some(json!({ "location": "eastus2" })),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("InvalidResourceName")),
            "{bad}"
        );
        let answer = check(&cloud, &owner, bad).await;
        assert_eq!(
            (answer["nameAvailable"].as_bool(), answer["reason"].as_str()),
            (Some(false), Some("Invalid"))
        );
    }
    assert_eq!(
        check(&cloud, &owner, "adlsglobal").await,
        json!({ "nameAvailable": true })
    );
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &account_path(&cloud, "dls-a", "adlsglobal"),
        Some(json!({ "location": "eastus2" })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        check(&cloud, &owner, "adlsglobal").await["reason"],
        "AlreadyExists"
    );
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &account_path(&cloud, "dls-b", "adlsglobal"),
        Some(json!({ "location": "eastus2" })),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &account_path(&cloud, "dls-a", "adlsnoloc"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("LocationRequired"))
    );
}

#[tokio::test]
async fn a_reader_reads_and_changes_nothing() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    create_group(&cloud, &owner, "dls-r").await;
    let path = account_path(&cloud, "dls-r", "adlsrbac");
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(json!({ "location": "eastus2" })),
    )
    .await;
    assert_eq!(status, 201);
    let reader = cloud.new_principal("dls-reader").await;
    let nobody = cloud.new_principal("dls-nobody").await;
    let assignment = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}",
        cloud.group_path("dls-r"),
        uuid::Uuid::new_v4()
    );
    let role = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        cloud.info.subscription_id
    );
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &assignment,
        Some(
            json!({ "properties": { "roleDefinitionId": role, "principalId": reader.object_id } }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (status, _) = call(&cloud, &reader.token, "GET", &path, None).await;
    assert_eq!(status, 200);
    let (status, body) = call(&cloud, &reader.token, "DELETE", &path, None).await;
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'Microsoft.DataLakeStore/accounts/delete'")
    );
    let (status, _) = call(&cloud, &nobody.token, "GET", &path, None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(status, 200, "the account is still there");
}
