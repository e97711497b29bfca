//! `GET /msi/token`: App Service's 2019-08-01 and 2017-09-01 APIs.

use serde_json::Value;

use crate::common::{Env, NOW};

const URL_2019: &str = "/msi/token?api-version=2019-08-01&resource=https://vault.azure.net";
const URL_2017: &str = "/msi/token?api-version=2017-09-01&resource=https://vault.azure.net";

#[tokio::test]
async fn the_identity_header_is_required() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let refused = r#"{"statusCode":403,"message":"The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER"}"#;
    for headers in [
        vec![],
        vec![("X-IDENTITY-HEADER", "wrong")],
        // The 2017 header does not stand in for the 2019 one.
        vec![("Secret", env.config.identity_header.as_str())],
    ] {
        let answer = env.send("GET", URL_2019, &headers, None).await;
        assert_eq!(answer.status, 403, "{headers:?}");
        assert_eq!(answer.text, refused);
    }
    assert_eq!(env.sts_calls(), 0);
}

#[tokio::test]
async fn the_2019_api_answers_strings_with_expires_on() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let header = [("X-IDENTITY-HEADER", env.config.identity_header.as_str())];
    let answer = env.send("GET", URL_2019, &header, None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    let names: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "access_token",
            "expires_on",
            "resource",
            "token_type",
            "client_id",
            "expires_in"
        ]
    );
    assert!(body.as_object().unwrap().values().all(Value::is_string));
    assert_eq!(body["expires_on"], (NOW + 86_399).to_string());
    assert_eq!(body["resource"], "https://vault.azure.net");
    assert_eq!(body["client_id"], system.client.to_string());
    assert!(answer.headers.get("server").is_none());
}

#[tokio::test]
async fn the_2019_api_selects_by_client_principal_and_resource_id() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    let user = env.user_assigned("user").await;
    env.set_vm(Some(&system), &[&user]).await;
    let header = [("X-IDENTITY-HEADER", env.config.identity_header.as_str())];
    for selector in [
        format!("client_id={}", user.client),
        format!("principal_id={}", user.principal),
        format!("object_id={}", user.principal),
        format!("mi_res_id={}", user.id),
        format!("msi_res_id={}", user.id),
    ] {
        let answer = env
            .send("GET", &format!("{URL_2019}&{selector}"), &header, None)
            .await;
        assert_eq!(answer.status, 200, "{selector}: {}", answer.text);
        assert_eq!(answer.json()["client_id"], user.client.to_string());
    }
    let unknown = env
        .send(
            "GET",
            &format!("{URL_2019}&client_id=00000000-0000-0000-0000-000000000001"),
            &header,
            None,
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.text,
        r#"{"statusCode":400,"message":"Identity not found"}"#
    );
    let both = env
        .send(
            "GET",
            &format!(
                "{URL_2019}&client_id={}&principal_id={}",
                user.client, user.principal
            ),
            &header,
            None,
        )
        .await;
    assert_eq!(both.status, 400);
}

#[tokio::test]
async fn app_service_has_no_single_identity_quirk() {
    let env = Env::start().await;
    let only = env.user_assigned("only").await;
    env.set_vm(None, &[&only]).await;
    let header = [("X-IDENTITY-HEADER", env.config.identity_header.as_str())];
    assert_eq!(env.send("GET", URL_2019, &header, None).await.status, 400);
}

#[tokio::test]
async fn the_2017_api_takes_the_secret_header_and_answers_a_date() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    let user = env.user_assigned("user").await;
    env.set_vm(Some(&system), &[&user]).await;
    let refused = env
        .send("GET", URL_2017, &[("Secret", "wrong")], None)
        .await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.text,
        r#"{"statusCode":401,"message":"The Secret header is missing or does not match MSI_SECRET"}"#
    );
    let secret = [("Secret", env.config.identity_header.as_str())];
    let answer = env.send("GET", URL_2017, &secret, None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    let names: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        ["access_token", "expires_on", "resource", "token_type"]
    );
    // NOW + 86399 s = 2026-01-01 23:59:59 UTC.
    assert_eq!(body["expires_on"], "01/01/2026 11:59:59 PM +00:00");
    let claims = env.claims(
        body["access_token"].as_str().unwrap(),
        "https://vault.azure.net",
    );
    assert_eq!(claims.oid, system.principal.to_string());

    let by_client = env
        .send(
            "GET",
            &format!("{URL_2017}&clientid={}", user.client),
            &secret,
            None,
        )
        .await
        .json();
    let claims = env.claims(
        by_client["access_token"].as_str().unwrap(),
        "https://vault.azure.net",
    );
    assert_eq!(claims.oid, user.principal.to_string());

    // An unknown client id falls back to the system identity, as the 2017 API did.
    let fallback = env
        .send(
            "GET",
            &format!("{URL_2017}&clientid=00000000-0000-0000-0000-000000000001"),
            &secret,
            None,
        )
        .await;
    assert_eq!(fallback.status, 200);
    let claims = env.claims(
        fallback.json()["access_token"].as_str().unwrap(),
        "https://vault.azure.net",
    );
    assert_eq!(claims.oid, system.principal.to_string());
}

#[tokio::test]
async fn other_api_versions_and_verbs_are_refused() {
    let env = Env::start().await;
    let header = [("X-IDENTITY-HEADER", env.config.identity_header.as_str())];
    for url in [
        "/msi/token?resource=https://vault.azure.net",
        "/msi/token?api-version=2018-02-01&resource=https://vault.azure.net",
    ] {
        let answer = env.send("GET", url, &header, None).await;
        assert_eq!(answer.status, 400, "{url}");
        assert_eq!(
            answer.text,
            r#"{"statusCode":400,"message":"Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds"}"#
        );
    }
    let missing = env
        .send("GET", "/msi/token?api-version=2019-08-01", &header, None)
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.text,
        r#"{"statusCode":400,"message":"Required query variable 'resource' is missing"}"#
    );
    let post = env.send("POST", URL_2019, &header, None).await;
    assert_eq!(post.status, 405);
}
