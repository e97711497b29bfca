//! Azure Arc's challenge: 401 naming a key file, then `Authorization: Basic <contents>`.

use crate::common::Env;

const URL: &str =
    "/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net";

#[tokio::test]
async fn the_challenge_names_a_key_file_whose_secret_is_good_once() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let metadata = ("Metadata", "true");
    let challenge = env
        .send_to(env.arc_base(), "GET", URL, &[metadata], None)
        .await;
    assert_eq!(challenge.status, 401, "{}", challenge.text);
    let realm = challenge
        .header("www-authenticate")
        .strip_prefix("Basic realm=")
        .unwrap()
        .to_owned();
    assert!(realm.ends_with(".key") && !realm.contains('='), "{realm}");
    let directory = env.config.arc_key_directory.clone().unwrap();
    assert_eq!(
        std::path::Path::new(&realm).parent(),
        Some(directory.as_path())
    );
    let secret = std::fs::read_to_string(&realm).unwrap();
    assert!(secret.len() <= 4096);

    let authorization = format!("Basic {secret}");
    let answer = env
        .send_to(
            env.arc_base(),
            "GET",
            URL,
            &[metadata, ("Authorization", &authorization)],
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["client_id"], system.client.to_string());
    assert!(
        !std::path::Path::new(&realm).exists(),
        "the key file is removed"
    );

    let again = env
        .send_to(
            env.arc_base(),
            "GET",
            URL,
            &[metadata, ("Authorization", &authorization)],
            None,
        )
        .await;
    assert_eq!(again.status, 401);
    assert_eq!(
        again.text,
        r#"{"error":"unauthorized_client","error_description":"The secret in the Authorization header is not valid"}"#
    );
}

#[tokio::test]
async fn arc_echoes_the_user_assigned_selector() {
    let env = Env::start().await;
    let user = env.user_assigned("user").await;
    env.set_vm(None, &[&user]).await;
    let url = format!("{URL}&msi_res_id={}", user.id);
    let challenge = env
        .send_to(env.arc_base(), "GET", &url, &[("Metadata", "true")], None)
        .await;
    let realm = challenge.header("www-authenticate")["Basic realm=".len()..].to_owned();
    let authorization = format!("Basic {}", std::fs::read_to_string(&realm).unwrap());
    let answer = env
        .send_to(
            env.arc_base(),
            "GET",
            &url,
            &[("Metadata", "true"), ("Authorization", &authorization)],
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["msi_res_id"], user.id.as_str());
}

#[tokio::test]
async fn an_expired_secret_is_refused() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let challenge = env
        .send_to(env.arc_base(), "GET", URL, &[("Metadata", "true")], None)
        .await;
    let realm = challenge.header("www-authenticate")["Basic realm=".len()..].to_owned();
    let authorization = format!("Basic {}", std::fs::read_to_string(&realm).unwrap());
    env.clock.advance(61);
    let answer = env
        .send_to(
            env.arc_base(),
            "GET",
            URL,
            &[("Metadata", "true"), ("Authorization", &authorization)],
            None,
        )
        .await;
    assert_eq!(answer.status, 401);
}

/// `azlite run --arc` mounts the key directory elsewhere in the sandbox: the challenge names
/// the file where the client will open it, and the file is written where the server keeps
/// it.
#[tokio::test]
async fn the_challenge_names_the_file_as_the_client_sees_it() {
    let seen_as = std::path::PathBuf::from("/var/opt/azcmagent/tokens");
    let env = Env::start_with(|config| {
        config.arc_client_key_directory = Some(seen_as.clone());
    })
    .await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let challenge = env
        .send_to(env.arc_base(), "GET", URL, &[("Metadata", "true")], None)
        .await;
    assert_eq!(challenge.status, 401, "{}", challenge.text);
    let realm = challenge.header("www-authenticate");
    let named = std::path::Path::new(realm.strip_prefix("Basic realm=").unwrap());
    assert_eq!(named.parent(), Some(seen_as.as_path()));
    let written = env
        .config
        .arc_key_directory
        .clone()
        .unwrap()
        .join(named.file_name().unwrap());
    assert!(written.is_file(), "{} is written", written.display());
}
