//! Checks of [`crate::DataLakeStore`]: creating, listing and paging, appends with their
//! offset check (appenders that saw the same length), deletion, rename, concatenation, access
//! changes, and the cascade of an account's deletion.

use azlite_types::{ResourceId, SubscriptionId};

use super::arm::apply;
use super::fixtures::{T0, resource, resource_group, unique};
use crate::datalake::{
    AppendOutcome, ConcatOutcome, CreateOutcome, DeleteOutcome, ItemKind, NewItem, RenameOutcome,
};
use crate::{Deletion, Resource, Store, WriteBatch};

const ACCOUNTS: &str = "Microsoft.DataLakeStore/accounts";
const NOW: i64 = 1_700_000_000_000;

/// A fresh account resource with its root folder, written to the store.
async fn account(store: &dyn Store) -> Resource {
    let group = resource_group(SubscriptionId::new_random(), "dls-rg", T0);
    let account = resource(&group, ACCOUNTS, &format!("dls{}", &unique()[..12]), T0);
    let batch = WriteBatch {
        resource_groups: vec![group],
        resources: vec![account.clone()],
        ..Default::default()
    };
    apply(store, batch, "an account").await;
    let root = item("/", ItemKind::Directory);
    let created = store.dls_create(&account.id, &[root], false, NOW).await;
    assert!(
        matches!(created, Ok(CreateOutcome::Created { .. })),
        "{created:?}"
    );
    account
}

fn item(path: &str, kind: ItemKind) -> NewItem {
    NewItem {
        path: path.to_owned(),
        kind,
        owner: "owner".to_owned(),
        group: "group".to_owned(),
        acl: "user::rwx,group::rwx,other::---".to_owned(),
        sticky: false,
    }
}

async fn file_id(store: &dyn Store, account: &ResourceId, path: &str) -> i64 {
    let found = store
        .dls_get_items(account, &[path.to_owned()])
        .await
        .unwrap();
    found.first().unwrap_or_else(|| panic!("{path} exists")).id
}

async fn created(
    store: &dyn Store,
    account: &ResourceId,
    items: &[NewItem],
    overwrite: bool,
) -> i64 {
    match store
        .dls_create(account, items, overwrite, NOW)
        .await
        .unwrap()
    {
        CreateOutcome::Created { id, .. } => id,
        other => panic!("create {:?}: {other:?}", items.last()),
    }
}

