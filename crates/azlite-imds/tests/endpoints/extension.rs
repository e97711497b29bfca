//! `/oauth2/token`: the VM extension (GET query, POST form) and Cloud Shell (POST form,
//! its own error shape).

use serde_json::Value;

use crate::common::Env;

#[tokio::test]
async fn the_tutorials_form_post_gets_an_imds_answer() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let answer = env
        .send(
            "POST",
            "/oauth2/token",
            &[("Metadata", "true")],
            Some("resource=https%3A%2F%2Fmanagement.azure.com%2F"),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert!(body.as_object().unwrap().values().all(Value::is_string));
    assert_eq!(body["resource"], "https://management.azure.com/");
    assert_eq!(body["expires_in"], "86399");
    assert_eq!(body["client_id"], system.client.to_string());
    env.claims(
        body["access_token"].as_str().unwrap(),
        "https://management.azure.com/",
    );
}

#[tokio::test]
async fn the_extension_takes_get_and_a_client_id() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    let user = env.user_assigned("user").await;
    env.set_vm(Some(&system), &[&user]).await;
    let answer = env
        .send(
            "GET",
            &format!(
                "/oauth2/token?resource=https://vault.azure.net&client_id={}",
                user.client
            ),
            &[("Metadata", "true")],
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["client_id"], user.client.to_string());
    let form = env
        .send(
            "POST",
            "/oauth2/token",
            &[("Metadata", "true")],
            Some(&format!(
                "resource=https://vault.azure.net&client_id={}",
                user.client
            )),
        )
        .await;
    assert_eq!(form.json()["client_id"], user.client.to_string());
}

#[tokio::test]
async fn get_errors_are_imds_errors() {
    let env = Env::start().await;
    let answer = env
        .send(
            "GET",
            "/oauth2/token?resource=https://vault.azure.net",
            &[],
            None,
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.text,
        r#"{"error":"bad_request_102","error_description":"Required metadata header not specified"}"#
    );
}

#[tokio::test]
async fn post_errors_are_cloud_shell_errors() {
    let env = Env::start().await;
    env.set_vm(None, &[]).await;
    let cases = [
        (
            vec![],
            "resource=https://vault.azure.net",
            r#"{"error":{"code":"bad_request_102","message":"Required metadata header not specified"}}"#,
        ),
        (
            vec![("Metadata", "true")],
            "",
            r#"{"error":{"code":"invalid_request","message":"Required query variable 'resource' is missing"}}"#,
        ),
        (
            vec![("Metadata", "true")],
            "resource=https://vault.azure.net",
            r#"{"error":{"code":"invalid_request","message":"Identity not found"}}"#,
        ),
    ];
    for (headers, form, body) in cases {
        let answer = env
            .send("POST", "/oauth2/token", &headers, Some(form))
            .await;
        assert_eq!(answer.status, 400, "{form}");
        assert_eq!(answer.text, body);
    }
}

#[tokio::test]
async fn other_verbs_are_not_allowed() {
    let env = Env::start().await;
    let answer = env
        .send("PUT", "/oauth2/token", &[("Metadata", "true")], None)
        .await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), "GET, POST");
}
