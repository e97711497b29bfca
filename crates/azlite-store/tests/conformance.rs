//! The conformance suite against [`SqliteStore`], plus what only a file-backed store has:
//! reopening, schema versions, a file that is not a database, concurrent callers.

use std::sync::Arc;

use azlite_store::conformance;
use azlite_store::{
    ArmStore, DirectoryStore, ResourceGroup, SettingsStore, SqliteStore, StoreError, Tenant,
    WriteBatch,
};
use azlite_types::{SubscriptionId, TenantId};
use tempfile::TempDir;

/// A fresh store in its own temporary directory (kept alive by the returned guard).
async fn fresh_store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("azlite.db"))
        .await
        .expect("open store");
    (dir, store)
}

macro_rules! conformance_tests {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (_dir, store) = fresh_store().await;
                conformance::$check(&store).await;
            }
        )*
    };
}

conformance_tests!(
    tenants,
    subscriptions,
    applications,
    service_principals,
    application_listing,
    application_deletion,
    credentials,
    service_principal_deletion,
    users,
    batch_atomicity,
    batch_deletions,
    settings,
    signing_keys,
    resource_groups,
    resources,
    role_assignments,
    resource_group_deletion,
    resource_deletion,
    deletions_before_inserts,
    names_are_not_patterns,
    secrets,
    secret_deletion,
    secret_cascade,
    storage_account_keys,
    storage_account_key_cascade,
    datalake_tree,
    datalake_appends,
    datalake_changes,
    datalake_cascade,
    blob_containers,
    blob_writes,
    blob_uncommitted_blocks,
    blob_listing,
    blob_cascade,
    app_role_assignments,
    app_role_assignment_cascade,
    blob_inline_content,
    blob_concurrent_writes,
);

#[tokio::test]
async fn the_whole_suite_passes_twice_on_one_store() {
    let (_dir, store) = fresh_store().await;
    conformance::run_all(&store).await;
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn open_creates_the_file_and_reports_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    assert!(!path.exists());
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(path.exists());
    assert_eq!(store.path(), path);
}

#[tokio::test]
async fn the_file_is_in_wal_mode_at_the_latest_schema() {
    let (dir, store) = fresh_store().await;
    store.put_setting("k", "v").await.unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("azlite.db")).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 10);
}

