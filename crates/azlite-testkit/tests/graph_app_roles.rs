//! Microsoft Graph's app roles in-process: Graph's own service principal with its real
//! app roles, app role assignments granted and revoked through both collections, the
//! `roles` claim in tokens issued afterwards (client credentials and managed identities),
//! and Graph enforcing it.

use azlite_testkit::TestCloud;
use azlite_token::ManagedIdentityTokens;
use azlite_types::ObjectId;
use serde_json::{Value, json};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const APPLICATION_READ_ALL: &str = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30";
const DIRECTORY_READ_ALL: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";

async fn graph(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = cloud
        .http
        .request(method.parse().unwrap(), cloud.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// An application with a secret, through the admin route: (app id, object id, secret).
async fn application(cloud: &TestCloud, name: &str) -> (String, String, String) {
    let owner = cloud.owner_arm_token().await;
    let app: Value = cloud
        .http
        .post(cloud.url("/azlite/admin/applications"))
        .bearer_auth(&owner)
        .json(&json!({ "displayName": name, "password": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        app["appId"].as_str().unwrap().to_owned(),
        app["servicePrincipalObjectId"].as_str().unwrap().to_owned(),
        app["password"].as_str().unwrap().to_owned(),
    )
}

async fn graph_token(cloud: &TestCloud, app_id: &str, secret: &str) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("client_secret", secret),
        ("scope", GRAPH_SCOPE),
    ];
    let (status, body) = cloud
        .token_request(&cloud.info.tenant_id, &form)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn graph_principal(cloud: &TestCloud, owner: &str) -> Value {
    let (status, sp) = graph(
        cloud,
        owner,
        "GET",
        &format!("/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{sp}");
    sp
}

#[tokio::test]
async fn microsoft_graph_has_its_principal_with_its_real_app_roles() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(GRAPH_SCOPE).await.unwrap();
    let sp = graph_principal(&cloud, &owner).await;
    assert_eq!(sp["appId"], GRAPH_APP_ID);
    assert_eq!(sp["displayName"], "Microsoft Graph");
    assert_eq!(
        sp["appOwnerOrganizationId"],
        "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
    );
    let roles = sp["appRoles"].as_array().unwrap();
    let role = |value: &str| {
        roles
            .iter()
            .find(|r| r["value"] == value)
            .unwrap_or_else(|| panic!("{value} in {roles:?}"))
    };
    assert_eq!(role("Application.Read.All")["id"], APPLICATION_READ_ALL);
    assert_eq!(role("Directory.Read.All")["id"], DIRECTORY_READ_ALL);
    assert_eq!(
        role("Directory.ReadWrite.All")["id"],
        "19dbc75e-c2e2-444c-a770-ec69d8559fc7"
    );
    assert_eq!(
        role("Application.ReadWrite.All")["allowedMemberTypes"],
        json!(["Application"])
    );

    let (status, list) = graph(
        &cloud,
        &owner,
        "GET",
        &format!("/v1.0/servicePrincipals?$filter=appId%20eq%20'{GRAPH_APP_ID}'"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    assert_eq!(list["value"][0]["id"], sp["id"]);
    assert_eq!(list["value"][0]["appRoles"], sp["appRoles"]);

    let (status, error) = graph(
        &cloud,
        &owner,
        "DELETE",
        &format!("/v1.0/servicePrincipals/{}", sp["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(graph_principal(&cloud, &owner).await["id"], sp["id"]);
}

#[tokio::test]
async fn granting_and_revoking_changes_the_tokens_issued_afterwards() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(GRAPH_SCOPE).await.unwrap();
    let resource = graph_principal(&cloud, &owner).await;
    let resource_id = resource["id"].as_str().unwrap();
    let (app_id, principal, secret) = application(&cloud, "reader").await;

    let before = graph_token(&cloud, &app_id, &secret).await;
    assert!(claims(&before).get("roles").is_none());
    let (status, _) = graph(&cloud, &before, "GET", "/v1.0/servicePrincipals", None).await;
    assert_eq!(status, 403);

    // Unknown roles, another principal in the body, and duplicates are refused.
    let grant = |role: &str| json!({ "principalId": principal, "resourceId": resource_id, "appRoleId": role });
    let path = format!("/v1.0/servicePrincipals/{principal}/appRoleAssignments");
    let (status, error) = graph(
        &cloud,
        &owner,
        "POST",
        &path,
        Some(grant(&uuid::Uuid::new_v4().to_string())),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(
        error["error"]["message"],
        format!("Permission being assigned was not found on application '{GRAPH_APP_ID}'.")
    );
    let (status, error) = graph(
        &cloud,
        &owner,
        "POST",
        &format!("/v1.0/servicePrincipals/{resource_id}/appRoleAssignments"),
        Some(grant(APPLICATION_READ_ALL)),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    let (status, error) = graph(&cloud, &owner, "POST", &path, Some(json!({}))).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(
        error["error"]["message"],
        "Invalid value specified for property 'principalId' of resource 'AppRoleAssignment'."
    );

    let (status, granted) = graph(
        &cloud,
        &owner,
        "POST",
        &path,
        Some(grant(APPLICATION_READ_ALL)),
    )
    .await;
    assert_eq!(status, 201, "{granted}");
    assert_eq!(granted["principalId"], principal.as_str());
    assert_eq!(granted["resourceId"], resource_id);
    assert_eq!(granted["appRoleId"], APPLICATION_READ_ALL);
    assert_eq!(granted["principalType"], "ServicePrincipal");
    assert_eq!(granted["principalDisplayName"], "reader");
    assert_eq!(granted["resourceDisplayName"], "Microsoft Graph");
    assert!(granted["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        granted["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "#servicePrincipals('{principal}')/appRoleAssignments/$entity"
            )),
        "{granted}"
    );
    let assignment = granted["id"].as_str().unwrap().to_owned();
    let (status, error) = graph(
        &cloud,
        &owner,
        "POST",
        &path,
        Some(grant(APPLICATION_READ_ALL)),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(
        error["error"]["message"],
        "Permission being assigned already exists on the object."
    );

    // Both collections show it; a token issued now carries the role and reads.
    let (_, held) = graph(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(held["value"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held["value"][0]["id"], assignment.as_str());
    let (_, on_graph) = graph(
        &cloud,
        &owner,
        "GET",
        &format!("/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')/appRoleAssignedTo"),
        None,
    )
    .await;
    assert!(
        on_graph["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == assignment.as_str()),
        "{on_graph}"
    );
    let (status, one) = graph(&cloud, &owner, "GET", &format!("{path}/{assignment}"), None).await;
    assert_eq!(
        (status, &one["appRoleId"]),
        (200, &json!(APPLICATION_READ_ALL))
    );

    let reader = graph_token(&cloud, &app_id, &secret).await;
    assert_eq!(claims(&reader)["roles"], json!(["Application.Read.All"]));
    let (status, list) = graph(&cloud, &reader, "GET", "/v1.0/servicePrincipals", None).await;
    assert_eq!(status, 200, "{list}");
    let (status, _) = graph(&cloud, &reader, "GET", &path, None).await;
    assert_eq!(status, 200);
    // Reading is not granting: the reader cannot grant itself more.
    let (status, _) = graph(
        &cloud,
        &reader,
        "POST",
        &path,
        Some(grant(DIRECTORY_READ_ALL)),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = graph(
        &cloud,
        &reader,
        "DELETE",
        &format!("{path}/{assignment}"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // An ARM token carries no Graph roles.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://management.azure.com/.default"),
    ];
    let (_, arm) = cloud
        .token_request(&cloud.info.tenant_id, &form)
        .await
        .unwrap();
    assert!(
        claims(arm["access_token"].as_str().unwrap())
            .get("roles")
            .is_none()
    );

    // Revoked from the resource's side: tokens issued afterwards lose it.
    let (status, _) = graph(
        &cloud,
        &owner,
        "DELETE",
        &format!("/v1.0/servicePrincipals/{resource_id}/appRoleAssignedTo/{assignment}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = graph(&cloud, &owner, "GET", &format!("{path}/{assignment}"), None).await;
    assert_eq!(status, 404);
    let after = graph_token(&cloud, &app_id, &secret).await;
    assert!(claims(&after).get("roles").is_none());
    let (status, error) = graph(&cloud, &after, "GET", "/v1.0/servicePrincipals", None).await;
    assert_eq!(status, 403);
    assert_eq!(
        error["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
}

#[tokio::test]
async fn a_managed_identity_gets_its_roles_and_loses_them_with_its_principal() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(GRAPH_SCOPE).await.unwrap();
    let arm = cloud.owner_arm_token().await;
    let (status, _) = cloud
        .arm(
            &arm,
            "PUT",
            &cloud.group_path("rg"),
            Some(json!({ "location": "eastus" })),
            "2021-04-01",
        )
        .await;
    assert!(status == 200 || status == 201);
    let identity_path = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
        cloud.group_path("rg")
    );
    let (status, identity) = cloud
        .arm(
            &arm,
            "PUT",
            &identity_path,
            Some(json!({ "location": "eastus" })),
            "2023-01-31",
        )
        .await;
    assert!(status == 200 || status == 201, "{identity}");
    let principal = identity["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let object_id: ObjectId = principal.parse().unwrap();

    let token = cloud
        .sts
        .managed_identity_token(object_id, "https://graph.microsoft.com/")
        .await
        .unwrap();
    assert!(claims(&token.access_token).get("roles").is_none());

    let resource = graph_principal(&cloud, &owner).await;
    let (status, granted) = graph(
        &cloud,
        &owner,
        "POST",
        &format!("/v1.0/servicePrincipals/{}/appRoleAssignedTo", resource["id"].as_str().unwrap()),
        Some(json!({ "principalId": principal, "resourceId": resource["id"], "appRoleId": DIRECTORY_READ_ALL })),
    )
    .await;
    assert_eq!(status, 201, "{granted}");
    assert_eq!(granted["principalDisplayName"], "id1");
    let token = cloud
        .sts
        .managed_identity_token(object_id, "https://graph.microsoft.com/")
        .await
        .unwrap();
    assert_eq!(
        claims(&token.access_token)["roles"],
        json!(["Directory.Read.All"])
    );
    let (status, found) = graph(
        &cloud,
        &token.access_token,
        "POST",
        "/v1.0/directoryObjects/getByIds",
        Some(json!({ "ids": [principal] })),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["value"][0]["id"], principal.as_str());

    // Deleting the identity deletes its principal and, with it, its assignments.
    let (status, _) = cloud
        .arm(&arm, "DELETE", &identity_path, None, "2023-01-31")
        .await;
    assert!(status == 200 || status == 204);
    let (status, on_graph) = graph(
        &cloud,
        &owner,
        "GET",
        &format!(
            "/v1.0/servicePrincipals/{}/appRoleAssignedTo",
            resource["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        on_graph["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["principalId"] != principal.as_str()),
        "{on_graph}"
    );
    let left = cloud
        .store
        .list_app_role_assignments_for_principal(object_id)
        .await
        .unwrap();
    assert!(left.is_empty());
}
