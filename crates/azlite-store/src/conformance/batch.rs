//! Checks of [`crate::DirectoryStore::apply`] as a whole: all or nothing.

use super::fixtures::{
    T0, application, assert_conflict, key_credential, password_credential, service_principal,
    subscription, tenant, unique, user,
};
use crate::{Store, WriteBatch};

/// A batch is all or nothing: a conflict in its last write (or between two of its own
/// writes) leaves none of its writes behind, settings included; an empty batch is fine.
pub async fn batch_atomicity(store: &dyn Store) {
    store
        .apply(WriteBatch::default())
        .await
        .expect("an empty batch");
    let existing = tenant(T0);
    let upn = format!("taken@{}", existing.default_domain);
    let existing_setting = format!("conformance/{}/kept", unique());
    let batch = WriteBatch {
        tenants: vec![existing.clone()],
        users: vec![user(existing.id, &upn)],
        settings: vec![(existing_setting.clone(), "before".to_owned())],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("apply the existing objects");

    let fresh = tenant(T0);
    let uri = format!("api://atomic-{}", unique());
    let app = application(fresh.id, &[&uri]);
    let principal = service_principal(fresh.id, app.app_id, T0);
    let new_setting = format!("conformance/{}/new", unique());
    let mut batch = WriteBatch {
        tenants: vec![fresh.clone()],
        subscriptions: vec![subscription(fresh.id, T0)],
        applications: vec![app.clone()],
        service_principals: vec![principal.clone()],
        password_credentials: vec![password_credential(app.app_id, "p")],
        key_credentials: vec![key_credential(app.app_id, "k")],
        users: vec![user(fresh.id, &format!("new@{}", fresh.default_domain))],
        settings: vec![
            (new_setting.clone(), "new".to_owned()),
            (existing_setting.clone(), "after".to_owned()),
        ],
    };
    let subscription_id = batch.subscriptions[0].id;
    let new_user = batch.users[0].clone();
    let mut failing = batch.clone();
    failing.users.push(user(fresh.id, &upn.to_uppercase()));
    assert_conflict(
        store.apply(failing).await,
        "a batch whose last user conflicts",
    );

    assert_eq!(
        store.get_tenant(fresh.id).await.expect("get"),
        None,
        "no tenant"
    );
    assert_eq!(
        store.get_subscription(subscription_id).await.expect("get"),
        None,
        "no subscription"
    );
    assert_eq!(
        store.get_application(app.app_id).await.expect("get"),
        None,
        "no application"
    );
    let found = store
        .find_application_by_identifier_uri(fresh.id, &uri)
        .await
        .expect("find");
    assert_eq!(found, None, "no identifier URI");
    let sp = store
        .get_service_principal(principal.object_id)
        .await
        .expect("get");
    assert_eq!(sp, None, "no service principal");
    let passwords = store
        .list_password_credentials(app.app_id)
        .await
        .expect("list");
    assert!(passwords.is_empty(), "no password credential");
    assert!(
        store
            .list_key_credentials(app.app_id)
            .await
            .expect("list")
            .is_empty(),
        "no key"
    );
    assert_eq!(
        store.get_user(new_user.object_id).await.expect("get"),
        None,
        "no user"
    );
    assert_eq!(
        store.get_setting(&new_setting).await.expect("get"),
        None,
        "no new setting"
    );
    let kept = store
        .get_setting(&existing_setting)
        .await
        .expect("get_setting");
    assert_eq!(
        kept.as_deref(),
        Some("before"),
        "a replaced setting is rolled back too"
    );

    let mut duplicated = batch.clone();
    duplicated.tenants.push(fresh.clone());
    assert_conflict(
        store.apply(duplicated).await,
        "a batch that repeats its own tenant",
    );
    assert_eq!(
        store.get_tenant(fresh.id).await.expect("get"),
        None,
        "neither copy written"
    );

    // Nothing was left half-written, so the same batch now goes through whole.
    batch
        .settings
        .push((existing_setting.clone(), "last wins".to_owned()));
    store
        .apply(batch)
        .await
        .expect("the batch without the conflict");
    assert_eq!(
        store.get_tenant(fresh.id).await.expect("get"),
        Some(fresh.clone())
    );
    let found = store
        .find_application_by_identifier_uri(fresh.id, &uri)
        .await
        .expect("find");
    assert_eq!(found, Some(app), "the identifier URI is claimed now");
    assert_eq!(
        store.get_user(new_user.object_id).await.expect("get"),
        Some(new_user)
    );
    let replaced = store
        .get_setting(&existing_setting)
        .await
        .expect("get_setting");
    assert_eq!(
        replaced.as_deref(),
        Some("last wins"),
        "batch settings replace, in order"
    );
}
