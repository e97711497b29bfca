//! Checks of what Microsoft Graph needs of application objects: lookup by object id, the
//! list of a tenant, and deletion with everything that belongs to the application.

use azlite_types::{ObjectId, TenantId};

use super::fixtures::{
    T0, application, key_credential, password_credential, service_principal, unique,
};
use crate::{Deletion, Store, WriteBatch};

/// Applications are found by object id (identifier URIs in order), and list per tenant,
/// oldest first, with their identifier URIs.
pub async fn application_listing(store: &dyn Store) {
    let home = TenantId::new_random();
    let name = unique();
    let mut newer = application(home, &[&format!("api://second-{name}")]);
    newer.created_at = T0 + 2;
    let mut older = application(
        home,
        &[
            &format!("api://first-{name}"),
            &format!("https://first.example/{name}"),
        ],
    );
    older.created_at = T0 + 1;
    let elsewhere = application(TenantId::new_random(), &[]);
    let batch = WriteBatch {
        applications: vec![newer.clone(), older.clone(), elsewhere.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply applications");

    let got = store
        .get_application_by_object_id(older.object_id)
        .await
        .expect("get_application_by_object_id");
    assert_eq!(
        got.as_ref(),
        Some(&older),
        "get_application_by_object_id round-trips, URIs in order"
    );
    let missing = store
        .get_application_by_object_id(ObjectId::new_random())
        .await
        .expect("get_application_by_object_id");
    assert_eq!(missing, None, "an unknown object id");
    let missing = store
        .get_application_by_object_id(ObjectId::from_uuid(*older.app_id.as_uuid()))
        .await
        .expect("get_application_by_object_id");
    assert_eq!(missing, None, "an app id is not an object id");

    let listed = store
        .list_applications(home)
        .await
        .expect("list_applications");
    assert_eq!(
        listed,
        [older, newer],
        "list_applications: this tenant's, oldest first, with their URIs"
    );
    let listed = store
        .list_applications(TenantId::new_random())
        .await
        .expect("list_applications");
    assert!(
        listed.is_empty(),
        "a tenant without applications lists none"
    );
}

/// Deleting an application takes its identifier URIs (free for reuse), every credential of
/// its app id and its principal in its home tenant; other tenants' principals, other
/// applications and their credentials stay; deleting an unknown application is no error.
pub async fn application_deletion(store: &dyn Store) {
    let home = TenantId::new_random();
    let other = TenantId::new_random();
    let uri = format!("api://deleted-{}", unique());
    let doomed = application(home, &[&uri]);
    let kept = application(home, &[]);
    let doomed_sp = service_principal(home, doomed.app_id, T0);
    let remote_sp = service_principal(other, doomed.app_id, T0);
    let kept_sp = service_principal(home, kept.app_id, T0);
    let batch = WriteBatch {
        applications: vec![doomed.clone(), kept.clone()],
        service_principals: vec![doomed_sp.clone(), remote_sp.clone(), kept_sp.clone()],
        password_credentials: vec![
            password_credential(doomed.app_id, "p"),
            password_credential(kept.app_id, "p"),
        ],
        key_credentials: vec![
            key_credential(doomed.app_id, "k"),
            key_credential(kept.app_id, "k"),
        ],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply applications");

    let batch = WriteBatch {
        deletions: vec![Deletion::Application(doomed.object_id)],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("delete the application");
    let gone = store
        .get_application_by_object_id(doomed.object_id)
        .await
        .expect("get");
    assert_eq!(gone, None, "the application object is gone");
    let gone = store.get_application(doomed.app_id).await.expect("get");
    assert_eq!(gone, None, "gone from the app id lookup too");
    let gone = store
        .find_application_by_identifier_uri(home, &uri)
        .await
        .expect("find");
    assert_eq!(gone, None, "its identifier URIs are gone");
    let gone = store
        .get_service_principal(doomed_sp.object_id)
        .await
        .expect("get");
    assert_eq!(gone, None, "its principal in the home tenant is gone");
    let passwords = store
        .list_password_credentials(doomed.app_id)
        .await
        .expect("list");
    assert!(passwords.is_empty(), "its password credentials are gone");
    let keys = store
        .list_key_credentials(doomed.app_id)
        .await
        .expect("list");
    assert!(keys.is_empty(), "its key credentials are gone");
    let remote = store
        .get_service_principal(remote_sp.object_id)
        .await
        .expect("get");
    assert_eq!(
        remote,
        Some(remote_sp),
        "a principal of the app id in another tenant stays"
    );

    assert_eq!(
        store.get_application(kept.app_id).await.expect("get"),
        Some(kept.clone()),
        "another application stays"
    );
    assert_eq!(
        store
            .get_service_principal(kept_sp.object_id)
            .await
            .expect("get"),
        Some(kept_sp),
        "another application's principal stays"
    );
    let passwords = store
        .list_password_credentials(kept.app_id)
        .await
        .expect("list");
    assert_eq!(passwords.len(), 1, "another application's credentials stay");

    let reuse = application(home, &[&uri]);
    let batch = WriteBatch {
        deletions: vec![Deletion::Application(ObjectId::new_random())],
        applications: vec![reuse.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect(
        "deleting an unknown application is no error, and a deleted identifier URI is free",
    );
    let found = store
        .find_application_by_identifier_uri(home, &uri)
        .await
        .expect("find");
    assert_eq!(found, Some(reuse), "the URI now names the new application");
}
