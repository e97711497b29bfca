//! Role assignments at scopes that are not scopes (issue 10, finding 1): refused with ARM's
//! 400 before anything is written, and a store that holds such a row anyway still starts.

use azlite_testkit::TestCloud;
use serde_json::{Value, json};

const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

fn assignment_body(cloud: &TestCloud, role: &str, principal: &str) -> Value {
    json!({ "properties": {
        "roleDefinitionId": format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            cloud.info.subscription_id
        ),
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }})
}

async fn put_assignment(
    cloud: &TestCloud,
    token: &str,
    scope_path: &str,
    role: &str,
    principal: &str,
) -> (u16, Value) {
    let name = uuid::Uuid::new_v4();
    let path = format!("{scope_path}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let body = assignment_body(cloud, role, principal);
    cloud
        .arm(token, "PUT", &path, Some(body), "2022-04-01")
        .await
}

#[tokio::test]
async fn invalid_scopes_are_refused_before_anything_is_written() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let rg = cloud.group_path("rg");
    let (status, body) = cloud
        .arm(
            &owner,
            "PUT",
            &rg,
            Some(json!({"location": "westus"})),
            "2022-04-01",
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let member = cloud.new_principal("member").await;
    let before = cloud.store.list_role_assignments().await.unwrap().len();
    let sub = format!("/subscriptions/{}", cloud.info.subscription_id);
    let invalid = [
        // The parser used to drop the empty segment: this assigned at `…/resourceGroups`.
        format!("{sub}/resourceGroups/"),
        format!("{sub}/resourceGroups"),
        format!("{rg}/providers/Microsoft.Compute"),
        format!("{rg}/providers/Microsoft.Compute/virtualMachines"),
        format!("{rg}/providers"),
        format!("{rg}/foo/bar"),
        format!("{sub}//resourceGroups/rg"),
        // An encoded `/` would add segments to the scope once decoded.
        format!("{sub}/resourceGroups/rg%2Fproviders%2FMicrosoft.Compute"),
    ];
    for scope in &invalid {
        let (status, body) = put_assignment(&cloud, &owner, scope, READER, &member.object_id).await;
        assert_eq!(status, 400, "{scope}: {body}");
        assert_eq!(
            body["error"]["code"], "InvalidCreateRoleAssignmentRequest",
            "{scope}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("The request to create role assignment '"),
            "{message}"
        );
        // Reads at such a scope are refused as well, with a 400.
        let list = format!("{scope}/providers/Microsoft.Authorization/roleAssignments");
        let (status, body) = cloud.arm(&owner, "GET", &list, None, "2022-04-01").await;
        assert_eq!(status, 400, "{scope}: {body}");
    }
    assert_eq!(
        cloud.store.list_role_assignments().await.unwrap().len(),
        before,
        "nothing was written"
    );

    // An Owner of the group alone gets the same 400 for a scope inside it.
    let (status, body) = put_assignment(&cloud, &owner, &rg, OWNER, &member.object_id).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = put_assignment(
        &cloud,
        &member.token,
        &format!("{rg}/providers/Microsoft.Compute"),
        READER,
        &member.object_id,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "InvalidCreateRoleAssignmentRequest");
    // Valid scopes below the group still work for them.
    let (status, body) = put_assignment(
        &cloud,
        &member.token,
        &format!("{rg}/providers/Microsoft.Compute/virtualMachines/vm1"),
        READER,
        &member.object_id,
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // And the data directory starts again.
    let dir = cloud.stop().await;
    let cloud = TestCloud::start_in(dir).await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let (status, body) = cloud.arm(&owner, "GET", &rg, None, "2022-04-01").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_stored_assignment_the_index_refuses_is_skipped_at_start() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let rg = cloud.group_path("rg");
    let (status, _) = cloud
        .arm(
            &owner,
            "PUT",
            &rg,
            Some(json!({"location": "westus"})),
            "2022-04-01",
        )
        .await;
    assert_eq!(status, 201);
    let member = cloud.new_principal("member").await;
    let sub = format!("/subscriptions/{}", cloud.info.subscription_id);
    // What an older azlite committed before answering 500: rows at scopes that are not
    // scopes. The store takes them (they are well-formed ids); the index does not.
    let now = 1_700_000_000;
    let bad: Vec<azlite_store::RoleAssignmentRecord> = [
        format!("{sub}/resourceGroups"),
        format!("{rg}/providers/Microsoft.Compute"),
    ]
    .into_iter()
    .map(|scope| azlite_store::RoleAssignmentRecord {
        id: uuid::Uuid::new_v4(),
        scope: scope.parse().unwrap(),
        principal_id: member.object_id.parse().unwrap(),
        principal_type: "ServicePrincipal".to_owned(),
        role_definition_id: OWNER.parse().unwrap(),
        description: None,
        created_at: now,
        updated_at: now,
        created_by: None,
    })
    .collect();
    cloud
        .store
        .apply(azlite_store::WriteBatch {
            role_assignments: bad.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    let dir = cloud.stop().await;
    let cloud = TestCloud::start_in(dir)
        .await
        .expect("a bad row must not keep azlite from starting");
    let owner = cloud.owner_arm_token().await;
    // The owner's own assignment still works.
    let (status, body) = cloud.arm(&owner, "GET", &rg, None, "2022-04-01").await;
    assert_eq!(status, 200, "{body}");
    // The skipped rows grant nothing (the member's token from before is still valid).
    let (status, body) = cloud
        .arm(&member.token, "GET", &rg, None, "2022-04-01")
        .await;
    assert_eq!(status, 403, "{body}");
    // They stay visible to the owner, who can see what was skipped.
    let list = format!("{sub}/providers/Microsoft.Authorization/roleAssignments");
    let (status, body) = cloud.arm(&owner, "GET", &list, None, "2022-04-01").await;
    assert_eq!(status, 200, "{body}");
    let listed: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    for record in &bad {
        assert!(listed.contains(&record.id.to_string().as_str()), "{body}");
    }
}
