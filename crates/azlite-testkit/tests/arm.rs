//! ARM in-process: resource groups and role assignments, with RBAC on every call.

use azlite_testkit::{Principal, TestCloud};
use serde_json::{Value, json};

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";

async fn call(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    cloud.arm(token, method, path, body, "2022-04-01").await
}

async fn owner(cloud: &TestCloud) -> String {
    cloud.owner_arm_token().await
}

async fn new_principal(cloud: &TestCloud, name: &str) -> Principal {
    cloud.new_principal(name).await
}

fn group(cloud: &TestCloud, name: &str) -> String {
    cloud.group_path(name)
}

async fn assign(
    cloud: &TestCloud,
    scope: &str,
    role: &str,
    principal: &str,
) -> (u16, Value, String) {
    let name = uuid_like();
    let body = json!({ "properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", cloud.info.subscription_id),
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }});
    let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let (status, answer) = call(cloud, &owner(cloud).await, "PUT", &path, Some(body)).await;
    (status, answer, path)
}

fn uuid_like() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_reader_on_a_group_reads_it_but_cannot_write_it() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    for name in ["rg1", "rg10"] {
        let (status, _) = call(
            &cloud,
            &owner,
            "PUT",
            &group(&cloud, name),
            Some(json!({ "location": "eastus" })),
        )
        .await;
        assert_eq!(status, 201);
    }
    let reader = new_principal(&cloud, "reader").await;

    // No assignment: 403, worded as ARM words it.
    let (status, body) = call(&cloud, &reader.token, "GET", &group(&cloud, "rg1"), None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "AuthorizationFailed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&reader.app_id) && message.contains(&reader.object_id),
        "{message}"
    );
    assert!(
        message.contains("'Microsoft.Resources/subscriptions/resourceGroups/read'"),
        "{message}"
    );

    let (status, _, assignment) =
        assign(&cloud, &group(&cloud, "rg1"), READER, &reader.object_id).await;
    assert_eq!(status, 201);
    let (status, body) = call(&cloud, &reader.token, "GET", &group(&cloud, "rg1"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "rg1");
    // Whole segments only: Reader on rg1 gives nothing on rg10.
    assert_eq!(
        call(&cloud, &reader.token, "GET", &group(&cloud, "rg10"), None)
            .await
            .0,
        403
    );
    let (status, body) = call(
        &cloud,
        &reader.token,
        "PUT",
        &group(&cloud, "rg1"),
        Some(json!({ "location": "eastus" })),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("resourceGroups/write")
    );
    // The list shows what the caller can read, and only that.
    let (status, body) = call(
        &cloud,
        &reader.token,
        "GET",
        &format!(
            "/subscriptions/{}/resourcegroups",
            cloud.info.subscription_id
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["value"].as_array().unwrap().len(), 1);

    // Removing the assignment takes effect on the next call, with the same token.
    let (status, _) = call(&cloud, &owner, "DELETE", &assignment, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        call(&cloud, &reader.token, "GET", &group(&cloud, "rg1"), None)
            .await
            .0,
        403
    );
    assert_eq!(
        call(&cloud, &owner, "DELETE", &assignment, None).await.0,
        204
    );
}

#[tokio::test]
async fn reader_on_the_subscription_reads_every_group() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    for name in ["a", "b", "c"] {
        call(
            &cloud,
            &owner,
            "PUT",
            &group(&cloud, name),
            Some(json!({ "location": "westus" })),
        )
        .await;
    }
    let reader = new_principal(&cloud, "sub-reader").await;
    let sub = format!("/subscriptions/{}", cloud.info.subscription_id);
    assert_eq!(assign(&cloud, &sub, READER, &reader.object_id).await.0, 201);
    let (status, body) = call(
        &cloud,
        &reader.token,
        "GET",
        &format!("{sub}/resourceGroups"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[tokio::test]
async fn role_assignment_rules_match_arms() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    call(
        &cloud,
        &owner,
        "PUT",
        &group(&cloud, "rg"),
        Some(json!({ "location": "eastus" })),
    )
    .await;
    let someone = new_principal(&cloud, "someone").await;
    let scope = group(&cloud, "rg");

    let (status, first, path) = assign(&cloud, &scope, CONTRIBUTOR, &someone.object_id).await;
    assert_eq!(status, 201, "{first}");
    // The same PUT again is idempotent.
    let body = json!({ "properties": { "roleDefinitionId": first["properties"]["roleDefinitionId"], "principalId": someone.object_id } });
    assert_eq!(call(&cloud, &owner, "PUT", &path, Some(body)).await.0, 200);
    // The same principal, role and scope under another name: 409.
    let (status, body, _) = assign(&cloud, &scope, CONTRIBUTOR, &someone.object_id).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("RoleAssignmentExists"))
    );
    // An unknown principal: 400.
    let (status, body, _) = assign(
        &cloud,
        &scope,
        READER,
        "11111111-2222-3333-4444-555555555555",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PrincipalNotFound"))
    );
    // Contributor writes the group but cannot hand out roles there.
    let (status, _) = call(
        &cloud,
        &someone.token,
        "PATCH",
        &scope,
        Some(json!({ "tags": { "env": "test" } })),
    )
    .await;
    assert_eq!(status, 200);
    let other = new_principal(&cloud, "other").await;
    let (status, body) = call(
        &cloud,
        &someone.token,
        "PUT",
        &format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
            uuid_like()
        ),
        Some(
            json!({ "properties": { "roleDefinitionId": READER, "principalId": other.object_id } }),
        ),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Authorization/roleAssignments/write")
    );

    // Filters: atScope() at the group sees the owner's subscription assignment and this one.
    let (status, body) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{scope}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    let filter = format!("principalId eq '{}'", someone.object_id);
    let (_, body) = call(
        &cloud,
        &owner,
        "GET",
        &format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}",
            cloud.info.subscription_id
        ),
        None,
    )
    .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 1);

    // Deleting the group deletes the assignments in it.
    assert_eq!(call(&cloud, &owner, "DELETE", &scope, None).await.0, 200);
    assert_eq!(call(&cloud, &owner, "GET", &path, None).await.0, 404);
    let (status, body) = call(&cloud, &owner, "GET", &scope, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
}

#[tokio::test]
async fn assignments_and_groups_survive_a_restart() {
    let cloud = TestCloud::start().await.unwrap();
    call(
        &cloud,
        &owner(&cloud).await,
        "PUT",
        &group(&cloud, "Kept"),
        Some(json!({ "location": "eastus" })),
    )
    .await;
    let reader = new_principal(&cloud, "reader").await;
    assign(&cloud, &group(&cloud, "Kept"), READER, &reader.object_id).await;
    let dir = cloud.stop().await;
    let cloud = TestCloud::start_in(dir).await.unwrap();
    let (status, body) = call(&cloud, &reader.token, "GET", &group(&cloud, "kept"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Kept", "the casing of creation is kept");
    // The owner assignment is not duplicated by the second start.
    let (_, body) = call(
        &cloud,
        &owner(&cloud).await,
        "GET",
        &format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()",
            cloud.info.subscription_id
        ),
        None,
    )
    .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn arm_wants_an_api_version_and_a_token() {
    let cloud = TestCloud::start().await.unwrap();
    let url = cloud.url(&format!("/subscriptions/{}", cloud.info.subscription_id));
    let response = cloud.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    let response = cloud
        .http
        .get(&url)
        .bearer_auth(owner(&cloud).await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MissingApiVersionParameter");
}
