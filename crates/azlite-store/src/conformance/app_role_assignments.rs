//! Checks of app role assignments (Microsoft Graph's `appRoleAssignment`).

use azlite_types::{ClientId, ObjectId, TenantId};
use uuid::Uuid;

use super::fixtures::{T0, application, assert_conflict, service_principal, unique};
use crate::{AppRoleAssignment, Deletion, ServicePrincipal, Store, WriteBatch};

fn grant(
    principal: &ServicePrincipal,
    resource: &ServicePrincipal,
    role: Uuid,
) -> AppRoleAssignment {
    AppRoleAssignment {
        id: unique(),
        tenant_id: principal.tenant_id,
        principal_id: principal.object_id,
        principal_type: "ServicePrincipal".to_owned(),
        resource_id: resource.object_id,
        app_role_id: role,
        created_at: T0,
    }
}

async fn insert(store: &dyn Store, assignments: Vec<AppRoleAssignment>) -> crate::StoreResult<()> {
    store
        .apply(WriteBatch {
            app_role_assignments: assignments,
            ..WriteBatch::default()
        })
        .await
}

async fn ids_of_principal(store: &dyn Store, principal: ObjectId) -> Vec<String> {
    let held = store
        .list_app_role_assignments_for_principal(principal)
        .await;
    held.expect("list_app_role_assignments_for_principal")
        .into_iter()
        .map(|a| a.id)
        .collect()
}

async fn ids_on_resource(store: &dyn Store, resource: ObjectId) -> Vec<String> {
    let granted = store.list_app_role_assignments_for_resource(resource).await;
    granted
        .expect("list_app_role_assignments_for_resource")
        .into_iter()
        .map(|a| a.id)
        .collect()
}

/// Assignments round-trip, list by principal and by resource in the order granted, conflict
/// on a duplicate id or a duplicate (principal, resource, role), and are deleted by id.
pub async fn app_role_assignments(store: &dyn Store) {
    let tenant = TenantId::new_random();
    let resource = service_principal(tenant, ClientId::new_random(), T0);
    let alice = service_principal(tenant, ClientId::new_random(), T0);
    let bob = service_principal(tenant, ClientId::new_random(), T0);
    let (read, write) = (Uuid::new_v4(), Uuid::new_v4());
    let batch = WriteBatch {
        service_principals: vec![resource.clone(), alice.clone(), bob.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply principals");

    let first = grant(&alice, &resource, read);
    let second = grant(&alice, &resource, write);
    let third = grant(&bob, &resource, read);
    insert(store, vec![first.clone(), second.clone()])
        .await
        .expect("grant two roles");
    insert(store, vec![third.clone()]).await.expect("grant bob");

    let got = store.get_app_role_assignment(&first.id).await;
    assert_eq!(
        got.expect("get_app_role_assignment"),
        Some(first.clone()),
        "an assignment round-trips"
    );
    let missing = store.get_app_role_assignment(&unique()).await;
    assert_eq!(
        missing.expect("get_app_role_assignment"),
        None,
        "an unknown id"
    );
    assert_eq!(
        ids_of_principal(store, alice.object_id).await,
        vec![first.id.clone(), second.id.clone()],
        "a principal's assignments, in the order granted"
    );
    assert_eq!(
        ids_on_resource(store, resource.object_id).await,
        vec![first.id.clone(), second.id.clone(), third.id.clone()],
        "the assignments granted on a resource, in the order granted"
    );
    assert!(
        ids_on_resource(store, alice.object_id).await.is_empty(),
        "nothing is granted on a principal that defines no role"
    );

    let mut same_id = grant(&bob, &resource, write);
    same_id.id = first.id.clone();
    assert_conflict(insert(store, vec![same_id]).await, "a duplicate id");
    let same_triple = grant(&alice, &resource, read);
    let fresh = grant(&bob, &resource, write);
    assert_conflict(
        insert(store, vec![fresh.clone(), same_triple]).await,
        "a duplicate (principal, resource, role)",
    );
    assert_eq!(
        store.get_app_role_assignment(&fresh.id).await.expect("get"),
        None,
        "a conflicting batch writes nothing"
    );

    let batch = WriteBatch {
        deletions: vec![
            Deletion::AppRoleAssignment(first.id.clone()),
            Deletion::AppRoleAssignment(unique()),
        ],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("delete an assignment");
    assert_eq!(
        ids_of_principal(store, alice.object_id).await,
        vec![second.id.clone()],
        "a deleted assignment is gone, an unknown id deletes nothing"
    );
    insert(store, vec![grant(&alice, &resource, read)])
        .await
        .expect("the same role may be granted again once revoked");
}

/// Deleting a service principal, however it is deleted, deletes the assignments it holds
/// and those granted on it, and no other.
pub async fn app_role_assignment_cascade(store: &dyn Store) {
    let tenant = TenantId::new_random();
    let app = application(tenant, &[]);
    let resource = service_principal(tenant, ClientId::new_random(), T0);
    let other_resource = service_principal(tenant, ClientId::new_random(), T0);
    let by_batch = service_principal(tenant, ClientId::new_random(), T0);
    let by_method = service_principal(tenant, ClientId::new_random(), T0);
    let of_app = service_principal(tenant, app.app_id, T0);
    let bystander = service_principal(tenant, ClientId::new_random(), T0);
    let batch = WriteBatch {
        applications: vec![app.clone()],
        service_principals: vec![
            resource.clone(),
            other_resource.clone(),
            by_batch.clone(),
            by_method.clone(),
            of_app.clone(),
            bystander.clone(),
        ],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply principals");
    let role = Uuid::new_v4();
    let kept = grant(&bystander, &other_resource, role);
    insert(
        store,
        vec![
            grant(&by_batch, &resource, role),
            grant(&by_method, &resource, role),
            grant(&of_app, &resource, role),
            grant(&bystander, &resource, role),
            kept.clone(),
        ],
    )
    .await
    .expect("grant");

    let batch = WriteBatch {
        deletions: vec![Deletion::ServicePrincipal(by_batch.object_id)],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("delete by batch");
    assert!(ids_of_principal(store, by_batch.object_id).await.is_empty());
    assert!(
        store
            .delete_service_principal(by_method.object_id)
            .await
            .expect("delete_service_principal")
    );
    assert!(
        ids_of_principal(store, by_method.object_id)
            .await
            .is_empty()
    );
    let batch = WriteBatch {
        deletions: vec![Deletion::Application(app.object_id)],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("delete the application");
    assert!(
        ids_of_principal(store, of_app.object_id).await.is_empty(),
        "an application's deletion takes its principal's assignments"
    );
    assert_eq!(
        ids_on_resource(store, resource.object_id).await.len(),
        1,
        "only the bystander's assignment is left on the resource"
    );

    let batch = WriteBatch {
        deletions: vec![Deletion::ServicePrincipal(resource.object_id)],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("delete the resource");
    assert!(
        ids_on_resource(store, resource.object_id).await.is_empty(),
        "a resource's deletion takes what was granted on it"
    );
    assert_eq!(
        ids_of_principal(store, bystander.object_id).await,
        vec![kept.id],
        "assignments on other resources stay"
    );
}
