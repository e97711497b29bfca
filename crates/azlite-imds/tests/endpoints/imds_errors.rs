//! Every IMDS error of reference §1.3, byte for byte, with its status.

use crate::common::{Answer, Env};

const TOKEN: &str = "/metadata/identity/oauth2/token";

fn assert_error(answer: &Answer, status: u16, body: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.text, body);
    assert_eq!(
        answer.header("content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(answer.header("server"), "IMDS/150.870.65.1854");
}

const MISSING_METADATA: &str =
    r#"{"error":"bad_request_102","error_description":"Required metadata header not specified"}"#;
const BAD_VERSION: &str = r#"{"error":"Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds","newest-versions":["2025-04-07","2024-07-17","2024-03-15"]}"#;
const IDENTITY_NOT_FOUND: &str =
    r#"{"error":"invalid_request","error_description":"Identity not found"}"#;

/// What is wrong, the URL, the headers, the status and the body.
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, u16, &'a str);

#[tokio::test]
async fn request_errors_have_imds_bodies() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let good = "api-version=2018-02-01&resource=https://management.azure.com/";
    let url = format!("{TOKEN}?{good}");
    let cases: Vec<Case<'_>> = vec![
        (
            "no Metadata header (also the azure-identity probe)",
            url.clone(),
            vec![],
            400,
            MISSING_METADATA,
        ),
        (
            "Metadata: false",
            url.clone(),
            vec![("Metadata", "false")],
            400,
            MISSING_METADATA,
        ),
        (
            "X-Forwarded-For",
            url.clone(),
            vec![("Metadata", "true"), ("X-Forwarded-For", "10.0.0.4")],
            400,
            r#"{"error":"bad_request","error_description":"Request contains an X-Forwarded-For header; requests through a proxy are not allowed"}"#,
        ),
        (
            "X-Forwarded-For without Metadata",
            url.clone(),
            vec![("X-Forwarded-For", "10.0.0.4")],
            400,
            r#"{"error":"bad_request","error_description":"Request contains an X-Forwarded-For header; requests through a proxy are not allowed"}"#,
        ),
        (
            "no api-version",
            format!("{TOKEN}?resource=https://management.azure.com/"),
            vec![("Metadata", "true")],
            400,
            BAD_VERSION,
        ),
        (
            "an api-version older than the identity category",
            format!("{TOKEN}?api-version=2017-12-01&resource=https://management.azure.com/"),
            vec![("Metadata", "true")],
            400,
            BAD_VERSION,
        ),
        (
            "an api-version IMDS does not have",
            format!("{TOKEN}?api-version=2018-02-02&resource=https://management.azure.com/"),
            vec![("Metadata", "true")],
            400,
            BAD_VERSION,
        ),
        (
            "a duplicate parameter",
            format!("{url}&resource=https://vault.azure.net"),
            vec![("Metadata", "true")],
            400,
            r#"{"error":"invalid_request","error_description":"Duplicate query parameter 'resource' in the request"}"#,
        ),
        (
            "no resource",
            format!("{TOKEN}?api-version=2018-02-01"),
            vec![("Metadata", "true")],
            400,
            r#"{"error":"invalid_request","error_description":"Required query variable 'resource' is missing"}"#,
        ),
        (
            "an empty resource",
            format!("{TOKEN}?api-version=2018-02-01&resource="),
            vec![("Metadata", "true")],
            400,
            r#"{"error":"invalid_request","error_description":"Required query variable 'resource' is missing"}"#,
        ),
        (
            "two selectors",
            format!(
                "{url}&client_id=00000000-0000-0000-0000-000000000001&object_id=00000000-0000-0000-0000-000000000002"
            ),
            vec![("Metadata", "true")],
            400,
            r#"{"error":"invalid_request","error_description":"Only one of client_id, object_id or msi_res_id may be specified in the request"}"#,
        ),
        (
            "an unknown client_id",
            format!("{url}&client_id=00000000-0000-0000-0000-000000000001"),
            vec![("Metadata", "true")],
            400,
            IDENTITY_NOT_FOUND,
        ),
        (
            "a client_id that is not a GUID",
            format!("{url}&client_id=my-identity"),
            vec![("Metadata", "true")],
            400,
            IDENTITY_NOT_FOUND,
        ),
        (
            "an unknown msi_res_id",
            format!(
                "{url}&msi_res_id=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope"
            ),
            vec![("Metadata", "true")],
            400,
            IDENTITY_NOT_FOUND,
        ),
        (
            "the system identity named by object_id",
            format!("{url}&object_id={}", system.principal),
            vec![("Metadata", "true")],
            400,
            IDENTITY_NOT_FOUND,
        ),
    ];
    for (case, url, headers, status, body) in cases {
        let answer = env.send("GET", &url, &headers, None).await;
        assert_eq!(answer.status, status, "{case}: {}", answer.text);
        assert_eq!(answer.text, body, "{case}");
        assert_error(&answer, status, body);
    }
    assert_eq!(env.sts_calls(), 0, "no refused request reaches the STS");
}

