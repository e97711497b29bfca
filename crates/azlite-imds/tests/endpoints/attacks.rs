//! The attack suite's managed-identity plane: forged `Metadata` headers, proxy (SSRF)
//! headers, malformed and oversized queries, and every wrong answer to Arc's key-file
//! challenge. Each gets IMDS's error, never a token and never a 5xx, and the endpoint still
//! serves a good request afterwards.

use crate::common::{Answer, Env};

const TOKEN: &str = "/metadata/identity/oauth2/token";
const GOOD: &str = "api-version=2018-02-01&resource=https://management.azure.com/";
const MISSING_METADATA: &str =
    r#"{"error":"bad_request_102","error_description":"Required metadata header not specified"}"#;
const FORWARDED: &str = r#"{"error":"bad_request","error_description":"Request contains an X-Forwarded-For header; requests through a proxy are not allowed"}"#;
const WRONG_SECRET: &str = r#"{"error":"unauthorized_client","error_description":"The secret in the Authorization header is not valid"}"#;
const ARC_URL: &str =
    "/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net";

fn is_imds_error(answer: &Answer, status: u16) -> bool {
    answer.status == status
        && answer.header("content-type") == "application/json; charset=utf-8"
        && answer.json()["error"].is_string()
        && answer.json().get("access_token").is_none()
}

async fn still_serves(env: &Env) {
    let answer = env.get(&format!("{TOKEN}?{GOOD}")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn forged_metadata_and_proxy_headers_are_refused() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let url = format!("{TOKEN}?{GOOD}");
    for value in [
        "", "1", "yes", "false", "truee", "t rue", "true;", "\"true\"",
    ] {
        let answer = env.send("GET", &url, &[("Metadata", value)], None).await;
        assert!(
            is_imds_error(&answer, 400),
            "Metadata: {value:?}: {}",
            answer.text
        );
        assert_eq!(answer.text, MISSING_METADATA, "Metadata: {value:?}");
    }
    // Any X-Forwarded-For is a proxied (SSRF) request, whatever it claims, even with a
    // good Metadata header and in any letter case.
    for (name, value) in [
        ("X-Forwarded-For", ""),
        ("X-Forwarded-For", "127.0.0.1"),
        ("x-forwarded-for", "169.254.169.254"),
        ("X-FORWARDED-FOR", "10.0.0.4, 10.0.0.5"),
    ] {
        let answer = env
            .send("GET", &url, &[("Metadata", "true"), (name, value)], None)
            .await;
        assert!(
            is_imds_error(&answer, 400),
            "{name}: {value:?}: {}",
            answer.text
        );
        assert_eq!(answer.text, FORWARDED, "{name}: {value:?}");
    }
    still_serves(&env).await;
}

#[tokio::test]
async fn malformed_and_oversized_queries_get_imds_errors() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let huge_resource = format!("https://{}.example/", "a".repeat(60_000));
    let many_parameters: String = (0..5_000).map(|i| format!("&p{i}=x")).collect();
    let huge = format!("api-version=2018-02-01&resource={huge_resource}");
    let many = format!("{GOOD}{many_parameters}&p0=y");
    let cases = [
        (
            "bad percent-encoding",
            "api-version=2018-02-01&resource=%ZZ%",
        ),
        ("invalid UTF-8", "api-version=2018-02-01&resource=%FF%FE%80"),
        (
            "NUL in the resource",
            "api-version=2018-02-01&resource=https://management.azure.com/%00",
        ),
        (
            "NUL in client_id",
            "api-version=2018-02-01&resource=https://management.azure.com/&client_id=%00",
        ),
        ("a huge resource", huge.as_str()),
        ("many parameters", many.as_str()),
        (
            "encoded separators",
            "api-version%3D2018-02-01%26resource%3Dx",
        ),
        (
            "a path as msi_res_id",
            "api-version=2018-02-01&resource=x&msi_res_id=/../../etc/passwd",
        ),
    ];
    for (what, query) in cases {
        let answer = env.get(&format!("{TOKEN}?{query}")).await;
        assert!(
            answer.status == 400 || answer.status == 404 || answer.status == 414,
            "{what}: {} {}",
            answer.status,
            &answer.text[..answer.text.len().min(300)]
        );
        assert!(answer.text.find("access_token").is_none(), "{what}");
    }
    still_serves(&env).await;
}

/// Requests that the header rules refuse never reach the challenge: no key file is written.
#[tokio::test]
async fn arc_writes_no_key_file_for_a_refused_request() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let directory = env.config.arc_key_directory.clone().unwrap();
    let files = || std::fs::read_dir(&directory).map_or(0, |d| d.count());
    for headers in [
        vec![],
        vec![("Metadata", "false")],
        vec![("Metadata", "true"), ("X-Forwarded-For", "10.0.0.4")],
    ] {
        let answer = env
            .send_to(env.arc_base(), "GET", ARC_URL, &headers, None)
            .await;
        assert!(is_imds_error(&answer, 400), "{headers:?}: {}", answer.text);
        assert!(answer.headers.get("www-authenticate").is_none());
    }
    assert_eq!(files(), 0);
}

#[tokio::test]
async fn arc_refuses_every_wrong_answer_to_its_challenge_without_spending_the_secret() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let metadata = ("Metadata", "true");
    let challenge = env
        .send_to(env.arc_base(), "GET", ARC_URL, &[metadata], None)
        .await;
    assert_eq!(challenge.status, 401);
    let realm = challenge
        .header("www-authenticate")
        .strip_prefix("Basic realm=")
        .unwrap()
        .to_owned();
    let secret = std::fs::read_to_string(&realm).unwrap();
    let name = std::path::Path::new(&realm)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let stem = name.trim_end_matches(".key").to_owned();
    let wrong = [
        format!("Basic {}", "0".repeat(secret.len())),
        format!("Basic {}", &secret[..secret.len() - 1]),
        format!("Basic {secret}0"),
        format!("Basic {}", secret.to_uppercase()),
        format!("Basic {realm}"),
        format!("Basic {name}"),
        format!("Basic {stem}"),
        format!("Basic ../{name}"),
        "Basic /etc/passwd".to_owned(),
        "Basic ".to_owned(),
        "Basic".to_owned(),
        format!("Bearer {secret}"),
        secret.clone(),
        format!("Basic {}", "A".repeat(8_000)),
    ];
    for authorization in &wrong {
        let answer = env
            .send_to(
                env.arc_base(),
                "GET",
                ARC_URL,
                &[metadata, ("Authorization", authorization)],
                None,
            )
            .await;
        assert_eq!(answer.status, 401, "{authorization:?}: {}", answer.text);
        assert_eq!(answer.text, WRONG_SECRET, "{authorization:?}");
    }
    // None of those spent the secret: its holder still gets the token, once.
    let authorization = format!("Basic {secret}");
    let answer = env
        .send_to(
            env.arc_base(),
            "GET",
            ARC_URL,
            &[metadata, ("Authorization", &authorization)],
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let replay = env
        .send_to(
            env.arc_base(),
            "GET",
            ARC_URL,
            &[metadata, ("Authorization", &authorization)],
            None,
        )
        .await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.text, WRONG_SECRET);
}
