//! Fresh objects for the checks: random ids, unique names, fixed times.

use std::collections::BTreeMap;

use azlite_types::{ClientId, ObjectId, ResourceId, SubscriptionId, TenantId, UnixTime};
use uuid::Uuid;

use crate::{
    Application, KeyCredential, PasswordCredential, Resource, ResourceGroup, RoleAssignmentRecord,
    ServicePrincipal, ServicePrincipalKind, StoreError, StoreResult, Subscription, Tenant, User,
};

/// A fixed point in time the checks count from (2023-11-14).
pub(super) const T0: UnixTime = 1_700_000_000;

/// A token unique to one call, usable in names, domains and keys.
pub(super) fn unique() -> String {
    Uuid::new_v4().simple().to_string()
}

pub(super) fn tenant(created_at: UnixTime) -> Tenant {
    Tenant {
        id: TenantId::new_random(),
        display_name: "Conformance".to_owned(),
        default_domain: format!("c{}.onmicrosoft.com", unique()),
        created_at,
    }
}

pub(super) fn subscription(tenant: TenantId, created_at: UnixTime) -> Subscription {
    Subscription {
        id: SubscriptionId::new_random(),
        tenant_id: tenant,
        display_name: "Pay-As-You-Go".to_owned(),
        state: "Enabled".to_owned(),
        created_at,
    }
}

pub(super) fn application(tenant: TenantId, identifier_uris: &[&str]) -> Application {
    Application {
        object_id: ObjectId::new_random(),
        app_id: ClientId::new_random(),
        tenant_id: tenant,
        display_name: "conformance-app".to_owned(),
        identifier_uris: identifier_uris
            .iter()
            .map(|uri| (*uri).to_owned())
            .collect(),
        access_token_version: 2,
        created_at: T0,
    }
}

pub(super) fn service_principal(
    tenant: TenantId,
    app_id: ClientId,
    created_at: UnixTime,
) -> ServicePrincipal {
    ServicePrincipal {
        object_id: ObjectId::new_random(),
        app_id,
        tenant_id: tenant,
        display_name: "conformance-sp".to_owned(),
        kind: ServicePrincipalKind::Application,
        managed_identity_resource_id: None,
        created_at,
    }
}

pub(super) fn password_credential(app_id: ClientId, name: &str) -> PasswordCredential {
    PasswordCredential {
        key_id: Uuid::new_v4(),
        app_id,
        display_name: name.to_owned(),
        hint: "abc".to_owned(),
        salt: vec![1, 2, 3, 4],
        secret_hash: vec![0xab; 32],
        start: T0,
        end: T0 + 86_400,
    }
}

pub(super) fn key_credential(app_id: ClientId, name: &str) -> KeyCredential {
    KeyCredential {
        key_id: Uuid::new_v4(),
        app_id,
        display_name: name.to_owned(),
        // Not a real certificate: the store keeps bytes, it does not parse them. The zero
        // byte checks that they round-trip as bytes, not as text.
        certificate_der: vec![0x30, 0x82, 0x00, 0x01, 0xff],
        start: T0,
        end: T0 + 86_400,
    }
}

pub(super) fn user(tenant: TenantId, user_principal_name: &str) -> User {
    User {
        object_id: ObjectId::new_random(),
        tenant_id: tenant,
        user_principal_name: user_principal_name.to_owned(),
        display_name: "Conformance User".to_owned(),
        password_salt: vec![9, 8, 7],
        password_hash: vec![0x5a; 32],
        created_at: T0,
    }
}

pub(super) fn resource_group(
    subscription: SubscriptionId,
    name: &str,
    created_at: UnixTime,
) -> ResourceGroup {
    ResourceGroup {
        subscription_id: subscription,
        name: name.to_owned(),
        location: "eastus".to_owned(),
        tags: BTreeMap::from([("env".to_owned(), "conformance".to_owned())]),
        managed_by: None,
        created_at,
        updated_at: created_at,
    }
}

/// A resource of `resource_type` (`Namespace/type`) named `name` in `group`.
pub(super) fn resource(
    group: &ResourceGroup,
    resource_type: &str,
    name: &str,
    created_at: UnixTime,
) -> Resource {
    let id = format!(
        "{}/providers/{resource_type}/{name}",
        ResourceId::resource_group(group.subscription_id, &group.name)
    );
    Resource {
        id: id.parse().expect("a well-formed resource id"),
        subscription_id: group.subscription_id,
        resource_group: group.name.clone(),
        resource_type: resource_type.to_owned(),
        name: name.to_owned(),
        location: group.location.clone(),
        tags: BTreeMap::new(),
        // Nesting, numbers, nulls and non-ASCII text: the body round-trips as JSON.
        body: serde_json::json!({
            "identity": {"type": "SystemAssigned", "principalId": null},
            "properties": {"provisioningState": "Succeeded", "sizeGb": 1.5, "zones": ["1", "2"]},
            "kind": "Größe",
        }),
        created_at,
        updated_at: created_at,
    }
}

/// A child resource of `parent`: `{parent id}/{child_type}/{name}`.
pub(super) fn child_resource(
    parent: &Resource,
    child_type: &str,
    name: &str,
    created_at: UnixTime,
) -> Resource {
    let id = format!("{}/{child_type}/{name}", parent.id);
    Resource {
        id: id.parse().expect("a well-formed child resource id"),
        resource_type: format!("{}/{child_type}", parent.resource_type),
        name: name.to_owned(),
        body: serde_json::json!({"properties": {}}),
        created_at,
        updated_at: created_at,
        ..parent.clone()
    }
}

/// An assignment of a random role to `principal` at `scope`.
pub(super) fn role_assignment(
    scope: &ResourceId,
    principal: ObjectId,
    created_at: UnixTime,
) -> RoleAssignmentRecord {
    RoleAssignmentRecord {
        id: Uuid::new_v4(),
        scope: scope.clone(),
        principal_id: principal,
        principal_type: "ServicePrincipal".to_owned(),
        role_definition_id: Uuid::new_v4(),
        description: Some("conformance".to_owned()),
        created_at,
        updated_at: created_at,
        created_by: Some(ObjectId::new_random()),
    }
}

/// Asserts that `result` is a [`StoreError::Conflict`].
#[track_caller]
pub(super) fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(message)) => {
            assert!(
                !message.is_empty(),
                "{what}: the conflict should say what collided"
            );
        }
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}
