//! Checks of [`crate::BlobStore`]: containers, blobs and their blocks, conditional writes by
//! generation, the extents each write frees, listing order and paging, and the cascade of
//! an account's deletion.

use std::collections::BTreeSet;

use azlite_types::SubscriptionId;
use uuid::Uuid;

use super::arm::apply;
use super::fixtures::{T0, assert_conflict, resource, resource_group, unique};
use crate::{
    BlobKind, BlobRecord, Block, ContainerRecord, ContentHeaders, Deletion, Expect, Resource,
    Store, StoreError, StoredLease, UncommittedBlock, WriteBatch,
};

const ACCOUNTS: &str = "Microsoft.Storage/storageAccounts";

pub(super) async fn account(store: &dyn Store) -> Resource {
    let group = resource_group(SubscriptionId::new_random(), "st-rg", T0);
    let account = resource(&group, ACCOUNTS, &format!("st{}", &unique()[..12]), T0);
    let batch = WriteBatch {
        resource_groups: vec![group],
        resources: vec![account.clone()],
        ..Default::default()
    };
    apply(store, batch, "a storage account").await;
    account
}

pub(super) fn container(account: &Resource, name: &str) -> ContainerRecord {
    ContainerRecord {
        account: account.id.clone(),
        name: name.to_owned(),
        metadata: vec![("Owner".to_owned(), "me".to_owned())],
        public_access: None,
        etag: "\"0x1\"".to_owned(),
        created_at: T0 * 1000,
        last_modified: T0 * 1000,
        lease: None,
        generation: 0,
    }
}

pub(super) fn blob(account: &Resource, container: &str, name: &str, len: u64) -> BlobRecord {
    BlobRecord {
        account: account.id.clone(),
        container: container.to_owned(),
        name: name.to_owned(),
        kind: BlobKind::Block,
        content_length: len,
        headers: ContentHeaders {
            content_type: Some("text/plain".to_owned()),
            content_md5: Some(vec![1; 16]),
            ..Default::default()
        },
        metadata: vec![],
        etag: format!("\"0x{}\"", unique()),
        created_at: T0 * 1000,
        last_modified: T0 * 1000,
        lease: None,
        generation: 0,
    }
}

pub(super) fn block(len: u64) -> Block {
    Block {
        block_id: None,
        extent: Uuid::new_v4(),
        len,
    }
}

pub(super) fn assert_changed<T: std::fmt::Debug>(result: crate::StoreResult<T>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Changed(_))),
        "{what}: expected Changed, got {result:?}"
    );
}

pub(super) fn set(extents: &[Uuid]) -> BTreeSet<Uuid> {
    extents.iter().copied().collect()
}

/// Containers: create once, read, update by generation, list by prefix and marker in byte
/// order, delete with their blobs.
pub async fn blob_containers(store: &dyn Store) {
    let acct = account(store).await;
    for name in ["b-two", "a-one", "b-one", "c"] {
        store
            .create_container(&container(&acct, name))
            .await
            .expect("create a container");
    }
    assert_conflict(
        store.create_container(&container(&acct, "c")).await,
        "a container twice",
    );
    let got = store
        .get_container(&acct.id, "a-one")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(got.metadata, vec![("Owner".to_owned(), "me".to_owned())]);
    assert_eq!(got.generation, 1);
    let by_other_case: azlite_types::ResourceId = acct.id.as_str().to_uppercase().parse().unwrap();
    assert!(
        store
            .get_container(&by_other_case, "a-one")
            .await
            .unwrap()
            .is_some(),
        "account ids fold"
    );
    assert!(
        store
            .get_container(&acct.id, "A-ONE")
            .await
            .unwrap()
            .is_none(),
        "names do not"
    );

    let names = |list: Vec<ContainerRecord>| list.into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_containers(&acct.id, "", None, 10).await.unwrap()),
        ["a-one", "b-one", "b-two", "c"]
    );
    assert_eq!(
        names(
            store
                .list_containers(&acct.id, "b-", None, 10)
                .await
                .unwrap()
        ),
        ["b-one", "b-two"]
    );
    assert_eq!(
        names(
            store
                .list_containers(&acct.id, "", Some("b-one"), 2)
                .await
                .unwrap()
        ),
        ["b-two", "c"]
    );

    let mut changed = got.clone();
    changed.metadata = vec![];
    changed.lease = Some(StoredLease {
        lease_id: "id".into(),
        duration: -1,
        expires_at: None,
        break_at: None,
    });
    store
        .update_container(&changed, 1)
        .await
        .expect("update at the generation read");
    assert_changed(
        store.update_container(&changed, 1).await,
        "an update at a stale generation",
    );
    let got = store
        .get_container(&acct.id, "a-one")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.metadata.len(), got.generation), (0, 2));
    assert_eq!(got.lease, changed.lease);

    let b = blob(&acct, "a-one", "x", 1);
    let first = block(1);
    store
        .put_blob(
            &b,
            std::slice::from_ref(&first),
            &[first.extent],
            Expect::Absent,
        )
        .await
        .unwrap();
    assert_changed(
        store.delete_container(&acct.id, "a-one", 1).await,
        "a delete at a stale generation",
    );
    let freed = store.delete_container(&acct.id, "a-one", 2).await.unwrap();
    assert_eq!(set(&freed), set(&[first.extent]));
    assert!(
        store
            .get_container(&acct.id, "a-one")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_blob(&acct.id, "a-one", "x")
            .await
            .unwrap()
            .is_none()
    );
    assert_changed(
        store.put_blob(&b, &[], &[], Expect::Any).await,
        "a blob in a container that does not exist",
    );
}

