//! Checks of [`crate::StorageAccountKeyStore`]: keys written with their account in one
//! batch, replaced by a regeneration, read case-insensitively, and deleted with the account
//! or its group (and nothing else).

use azlite_types::{ObjectId, ResourceId, SubscriptionId};

use super::arm::apply;
use super::fixtures::{T0, assert_conflict, resource, resource_group, role_assignment, unique};
use crate::{Deletion, Resource, StorageAccountKey, Store, WriteBatch};

const ACCOUNTS: &str = "Microsoft.Storage/storageAccounts";

fn key(account: &Resource, name: &str, created_at: i64) -> StorageAccountKey {
    StorageAccountKey {
        account_id: account.id.clone(),
        key_name: name.to_owned(),
        value: format!("{}{}==", unique(), unique()),
        created_at,
    }
}

/// `(name, value, created_at)` of an account's keys, in the store's order.
async fn keys_of(store: &dyn Store, account: &Resource) -> Vec<(String, String, i64)> {
    store
        .list_storage_account_keys(&account.id)
        .await
        .expect("list keys")
        .into_iter()
        .map(|k| {
            assert_eq!(k.account_id, account.id, "the key's account");
            (k.key_name, k.value, k.created_at)
        })
        .collect()
}

/// Keys are written with the account, listed by name, replaced by name (any casing of the
/// account id and name), and a failed batch writes none.
pub async fn storage_account_keys(store: &dyn Store) {
    let group = resource_group(SubscriptionId::new_random(), "st-rg", T0);
    let account = resource(&group, ACCOUNTS, &format!("st{}", &unique()[..12]), T0);
    let other = resource(&group, ACCOUNTS, &format!("st{}", &unique()[..12]), T0);
    assert!(
        keys_of(store, &account).await.is_empty(),
        "an unknown account has no keys"
    );
    let (k2, k1) = (key(&account, "key2", T0), key(&account, "key1", T0));
    apply(
        store,
        WriteBatch {
            resource_groups: vec![group.clone()],
            resources: vec![account.clone(), other.clone()],
            storage_account_keys: vec![k2.clone(), k1.clone(), key(&other, "key1", T0)],
            ..Default::default()
        },
        "an account with its keys",
    )
    .await;
    assert_eq!(
        keys_of(store, &account).await,
        vec![
            ("key1".to_owned(), k1.value.clone(), T0),
            ("key2".to_owned(), k2.value.clone(), T0),
        ],
        "the keys by name"
    );
    let upper: ResourceId = account.id.as_str().to_uppercase().parse().unwrap();
    assert_eq!(
        store.list_storage_account_keys(&upper).await.unwrap().len(),
        2,
        "account ids compare case-insensitively"
    );

    let renewed = StorageAccountKey {
        key_name: "KEY1".to_owned(),
        ..key(&account, "key1", T0 + 5)
    };
    apply(
        store,
        WriteBatch {
            storage_account_keys: vec![renewed.clone()],
            ..Default::default()
        },
        "a regenerated key",
    )
    .await;
    let now = keys_of(store, &account).await;
    assert_eq!(now.len(), 2, "a regeneration replaces, it does not add");
    assert_eq!(now[0], ("KEY1".to_owned(), renewed.value.clone(), T0 + 5));
    assert_eq!(now[1].1, k2.value, "the other key stays");

    // A batch that fails (the same role assignment twice) writes no key.
    let assignment = role_assignment(&account.id, ObjectId::new_random(), T0);
    let failing = WriteBatch {
        storage_account_keys: vec![key(&account, "key1", T0 + 9)],
        role_assignments: vec![assignment.clone(), assignment],
        ..Default::default()
    };
    assert_conflict(store.apply(failing).await, "a batch with a conflict");
    assert_eq!(keys_of(store, &account).await, now, "nothing of it written");
}

/// Deleting an account deletes its keys (not those of an account whose name extends it);
/// deleting the group deletes the rest; an account made again under the name has none.
pub async fn storage_account_key_cascade(store: &dyn Store) {
    let group = resource_group(SubscriptionId::new_random(), "st-rg", T0);
    let account = resource(&group, ACCOUNTS, &format!("st{}", &unique()[..12]), T0);
    let longer = resource(&group, ACCOUNTS, &format!("{}0", account.name), T0);
    apply(
        store,
        WriteBatch {
            resource_groups: vec![group.clone()],
            resources: vec![account.clone(), longer.clone()],
            storage_account_keys: vec![
                key(&account, "key1", T0),
                key(&account, "key2", T0),
                key(&longer, "key1", T0),
            ],
            ..Default::default()
        },
        "two accounts with keys",
    )
    .await;
    let by_other_case: ResourceId = account.id.as_str().to_uppercase().parse().unwrap();
    apply(
        store,
        WriteBatch {
            deletions: vec![Deletion::Resource(by_other_case)],
            ..Default::default()
        },
        "the account's deletion",
    )
    .await;
    assert!(keys_of(store, &account).await.is_empty(), "keys deleted");
    assert_eq!(
        keys_of(store, &longer).await.len(),
        1,
        "a longer name stays"
    );

    apply(
        store,
        WriteBatch {
            resources: vec![account.clone()],
            ..Default::default()
        },
        "the account made again",
    )
    .await;
    assert!(
        keys_of(store, &account).await.is_empty(),
        "a new account under the name starts with no keys"
    );

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
    assert!(keys_of(store, &longer).await.is_empty(), "group deletion");
}
