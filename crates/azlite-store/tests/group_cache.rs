//! The read cache across group commits: a blob write keeps the cached tenant, account and
//! key lookups (the epoch does not move) yet is seen by the very next read of its blob,
//! here and through another handle on the same file (as another process would be); and a
//! commit by another handle, even one that lands just before this handle's group, is still
//! seen by the next cached lookup.

use std::sync::Arc;

use azlite_store::{
    BlobContent, BlobKind, BlobRecord, BlobStore, ContainerRecord, ContentHeaders, DirectoryStore,
    Expect, Resource, ResourceGroup, SqliteStore, Tenant, WriteBatch,
};
use azlite_types::{ResourceId, SubscriptionId, TenantId};

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    first: Arc<SqliteStore>,
    second: Arc<SqliteStore>,
    account: ResourceId,
    tenant: Tenant,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azlite.db");
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
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
    let account: ResourceId = format!(
        "/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"
    )
    .parse()
    .unwrap();
    let resource = Resource {
        id: account.clone(),
        subscription_id: subscription,
        resource_group: "rg".to_owned(),
        resource_type: "Microsoft.Storage/storageAccounts".to_owned(),
        name: "st1".to_owned(),
        location: "eastus".to_owned(),
        tags: Default::default(),
        body: serde_json::json!({}),
        created_at: 1,
        updated_at: 1,
    };
    let tenant = Tenant {
        id: TenantId::new_random(),
        display_name: "Contoso".to_owned(),
        default_domain: "contoso.onmicrosoft.com".to_owned(),
        created_at: 1,
    };
    first
        .apply(WriteBatch {
            tenants: vec![tenant.clone()],
            resource_groups: vec![group],
            resources: vec![resource],
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    first
        .create_container(&ContainerRecord {
            account: account.clone(),
            name: "c".to_owned(),
            metadata: vec![],
            public_access: None,
            etag: "\"0x1\"".to_owned(),
            created_at: 1000,
            last_modified: 1000,
            lease: None,
            generation: 0,
        })
        .await
        .unwrap();
    Fixture {
        _dir: dir,
        path,
        first: Arc::new(first),
        second: Arc::new(second),
        account,
        tenant,
    }
}

fn record(account: &ResourceId, name: &str, len: usize) -> BlobRecord {
    BlobRecord {
        account: account.clone(),
        container: "c".to_owned(),
        name: name.to_owned(),
        kind: BlobKind::Block,
        content_length: len as u64,
        headers: ContentHeaders::default(),
        metadata: vec![],
        etag: format!("\"0x{}\"", uuid::Uuid::new_v4().simple()),
        created_at: 1000,
        last_modified: 1000,
        lease: None,
        generation: 0,
    }
}

/// The inline bytes of a blob as `store` reads them now (`None`: no such blob).
async fn bytes(store: &SqliteStore, account: &ResourceId, name: &str) -> Option<Vec<u8>> {
    match store.get_blob_content(account, "c", name).await.unwrap() {
        None => None,
        Some((_, BlobContent::Inline(bytes))) => Some(bytes.to_vec()),
        Some((_, other)) => panic!("expected inline content, got {other:?}"),
    }
}

async fn put(store: &SqliteStore, account: &ResourceId, name: &str, body: &[u8], expect: Expect) {
    let content: Arc<[u8]> = Arc::from(body);
    store
        .put_inline_blob(&record(account, name, body.len()), content, expect)
        .await
        .unwrap();
}

async fn display_name(store: &SqliteStore, tenant: TenantId) -> String {
    store
        .get_tenant(tenant)
        .await
        .unwrap()
        .expect("the tenant")
        .display_name
}

#[tokio::test]
async fn a_blob_write_keeps_other_entries_and_is_seen_by_the_next_read_of_its_blob() {
    let f = fixture().await;
    let (account, tenant) = (&f.account, f.tenant.id);
    // Cached: the tenant, and the blob's absence, in both handles.
    for store in [&*f.first, &*f.second] {
        assert_eq!(display_name(store, tenant).await, "Contoso");
        assert_eq!(bytes(store, account, "b").await, None);
    }
    let epoch = f.first.epoch().unwrap().expect("SQLite keeps an epoch");

    put(&f.first, account, "b", b"one", Expect::Absent).await;
    assert_eq!(
        f.first.epoch().unwrap(),
        Some(epoch),
        "a group commit alone keeps the cache's other entries"
    );
    assert_eq!(
        bytes(&f.first, account, "b").await.as_deref(),
        Some(&b"one"[..])
    );
    assert_eq!(
        bytes(&f.second, account, "b").await.as_deref(),
        Some(&b"one"[..])
    );

    // Overwritten through the other handle (a foreign commit for the first).
    put(&f.second, account, "b", b"two", Expect::Generation(1)).await;
    assert_eq!(
        bytes(&f.first, account, "b").await.as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(
        bytes(&f.second, account, "b").await.as_deref(),
        Some(&b"two"[..])
    );

    // Many writes in flight at once (grouped), each seen right after it returns.
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..32 {
        let (store, account) = (Arc::clone(&f.first), account.clone());
        writes.spawn(async move {
            let name = format!("many-{i}");
            put(&store, &account, &name, name.as_bytes(), Expect::Absent).await;
            assert_eq!(
                bytes(&store, &account, &name).await,
                Some(name.into_bytes())
            );
        });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap();
    }
    assert_eq!(display_name(&f.first, tenant).await, "Contoso");

    // Deleted: gone at once for both.
    f.first.delete_blob(account, "c", "b", 2).await.unwrap();
    assert_eq!(bytes(&f.first, account, "b").await, None);
    assert_eq!(bytes(&f.second, account, "b").await, None);
}

#[tokio::test]
async fn a_foreign_commit_just_before_a_group_still_empties_the_cache() {
    let f = fixture().await;
    let (account, tenant) = (&f.account, f.tenant.id);
    assert_eq!(display_name(&f.first, tenant).await, "Contoso");
    assert_eq!(bytes(&f.first, account, "x").await, None);

    // Another process commits, then this handle writes a blob before reading anything:
    // its group sees a header it has not seen and must not take that commit for its own.
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    conn.execute("UPDATE tenants SET display_name = 'Fabrikam'", [])
        .unwrap();
    put(&f.first, account, "x", b"x", Expect::Absent).await;
    assert_eq!(display_name(&f.first, tenant).await, "Fabrikam");

    // The same through the other store's own group commit (a blob the first one cached).
    put(&f.second, account, "y", b"y", Expect::Absent).await;
    assert_eq!(
        bytes(&f.first, account, "y").await.as_deref(),
        Some(&b"y"[..])
    );
    // And a foreign blob write right before this handle's own group.
    assert_eq!(bytes(&f.first, account, "z").await, None);
    put(&f.second, account, "z", b"z", Expect::Absent).await;
    put(&f.first, account, "w", b"w", Expect::Absent).await;
    assert_eq!(
        bytes(&f.first, account, "z").await.as_deref(),
        Some(&b"z"[..])
    );

    // A key revoked by another process (a tenant renamed here) is seen by the next lookup
    // even while this handle keeps writing blobs.
    conn.execute("UPDATE tenants SET display_name = 'Northwind'", [])
        .unwrap();
    for i in 0..4 {
        put(
            &f.first,
            account,
            &format!("after-{i}"),
            b"a",
            Expect::Absent,
        )
        .await;
        assert_eq!(display_name(&f.first, tenant).await, "Northwind");
    }
}
