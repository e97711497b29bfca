//! `request_scope`: one look at the WAL-index header per request. A request that starts
//! after another process's commit sees it; within a request, lookups after the first reuse
//! the generation (this process's writes still move it), and after the request writes, its
//! next lookup looks again.

use azlite_store::{DirectoryStore, SqliteStore, Tenant, WriteBatch, request_scope};
use azlite_types::TenantId;

fn tenant(name: &str) -> Tenant {
    Tenant {
        id: TenantId::new_random(),
        display_name: name.to_owned(),
        default_domain: format!("{}.onmicrosoft.com", name.to_ascii_lowercase()),
        created_at: 1,
    }
}

async fn name(store: &SqliteStore, id: TenantId) -> Option<String> {
    store.get_tenant(id).await.unwrap().map(|t| t.display_name)
}

fn rename(conn: &rusqlite::Connection, to: &str) {
    conn.execute("UPDATE tenants SET display_name = ?1", [to])
        .unwrap();
}

#[tokio::test]
async fn a_request_looks_at_other_processes_commits_once_and_again_after_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azlite.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let contoso = tenant("Contoso");
    let write = |t: Tenant| WriteBatch {
        tenants: vec![t],
        ..WriteBatch::default()
    };
    store.apply(write(contoso.clone())).await.unwrap();
    // Another process's connection to the same file.
    let other = rusqlite::Connection::open(&path).unwrap();

    request_scope(async {
        assert_eq!(name(&store, contoso.id).await.as_deref(), Some("Contoso"));
        // Committed while this request runs: its later lookups keep the state it started
        // with, as if it had run a moment earlier.
        rename(&other, "Fabrikam");
        assert_eq!(name(&store, contoso.id).await.as_deref(), Some("Contoso"));
        // This request writes: its next lookup looks again, and sees the other commit too.
        store.apply(write(tenant("Northwind"))).await.unwrap();
        assert_eq!(name(&store, contoso.id).await.as_deref(), Some("Fabrikam"));
    })
    .await;

    // A request that starts after a commit returned sees it at its first lookup.
    rename(&other, "Tailspin");
    request_scope(async {
        assert_eq!(name(&store, contoso.id).await.as_deref(), Some("Tailspin"));
    })
    .await;

    // Outside a request scope every lookup looks.
    assert_eq!(name(&store, contoso.id).await.as_deref(), Some("Tailspin"));
    rename(&other, "Woodgrove");
    assert_eq!(name(&store, contoso.id).await.as_deref(), Some("Woodgrove"));
    rename(&other, "Litware");
    assert_eq!(name(&store, contoso.id).await.as_deref(), Some("Litware"));
}

#[tokio::test]
async fn a_request_that_uses_two_stores_looks_at_each() {
    let dir = tempfile::tempdir().unwrap();
    let (first_path, second_path) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let first = SqliteStore::open(&first_path).await.unwrap();
    let second = SqliteStore::open(&second_path).await.unwrap();
    let (a, b) = (tenant("Contoso"), tenant("Fabrikam"));
    first
        .apply(WriteBatch {
            tenants: vec![a.clone()],
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    second
        .apply(WriteBatch {
            tenants: vec![b.clone()],
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    let other = rusqlite::Connection::open(&second_path).unwrap();
    request_scope(async {
        assert_eq!(name(&first, a.id).await.as_deref(), Some("Contoso"));
        rename(&other, "Northwind");
        // The first store's look does not stand for the second's.
        assert_eq!(name(&second, b.id).await.as_deref(), Some("Northwind"));
    })
    .await;
}
