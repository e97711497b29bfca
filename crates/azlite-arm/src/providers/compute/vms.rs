//! Virtual machines (`Microsoft.Compute/virtualMachines`, SPEC-VM, reference §2.4), as far
//! as the managed-identity tutorials need them: the body is stored and echoed (plus
//! `provisioningState: Succeeded` and a stable `vmId`); nothing runs. What is real is the
//! `identity` block ([`crate::providers::managed_identity::identity_block`]):
//!
//! - turning `SystemAssigned` on creates a service principal (kind `ManagedIdentity`, its
//!   `xms_mirid` the VM's id) in the same batch as the VM; turning it off, or deleting the
//!   VM, deletes the principal in the same batch;
//! - attaching a user-assigned identity the VM did not have needs, besides
//!   `virtualMachines/write` on the VM, `userAssignedIdentities/assign/action` on the
//!   identity: ARM's linked authorization, 403 `LinkedAuthorizationFailed` (§1.8); then
//!   the identity must exist: 400 `FailedIdentityOperation`, the code ARM answers when the
//!   Managed Identity service cannot find it.
//!
//! Answers are synchronous: PUT 201/200, PATCH 200, DELETE 200/204 (reference §1.5, §1.7).

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_authz::Authorized;
use azlite_store::{Resource, ServicePrincipal, WriteBatch};
use azlite_types::{ObjectId, SubscriptionId, TenantId};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::VIRTUAL_MACHINES as KIND;
use crate::providers::TrackedResource;
use crate::providers::managed_identity::USER_ASSIGNED_IDENTITIES;
use crate::providers::managed_identity::identities::principal_of;
use crate::providers::managed_identity::identity_block::{
    self, AttachedIdentity, ResourceIdentity, SystemIdentity, UnverifiedIdentity,
};
use crate::resources::{self, Preamble, type_name};
use crate::wire::{body, json};
use crate::{Arm, ArmError, Caller};

/// The linked action ARM checks on each user-assigned identity a write attaches.
const ASSIGN: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action";

/// The body of a PUT (`VirtualMachine`): `name` and read-only members are ignored.
#[derive(Debug, Deserialize)]
struct PutVirtualMachine {
    location: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    identity: Option<Value>,
    properties: Option<Value>,
    zones: Option<Value>,
}

/// The body of a PATCH (`VirtualMachineUpdate`).
#[derive(Debug, Deserialize)]
struct PatchVirtualMachine {
    tags: Option<BTreeMap<String, String>>,
    identity: Option<Value>,
    properties: Option<Value>,
}

/// The wire form of a VM: the stored body, with the identity block as stored.
fn vm_json(resource: &Resource) -> Value {
    let mut value = json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.resource_type,
        "location": resource.location,
        "tags": resource.tags,
    });
    for key in ["identity", "zones"] {
        if let Some(v) = resource.body.get(key).filter(|v| !v.is_null()) {
            value[key] = v.clone();
        }
    }
    value["properties"] = resource.body.get("properties").cloned().unwrap_or_default();
    value
}

/// VM names: 1–64 characters of letters, digits, `-`, `_` and `.`, not starting with `_`
/// nor ending with `.` or `-` (DOC-NAMES).
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('_')
        && !name.ends_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// RFC 7396 JSON merge patch: objects merge member by member, `null` removes, anything else
/// replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(object) = target {
        for (key, value) in members {
            if value.is_null() {
                object.remove(key);
            } else {
                merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// The stored properties: what the client sent, with the read-only members set.
fn with_read_only(properties: Option<Value>, vm_id: &str) -> Result<Value, ArmError> {
    let mut properties = match properties {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(object @ Value::Object(_)) => object,
        Some(_) => {
            return Err(ArmError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties' must be an object.",
            ));
        }
    };
    properties["provisioningState"] = json!("Succeeded");
    properties["vmId"] = json!(vm_id);
    Ok(properties)
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Compute/virtualMachines`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
) -> Result<Response, ArmError> {
    resources::list_of_kind(arm, caller, s, group, KIND, |r| Ok(vm_json(r))).await
}

/// What a write works on besides its body.
struct Target<'a> {
    caller: &'a Caller,
    resource: &'a TrackedResource,
    tenant: TenantId,
    existing: Option<Resource>,
}

/// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Compute/virtualMachines/{name}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let Preamble {
        authorized,
        subscription,
    } = resources::preamble_for(arm, caller, method, KIND, resource).await?;
    if *method == Method::GET {
        let existing = arm.store.get_resource(&resource.id).await?;
        let found = existing.ok_or_else(|| resources::not_found(KIND, resource))?;
        return Ok(json(StatusCode::OK, vm_json(&found)));
    }
    let _writes = arm.resource_writes.lock().await;
    let existing = arm.store.get_resource(&resource.id).await?;
    let target = Target {
        caller,
        resource,
        tenant: subscription.tenant_id,
        existing,
    };
    match *method {
        Method::PUT => put(arm, &authorized, target, request).await,
        Method::PATCH => patch(arm, &authorized, target, request).await,
        _ => match target.existing {
            Some(found) => {
                resources::delete_with_principals(arm, &authorized, &found).await?;
                Ok(StatusCode::OK.into_response())
            }
            None => Ok(StatusCode::NO_CONTENT.into_response()),
        },
    }
}

/// Creates (201) or replaces (200) a VM. Without an `identity` member the VM keeps the
/// identities it has: ARM treats an absent identity as no change, so a PUT of a body read
/// earlier does not drop a principal that roles were granted to.
async fn put(
    arm: &Arm,
    authorized: &Authorized<'_>,
    target: Target<'_>,
    request: &[u8],
) -> Result<Response, ArmError> {
    let resource = target.resource;
    if !valid_name(&resource.name) {
        return Err(resources::invalid_name(
            KIND,
            &resource.name,
            "The name must be 1 to 64 characters long, contain only letters, digits, '-', '_' and '.', not start with '_' and not end with '.' or '-'.",
        ));
    }
    let put: PutVirtualMachine = body(request)?;
    let existing = target.existing.as_ref();
    let location = resources::put_location(put.location, existing, resource)?;
    let vm_id = existing
        .and_then(|r| r.body.pointer("/properties/vmId"))
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let properties = with_read_only(put.properties, &vm_id)?;
    let current = match existing {
        Some(r) => ResourceIdentity::from_body(&r.body)?,
        None => ResourceIdentity::default(),
    };
    let change = match put.identity.filter(|v| !v.is_null()) {
        Some(block) => {
            let request = UnverifiedIdentity::parse(&block)?;
            change_identity(arm, authorized, &target, &current, &request).await?
        }
        None => IdentityChange::unchanged(current),
    };
    let mut body = json!({ "properties": properties });
    if let Some(zones) = put.zones.filter(|z| !z.is_null()) {
        body["zones"] = zones;
    }
    let tags = put.tags.unwrap_or_default();
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let stored = commit(arm, &target, location, tags, body, change).await?;
    Ok(json(status, vm_json(&stored)))
}

/// Updates a VM: `properties` by JSON merge patch, `tags` replaced when given, the
/// identity block merged by [`identity_block::plan`]'s rules.
async fn patch(
    arm: &Arm,
    authorized: &Authorized<'_>,
    target: Target<'_>,
    request: &[u8],
) -> Result<Response, ArmError> {
    let Some(found) = &target.existing else {
        return Err(resources::not_found(KIND, target.resource));
    };
    let patch: PatchVirtualMachine = body(request)?;
    let mut body = found.body.clone();
    let vm_id = body
        .pointer("/properties/vmId")
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let mut properties = body.get("properties").cloned().unwrap_or_default();
    if let Some(changes) = &patch.properties {
        merge_patch(&mut properties, changes);
    }
    body["properties"] = with_read_only(Some(properties), &vm_id)?;
    let current = ResourceIdentity::from_body(&found.body)?;
    let change = match patch.identity.filter(|v| !v.is_null()) {
        Some(block) => {
            let request = UnverifiedIdentity::parse(&block)?;
            change_identity(arm, authorized, &target, &current, &request).await?
        }
        None => IdentityChange::unchanged(current),
    };
    let tags = patch.tags.unwrap_or_else(|| found.tags.clone());
    let location = found.location.clone();
    let stored = commit(arm, &target, location, tags, body, change).await?;
    Ok(json(StatusCode::OK, vm_json(&stored)))
}

/// A VM's identities after a write, and the principal changes that go with them.
struct IdentityChange {
    identity: ResourceIdentity,
    created: Option<ServicePrincipal>,
    deleted: Option<ObjectId>,
}

impl IdentityChange {
    fn unchanged(identity: ResourceIdentity) -> Self {
        Self {
            identity,
            created: None,
            deleted: None,
        }
    }
}

/// Applies a request's identity block to the VM's current identities: checks the linked
/// authorization and existence of each newly attached identity, and creates or retires the
/// system identity's principal.
async fn change_identity(
    arm: &Arm,
    vm_write: &Authorized<'_>,
    target: &Target<'_>,
    current: &ResourceIdentity,
    request: &UnverifiedIdentity,
) -> Result<IdentityChange, ArmError> {
    let plan = identity_block::plan(current, request)?;
    authorize_linked(arm, target.caller, vm_write, &plan.added)?;
    let mut user = plan.kept;
    for id in plan.added {
        let found = arm
            .store
            .get_resource(&id)
            .await?
            .filter(|r| {
                r.resource_type
                    .eq_ignore_ascii_case(&type_name(USER_ASSIGNED_IDENTITIES))
            })
            .ok_or_else(|| identity_not_found(target.resource, id.as_str()))?;
        let (principal_id, client_id) = principal_of(&found)?;
        user.push(AttachedIdentity {
            id,
            principal_id,
            client_id,
        });
    }
    let mut change = IdentityChange::unchanged(ResourceIdentity::default());
    change.identity.user = user;
    match (&current.system, plan.system) {
        (Some(kept), true) => change.identity.system = Some(kept.clone()),
        (None, true) => {
            let resource = target.resource;
            let principal =
                resources::new_principal(arm, target.tenant, &resource.name, &resource.id);
            change.identity.system = Some(SystemIdentity {
                principal_id: principal.object_id,
                tenant_id: principal.tenant_id,
            });
            change.created = Some(principal);
        }
        (Some(old), false) => change.deleted = Some(old.principal_id),
        (None, false) => {}
    }
    Ok(change)
}

/// Writes the VM and its principal changes in one batch; returns what was stored.
async fn commit(
    arm: &Arm,
    target: &Target<'_>,
    location: String,
    tags: BTreeMap<String, String>,
    mut body: Value,
    change: IdentityChange,
) -> Result<Resource, ArmError> {
    match (change.identity.to_json(), body.as_object_mut()) {
        (Some(identity), Some(object)) => {
            object.insert("identity".into(), identity);
        }
        (None, Some(object)) => {
            object.remove("identity");
        }
        _ => {}
    }
    let stored = resources::stored(arm, target.resource, KIND, location, tags, body);
    let mut batch = WriteBatch {
        resources: vec![stored.clone()],
        ..Default::default()
    };
    batch.service_principals.extend(change.created);
    batch
        .deletions
        .extend(change.deleted.map(azlite_store::Deletion::ServicePrincipal));
    arm.store.apply(batch).await?;
    Ok(stored)
}

/// ARM's linked authorization: the caller needs `assign/action` on every identity it
/// attaches. The proof for the VM write is required, as ARM checks the linked scopes only
/// after the write itself was allowed, and names it in the message (reference §1.8).
fn authorize_linked(
    arm: &Arm,
    caller: &Caller,
    vm_write: &Authorized<'_>,
    linked: &[azlite_types::ResourceId],
) -> Result<(), ArmError> {
    let denied: Vec<&str> = linked
        .iter()
        .filter(|id| !arm.can(caller, id, ASSIGN))
        .map(|id| id.as_str())
        .collect();
    if denied.is_empty() {
        return Ok(());
    }
    Err(ArmError::new(
        StatusCode::FORBIDDEN,
        "LinkedAuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' has permission to perform action '{}' on scope '{}'; however, it does not have permission to perform action '{ASSIGN}' on the linked scope(s) '{}' or the linked scope(s) are invalid.",
            caller.client,
            caller.object_id,
            vm_write.action().as_str(),
            vm_write.scope(),
            denied.join(",")
        ),
    ))
}

/// 400 `FailedIdentityOperation`: what ARM answers when a resource names a user-assigned
/// identity the Managed Identity service cannot find (its message wraps the MSI service's
/// `BadRequest`).
fn identity_not_found(resource: &TrackedResource, identity: &str) -> ArmError {
    ArmError::bad_request(
        "FailedIdentityOperation",
        format!(
            "Identity operation for resource '{}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '{{\"error\":{{\"code\":\"BadRequest\",\"message\":\"Resource '{identity}' was not found.\"}}}}'.'.",
            resource.id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_names_follow_the_compute_rules() {
        assert!(valid_name("myVM"));
        assert!(valid_name("vm-1.prod_a"));
        assert!(valid_name(&"v".repeat(64)));
        assert!(!valid_name(&"v".repeat(65)));
        assert!(!valid_name(""));
        assert!(!valid_name("_vm"));
        assert!(!valid_name("vm."));
        assert!(!valid_name("vm-"));
        assert!(!valid_name("my vm"));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({ "a": "b", "c": { "d": "e", "f": "g" }, "l": [1, 2] });
        merge_patch(
            &mut target,
            &json!({ "a": "z", "c": { "f": null, "h": 1 }, "l": [3], "n": { "x": null } }),
        );
        assert_eq!(
            target,
            json!({ "a": "z", "c": { "d": "e", "h": 1 }, "l": [3], "n": {} })
        );
        let mut scalar = json!("x");
        merge_patch(&mut scalar, &json!({ "k": 1 }));
        assert_eq!(scalar, json!({ "k": 1 }));
    }

    #[test]
    fn read_only_properties_are_set_by_azlite() {
        let properties = with_read_only(
            Some(json!({ "provisioningState": "Creating", "vmId": "mine", "x": 1 })),
            "the-id",
        )
        .unwrap();
        assert_eq!(
            properties,
            json!({ "provisioningState": "Succeeded", "vmId": "the-id", "x": 1 })
        );
        assert!(with_read_only(Some(json!([])), "id").is_err());
    }
}
