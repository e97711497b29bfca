//! `GET /subscriptions` as `az login` reads it: a subscription is listed to any principal
//! that holds a role assignment anywhere inside it, and to nobody else.

use azlite_testkit::TestCloud;
use serde_json::{Value, json};

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const API: &str = "2022-12-01";

async fn listed(cloud: &TestCloud, token: &str) -> Vec<String> {
    let (status, body) = cloud.arm(token, "GET", "/subscriptions", None, API).await;
    assert_eq!(status, 200, "{body}");
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscriptionId"].as_str().unwrap().to_owned())
        .collect()
}

async fn assign(cloud: &TestCloud, scope: &str, principal: &str) -> String {
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let body = json!({ "properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{READER}", cloud.info.subscription_id),
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }});
    let owner = cloud.owner_arm_token().await;
    let (status, answer) = cloud.arm(&owner, "PUT", &path, Some(body), API).await;
    assert_eq!(status, 201, "{answer}");
    path
}

#[tokio::test]
async fn a_role_on_one_group_lists_the_subscription_and_nothing_more() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let subscription = cloud.info.subscription_id.to_string();
    let sub_path = format!("/subscriptions/{subscription}");
    for name in ["visible", "hidden"] {
        let (status, _) = cloud
            .arm(
                &owner,
                "PUT",
                &cloud.group_path(name),
                Some(json!({ "location": "eastus" })),
                API,
            )
            .await;
        assert_eq!(status, 201);
    }
    let principal = cloud.new_principal("group-scoped").await;

    // No assignment anywhere: an empty list, and the subscription itself is refused.
    assert!(listed(&cloud, &principal.token).await.is_empty());
    let (status, body) = cloud
        .arm(&principal.token, "GET", &sub_path, None, API)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "AuthorizationFailed");

    // Reader on one group: the subscription is listed (as `az login` needs) and readable,
    // with the provider catalogue, but nothing outside the group opens up.
    let assignment = assign(&cloud, &cloud.group_path("visible"), &principal.object_id).await;
    assert_eq!(
        listed(&cloud, &principal.token).await,
        [subscription.clone()]
    );
    let (status, body) = cloud
        .arm(&principal.token, "GET", &sub_path, None, API)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["subscriptionId"], subscription.as_str());
    assert_eq!(body["state"], "Enabled");
    let (status, body) = cloud
        .arm(
            &principal.token,
            "GET",
            &format!("{sub_path}/providers/Microsoft.KeyVault"),
            None,
            API,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = cloud
        .arm(
            &principal.token,
            "GET",
            &cloud.group_path("visible"),
            None,
            API,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body): (u16, Value) = cloud
        .arm(
            &principal.token,
            "GET",
            &cloud.group_path("hidden"),
            None,
            API,
        )
        .await;
    assert_eq!(status, 403, "{body}");

    // The assignment gone, the subscription is gone from the list at once.
    let (status, _) = cloud.arm(&owner, "DELETE", &assignment, None, API).await;
    assert_eq!(status, 200);
    assert!(listed(&cloud, &principal.token).await.is_empty());
}