#[tokio::test]
async fn reopening_a_store_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azlite.db");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.put_setting("bootstrap/tenant", "kept").await.unwrap();
        conformance::tenants(&store).await;
    }
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store
            .get_setting("bootstrap/tenant")
            .await
            .unwrap()
            .as_deref(),
        Some("kept")
    );
    // The reopened store also passes the suite on top of what it already holds.
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn a_store_from_a_newer_azlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azlite.db");
    drop(SqliteStore::open(&path).await.unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    match SqliteStore::open(&path).await {
        Err(StoreError::TooNew {
            found: 99,
            known: 10,
        }) => {}
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azlite.db");
    std::fs::write(
        &path,
        b"this is not a SQLite database, it is just long enough text",
    )
    .unwrap();
    match SqliteStore::open(&path).await {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_directory_is_a_backend_error_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(&dir.path().join("missing/azlite.db"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the rusqlite error is kept as source"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_and_readers_all_succeed() {
    let (_dir, store) = fresh_store().await;
    let store = Arc::new(store);
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..16 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            for i in 0..10 {
                let key = format!("task{task}/{i}");
                store.put_setting(&key, &i.to_string()).await.unwrap();
                // Read-your-writes: a read started after a write returned sees it.
                assert_eq!(store.get_setting(&key).await.unwrap(), Some(i.to_string()));
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }
    assert_eq!(
        store.get_setting("task15/9").await.unwrap().as_deref(),
        Some("9")
    );
}

#[tokio::test]
async fn conflicts_say_what_collided() {
    let (_dir, store) = fresh_store().await;
    let tenant = Tenant {
        id: TenantId::new_random(),
        display_name: "Contoso".to_owned(),
        default_domain: "contoso.onmicrosoft.com".to_owned(),
        created_at: 1,
    };
    let only = |tenant: Tenant| WriteBatch {
        tenants: vec![tenant],
        ..WriteBatch::default()
    };
    store.apply(only(tenant.clone())).await.unwrap();

    let same_domain = Tenant {
        id: TenantId::new_random(),
        ..tenant.clone()
    };
    match store.apply(only(same_domain)).await {
        Err(StoreError::Conflict(message)) => assert_eq!(
            message,
            "a tenant with default domain 'contoso.onmicrosoft.com' already exists"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let same_id = Tenant {
        default_domain: "fabrikam.onmicrosoft.com".to_owned(),
        ..tenant.clone()
    };
    match store.apply(only(same_id)).await {
        Err(StoreError::Conflict(message)) => {
            assert_eq!(message, format!("tenant {} already exists", tenant.id));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn unreadable_json_is_reported_corrupt() {
    let (dir, store) = fresh_store().await;
    let subscription = SubscriptionId::new_random();
    let group = ResourceGroup {
        subscription_id: subscription,
        name: "rg".to_owned(),
        location: "eastus".to_owned(),
        tags: Default::default(),
        managed_by: None,
        created_at: 1,
        updated_at: 1,
    };
    let batch = WriteBatch {
        resource_groups: vec![group],
        ..WriteBatch::default()
    };
    store.apply(batch).await.unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("azlite.db")).unwrap();
        conn.execute("UPDATE resource_groups SET tags = '{not json'", [])
            .unwrap();
    }
    match store.get_resource_group(subscription, "rg").await {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// The hot lookups are answered from memory while the file does not change; a write by
/// another handle on the same file (another connection, as another process would be) is
/// seen by the very next read, and so is one by the same handle.
#[tokio::test]
async fn cached_lookups_see_every_write_at_once() {
    use azlite_store::{Deletion, Resource};

    let (dir, writer) = fresh_store().await;
    let reader = SqliteStore::open(&dir.path().join("azlite.db"))
        .await
        .expect("a second handle");
    let subscription = SubscriptionId::new_random();
    let group = ResourceGroup {
        subscription_id: subscription,
        name: "rg".to_owned(),
        location: "eastus".to_owned(),
        tags: Default::default(),
        managed_by: None,
        created_at: 1,
        updated_at: 1,
    };
    let id: azlite_types::ResourceId = format!(
        "/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"
    )
    .parse()
    .unwrap();
    let vault = |v: i64| Resource {
        id: id.clone(),
        subscription_id: subscription,
        resource_group: "rg".to_owned(),
        resource_type: "Microsoft.KeyVault/vaults".to_owned(),
        name: "kv1".to_owned(),
        location: "eastus".to_owned(),
        tags: Default::default(),
        body: serde_json::json!({ "v": v }),
        created_at: 1,
        updated_at: v,
    };
    let write = |resources: Vec<Resource>, deletions: Vec<Deletion>| WriteBatch {
        resource_groups: vec![group.clone()],
        resources,
        deletions,
        ..WriteBatch::default()
    };
    let body = |r: Option<Resource>| r.map(|r| r.body["v"].as_i64().unwrap());
    let by_name = |r: Vec<Resource>| -> Vec<i64> {
        r.iter().map(|r| r.body["v"].as_i64().unwrap()).collect()
    };

    writer.apply(write(vec![vault(1)], vec![])).await.unwrap();
    for store in [&reader, &reader, &writer, &writer] {
        assert_eq!(body(store.get_resource(&id).await.unwrap()), Some(1));
        let found = store.find_resources_by_name("microsoft.keyvault/vaults", "KV1");
        assert_eq!(by_name(found.await.unwrap()), vec![1]);
    }

    writer.apply(write(vec![vault(2)], vec![])).await.unwrap();
    for store in [&reader, &writer] {
        assert_eq!(body(store.get_resource(&id).await.unwrap()), Some(2));
        let found = store.find_resources_by_name("Microsoft.KeyVault/vaults", "kv1");
        assert_eq!(by_name(found.await.unwrap()), vec![2]);
    }

    reader
        .apply(write(vec![], vec![Deletion::Resource(id.clone())]))
        .await
        .unwrap();
    for store in [&writer, &reader] {
        assert_eq!(body(store.get_resource(&id).await.unwrap()), None);
        let found = store.find_resources_by_name("Microsoft.KeyVault/vaults", "kv1");
        assert_eq!(by_name(found.await.unwrap()), Vec::<i64>::new());
    }
}

/// A commit by a connection that is not this store's (another process, a `sqlite3` shell)
/// is seen by the next cached lookup and moves the epoch; reads alone do not move it, and a
/// write of this store moves it before the write returns.
#[tokio::test]
async fn a_foreign_commit_is_seen_by_the_next_cached_lookup_and_the_epoch() {
    let (dir, store) = fresh_store().await;
    let tenant = Tenant {
        id: TenantId::new_random(),
        display_name: "Contoso".to_owned(),
        default_domain: "contoso.onmicrosoft.com".to_owned(),
        created_at: 1,
    };
    let batch = WriteBatch {
        tenants: vec![tenant.clone()],
        ..WriteBatch::default()
    };
    let before = store.epoch().unwrap().expect("SQLite keeps an epoch");
    store.apply(batch).await.unwrap();
    let epoch = store.epoch().unwrap().unwrap();
    assert_ne!(epoch, before, "a write of this store moves the epoch");
    let name = |t: Option<Tenant>| t.map(|t| t.display_name);
    for _ in 0..3 {
        assert_eq!(
            name(store.get_tenant(tenant.id).await.unwrap()).as_deref(),
            Some("Contoso")
        );
        let by_domain = store.find_tenant_by_domain("CONTOSO.onmicrosoft.com").await;
        assert_eq!(name(by_domain.unwrap()).as_deref(), Some("Contoso"));
    }
    assert_eq!(store.epoch().unwrap(), Some(epoch), "reads do not move it");

    let conn = rusqlite::Connection::open(dir.path().join("azlite.db")).unwrap();
    conn.execute("UPDATE tenants SET display_name = 'Fabrikam'", [])
        .unwrap();
    assert_eq!(
        name(store.get_tenant(tenant.id).await.unwrap()).as_deref(),
        Some("Fabrikam")
    );
    let by_domain = store.find_tenant_by_domain("contoso.onmicrosoft.com").await;
    assert_eq!(name(by_domain.unwrap()).as_deref(), Some("Fabrikam"));
    let moved = store.epoch().unwrap().unwrap();
    assert_ne!(moved, epoch, "a foreign commit moves the epoch");

    conn.execute("DELETE FROM tenants", []).unwrap();
    assert_ne!(store.epoch().unwrap(), Some(moved));
    assert_eq!(store.get_tenant(tenant.id).await.unwrap(), None);
}

#[tokio::test]
async fn a_role_assignment_row_that_does_not_decode_is_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azlite.db");
    let subscription = SubscriptionId::new_random();
    let record = |scope: String| azlite_store::RoleAssignmentRecord {
        id: uuid::Uuid::new_v4(),
        scope: scope.parse().unwrap(),
        principal_id: azlite_types::ObjectId::new_random(),
        principal_type: "ServicePrincipal".to_owned(),
        role_definition_id: uuid::Uuid::new_v4(),
        description: None,
        created_at: 1,
        updated_at: 1,
        created_by: None,
    };
    let good = record(format!("/subscriptions/{subscription}"));
    let bad = record(format!("/subscriptions/{subscription}/resourceGroups/rg"));
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store
            .apply(WriteBatch {
                role_assignments: vec![good.clone(), bad.clone()],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
    }
    {
        // As an older azlite, or a hand edit, could have left it: a scope that is not an id.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let changed = conn
            .execute(
                "UPDATE role_assignments SET scope = 'not/an/id' WHERE id = ?1",
                [bad.id.to_string()],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let all = store.list_role_assignments().await.unwrap();
    assert_eq!(all, vec![good.clone()]);
    let of_bad = store
        .list_role_assignments_for_principal(bad.principal_id)
        .await
        .unwrap();
    assert!(of_bad.is_empty());
}

/// Every file of `dir` (not recursing), as bytes.
fn files_of(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn private_signing_keys_are_sealed_and_old_stores_are_migrated_on_open() {
    use azlite_store::{SigningKeyStore, StoredSigningKey};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azlite.db");
    // Not a real key: a recognisable text long enough to find anywhere in the files.
    let secret_body: String = (0..40).map(|i| format!("PRIVATEKEYBYTES{i:04}")).collect();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{secret_body}\n-----END PRIVATE KEY-----\n");
    let key = |kid: &str| StoredSigningKey {
        kid: kid.to_owned(),
        certificate_pem: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".to_owned(),
        private_key_pem: pem.clone(),
        created_at: 1,
        retired_at: None,
    };
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_signing_key(&key("new")).await.unwrap();
        assert_eq!(store.list_signing_keys().await.unwrap(), vec![key("new")]);
        // Written sealed: not in the database nor its WAL, while the store is open.
        for (name, bytes) in files_of(dir.path()) {
            assert!(
                !contains(&bytes, secret_body.as_bytes()),
                "{name} holds the key"
            );
        }
    }
    {
        // A store from before sealing: the key in plain text.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO signing_keys (kid, certificate_pem, private_key_pem, created_at) \
             VALUES ('old', 'c', ?1, 0)",
            [&pem],
        )
        .unwrap();
    }
    assert!(
        files_of(dir.path())
            .iter()
            .any(|(_, bytes)| contains(bytes, secret_body.as_bytes())),
        "the old format holds the key in plain text"
    );
    let store = SqliteStore::open(&path).await.unwrap();
    let listed = store.list_signing_keys().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|k| k.private_key_pem == pem));
    for (name, bytes) in files_of(dir.path()) {
        assert!(
            !contains(&bytes, secret_body.as_bytes()),
            "{name} still holds the key after the migration"
        );
    }
    drop(store);
    let raw: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT private_key_pem FROM signing_keys WHERE kid = 'old'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(raw.starts_with("sealed:1:"), "{raw}");

    // Without store.key, a store with sealed keys is refused rather than given a new key.
    std::fs::remove_file(dir.path().join(azlite_store::STORE_KEY_FILE)).unwrap();
    match SqliteStore::open(&path).await {
        Err(StoreError::Corrupt(message)) => assert!(message.contains("store.key"), "{message}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
