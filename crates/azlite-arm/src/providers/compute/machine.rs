//! What virtual machines ([`super::vms`]) and scale sets ([`super::scale_sets`]) share: the
//! handler of one resource (GET, PUT, PATCH, DELETE), and the `identity` block
//! ([`crate::providers::managed_identity::identity_block`]) that makes them matter here:
//!
//! - turning `SystemAssigned` on creates a service principal (kind `ManagedIdentity`, its
//!   `xms_mirid` the resource's id) in the same batch as the resource; turning it off, or
//!   deleting the resource, deletes the principal in the same batch;
//! - attaching a user-assigned identity the resource did not have needs, besides `…/write`
//!   on the resource, `userAssignedIdentities/assign/action` on the identity: ARM's linked
//!   authorization, 403 `LinkedAuthorizationFailed` (§1.8); then the identity must exist:
//!   400 `FailedIdentityOperation`, the code ARM answers when the Managed Identity service
//!   cannot find it.
//!
//! A [`Machine`] says how its body is built from a request and shown; everything is
//! validated before anything is written. Answers are synchronous: PUT 201/200, PATCH 200,
//! DELETE 200/204 (reference §1.5, §1.7).

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_authz::Authorized;
use azlite_store::{Resource, ServicePrincipal, WriteBatch};
use azlite_types::{ObjectId, ResourceId, TenantId};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::providers::TrackedResource;
use crate::providers::managed_identity::USER_ASSIGNED_IDENTITIES;
use crate::providers::managed_identity::identities::principal_of;
use crate::providers::managed_identity::identity_block::{
    self, AttachedIdentity, ResourceIdentity, SystemIdentity, UnverifiedIdentity,
};
use crate::resources::{self, Kind, Preamble, type_name};
use crate::wire::{body, json};
use crate::{Arm, ArmError, Caller};

/// The linked action ARM checks on each user-assigned identity a write attaches.
const ASSIGN: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action";

/// The members of a request body a [`Machine`] builds its stored body from (`identity`,
/// `location` and `tags` are handled here; `name` and read-only members are ignored).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Members {
    /// `properties`.
    pub(crate) properties: Option<Value>,
    /// `zones`.
    pub(crate) zones: Option<Value>,
    /// `sku` (scale sets).
    pub(crate) sku: Option<Value>,
}

/// The body of a PUT.
#[derive(Debug, Deserialize)]
struct Put {
    location: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    identity: Option<Value>,
    #[serde(flatten)]
    members: Members,
}

/// The body of a PATCH (`…Update` in the compute spec).
#[derive(Debug, Deserialize)]
struct Patch {
    tags: Option<BTreeMap<String, String>>,
    identity: Option<Value>,
    #[serde(flatten)]
    members: Members,
}

/// A compute resource with an identity block.
pub(crate) trait Machine {
    /// Its `(namespace, type)`.
    const KIND: Kind;
    /// The wire form of a stored one.
    fn render(resource: &Resource) -> Value;
    /// The stored body (without `identity`) of a PUT, from the request's members and the
    /// resource it replaces, if any.
    fn put_body(members: Members, existing: Option<&Resource>) -> Result<Value, ArmError>;
    /// The stored body (without `identity`) of `found` after a PATCH with `members`.
    fn patch_body(members: Members, found: &Resource) -> Result<Value, ArmError>;
}

/// What a write works on besides its body.
struct Target<'a> {
    caller: &'a Caller,
    resource: &'a TrackedResource,
    kind: Kind,
    tenant: TenantId,
    existing: Option<Resource>,
}

/// `GET|PUT|PATCH|DELETE` of one machine.
pub(crate) async fn one<M: Machine>(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let Preamble {
        authorized,
        subscription,
    } = resources::preamble_for(arm, caller, method, M::KIND, resource).await?;
    if *method == Method::GET {
        let existing = arm.store.get_resource(&resource.id).await?;
        let found = existing.ok_or_else(|| resources::not_found(M::KIND, resource))?;
        return Ok(json(StatusCode::OK, M::render(&found)));
    }
    let _writes = arm.resource_writes.lock().await;
    let existing = arm.store.get_resource(&resource.id).await?;
    let target = Target {
        caller,
        resource,
        kind: M::KIND,
        tenant: subscription.tenant_id,
        existing,
    };
    match *method {
        Method::PUT => put::<M>(arm, &authorized, target, request).await,
        Method::PATCH => patch::<M>(arm, &authorized, target, request).await,
        _ => match target.existing {
            Some(found) => {
                resources::delete_with_principals(arm, &authorized, &found).await?;
                Ok(StatusCode::OK.into_response())
            }
            None => Ok(StatusCode::NO_CONTENT.into_response()),
        },
    }
}

