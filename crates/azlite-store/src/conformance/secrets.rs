//! Checks of [`crate::SecretStore`]: versions, lists, attributes, soft delete, recovery,
//! purge, and the cascade of a vault's deletion.

use std::collections::BTreeMap;

use azlite_types::SubscriptionId;

use super::arm::apply;
use super::fixtures::{T0, assert_conflict, resource, resource_group, unique};
use crate::{Deletion, Resource, SecretDeletion, SecretVersion, Store, WriteBatch};

const VAULTS: &str = "Microsoft.KeyVault/vaults";

/// A version of `name` in `vault` with a value that is not valid UTF-8 (the store keeps
/// bytes).
fn version(vault: &Resource, name: &str, created_at: i64) -> SecretVersion {
    SecretVersion {
        vault_id: vault.id.clone(),
        name: name.to_owned(),
        version: unique(),
        sealed_value: vec![0, 0xff, 1, 2, created_at as u8],
        content_type: Some("text/plain".to_owned()),
        tags: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
        enabled: true,
        not_before: None,
        expires: Some(T0 + 1000),
        created_at,
        updated_at: created_at,
    }
}

/// A fresh vault resource in a fresh group, written to the store.
async fn vault(store: &dyn Store) -> Resource {
    let group = resource_group(SubscriptionId::new_random(), "kv-rg", T0);
    let vault = resource(&group, VAULTS, &format!("kv{}", &unique()[..12]), T0);
    let batch = WriteBatch {
        resource_groups: vec![group],
        resources: vec![vault.clone()],
        ..Default::default()
    };
    apply(store, batch, "a vault").await;
    vault
}

