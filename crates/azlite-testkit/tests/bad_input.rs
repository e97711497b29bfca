//! Bad input against ARM (issue 10, permanent attack suite): malformed and oversized bodies,
//! path traversal, encoded slashes, invalid UTF-8, oversized headers and URLs. Each gets a 4xx
//! (never a 5xx, never a write), and afterwards the store holds what it held and the server
//! still answers.

use azlite_testkit::TestCloud;
use serde_json::json;

#[tokio::test]
async fn arm_refuses_bad_input_and_stays_intact() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let sub = format!("/subscriptions/{}", cloud.info.subscription_id);
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
    let snapshot = || async {
        (
            cloud.store.list_role_assignments().await.unwrap(),
            cloud
                .store
                .list_resource_groups(cloud.info.subscription_id.parse().unwrap())
                .await
                .unwrap(),
        )
    };
    let before = snapshot().await;

    let big = "x".repeat(8 << 20);
    let role = format!(
        "{sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    );
    let cases: Vec<(&str, String, String, Vec<u8>)> = vec![
        ("malformed JSON", "PUT".into(), format!("{sub}/resourceGroups/g1"), b"{\"location\": ".to_vec()),
        ("JSON that is not an object", "PUT".into(), format!("{sub}/resourceGroups/g1"), b"[1,2]".to_vec()),
        ("invalid UTF-8 body", "PUT".into(), format!("{sub}/resourceGroups/g1"), b"{\"location\": \"\xff\xfe\"}".to_vec()),
        ("oversized body", "PUT".into(), format!("{sub}/resourceGroups/g1"), format!("{{\"location\": \"{big}\"}}").into_bytes()),
        ("path traversal", "PUT".into(), format!("{sub}/resourceGroups/../../subscriptions/{}/resourceGroups/g2", cloud.info.subscription_id), br#"{"location":"westus"}"#.to_vec()),
        ("encoded traversal", "PUT".into(), format!("{sub}/resourceGroups/%2e%2e%2fg3"), br#"{"location":"westus"}"#.to_vec()),
        ("encoded slash in a name", "PUT".into(), format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a%2Fb"), br#"{"location":"westus"}"#.to_vec()),
        ("encoded slash in a scope", "PUT".into(), format!("{sub}/resourceGroups/rg%2Fproviders%2FMicrosoft.Compute/providers/Microsoft.Authorization/roleAssignments/{}", uuid::Uuid::new_v4()), json!({"properties": {"roleDefinitionId": role, "principalId": uuid::Uuid::new_v4().to_string()}}).to_string().into_bytes()),
        ("invalid UTF-8 in the path", "PUT".into(), format!("{sub}/resourceGroups/%ff%fe"), br#"{"location":"westus"}"#.to_vec()),
        // Elsewhere ARM skips an empty segment (az sends some); in a role assignment's scope
        // it would widen the scope, so there it is refused.
        ("empty segment in a scope", "PUT".into(), format!("{sub}/resourceGroups//providers/Microsoft.Authorization/roleAssignments/{}", uuid::Uuid::new_v4()), json!({"properties": {"roleDefinitionId": role, "principalId": uuid::Uuid::new_v4().to_string()}}).to_string().into_bytes()),
        ("oversized URL", "GET".into(), format!("{sub}/resourceGroups/{}", "a".repeat(64 << 10)), Vec::new()),
    ];
    for (name, method, path, body) in cases {
        let url = cloud.url(&format!("{path}?api-version=2022-04-01"));
        let request = cloud
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(&owner)
            .header("content-type", "application/json")
            .body(body);
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                assert!((400..500).contains(&status), "{name}: {status} {text}");
            }
            // The server may close the connection on an oversized request; that is a refusal.
            Err(error) => assert!(name.starts_with("oversized"), "{name}: {error}"),
        }
    }
    // An oversized header.
    let response = cloud
        .http
        .get(cloud.url(&format!("{sub}/resourceGroups?api-version=2022-04-01")))
        .bearer_auth(&owner)
        .header("x-ms-padding", "p".repeat(256 << 10))
        .send()
        .await;
    if let Ok(response) = response {
        assert!(
            (400..500).contains(&response.status().as_u16()) || response.status().is_success(),
            "oversized header: {}",
            response.status()
        );
    }

    assert_eq!(snapshot().await, before, "nothing was written");
    let (status, body) = cloud.arm(&owner, "GET", &rg, None, "2022-04-01").await;
    assert_eq!(status, 200, "still up: {body}");
}
