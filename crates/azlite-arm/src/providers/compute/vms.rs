//! Virtual machines (`Microsoft.Compute/virtualMachines`, SPEC-VM, reference §2.4), as far
//! as the managed-identity tutorials need them: the body is stored and echoed (plus
//! `provisioningState: Succeeded` and a stable `vmId`); nothing runs. What is real is the
//! `identity` block, handled by [`super::machine`].

use axum::http::Method;
use axum::response::Response;
use azlite_store::Resource;
use azlite_types::SubscriptionId;
use serde_json::{Value, json};

use super::VIRTUAL_MACHINES;
use super::machine::{self, Machine, Members, merge_patch, object_member, stable_guid};
use crate::providers::TrackedResource;
use crate::resources::{self, Kind};
use crate::{Arm, ArmError, Caller};

/// A virtual machine, as [`machine`] handles it.
pub(crate) struct VirtualMachine;

impl Machine for VirtualMachine {
    const KIND: Kind = VIRTUAL_MACHINES;

    fn render(resource: &Resource) -> Value {
        vm_json(resource)
    }

    fn put_body(members: Members, existing: Option<&Resource>) -> Result<Value, ArmError> {
        let vm_id = stable_guid(existing.map(|r| &r.body), "/properties/vmId");
        let properties = with_read_only(object_member(members.properties, "properties")?, &vm_id);
        let mut body = json!({ "properties": properties });
        if let Some(zones) = members.zones.filter(|z| !z.is_null()) {
            body["zones"] = zones;
        }
        Ok(body)
    }

    fn patch_body(members: Members, found: &Resource) -> Result<Value, ArmError> {
        let mut body = found.body.clone();
        let vm_id = stable_guid(Some(&found.body), "/properties/vmId");
        let mut properties = body.get("properties").cloned().unwrap_or_default();
        if let Some(changes) = &members.properties {
            merge_patch(&mut properties, changes);
        }
        let properties = object_member(Some(properties), "properties")?;
        body["properties"] = with_read_only(properties, &vm_id);
        Ok(body)
    }
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

/// The stored properties (an object): what the client sent, with the read-only members set.
fn with_read_only(mut properties: Value, vm_id: &str) -> Value {
    properties["provisioningState"] = json!("Succeeded");
    properties["vmId"] = json!(vm_id);
    properties
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Compute/virtualMachines`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
) -> Result<Response, ArmError> {
    resources::list_of_kind(arm, caller, s, group, VIRTUAL_MACHINES, |r| Ok(vm_json(r))).await
}

/// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Compute/virtualMachines/{name}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    machine::one::<VirtualMachine>(arm, caller, method, resource, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_properties_are_set_by_azlite() {
        let properties = with_read_only(
            json!({ "provisioningState": "Creating", "vmId": "mine", "x": 1 }),
            "the-id",
        );
        assert_eq!(
            properties,
            json!({ "provisioningState": "Succeeded", "vmId": "the-id", "x": 1 })
        );
    }
}