#[tokio::test]
async fn a_vm_without_identity_has_no_identity() {
    let env = Env::start().await;
    env.set_vm(None, &[]).await;
    let answer = env.imds_token("&resource=https://vault.azure.net").await;
    assert_error(&answer, 400, IDENTITY_NOT_FOUND);
}

#[tokio::test]
async fn a_vm_that_does_not_exist_has_no_identity() {
    let env = Env::start().await;
    let answer = env.imds_token("&resource=https://vault.azure.net").await;
    assert_error(&answer, 400, IDENTITY_NOT_FOUND);
}

#[tokio::test]
async fn several_user_assigned_identities_must_be_told_apart() {
    let env = Env::start().await;
    let one = env.user_assigned("one").await;
    let two = env.user_assigned("two").await;
    env.set_vm(None, &[&one, &two]).await;
    let answer = env.imds_token("&resource=https://vault.azure.net").await;
    assert_error(
        &answer,
        400,
        r#"{"error":"invalid_request","error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"}"#,
    );
}

#[tokio::test]
async fn an_unknown_resource_is_invalid_resource_with_entras_text() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let answer = env.imds_token("&resource=https://unknown.example").await;
    assert_eq!(answer.status, 400);
    let expected = format!(
        r#"{{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://unknown.example was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."}}"#,
        env.tenant.display_name
    );
    assert_error(&answer, 400, &expected);
}

#[tokio::test]
async fn other_verbs_are_not_allowed() {
    let env = Env::start().await;
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let answer = env
            .send(
                method,
                &format!("{TOKEN}?api-version=2018-02-01&resource=x"),
                &[("Metadata", "true")],
                None,
            )
            .await;
        let body = format!(
            r#"{{"error":"method_not_allowed","error_description":"Http method not allowed: Path = '{TOKEN}', Method = '{method}'"}}"#
        );
        assert_error(&answer, 405, &body);
        assert_eq!(answer.header("allow"), "GET");
    }
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_when_on() {
    let env = Env::start_with(|c| c.throttle = true).await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    for i in 0..20 {
        let answer = env.imds_token("&resource=https://vault.azure.net").await;
        assert_eq!(answer.status, 200, "request {i}: {}", answer.text);
    }
    let answer = env.imds_token("&resource=https://vault.azure.net").await;
    assert_error(
        &answer,
        429,
        r#"{"error":"too_many_requests","error_description":"Too many requests"}"#,
    );
    assert_eq!(answer.header("retry-after"), "1");
    env.clock.advance(1);
    let answer = env.imds_token("&resource=https://vault.azure.net").await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn throttling_is_off_by_default() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    for _ in 0..30 {
        let answer = env.imds_token("&resource=https://vault.azure.net").await;
        assert_eq!(answer.status, 200);
    }
}