/// Blobs: put, replace, conditional writes by generation, blocks in order, the extents each
/// write frees (not those another blob still uses), append, update, delete.
pub async fn blob_writes(store: &dyn Store) {
    let acct = account(store).await;
    store
        .create_container(&container(&acct, "c"))
        .await
        .unwrap();
    let (a, b) = (block(3), block(4));
    let mut rec = blob(&acct, "c", "dir/blob", 7);
    let freed = store
        .put_blob(
            &rec,
            &[a.clone(), b.clone()],
            &[a.extent, b.extent],
            Expect::Absent,
        )
        .await
        .unwrap();
    assert!(freed.is_empty());
    assert_changed(
        store.put_blob(&rec, &[], &[], Expect::Absent).await,
        "a create over a blob",
    );
    let (got, blocks) = store
        .get_blob_with_blocks(&acct.id, "c", "dir/blob")
        .await
        .unwrap()
        .expect("put");
    assert_eq!(blocks, vec![a.clone(), b.clone()]);
    assert_eq!(
        (got.generation, got.content_length, got.headers.clone()),
        (1, 7, rec.headers.clone())
    );

    // A copy shares the extents: replacing the original frees none of them.
    let copy = blob(&acct, "c", "copy", 7);
    assert!(
        store
            .put_blob(&copy, &blocks, &[], Expect::Any)
            .await
            .unwrap()
            .is_empty()
    );
    let c = block(5);
    rec.content_length = 5;
    rec.created_at += 99;
    assert_changed(
        store
            .put_blob(
                &rec,
                std::slice::from_ref(&c),
                &[c.extent],
                Expect::Generation(7),
            )
            .await,
        "stale",
    );
    let freed = store
        .put_blob(
            &rec,
            std::slice::from_ref(&c),
            &[c.extent],
            Expect::Generation(1),
        )
        .await
        .unwrap();
    assert!(freed.is_empty(), "the copy still uses them");
    let got = store
        .get_blob(&acct.id, "c", "dir/blob")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.generation, got.content_length, got.created_at),
        (2, 5, T0 * 1000),
        "creation time kept"
    );
    let freed = store.delete_blob(&acct.id, "c", "copy", 1).await.unwrap();
    assert_eq!(set(&freed), set(&[a.extent, b.extent]));
    assert_changed(
        store
            .put_blob(&copy, std::slice::from_ref(&a), &[], Expect::Any)
            .await,
        "a commit of an extent nothing references any more",
    );

    // Append: the block goes last, with the new length; stale generations are refused.
    let mut app = blob(&acct, "c", "log", 0);
    app.kind = BlobKind::Append;
    store
        .put_blob(&app, &[], &[], Expect::Absent)
        .await
        .unwrap();
    let d = block(2);
    app.content_length = 2;
    store.append_block(&app, &d, 1).await.unwrap();
    assert_changed(
        store.append_block(&app, &d, 1).await,
        "an append at a stale generation",
    );
    let e = block(1);
    app.content_length = 3;
    store.append_block(&app, &e, 2).await.unwrap();
    let (got, blocks) = store
        .get_blob_with_blocks(&acct.id, "c", "log")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.kind, got.content_length, blocks),
        (BlobKind::Append, 3, vec![d.clone(), e.clone()])
    );

    // Update: properties and metadata, not content.
    let mut upd = got.clone();
    upd.metadata = vec![("k".into(), "v".into())];
    upd.content_length = 999;
    store.update_blob(&upd, got.generation).await.unwrap();
    assert_changed(
        store.update_blob(&upd, got.generation).await,
        "an update at a stale generation",
    );
    let got = store.get_blob(&acct.id, "c", "log").await.unwrap().unwrap();
    assert_eq!((got.content_length, got.metadata.len()), (3, 1));
    let freed = store
        .delete_blob(&acct.id, "c", "log", got.generation)
        .await
        .unwrap();
    assert_eq!(set(&freed), set(&[d.extent, e.extent]));
    assert_changed(
        store
            .delete_blob(&acct.id, "c", "log", got.generation)
            .await,
        "a blob deleted twice",
    );
}

