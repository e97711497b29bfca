//! Checks of [`crate::SigningKeyStore`] and [`crate::SettingsStore`].

use super::fixtures::{T0, assert_conflict, unique};
use crate::{Store, StoredSigningKey};

/// Settings read back what was put, a put replaces, keys are exact (case-sensitive), and a
/// missing setting is `None`.
pub async fn settings(store: &dyn Store) {
    let key = format!("conformance/{}/offset", unique());
    assert_eq!(
        store.get_setting(&key).await.expect("get_setting"),
        None,
        "not set yet"
    );
    store.put_setting(&key, "3600").await.expect("put_setting");
    assert_eq!(
        store
            .get_setting(&key)
            .await
            .expect("get_setting")
            .as_deref(),
        Some("3600")
    );
    store
        .put_setting(&key, "")
        .await
        .expect("put_setting replaces");
    let replaced = store.get_setting(&key).await.expect("get_setting");
    assert_eq!(
        replaced.as_deref(),
        Some(""),
        "a put replaces, and empty values are values"
    );
    let other_case = store
        .get_setting(&key.to_uppercase())
        .await
        .expect("get_setting");
    assert_eq!(other_case, None, "setting keys are case-sensitive");

    let text = "multi\nline ünïcödé \"quoted\" value";
    store.put_setting(&key, text).await.expect("put_setting");
    assert_eq!(
        store
            .get_setting(&key)
            .await
            .expect("get_setting")
            .as_deref(),
        Some(text)
    );
}

fn signing_key(created_at: i64) -> StoredSigningKey {
    let kid = unique();
    StoredSigningKey {
        certificate_pem: format!("-----BEGIN CERTIFICATE-----\n{kid}\n-----END CERTIFICATE-----\n"),
        private_key_pem: format!("-----BEGIN PRIVATE KEY-----\n{kid}\n-----END PRIVATE KEY-----\n"),
        kid,
        created_at,
        retired_at: None,
    }
}

/// Signing keys round-trip, list oldest first, conflict on a duplicate kid, retire once
/// (keeping the first retirement time) and delete for good.
pub async fn signing_keys(store: &dyn Store) {
    let newer = signing_key(T0 + 100);
    let older = signing_key(T0);
    let mut already_retired = signing_key(T0 + 50);
    already_retired.retired_at = Some(T0 + 60);
    for key in [&newer, &older, &already_retired] {
        store
            .insert_signing_key(key)
            .await
            .expect("insert_signing_key");
    }
    let ours = |keys: Vec<StoredSigningKey>| -> Vec<StoredSigningKey> {
        let kids = [&newer.kid, &older.kid, &already_retired.kid];
        keys.into_iter()
            .filter(|k| kids.contains(&&k.kid))
            .collect()
    };
    let listed = ours(store.list_signing_keys().await.expect("list_signing_keys"));
    assert_eq!(
        listed,
        [older.clone(), already_retired.clone(), newer.clone()],
        "list_signing_keys round-trips, oldest first"
    );

    let mut duplicate = signing_key(T0 + 200);
    duplicate.kid = older.kid.clone();
    assert_conflict(
        store.insert_signing_key(&duplicate).await,
        "a second key with one kid",
    );

    assert!(
        store
            .retire_signing_key(&older.kid, T0 + 500)
            .await
            .expect("retire"),
        "exists"
    );
    assert!(
        store
            .retire_signing_key(&older.kid, T0 + 900)
            .await
            .expect("retire again")
    );
    assert!(
        store
            .retire_signing_key(&already_retired.kid, T0 + 900)
            .await
            .expect("retire")
    );
    let unknown = store
        .retire_signing_key(&unique(), T0)
        .await
        .expect("retire unknown");
    assert!(!unknown, "retiring an unknown kid");
    let listed = ours(store.list_signing_keys().await.expect("list_signing_keys"));
    let retired: Vec<Option<i64>> = listed.iter().map(|k| k.retired_at).collect();
    assert_eq!(
        retired,
        [Some(T0 + 500), Some(T0 + 60), None],
        "retired keys stay listed and keep their first retirement time"
    );

    assert!(
        store.delete_signing_key(&older.kid).await.expect("delete"),
        "existed"
    );
    assert!(
        !store
            .delete_signing_key(&older.kid)
            .await
            .expect("delete again"),
        "gone"
    );
    let listed = ours(store.list_signing_keys().await.expect("list_signing_keys"));
    let kids: Vec<&str> = listed.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(
        kids,
        [already_retired.kid.as_str(), newer.kid.as_str()],
        "deleted for good"
    );
    store
        .insert_signing_key(&older)
        .await
        .expect("a deleted kid can be inserted again");
}
