//! The development account of Azurite's drop-in (`blob_listen`): made at start without any
//! ARM call, with Azurite's well-known key as `key1`, kept across restarts, and its `key1`
//! set back to the well-known key when it was regenerated in between. Without
//! `blob_listen`, no such account is made.

use azlite_server::{Cloud, Config, DEVELOPMENT_ACCOUNT, DEVELOPMENT_KEY};
use azlite_store::{StorageAccountKey, WriteBatch};

const TYPE: &str = "Microsoft.Storage/storageAccounts";

fn config(dir: &std::path::Path, drop_in: bool) -> Config {
    let mut config = Config::with_data_dir(dir);
    config.demo = false;
    config.blob_listen = drop_in.then(|| "127.0.0.1:0".parse().unwrap());
    config
}

#[tokio::test]
async fn the_development_account_is_made_at_start_with_the_well_known_key() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::open(config(dir.path(), false)).await.unwrap();
    let none = cloud
        .store()
        .find_resources_by_name(TYPE, DEVELOPMENT_ACCOUNT)
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "no drop-in listener, no development account"
    );
    drop(cloud);

    let cloud = Cloud::open(config(dir.path(), true)).await.unwrap();
    let store = cloud.store().clone();
    let [account] = store
        .find_resources_by_name(TYPE, DEVELOPMENT_ACCOUNT)
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(account.resource_group, "azlite-devstorage");
    assert_eq!(account.subscription_id, cloud.bootstrap().subscription.id);
    assert_eq!(account.body["properties"]["allowSharedKeyAccess"], true);
    let keys = store.list_storage_account_keys(&account.id).await.unwrap();
    let key = |name: &str| {
        keys.iter()
            .find(|k| k.key_name == name)
            .map(|k| k.value.clone())
            .unwrap()
    };
    assert_eq!(key("key1"), DEVELOPMENT_KEY);
    let key2 = key("key2");
    assert_ne!(key2, DEVELOPMENT_KEY);
    // Someone regenerates key1 between two starts.
    store
        .apply(WriteBatch {
            storage_account_keys: vec![StorageAccountKey {
                account_id: account.id.clone(),
                key_name: "key1".into(),
                value: "cmVnZW5lcmF0ZWQ=".into(),
                created_at: 1,
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    drop((cloud, store));

    let cloud = Cloud::open(config(dir.path(), true)).await.unwrap();
    let again = cloud
        .store()
        .find_resources_by_name(TYPE, DEVELOPMENT_ACCOUNT)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, account.id, "the same account");
    let keys = cloud
        .store()
        .list_storage_account_keys(&account.id)
        .await
        .unwrap();
    let value = |name: &str| {
        keys.iter()
            .find(|k| k.key_name == name)
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(value("key1"), DEVELOPMENT_KEY, "key1 set back");
    assert_eq!(value("key2"), key2, "key2 kept");
}