/// Uncommitted blocks: replaced by id (freeing the old extent), listed oldest first,
/// committed by a put (the rest discarded and freed), expired by age.
pub async fn blob_uncommitted_blocks(store: &dyn Store) {
    let acct = account(store).await;
    store
        .create_container(&container(&acct, "c"))
        .await
        .unwrap();
    let staged = |id: &str, at: i64| UncommittedBlock {
        block_id: id.to_owned(),
        extent: Uuid::new_v4(),
        len: 10,
        uploaded_at: at,
    };
    let (one, two, one_again, three) = (
        staged("AAAA", 1),
        staged("BBBB", 2),
        staged("AAAA", 3),
        staged("CCCC", 4),
    );
    for block in [&one, &two] {
        assert!(
            store
                .put_uncommitted_block(&acct.id, "c", "b", block)
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(
        store
            .put_uncommitted_block(&acct.id, "c", "b", &one_again)
            .await
            .unwrap(),
        vec![one.extent]
    );
    store
        .put_uncommitted_block(&acct.id, "c", "b", &three)
        .await
        .unwrap();
    let listed = store
        .list_uncommitted_blocks(&acct.id, "c", "b")
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|b| (b.block_id.as_str(), b.extent))
            .collect::<Vec<_>>(),
        [
            ("AAAA", one_again.extent),
            ("BBBB", two.extent),
            ("CCCC", three.extent)
        ]
    );
    assert!(
        store.get_blob(&acct.id, "c", "b").await.unwrap().is_none(),
        "not a blob before a commit"
    );
    assert_changed(
        store
            .put_uncommitted_block(&acct.id, "nope", "b", &staged("DDDD", 5))
            .await,
        "a block in a container that does not exist",
    );

    let commit = [Block {
        block_id: Some("AAAA".into()),
        extent: one_again.extent,
        len: 10,
    }];
    let freed = store
        .put_blob(&blob(&acct, "c", "b", 10), &commit, &[], Expect::Absent)
        .await
        .unwrap();
    assert_eq!(set(&freed), set(&[two.extent, three.extent]));
    assert!(
        store
            .list_uncommitted_blocks(&acct.id, "c", "b")
            .await
            .unwrap()
            .is_empty()
    );
    let referenced = set(&store.referenced_blob_extents().await.unwrap());
    assert!(referenced.contains(&one_again.extent) && !referenced.contains(&two.extent));

    store
        .put_uncommitted_block(&acct.id, "c", "old", &staged("AAAA", 100))
        .await
        .unwrap();
    let young = staged("BBBB", 200);
    store
        .put_uncommitted_block(&acct.id, "c", "old", &young)
        .await
        .unwrap();
    assert_eq!(store.expire_uncommitted_blocks(150).await.unwrap().len(), 1);
    let left = store
        .list_uncommitted_blocks(&acct.id, "c", "old")
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|b| b.extent).collect::<Vec<_>>(),
        [young.extent]
    );
}

