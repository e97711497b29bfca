//! Checks of credentials and of what deleting a service principal takes with it.

use azlite_types::{ClientId, ObjectId, TenantId};

use super::fixtures::{
    T0, application, assert_conflict, key_credential, password_credential, service_principal,
};
use crate::{Store, WriteBatch};

/// Password and key credentials round-trip per app id in insertion order, and conflict on a
/// duplicate key id.
pub async fn credentials(store: &dyn Store) {
    let app_id = ClientId::new_random();
    let (first, second) = (
        password_credential(app_id, "first"),
        password_credential(app_id, "second"),
    );
    let (cert_a, cert_b) = (key_credential(app_id, "a"), key_credential(app_id, "b"));
    let unrelated = password_credential(ClientId::new_random(), "unrelated");
    let batch = WriteBatch {
        password_credentials: vec![first.clone(), unrelated, second.clone()],
        key_credentials: vec![cert_a.clone(), cert_b.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply credentials");

    let passwords = store
        .list_password_credentials(app_id)
        .await
        .expect("list passwords");
    assert_eq!(
        passwords,
        [first.clone(), second],
        "password credentials, oldest first"
    );
    let keys = store
        .list_key_credentials(app_id)
        .await
        .expect("list key credentials");
    assert_eq!(
        keys,
        [cert_a.clone(), cert_b],
        "key credentials, oldest first"
    );
    let none = store
        .list_password_credentials(ClientId::new_random())
        .await
        .expect("list");
    assert!(none.is_empty(), "an app id without password credentials");
    let none = store
        .list_key_credentials(ClientId::new_random())
        .await
        .expect("list");
    assert!(none.is_empty(), "an app id without key credentials");

    let mut again = password_credential(app_id, "again");
    again.key_id = first.key_id;
    let batch = WriteBatch {
        password_credentials: vec![again],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second password credential with one key id",
    );
    let mut again = key_credential(app_id, "again");
    again.key_id = cert_a.key_id;
    let batch = WriteBatch {
        key_credentials: vec![again],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second key credential with one key id",
    );
}

/// Deleting a service principal reports whether it existed, and takes the app id's
/// credentials with it only when no application object and no other principal has the app id.
pub async fn service_principal_deletion(store: &dyn Store) {
    let home = TenantId::new_random();
    let other = TenantId::new_random();
    // An app id with only principals (one per tenant) and credentials.
    let orphan_app = ClientId::new_random();
    let local = service_principal(home, orphan_app, T0);
    let remote = service_principal(other, orphan_app, T0);
    // A registered application with its principal and credentials.
    let registered = application(home, &[]);
    let registered_sp = service_principal(home, registered.app_id, T0);
    let batch = WriteBatch {
        applications: vec![registered.clone()],
        service_principals: vec![local.clone(), remote.clone(), registered_sp.clone()],
        password_credentials: vec![
            password_credential(orphan_app, "p"),
            password_credential(registered.app_id, "p"),
        ],
        key_credentials: vec![
            key_credential(orphan_app, "k"),
            key_credential(registered.app_id, "k"),
        ],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("apply principals and credentials");

    assert!(
        store
            .delete_service_principal(local.object_id)
            .await
            .expect("delete"),
        "existed"
    );
    assert_eq!(
        store
            .get_service_principal(local.object_id)
            .await
            .expect("get"),
        None,
        "gone"
    );
    let by_app = store
        .get_service_principal_by_app_id(home, orphan_app)
        .await
        .expect("get");
    assert_eq!(by_app, None, "gone from the (tenant, app id) lookup too");
    assert!(
        !store
            .delete_service_principal(local.object_id)
            .await
            .expect("delete"),
        "deleting twice reports that nothing was there"
    );
    let passwords = store
        .list_password_credentials(orphan_app)
        .await
        .expect("list");
    assert_eq!(
        passwords.len(),
        1,
        "credentials stay while another principal has the app id"
    );

    assert!(
        store
            .delete_service_principal(remote.object_id)
            .await
            .expect("delete")
    );
    let passwords = store
        .list_password_credentials(orphan_app)
        .await
        .expect("list");
    assert!(
        passwords.is_empty(),
        "the last principal takes unowned password credentials"
    );
    let keys = store.list_key_credentials(orphan_app).await.expect("list");
    assert!(
        keys.is_empty(),
        "the last principal takes unowned key credentials"
    );

    assert!(
        store
            .delete_service_principal(registered_sp.object_id)
            .await
            .expect("delete")
    );
    let passwords = store
        .list_password_credentials(registered.app_id)
        .await
        .expect("list");
    assert_eq!(
        passwords.len(),
        1,
        "an application object keeps its password credentials"
    );
    let keys = store
        .list_key_credentials(registered.app_id)
        .await
        .expect("list");
    assert_eq!(
        keys.len(),
        1,
        "an application object keeps its key credentials"
    );
    let app = store
        .get_application(registered.app_id)
        .await
        .expect("get_application");
    assert_eq!(
        app,
        Some(registered.clone()),
        "the application object stays"
    );

    let again = service_principal(home, registered.app_id, T0 + 1);
    let batch = WriteBatch {
        service_principals: vec![again],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("a deleted principal's (tenant, app id) can be reused");
    let missing = store
        .delete_service_principal(ObjectId::new_random())
        .await
        .expect("delete");
    assert!(!missing, "deleting an unknown principal");
}
