//! The token cache: the STS is asked on a miss, near expiry, or with `bypass_cache=true`;
//! a token of an identity no longer on the VM is never served.

use azlite_store::{Deletion, WriteBatch};

use crate::common::Env;

const VAULT: &str = "&resource=https://vault.azure.net";

#[tokio::test]
async fn repeated_requests_reach_the_sts_once() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let first = env.imds_token(VAULT).await.json();
    env.clock.advance(600);
    let second = env.imds_token(VAULT).await.json();
    let third = env.imds_token(VAULT).await.json();
    assert_eq!(env.sts_calls(), 1);
    assert_eq!(first["access_token"], second["access_token"]);
    assert_eq!(second["access_token"], third["access_token"]);
    // The same token, with less time left.
    assert_eq!(first["expires_in"], "86399");
    assert_eq!(second["expires_in"], "85799");
    assert_eq!(first["expires_on"], second["expires_on"]);
}

#[tokio::test]
async fn each_identity_and_resource_has_its_own_token() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    let user = env.user_assigned("user").await;
    env.set_vm(Some(&system), &[&user]).await;
    env.imds_token(VAULT).await;
    env.imds_token("&resource=https://vault.azure.net/").await;
    env.imds_token(&format!("{VAULT}&client_id={}", user.client))
        .await;
    assert_eq!(env.sts_calls(), 3);
    env.imds_token(VAULT).await;
    env.imds_token(&format!("{VAULT}&object_id={}", user.principal))
        .await;
    assert_eq!(env.sts_calls(), 3);
}

#[tokio::test]
async fn bypass_cache_asks_the_sts_again() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let first = env.imds_token(VAULT).await.json();
    env.clock.advance(1);
    let fresh = env
        .imds_token(&format!("{VAULT}&bypass_cache=true"))
        .await
        .json();
    assert_eq!(env.sts_calls(), 2);
    assert_ne!(first["access_token"], fresh["access_token"]);
    // The fresh token replaces the cached one.
    let after = env.imds_token(VAULT).await.json();
    assert_eq!(after["access_token"], fresh["access_token"]);
    assert_eq!(env.sts_calls(), 2);
}

#[tokio::test]
async fn a_token_near_its_end_is_renewed() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    env.set_vm(Some(&system), &[]).await;
    let first = env.imds_token(VAULT).await.json();
    // 86399 - 86099 = 300 s left: still served.
    env.clock.advance(86_099);
    let same = env.imds_token(VAULT).await.json();
    assert_eq!(same["access_token"], first["access_token"]);
    assert_eq!(same["expires_in"], "300");
    assert_eq!(env.sts_calls(), 1);
    // 299 s left: renewed.
    env.clock.advance(1);
    let renewed = env.imds_token(VAULT).await.json();
    assert_ne!(renewed["access_token"], first["access_token"]);
    assert_eq!(renewed["expires_in"], "86399");
    assert_eq!(env.sts_calls(), 2);
}

#[tokio::test]
async fn a_detached_identity_is_refused_at_once_despite_its_cached_token() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    let user = env.user_assigned("user").await;
    env.set_vm(Some(&system), &[&user]).await;
    let by_client = format!("{VAULT}&client_id={}", user.client);
    assert_eq!(env.imds_token(&by_client).await.status, 200);
    assert_eq!(env.imds_token(VAULT).await.status, 200);
    assert_eq!(env.sts_calls(), 2);

    // Detach the user-assigned identity: refused, while the system identity still works.
    env.set_vm(Some(&system), &[]).await;
    let refused = env.imds_token(&by_client).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.text,
        r#"{"error":"invalid_request","error_description":"Identity not found"}"#
    );
    assert_eq!(env.imds_token(VAULT).await.status, 200);

    // Turn the system identity off: the default request is refused too.
    env.set_vm(None, &[]).await;
    assert_eq!(env.imds_token(VAULT).await.status, 400);
    // The other endpoints share the rule.
    let extension = env
        .send(
            "GET",
            "/oauth2/token?resource=https://vault.azure.net",
            &[("Metadata", "true")],
            None,
        )
        .await;
    assert_eq!(extension.status, 400);
    assert_eq!(env.sts_calls(), 2);

    // Attached again (the same identity, the same principal): served again.
    env.set_vm(Some(&system), &[&user]).await;
    assert_eq!(env.imds_token(&by_client).await.status, 200);
}

#[tokio::test]
async fn a_system_identity_turned_off_and_on_is_a_new_principal() {
    let env = Env::start().await;
    let old = env.system_assigned().await;
    env.set_vm(Some(&old), &[]).await;
    let first = env.imds_token(VAULT).await.json();
    let new = env.system_assigned().await;
    env.set_vm(Some(&new), &[]).await;
    let second = env.imds_token(VAULT).await.json();
    assert_eq!(env.sts_calls(), 2);
    assert_eq!(second["client_id"], new.client.to_string());
    let claims = env.claims(
        second["access_token"].as_str().unwrap(),
        "https://vault.azure.net",
    );
    assert_eq!(claims.oid, new.principal.to_string());
    assert_ne!(first["access_token"], second["access_token"]);
}

#[tokio::test]
async fn writes_by_another_process_take_effect_on_the_next_request() {
    let env = Env::start().await;
    let system = env.system_assigned().await;
    let user = env.user_assigned("user").await;
    env.set_vm(Some(&system), &[&user]).await;
    let by_client = format!("{VAULT}&client_id={}", user.client);
    // Twice each: the second answers come from the caches (identities memo, read cache,
    // token cache with its rendered answer).
    for _ in 0..2 {
        assert_eq!(env.imds_token(&by_client).await.status, 200);
        assert_eq!(env.imds_token(VAULT).await.status, 200);
    }
    assert_eq!(env.sts_calls(), 2);

    let other = env.another_process_store().await;
    // The identity detached by the other process: refused at once.
    env.set_vm_in(other.as_ref(), Some(&system), &[]).await;
    let refused = env.imds_token(&by_client).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(env.imds_token(VAULT).await.status, 200);

    // The user-assigned identity's principal deleted while attached: refused.
    env.set_vm_in(other.as_ref(), Some(&system), &[&user]).await;
    assert_eq!(env.imds_token(&by_client).await.status, 200);
    other
        .apply(WriteBatch {
            deletions: vec![Deletion::ServicePrincipal(user.principal)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(env.imds_token(&by_client).await.status, 400);

    // The VM deleted by the other process: no token for anyone, cached or not.
    other
        .apply(WriteBatch {
            deletions: vec![Deletion::Resource(env.vm.clone())],
            ..Default::default()
        })
        .await
        .unwrap();
    let gone = env.imds_token(VAULT).await;
    assert_eq!(gone.status, 400, "{}", gone.text);
    assert_eq!(env.sts_calls(), 2);
}
