//! What the tracked resource types the providers serve have in common: the handler
//! preamble (authorize, then the subscription, then the group), ARM's `ResourceNotFound`,
//! name and location rules, lists filtered by what the caller may read, the service
//! principals a resource owns, and deleting a resource together with them.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use azlite_authz::Authorized;
use azlite_store::{
    Deletion, Resource, ServicePrincipal, ServicePrincipalKind, Subscription, WriteBatch,
};
use azlite_types::{ClientId, ObjectId, ResourceId, SubscriptionId, TenantId};
use serde_json::{Value, json};

use crate::groups::normalize_location;
use crate::providers::TrackedResource;
use crate::providers::managed_identity::USER_ASSIGNED_IDENTITIES;
use crate::providers::managed_identity::identity_block::ResourceIdentity;
use crate::subscriptions::subscription_for;
use crate::wire::json;
use crate::{Arm, ArmError, Caller};

/// `(namespace, type)` of a served resource type.
pub(crate) type Kind = (&'static str, &'static str);

/// The full type, `Namespace/type`.
pub(crate) fn type_name((namespace, resource_type): Kind) -> String {
    format!("{namespace}/{resource_type}")
}

/// The action ARM checks for `verb` (`read`, `write`, `delete`) on a resource of `kind`
/// (reference §3.8).
pub(crate) fn action(kind: Kind, verb: &str) -> String {
    format!("{}/{verb}", type_name(kind))
}

/// The verb of the action a method needs on a tracked resource (reference §3.8): PUT and
/// PATCH write, DELETE deletes, anything else reads.
pub(crate) fn verb_of(method: &Method) -> &'static str {
    match *method {
        Method::PUT | Method::PATCH => "write",
        Method::DELETE => "delete",
        _ => "read",
    }
}

/// What the preamble of a tracked-resource handler found.
pub(crate) struct Preamble {
    /// The proof that the caller may perform the action on the resource.
    pub(crate) authorized: Authorized<'static>,
    /// The resource's subscription.
    pub(crate) subscription: Subscription,
}

/// The preamble every handler of one tracked resource runs, in ARM's order: the caller
/// must hold `action` on the resource (403 before anything is read, so a caller without
/// rights learns nothing of what exists), then the subscription must exist and trust the
/// caller's tenant, then the group must exist (404 `ResourceGroupNotFound`).
pub(crate) async fn preamble(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    action: &str,
) -> Result<Preamble, ArmError> {
    let authorized = arm.authorize(caller, &resource.id, action)?;
    let subscription = subscription_for(arm, caller, resource.subscription).await?;
    require_group(arm, resource).await?;
    Ok(Preamble {
        authorized,
        subscription,
    })
}

/// [`preamble`] for the action `method` needs on a resource of `kind` ([`verb_of`]).
pub(crate) async fn preamble_for(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    kind: Kind,
    resource: &TrackedResource,
) -> Result<Preamble, ArmError> {
    preamble(arm, caller, resource, &action(kind, verb_of(method))).await
}

/// The group of a resource, which must exist: 404 `ResourceGroupNotFound` otherwise.
pub(crate) async fn require_group(arm: &Arm, resource: &TrackedResource) -> Result<(), ArmError> {
    arm.store
        .get_resource_group(resource.subscription, &resource.group)
        .await?
        .map(|_| ())
        .ok_or_else(|| crate::groups::not_found(&resource.group))
}

/// 404 `ResourceNotFound`, worded as ARM words it (reference §1.8).
pub(crate) fn not_found(kind: Kind, resource: &TrackedResource) -> ArmError {
    ArmError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource '{}/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            type_name(kind),
            resource.name,
            resource.group
        ),
    )
}

/// 400 `InvalidResourceName` with the rule that was broken (the wording is the resource
/// provider's own, reference §1.8).
pub(crate) fn invalid_name(kind: Kind, name: &str, rule: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidResourceName",
        format!(
            "Resource name '{name}' is invalid for type '{}'. {rule}",
            type_name(kind)
        ),
    )
}

/// The location of a PUT: required, and an existing resource cannot move.
pub(crate) fn put_location(
    location: Option<String>,
    existing: Option<&Resource>,
    resource: &TrackedResource,
) -> Result<String, ArmError> {
    let location = location.filter(|l| !l.trim().is_empty()).ok_or_else(|| {
        ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        )
    })?;
    match existing {
        Some(old) if normalize_location(&old.location) != normalize_location(&location) => {
            Err(ArmError::bad_request(
                "InvalidResourceLocation",
                format!(
                    "The resource '{}' already exists in location '{}' in resource group '{}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.",
                    resource.name, old.location, resource.group
                ),
            ))
        }
        Some(old) => Ok(old.location.clone()),
        None => Ok(location),
    }
}