/// Creates (201) or replaces (200) a machine. Without an `identity` member it keeps the
/// identities it has: ARM treats an absent identity as no change, so a PUT of a body read
/// earlier does not drop a principal that roles were granted to.
async fn put<M: Machine>(
    arm: &Arm,
    authorized: &Authorized<'_>,
    target: Target<'_>,
    request: &[u8],
) -> Result<Response, ArmError> {
    let resource = target.resource;
    if !valid_name(&resource.name) {
        return Err(resources::invalid_name(
            M::KIND,
            &resource.name,
            "The name must be 1 to 64 characters long, contain only letters, digits, '-', '_' and '.', not start with '_' and not end with '.' or '-'.",
        ));
    }
    let put: Put = body(request)?;
    let existing = target.existing.as_ref();
    let location = resources::put_location(put.location, existing, resource)?;
    let body = M::put_body(put.members, existing)?;
    let current = match existing {
        Some(r) => ResourceIdentity::from_body(&r.body)?,
        None => ResourceIdentity::default(),
    };
    let change = change_identity(arm, authorized, &target, current, put.identity).await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let tags = put.tags.unwrap_or_default();
    let stored = commit(arm, &target, location, tags, body, change).await?;
    Ok(json(status, M::render(&stored)))
}

/// Updates a machine: the body as [`Machine::patch_body`] says, `tags` replaced when given,
/// the identity block merged by [`identity_block::plan`]'s rules.
async fn patch<M: Machine>(
    arm: &Arm,
    authorized: &Authorized<'_>,
    target: Target<'_>,
    request: &[u8],
) -> Result<Response, ArmError> {
    let Some(found) = &target.existing else {
        return Err(resources::not_found(M::KIND, target.resource));
    };
    let patch: Patch = body(request)?;
    let body = M::patch_body(patch.members, found)?;
    let current = ResourceIdentity::from_body(&found.body)?;
    let change = change_identity(arm, authorized, &target, current, patch.identity).await?;
    let tags = patch.tags.unwrap_or_else(|| found.tags.clone());
    let location = found.location.clone();
    let stored = commit(arm, &target, location, tags, body, change).await?;
    Ok(json(StatusCode::OK, M::render(&stored)))
}

/// A machine's identities after a write, and the principal changes that go with them.
struct IdentityChange {
    identity: ResourceIdentity,
    created: Option<ServicePrincipal>,
    deleted: Option<ObjectId>,
}

/// Applies a request's identity block (none or `null`: no change) to the machine's current
/// identities: checks the linked authorization and existence of each newly attached
/// identity, and creates or retires the system identity's principal.
async fn change_identity(
    arm: &Arm,
    write: &Authorized<'_>,
    target: &Target<'_>,
    current: ResourceIdentity,
    block: Option<Value>,
) -> Result<IdentityChange, ArmError> {
    let unchanged = |identity| IdentityChange {
        identity,
        created: None,
        deleted: None,
    };
    let Some(block) = block.filter(|v| !v.is_null()) else {
        return Ok(unchanged(current));
    };
    let request = UnverifiedIdentity::parse(&block)?;
    let plan = identity_block::plan(&current, &request)?;
    authorize_linked(arm, target.caller, write, &plan.added)?;
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
    let mut change = unchanged(ResourceIdentity::default());
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

/// Writes the machine and its principal changes in one batch; returns what was stored.
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
    let stored = resources::stored(arm, target.resource, target.kind, location, tags, body);
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
/// attaches. The proof for the write itself is required, as ARM checks the linked scopes
/// only after the write was allowed, and names it in the message (reference §1.8).
fn authorize_linked(
    arm: &Arm,
    caller: &Caller,
    write: &Authorized<'_>,
    linked: &[ResourceId],
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
            write.action().as_str(),
            write.scope(),
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

/// VM and scale set names: 1–64 characters of letters, digits, `-`, `_` and `.`, not
/// starting with `_` nor ending with `.` or `-` (DOC-NAMES).
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('_')
        && !name.ends_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// RFC 7396 JSON merge patch: objects merge member by member, `null` removes, anything else
/// replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
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

/// A member that must be a JSON object when given (`null` or absent: an empty one).
pub(crate) fn object_member(value: Option<Value>, name: &str) -> Result<Value, ArmError> {
    match value {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(object @ Value::Object(_)) => Ok(object),
        Some(_) => Err(ArmError::bad_request(
            "InvalidRequestContent",
            format!(
                "The request content was invalid and could not be deserialized: '{name}' must be an object."
            ),
        )),
    }
}

/// The string at `pointer` in a stored body, or a new random GUID: the stable ids azlite
/// gives (`vmId`, `uniqueId`).
pub(crate) fn stable_guid(existing: Option<&Value>, pointer: &str) -> String {
    existing
        .and_then(|body| body.pointer(pointer))
        .and_then(Value::as_str)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_follow_the_compute_rules() {
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
    fn object_members_must_be_objects() {
        assert_eq!(object_member(None, "p").unwrap(), json!({}));
        assert_eq!(object_member(Some(json!(null)), "p").unwrap(), json!({}));
        assert_eq!(
            object_member(Some(json!({"a": 1})), "p").unwrap(),
            json!({"a": 1})
        );
        assert!(object_member(Some(json!([])), "p").is_err());
    }
}