/// Folders and files: parents first, existing folders kept, files replaced only with
/// overwrite, listings by name with paging, descendants.
pub async fn datalake_tree(store: &dyn Store) {
    let a = account(store).await;
    let dirs = [
        item("/d", ItemKind::Directory),
        item("/d/e", ItemKind::Directory),
    ];
    let e = created(store, &a.id, &dirs, false).await;
    assert_eq!(created(store, &a.id, &dirs, false).await, e, "MKDIRS twice");
    for name in ["c", "a", "b"] {
        created(
            store,
            &a.id,
            &[item(&format!("/d/{name}"), ItemKind::File)],
            false,
        )
        .await;
    }
    let again = store
        .dls_create(&a.id, &[item("/d/a", ItemKind::File)], false, NOW)
        .await;
    assert_eq!(again.unwrap(), CreateOutcome::AlreadyExists);
    let under_file = store
        .dls_create(&a.id, &[item("/d/a/x", ItemKind::File)], false, NOW)
        .await;
    assert_eq!(
        under_file.unwrap(),
        CreateOutcome::ParentIsFile("/d/a".into())
    );
    let names = |items: Vec<crate::datalake::DataLakeItem>| {
        items
            .iter()
            .map(|i| i.name().to_owned())
            .collect::<Vec<_>>()
    };
    let all = store
        .dls_list_children(&a.id, "/d", None, 10)
        .await
        .unwrap();
    assert_eq!(names(all), ["a", "b", "c", "e"]);
    let page = store
        .dls_list_children(&a.id, "/d", Some("a"), 2)
        .await
        .unwrap();
    assert_eq!(names(page), ["b", "c"]);
    let root = store.dls_list_children(&a.id, "/", None, 10).await.unwrap();
    assert_eq!(names(root), ["d"]);
    let below = store.dls_list_descendants(&a.id, "/", false).await.unwrap();
    assert_eq!(below.len(), 5);
    let folders = store.dls_list_descendants(&a.id, "/d", true).await.unwrap();
    assert_eq!(names(folders), ["e"]);
    // A sibling whose name extends the folder's is not below it.
    created(store, &a.id, &[item("/d0", ItemKind::File)], false).await;
    assert_eq!(
        store
            .dls_list_descendants(&a.id, "/d", false)
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(
        store
            .dls_set_access(
                &a.id,
                "/d",
                "o2",
                "g2",
                "user::r-x,group::---,other::---",
                true
            )
            .await
            .unwrap()
    );
    let d = store
        .dls_get_items(&a.id, &["/d".into(), "/missing".into()])
        .await
        .unwrap();
    assert_eq!((d.len(), d[0].owner.as_str(), d[0].sticky), (1, "o2", true));
}

/// Appends at the end only, checked atomically: of many appenders at one offset exactly one
/// wins, and every acknowledged extent is in the file.
pub async fn datalake_appends(store: &dyn Store) {
    let a = account(store).await;
    let id = created(store, &a.id, &[item("/f", ItemKind::File)], false).await;
    assert_eq!(
        store
            .dls_append(&a.id, id, 0, Some(("x1".into(), 4)), NOW)
            .await
            .unwrap(),
        AppendOutcome::Appended(4)
    );
    assert_eq!(
        store
            .dls_append(&a.id, id, 0, Some(("x2".into(), 4)), NOW)
            .await
            .unwrap(),
        AppendOutcome::BadOffset(4)
    );
    assert_eq!(
        store.dls_append(&a.id, id, 4, None, NOW).await.unwrap(),
        AppendOutcome::Appended(4)
    );
    assert_eq!(
        store.dls_append(&a.id, 0, 0, None, NOW).await.unwrap(),
        AppendOutcome::NotFound
    );

    // Four appenders that all saw the same length: exactly one of them lands per round.
    let mut wins = Vec::new();
    for round in 0..8u64 {
        let mut won = Vec::new();
        for w in 0..4 {
            let extent = format!("r{round}w{w}");
            let outcome = store
                .dls_append(&a.id, id, 4 + round * 10, Some((extent.clone(), 10)), NOW)
                .await
                .unwrap();
            if matches!(outcome, AppendOutcome::Appended(_)) {
                won.push(extent);
            }
        }
        assert_eq!(won.len(), 1, "one appender wins round {round}");
        wins.extend(won);
    }
    let extents = store.dls_extents(&a.id, id).await.unwrap();
    assert_eq!(extents.len(), 9);
    assert_eq!(
        extents
            .iter()
            .skip(1)
            .map(|e| e.extent_id.clone())
            .collect::<Vec<_>>(),
        wins
    );
    assert!(
        extents
            .windows(2)
            .all(|w| w[0].offset + w[0].length == w[1].offset)
    );
    let f = store.dls_get_items(&a.id, &["/f".into()]).await.unwrap();
    assert_eq!(f[0].length, 84);
    let referenced = store.dls_referenced_extents().await.unwrap();
    assert!(wins.iter().all(|w| referenced.contains(w)));
}

/// Deletion (recursive or not, never the root), rename (moving a subtree, refusing what
/// Gen1 refuses) and concatenation.
pub async fn datalake_changes(store: &dyn Store) {
    let a = account(store).await;
    let dirs = [
        item("/d", ItemKind::Directory),
        item("/d/e", ItemKind::Directory),
    ];
    created(store, &a.id, &dirs, false).await;
    let f = created(store, &a.id, &[item("/d/e/f", ItemKind::File)], false).await;
    store
        .dls_append(&a.id, f, 0, Some(("f1".into(), 3)), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.dls_rename(&a.id, "/d", "/d/e/x", NOW).await.unwrap(),
        RenameOutcome::IntoItself
    );
    assert_eq!(
        store.dls_rename(&a.id, "/nope", "/x", NOW).await.unwrap(),
        RenameOutcome::SourceMissing
    );
    assert_eq!(
        store.dls_rename(&a.id, "/d", "/no/x", NOW).await.unwrap(),
        RenameOutcome::DestinationParentMissing
    );
    assert_eq!(
        store
            .dls_rename(&a.id, "/d/e/f", "/d/e", NOW)
            .await
            .unwrap(),
        RenameOutcome::DestinationExists
    );
    assert_eq!(
        store.dls_rename(&a.id, "/d", "/m", NOW).await.unwrap(),
        RenameOutcome::Renamed
    );
    assert_eq!(
        file_id(store, &a.id, "/m/e/f").await,
        f,
        "ids survive renames"
    );
    let listed = store
        .dls_list_children(&a.id, "/m/e", None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(store.dls_extents(&a.id, f).await.unwrap().len(), 1);

    let g = created(store, &a.id, &[item("/m/g", ItemKind::File)], false).await;
    store
        .dls_append(&a.id, g, 0, Some(("g1".into(), 5)), NOW)
        .await
        .unwrap();
    let t = created(store, &a.id, &[item("/t", ItemKind::File)], false).await;
    assert_eq!(
        store
            .dls_concat(&a.id, "/t", &["/m/g".into(), "/m/e/f".into()], NOW)
            .await
            .unwrap(),
        ConcatOutcome::Concatenated(8)
    );
    let extents = store.dls_extents(&a.id, t).await.unwrap();
    assert_eq!(
        extents
            .iter()
            .map(|e| (e.extent_id.as_str(), e.offset))
            .collect::<Vec<_>>(),
        [("g1", 0), ("f1", 5)]
    );
    assert_eq!(
        store
            .dls_concat(&a.id, "/t", &["/m/g".into()], NOW)
            .await
            .unwrap(),
        ConcatOutcome::NotAFile("/m/g".into())
    );

    assert_eq!(
        store.dls_delete(&a.id, "/", true).await.unwrap(),
        DeleteOutcome::NotFound
    );
    assert_eq!(
        store.dls_delete(&a.id, "/m", false).await.unwrap(),
        DeleteOutcome::NotEmpty
    );
    assert_eq!(
        store.dls_delete(&a.id, "/m", true).await.unwrap(),
        DeleteOutcome::Deleted { released: vec![] }
    );
    let replaced = store
        .dls_create(&a.id, &[item("/t", ItemKind::File)], true, NOW)
        .await
        .unwrap();
    assert!(matches!(replaced, CreateOutcome::Created { released, .. } if released.len() == 2));
    assert_eq!(
        store
            .dls_list_descendants(&a.id, "/", false)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// An account's tree goes with the account, and with its group; another account whose id
/// extends the first's keeps its own.
pub async fn datalake_cascade(store: &dyn Store) {
    let a = account(store).await;
    let group = resource_group(a.subscription_id, &a.resource_group, T0);
    let longer = resource(&group, ACCOUNTS, &format!("{}0", a.name), T0);
    apply(
        store,
        WriteBatch {
            resources: vec![longer.clone()],
            ..Default::default()
        },
        "a second account",
    )
    .await;
    created(store, &longer.id, &[item("/", ItemKind::Directory)], false).await;
    let f = created(store, &a.id, &[item("/f", ItemKind::File)], false).await;
    store
        .dls_append(&a.id, f, 0, Some((unique(), 1)), NOW)
        .await
        .unwrap();
    created(store, &longer.id, &[item("/f", ItemKind::File)], false).await;
    let upper: ResourceId = a.id.as_str().to_uppercase().parse().unwrap();
    apply(
        store,
        WriteBatch {
            deletions: vec![Deletion::Resource(upper)],
            ..Default::default()
        },
        "the account's deletion",
    )
    .await;
    assert!(
        store
            .dls_get_items(&a.id, &["/".into(), "/f".into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.dls_extents(&a.id, f).await.unwrap().is_empty());
    assert_eq!(
        store
            .dls_get_items(&longer.id, &["/f".into()])
            .await
            .unwrap()
            .len(),
        1
    );
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
    assert!(
        store
            .dls_get_items(&longer.id, &["/f".into()])
            .await
            .unwrap()
            .is_empty()
    );
}