/// A new resource to store, or an existing one rewritten (its `created_at` kept by the store).
pub(crate) fn stored(
    arm: &Arm,
    resource: &TrackedResource,
    kind: Kind,
    location: String,
    tags: BTreeMap<String, String>,
    body: Value,
) -> Resource {
    let now = arm.clock.now();
    Resource {
        id: resource.id.clone(),
        subscription_id: resource.subscription,
        resource_group: resource.group.clone(),
        resource_type: type_name(kind),
        name: resource.name.clone(),
        location,
        tags,
        body,
        created_at: now,
        updated_at: now,
    }
}

/// Stores a tracked resource with `body` (an upsert: the store keeps `created_at`) and
/// answers what was stored.
pub(crate) async fn write_tracked(
    arm: &Arm,
    resource: &TrackedResource,
    kind: Kind,
    location: String,
    tags: BTreeMap<String, String>,
    body: Value,
) -> Result<Resource, ArmError> {
    let stored = stored(arm, resource, kind, location, tags, body);
    arm.store
        .apply(WriteBatch {
            resources: vec![stored.clone()],
            ..Default::default()
        })
        .await?;
    Ok(stored)
}

/// Refuses, with 409 `code` and `message`, a name of `kind` held by another resource
/// anywhere (vault and account names are global: they name a data-plane host).
pub(crate) async fn require_free_name(
    arm: &Arm,
    resource: &TrackedResource,
    kind: Kind,
    code: &'static str,
    message: String,
) -> Result<(), ArmError> {
    let holders = arm
        .store
        .find_resources_by_name(&type_name(kind), &resource.name)
        .await?;
    if holders.iter().any(|r| r.id != resource.id) {
        return Err(ArmError::new(StatusCode::CONFLICT, code, message));
    }
    Ok(())
}

/// A new managed identity's service principal: random object and client ids, in the
/// subscription's tenant, tied to the ARM id it belongs to (`xms_mirid`).
pub(crate) fn new_principal(
    arm: &Arm,
    tenant_id: TenantId,
    display_name: &str,
    resource_id: &ResourceId,
) -> ServicePrincipal {
    ServicePrincipal {
        object_id: ObjectId::new_random(),
        app_id: ClientId::new_random(),
        tenant_id,
        display_name: display_name.to_owned(),
        kind: ServicePrincipalKind::ManagedIdentity,
        managed_identity_resource_id: Some(resource_id.as_str().to_owned()),
        created_at: arm.clock.now(),
    }
}

/// The service principals a stored resource owns and takes with it when deleted: a
/// user-assigned identity's own principal, and any resource's system-assigned one. (The
/// user-assigned identities a resource uses belong to their own resources.)
pub(crate) fn owned_principals(resource: &Resource) -> Result<Vec<ObjectId>, ArmError> {
    let mut out = Vec::new();
    if resource
        .resource_type
        .eq_ignore_ascii_case(&type_name(USER_ASSIGNED_IDENTITIES))
        && let Some(principal) = resource.body.pointer("/properties/principalId")
    {
        let principal: ObjectId =
            serde_json::from_value(principal.clone()).map_err(|e| ArmError::internal(&e))?;
        out.push(principal);
    }
    if let Some(system) = ResourceIdentity::from_body(&resource.body)?.system {
        out.push(system.principal_id);
    }
    Ok(out)
}

/// Deletes a resource, what is below it, the principals it owns and the role assignments at
/// or below it, in one batch, then forgets those assignments.
pub(crate) async fn delete_with_principals(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    resource: &Resource,
) -> Result<(), ArmError> {
    let mut deletions = vec![Deletion::Resource(resource.id.clone())];
    deletions.extend(
        owned_principals(resource)?
            .into_iter()
            .map(Deletion::ServicePrincipal),
    );
    let _writes = arm.assignment_writes.lock().await;
    arm.store
        .apply(WriteBatch {
            deletions,
            ..Default::default()
        })
        .await?;
    arm.forget_assignments_at_or_below(&resource.id);
    Ok(())
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/{ns}/{type}`: the resources of
/// `kind` the caller may read. With nothing visible and no right at the listed scope, ARM
/// refuses rather than answering an empty list (as for resource groups).
pub(crate) async fn list_of_kind(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
    kind: Kind,
    render: impl Fn(&Resource) -> Result<Value, ArmError>,
) -> Result<Response, ArmError> {
    let read = action(kind, "read");
    let scope = match group {
        Some(name) => ResourceId::resource_group(s, name),
        None => ResourceId::subscription(s),
    };
    let allowed_at_scope = arm.can(caller, &scope, &read);
    subscription_for(arm, caller, s).await?;
    if let Some(name) = group
        && arm.store.get_resource_group(s, name).await?.is_none()
    {
        let _authorized = arm.authorize(caller, &scope, &read)?;
        return Err(crate::groups::not_found(name));
    }
    let mut value = Vec::new();
    for resource in arm
        .store
        .list_resources(s, group, Some(&type_name(kind)))
        .await?
    {
        if allowed_at_scope || arm.can(caller, &resource.id, &read) {
            value.push(render(&resource)?);
        }
    }
    if value.is_empty() && !allowed_at_scope {
        let _authorized = arm.authorize(caller, &scope, &read)?;
    }
    Ok(json(StatusCode::OK, json!({ "value": value })))
}