/// Listing: byte order, prefixes, markers, and paging through a container of many blobs.
pub async fn blob_listing(store: &dyn Store) {
    let acct = account(store).await;
    store
        .create_container(&container(&acct, "c"))
        .await
        .unwrap();
    let names = ["a/b", "a/c", "a0", "a\u{e9}", "B", "a/b/c", "z"];
    for name in names {
        store
            .put_blob(&blob(&acct, "c", name, 0), &[], &[], Expect::Absent)
            .await
            .unwrap();
    }
    let id = &acct.id;
    let list = |prefix: &'static str, after: Option<&'static str>, limit| async move {
        store
            .list_blobs(id, "c", prefix, after, limit)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list("", None, 100).await,
        ["B", "a/b", "a/b/c", "a/c", "a0", "a\u{e9}", "z"]
    );
    assert_eq!(list("a/", None, 100).await, ["a/b", "a/b/c", "a/c"]);
    assert_eq!(list("a", Some("a/c"), 2).await, ["a0", "a\u{e9}"]);
    assert!(list("q", None, 10).await.is_empty());

    let mut seen = 0;
    let mut after: Option<String> = None;
    let many = 1200;
    for n in 0..many {
        store
            .put_blob(
                &blob(&acct, "c", &format!("m/{n:05}"), 0),
                &[],
                &[],
                Expect::Absent,
            )
            .await
            .unwrap();
    }
    loop {
        let page = store
            .list_blobs(&acct.id, "c", "m/", after.as_deref(), 500)
            .await
            .unwrap();
        seen += page.len();
        match page.last() {
            Some(last) if page.len() == 500 => after = Some(last.name.clone()),
            _ => break,
        }
    }
    assert_eq!(seen, many);
}

/// An account's deletion (or its group's) takes its containers, blobs, blocks and service
/// properties, and no other account's (an id that merely starts with the same text
/// included).
pub async fn blob_cascade(store: &dyn Store) {
    let acct = account(store).await;
    let group = resource_group(acct.subscription_id, &acct.resource_group, T0);
    let longer = resource(&group, ACCOUNTS, &format!("{}0", acct.name), T0);
    apply(
        store,
        WriteBatch {
            resources: vec![longer.clone()],
            ..Default::default()
        },
        "a second account",
    )
    .await;
    for a in [&acct, &longer] {
        store.create_container(&container(a, "c")).await.unwrap();
        let x = block(1);
        store
            .put_blob(
                &blob(a, "c", "b", 1),
                std::slice::from_ref(&x),
                &[x.extent],
                Expect::Absent,
            )
            .await
            .unwrap();
        let staged = UncommittedBlock {
            block_id: "QQ==".into(),
            extent: Uuid::new_v4(),
            len: 1,
            uploaded_at: 1,
        };
        store
            .put_uncommitted_block(&a.id, "c", "u", &staged)
            .await
            .unwrap();
        for document in ["<first/>", &format!("<{}/>", a.name)] {
            store.set_service_properties(&a.id, document).await.unwrap();
        }
        assert_eq!(
            store.get_service_properties(&a.id).await.unwrap(),
            Some(format!("<{}/>", a.name)),
            "the last document is kept"
        );
    }
    let upper: azlite_types::ResourceId = acct.id.as_str().to_uppercase().parse().unwrap();
    apply(
        store,
        WriteBatch {
            deletions: vec![Deletion::Resource(upper)],
            ..Default::default()
        },
        "the account's deletion",
    )
    .await;
    assert!(store.get_container(&acct.id, "c").await.unwrap().is_none());
    assert!(store.get_blob(&acct.id, "c", "b").await.unwrap().is_none());
    assert!(
        store
            .list_uncommitted_blocks(&acct.id, "c", "u")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .get_blob(&longer.id, "c", "b")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.get_service_properties(&acct.id).await.unwrap(), None);
    assert_changed(
        store.set_service_properties(&acct.id, "<late/>").await,
        "service properties of a deleted account",
    );
    assert_eq!(
        store.get_service_properties(&longer.id).await.unwrap(),
        Some(format!("<{}/>", longer.name))
    );
    store
        .create_container(&container(&acct, "c"))
        .await
        .expect("an account made again starts empty");

    apply(
        store,
        WriteBatch {
            deletions: vec![Deletion::ResourceGroup {
                subscription: group.subscription_id,
                name: group.name.clone(),
            }],
            ..Default::default()
        },
        "the group's deletion",
    )
    .await;
    for a in [&acct, &longer] {
        assert!(store.get_container(&a.id, "c").await.unwrap().is_none());
        assert_eq!(store.get_service_properties(&a.id).await.unwrap(), None);
        assert!(
            store
                .list_blobs(&a.id, "c", "", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
