//! Checks of [`crate::DirectoryStore::apply`] as a whole: all or nothing, deletions first.

use azlite_types::{ClientId, ObjectId, ResourceId};

use super::fixtures::{
    T0, application, assert_conflict, key_credential, password_credential, resource,
    resource_group, role_assignment, service_principal, subscription, tenant, unique, user,
};
use crate::{Deletion, Store, WriteBatch};

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
    let group = resource_group(subscription(fresh.id, T0).id, &unique(), T0);
    let vm = resource(&group, "Microsoft.Compute/virtualMachines", "vm", T0);
    let assignment = role_assignment(&vm.id, ObjectId::new_random(), T0);
    let mut batch = WriteBatch {
        deletions: vec![Deletion::Resource(ResourceId::resource_group(
            group.subscription_id,
            &group.name,
        ))],
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
        resource_groups: vec![group.clone()],
        resources: vec![vm.clone()],
        role_assignments: vec![assignment.clone()],
        storage_account_keys: Vec::new(),
        app_role_assignments: Vec::new(),
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
    let got = store
        .get_resource_group(group.subscription_id, &group.name)
        .await
        .expect("get");
    assert_eq!(got, None, "no resource group");
    assert_eq!(
        store.get_resource(&vm.id).await.expect("get"),
        None,
        "no resource"
    );
    let got = store.get_role_assignment(assignment.id).await.expect("get");
    assert_eq!(got, None, "no role assignment");

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
    let got = store
        .get_resource_group(group.subscription_id, &group.name)
        .await
        .expect("get");
    assert_eq!(got, Some(group));
    assert_eq!(store.get_resource(&vm.id).await.expect("get"), Some(vm));
    let got = store.get_role_assignment(assignment.id).await.expect("get");
    assert_eq!(got, Some(assignment));
}

/// A service principal deleted in a batch goes as with `delete_service_principal`, with its
/// unowned credentials; deleting one that does not exist is fine; a principal deleted and
/// inserted again in one batch is replaced; a conflict undoes the batch's deletions.
pub async fn batch_deletions(store: &dyn Store) {
    let home = tenant(T0);
    let app_id = ClientId::new_random();
    let alone = service_principal(home.id, app_id, T0);
    let replaced = service_principal(home.id, ClientId::new_random(), T0);
    let batch = WriteBatch {
        service_principals: vec![alone.clone(), replaced.clone()],
        password_credentials: vec![password_credential(app_id, "p")],
        key_credentials: vec![key_credential(app_id, "k")],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("insert principals");

    let mut renamed = replaced.clone();
    renamed.display_name = "renamed".to_owned();
    let batch = WriteBatch {
        deletions: vec![
            Deletion::ServicePrincipal(alone.object_id),
            Deletion::ServicePrincipal(replaced.object_id),
            Deletion::ServicePrincipal(ObjectId::new_random()),
        ],
        service_principals: vec![renamed.clone(), renamed.clone()],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a batch that inserts a principal twice",
    );
    let passwords = store.list_password_credentials(app_id).await.expect("list");
    assert_eq!(passwords.len(), 1, "the failed batch deleted no credential");

    let batch = WriteBatch {
        deletions: vec![
            Deletion::ServicePrincipal(alone.object_id),
            Deletion::ServicePrincipal(replaced.object_id),
            Deletion::ServicePrincipal(ObjectId::new_random()),
        ],
        service_principals: vec![renamed.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("delete and replace");
    let got = store
        .get_service_principal(alone.object_id)
        .await
        .expect("get");
    assert_eq!(got, None, "deleted");
    let passwords = store.list_password_credentials(app_id).await.expect("list");
    assert!(
        passwords.is_empty(),
        "its unowned password credentials went with it"
    );
    let keys = store.list_key_credentials(app_id).await.expect("list");
    assert!(keys.is_empty(), "its unowned key credentials went with it");
    let got = store
        .get_service_principal(replaced.object_id)
        .await
        .expect("get");
    assert_eq!(got, Some(renamed), "deleted, then inserted anew");
}
