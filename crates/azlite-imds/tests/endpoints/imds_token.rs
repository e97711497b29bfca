//! `GET /metadata/identity/oauth2/token`: the answer's shape and identity selection.

use serde_json::Value;

use crate::common::{Env, NOW};

const ARM: &str = "https://management.azure.com/";

#[tokio::test]
async fn the_system_identity_gets_a_token_with_every_value_a_string() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let answer = env
        .imds_token("&resource=https%3A%2F%2Fmanagement.azure.com%2F")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("server"), "IMDS/150.870.65.1854");
    assert_eq!(
        answer.header("content-type"),
        "application/json; charset=utf-8"
    );
    let body = answer.json();
    let Value::Object(members) = &body else {
        panic!("{body}");
    };
    let names: Vec<&str> = members.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "access_token",
            "client_id",
            "expires_in",
            "expires_on",
            "ext_expires_in",
            "not_before",
            "resource",
            "token_type"
        ]
    );
    assert!(members.values().all(Value::is_string), "{body}");
    assert_eq!(body["client_id"], system.client.to_string());
    assert_eq!(body["expires_in"], "86399");
    assert_eq!(body["ext_expires_in"], "86399");
    assert_eq!(body["expires_on"], (NOW + 86_399).to_string());
    assert_eq!(body["not_before"], NOW.to_string());
    assert_eq!(body["resource"], ARM);
    assert_eq!(body["token_type"], "Bearer");
    let claims = env.claims(body["access_token"].as_str().unwrap(), ARM);
    assert_eq!(claims.oid, system.principal.to_string());
    assert_eq!(claims.appid, Some(system.client.to_string()));
    assert_eq!(claims.appidacr.as_deref(), Some("2"));
    assert_eq!(claims.xms_mirid.as_deref(), Some(env.vm.as_str()));
}

#[tokio::test]
async fn the_audience_is_the_resource_as_requested() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    for resource in ["https://management.azure.com", "https://vault.azure.net/"] {
        let answer = env.imds_token(&format!("&resource={resource}")).await;
        let body = answer.json();
        assert_eq!(body["resource"], resource);
        env.claims(body["access_token"].as_str().unwrap(), resource);
    }
}

#[tokio::test]
async fn selectors_choose_a_user_assigned_identity() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    let one = env.user_assigned("id-one").await;
    let two = env.user_assigned("id-two").await;
    env.set_vm(Some(&system), &[&one, &two]).await;
    let resource = "&resource=https://management.azure.com/";
    let upper_id = two.id.as_str().to_ascii_uppercase();
    let cases = [
        (format!("&client_id={}", two.client), None),
        (
            format!("&object_id={}", two.principal),
            Some(("object_id", two.principal.to_string())),
        ),
        (
            format!("&msi_res_id={}", two.id),
            Some(("msi_res_id", two.id.to_string())),
        ),
        (
            format!("&mi_res_id={upper_id}"),
            Some(("mi_res_id", upper_id.clone())),
        ),
    ];
    for (selector, echo) in cases {
        let answer = env.imds_token(&format!("{resource}{selector}")).await;
        assert_eq!(answer.status, 200, "{selector}: {}", answer.text);
        let body = answer.json();
        assert_eq!(body["client_id"], two.client.to_string(), "{selector}");
        let claims = env.claims(body["access_token"].as_str().unwrap(), ARM);
        assert_eq!(claims.oid, two.principal.to_string(), "{selector}");
        assert_eq!(claims.xms_mirid.as_deref(), Some(two.id.as_str()));
        if let Some((name, value)) = echo {
            assert_eq!(body[name], value, "{selector}");
        }
        assert!(body.as_object().unwrap().values().all(Value::is_string));
    }
    // No selector: the system identity, even with several user-assigned ones.
    let body = env.imds_token(resource).await.json();
    assert_eq!(body["client_id"], system.client.to_string());
}

#[tokio::test]
async fn a_single_user_assigned_identity_answers_when_none_is_named() {
    let env = Env::start().await;
    let only = env.user_assigned("only").await;
    env.set_vm(None, &[&only]).await;
    let answer = env.imds_token("&resource=https://vault.azure.net").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["client_id"], only.client.to_string());
}

#[tokio::test]
async fn newer_api_versions_and_lenient_metadata_casing_are_accepted() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    for version in ["2019-08-01", "2021-02-01", "2025-04-07"] {
        let answer = env
            .send(
                "GET",
                &format!(
                    "/metadata/identity/oauth2/token?api-version={version}&resource=https://vault.azure.net"
                ),
                &[("Metadata", "True")],
                None,
            )
            .await;
        assert_eq!(answer.status, 200, "{version}: {}", answer.text);
    }
}