/// Versions: the newest is the secret; names and versions compare case-insensitively; a
/// version is unique; lists show the newest version of each secret by name; attributes
/// change without touching the value.
pub async fn secrets(store: &dyn Store) {
    let kv = vault(store).await;
    let other = vault(store).await;
    let v1 = version(&kv, "Alpha", T0);
    let v2 = version(&kv, "alpha", T0 + 1);
    let beta = version(&kv, "beta", T0 + 2);
    for v in [&v1, &v2, &beta] {
        store
            .insert_secret_version(v)
            .await
            .expect("insert a version");
    }
    assert_conflict(store.insert_secret_version(&v1).await, "a version twice");

    let newest = store
        .get_secret_version(&kv.id, "ALPHA", None)
        .await
        .unwrap();
    assert_eq!(
        newest.as_ref(),
        Some(&v2),
        "the newest version is the secret"
    );
    let first = store
        .get_secret_version(&kv.id, "alpha", Some(&v1.version.to_uppercase()))
        .await
        .unwrap();
    assert_eq!(first.map(|v| v.sealed_value), Some(v1.sealed_value.clone()));
    assert!(
        store
            .get_secret_version(&other.id, "alpha", None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_secret_version(&kv.id, "alpha", Some("0"))
            .await
            .unwrap()
            .is_none()
    );

    let listed = store.list_secrets(&kv.id).await.unwrap();
    let names: Vec<_> = listed
        .iter()
        .map(|v| (v.name.as_str(), v.version.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("alpha", v2.version.as_str()),
            ("beta", beta.version.as_str())
        ]
    );
    let versions = store.list_secret_versions(&kv.id, "ALPHA").await.unwrap();
    let versions: Vec<_> = versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(
        versions,
        [v1.version.as_str(), v2.version.as_str()],
        "oldest first"
    );
    assert!(store.list_secrets(&other.id).await.unwrap().is_empty());

    let updated = SecretVersion {
        sealed_value: vec![9, 9, 9],
        content_type: None,
        tags: BTreeMap::new(),
        enabled: false,
        not_before: Some(T0),
        expires: None,
        created_at: 0,
        updated_at: T0 + 50,
        ..v1.clone()
    };
    assert!(store.update_secret_version(&updated).await.unwrap());
    let got = store
        .get_secret_version(&kv.id, "alpha", Some(&v1.version))
        .await
        .unwrap()
        .expect("the updated version");
    assert_eq!(got.sealed_value, v1.sealed_value, "the value never changes");
    assert_eq!(got.created_at, v1.created_at, "the creation time stays");
    assert_eq!(
        (
            got.content_type,
            got.tags,
            got.enabled,
            got.not_before,
            got.expires,
            got.updated_at
        ),
        (None, BTreeMap::new(), false, Some(T0), None, T0 + 50)
    );
    let missing = SecretVersion {
        version: unique(),
        ..v1.clone()
    };
    assert!(!store.update_secret_version(&missing).await.unwrap());
}

/// Soft delete hides a secret and keeps its name taken; recovery brings every version back;
/// purge removes it for good; a hard delete leaves nothing to recover.
pub async fn secret_deletion(store: &dyn Store) {
    let kv = vault(store).await;
    let v1 = version(&kv, "gamma", T0);
    let v2 = version(&kv, "gamma", T0 + 1);
    store.insert_secret_version(&v1).await.unwrap();
    store.insert_secret_version(&v2).await.unwrap();
    let deletion = SecretDeletion {
        deleted_at: T0 + 10,
        scheduled_purge_at: T0 + 10 + 90 * 86_400,
    };
    let deleted = store
        .delete_secret(&kv.id, "GAMMA", Some(deletion))
        .await
        .unwrap();
    assert_eq!(
        deleted.as_ref(),
        Some(&v2),
        "delete answers the newest version"
    );
    assert!(
        store
            .get_secret_version(&kv.id, "gamma", None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.list_secrets(&kv.id).await.unwrap().is_empty());
    assert!(
        store
            .list_secret_versions(&kv.id, "gamma")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .delete_secret(&kv.id, "gamma", Some(deletion))
            .await
            .unwrap()
            .is_none(),
        "a deleted secret is not deleted twice"
    );
    assert_conflict(
        store
            .insert_secret_version(&version(&kv, "Gamma", T0 + 20))
            .await,
        "reusing a deleted secret's name",
    );
    let got = store
        .get_deleted_secret(&kv.id, "gamma")
        .await
        .unwrap()
        .expect("deleted");
    assert_eq!((got.latest, got.deletion), (v2.clone(), deletion));
    let listed = store.list_deleted_secrets(&kv.id).await.unwrap();
    assert_eq!(listed.len(), 1);

    let recovered = store.recover_deleted_secret(&kv.id, "gamma").await.unwrap();
    assert_eq!(recovered.as_ref(), Some(&v2));
    assert!(
        store
            .get_deleted_secret(&kv.id, "gamma")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .list_secret_versions(&kv.id, "gamma")
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .recover_deleted_secret(&kv.id, "gamma")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store.purge_deleted_secret(&kv.id, "gamma").await.unwrap(),
        "an active secret is not purged"
    );

    store
        .delete_secret(&kv.id, "gamma", Some(deletion))
        .await
        .unwrap();
    assert!(store.purge_deleted_secret(&kv.id, "gamma").await.unwrap());
    assert!(
        store
            .get_deleted_secret(&kv.id, "gamma")
            .await
            .unwrap()
            .is_none()
    );
    store
        .insert_secret_version(&version(&kv, "gamma", T0 + 30))
        .await
        .expect("a purged name is free again");
    assert_eq!(
        store
            .list_secret_versions(&kv.id, "gamma")
            .await
            .unwrap()
            .len(),
        1
    );

    let hard = store.delete_secret(&kv.id, "gamma", None).await.unwrap();
    assert!(hard.is_some());
    assert!(
        store
            .get_deleted_secret(&kv.id, "gamma")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_secret_version(&kv.id, "gamma", None)
            .await
            .unwrap()
            .is_none()
    );
}

/// Deleting a vault's resource, or its group, deletes its secrets (active and deleted) in
/// the same batch; a vault whose name extends the deleted one's keeps its secrets.
pub async fn secret_cascade(store: &dyn Store) {
    let kv = vault(store).await;
    let group = resource_group(kv.subscription_id, &kv.resource_group, T0);
    let longer = resource(&group, VAULTS, &format!("{}0", kv.name), T0);
    apply(
        store,
        WriteBatch {
            resources: vec![longer.clone()],
            ..Default::default()
        },
        "a second vault",
    )
    .await;
    store
        .insert_secret_version(&version(&kv, "a", T0))
        .await
        .unwrap();
    store
        .insert_secret_version(&version(&kv, "b", T0))
        .await
        .unwrap();
    let deletion = SecretDeletion {
        deleted_at: T0,
        scheduled_purge_at: T0 + 1,
    };
    store
        .delete_secret(&kv.id, "b", Some(deletion))
        .await
        .unwrap();
    store
        .insert_secret_version(&version(&longer, "a", T0))
        .await
        .unwrap();

    let by_other_case = Resource {
        id: kv.id.as_str().to_uppercase().parse().unwrap(),
        ..kv.clone()
    };
    apply(
        store,
        WriteBatch {
            deletions: vec![Deletion::Resource(by_other_case.id)],
            ..Default::default()
        },
        "the vault's deletion",
    )
    .await;
    assert!(store.list_secrets(&kv.id).await.unwrap().is_empty());
    assert!(store.list_deleted_secrets(&kv.id).await.unwrap().is_empty());
    assert_eq!(store.list_secrets(&longer.id).await.unwrap().len(), 1);
    // A vault made again under the same name starts empty.
    store
        .insert_secret_version(&version(&kv, "b", T0))
        .await
        .expect("the deleted secret went with the vault");

    apply(
        store,
        WriteBatch {
            deletions: vec![Deletion::ResourceGroup {
                subscription: group.subscription_id,
                name: group.name.to_uppercase(),
            }],
            ..Default::default()
        },
        "the group's deletion",
    )
    .await;
    assert!(store.list_secrets(&kv.id).await.unwrap().is_empty());
    assert!(store.list_secrets(&longer.id).await.unwrap().is_empty());
}
