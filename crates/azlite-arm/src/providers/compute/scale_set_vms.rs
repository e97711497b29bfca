//! The instances of a scale set (`virtualMachineScaleSets/{name}/virtualMachines`,
//! `VirtualMachineScaleSetVMs_List` and `_Get`): read-only, `"0"` to `sku.capacity - 1`,
//! from the list the scale set keeps ([`super::scale_sets::INSTANCES`]). Each instance shows
//! the scale set's identity block: its IMDS serves those identities.

use axum::http::StatusCode;
use axum::response::Response;
use azlite_store::Resource;
use serde_json::{Value, json};

use super::VIRTUAL_MACHINE_SCALE_SETS;
use super::scale_sets::INSTANCES;
use crate::providers::TrackedResource;
use crate::resources;
use crate::wire::json;
use crate::{Arm, ArmError, Caller};

/// The action that reads instances.
const READ: &str = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read";

/// The scale set, after the caller was allowed [`READ`] on `scope` (the scale set for a
/// list, the instance for a get).
async fn scale_set(
    arm: &Arm,
    caller: &Caller,
    scale_set: &TrackedResource,
    scope: &TrackedResource,
) -> Result<Resource, ArmError> {
    resources::preamble(arm, caller, scope, READ).await?;
    arm.store
        .get_resource(&scale_set.id)
        .await?
        .ok_or_else(|| resources::not_found(VIRTUAL_MACHINE_SCALE_SETS, scale_set))
}

/// The instances listed in a stored scale set: `(instanceId, vmId)`.
fn instances(scale_set: &Resource) -> impl Iterator<Item = (&str, &str)> {
    scale_set
        .body
        .get(INSTANCES)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i["instanceId"].as_str()?, i["vmId"].as_str()?)))
}

/// `GET …/virtualMachineScaleSets/{name}/virtualMachines`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
) -> Result<Response, ArmError> {
    let found = scale_set(arm, caller, resource, resource).await?;
    let value: Vec<Value> = instances(&found)
        .map(|(instance, vm_id)| instance_json(&found, instance, vm_id))
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// `GET …/virtualMachineScaleSets/{name}/virtualMachines/{instanceId}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    instance: &str,
) -> Result<Response, ArmError> {
    let scope = TrackedResource {
        id: format!("{}/virtualMachines/{instance}", resource.id)
            .parse()
            .map_err(|e| ArmError::internal(&e))?,
        ..resource.clone()
    };
    let found = scale_set(arm, caller, resource, &scope).await?;
    let (instance, vm_id) = instances(&found)
        .find(|(id, _)| *id == instance)
        .ok_or_else(|| {
            ArmError::not_found(
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.Compute/virtualMachineScaleSets/{}/virtualMachines/{instance}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    resource.name, resource.group
                ),
            )
        })?;
    Ok(json(StatusCode::OK, instance_json(&found, instance, vm_id)))
}

/// An instance's computer name: the scale set's `computerNamePrefix` (its name by default)
/// and the instance id in base 36 on six digits, as Azure names them.
fn computer_name(scale_set: &Resource, instance: &str) -> String {
    let prefix = scale_set
        .body
        .pointer("/properties/virtualMachineProfile/osProfile/computerNamePrefix")
        .and_then(Value::as_str)
        .unwrap_or(&scale_set.name);
    let mut n: u64 = instance.parse().unwrap_or_default();
    let mut digits = Vec::new();
    while n > 0 || digits.len() < 6 {
        digits.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
    }
    let suffix: String = digits.into_iter().rev().collect();
    format!("{prefix}{suffix}")
}

/// The wire form of an instance (`VirtualMachineScaleSetVM`).
fn instance_json(scale_set: &Resource, instance: &str, vm_id: &str) -> Value {
    let body = &scale_set.body;
    let mut value = json!({
        "id": format!("{}/virtualMachines/{instance}", scale_set.id),
        "name": format!("{}_{instance}", scale_set.name),
        "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
        "location": scale_set.location,
        "tags": scale_set.tags,
        "instanceId": instance,
        "properties": {
            "latestModelApplied": true,
            "vmId": vm_id,
            "provisioningState": "Succeeded",
            "osProfile": { "computerName": computer_name(scale_set, instance) },
        },
    });
    let sku = body.get("sku").and_then(Value::as_object);
    if let Some(sku) = sku {
        let mut shown = sku.clone();
        shown.remove("capacity");
        value["sku"] = Value::Object(shown);
    }
    if let Some(size) = sku.and_then(|s| s.get("name")) {
        value["properties"]["hardwareProfile"] = json!({ "vmSize": size });
    }
    let profile = body.pointer("/properties/virtualMachineProfile/storageProfile");
    if let Some(storage) = profile {
        value["properties"]["storageProfile"] = storage.clone();
    }
    if let Some(identity) = body.get("identity").filter(|v| !v.is_null()) {
        value["identity"] = identity.clone();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale_set(body: Value) -> Resource {
        Resource {
            id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web".parse().unwrap(),
            subscription_id: "00000000-0000-0000-0000-000000000001".parse().unwrap(),
            resource_group: "rg".into(),
            resource_type: "Microsoft.Compute/virtualMachineScaleSets".into(),
            name: "web".into(),
            location: "eastus".into(),
            tags: Default::default(),
            body,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn computer_names_are_the_prefix_and_six_base_36_digits() {
        let plain = scale_set(json!({}));
        assert_eq!(computer_name(&plain, "0"), "web000000");
        assert_eq!(computer_name(&plain, "37"), "web000011");
        let prefixed = scale_set(
            json!({"properties": {"virtualMachineProfile": {"osProfile": {"computerNamePrefix": "node"}}}}),
        );
        assert_eq!(computer_name(&prefixed, "35"), "node00000z");
    }

    #[test]
    fn an_instance_shows_the_scale_sets_identity_and_size() {
        let found = scale_set(json!({
            "sku": {"name": "Standard_B1s", "tier": "Standard", "capacity": 2},
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            INSTANCES: [{"instanceId": "0", "vmId": "a"}, {"instanceId": "1", "vmId": "b"}],
        }));
        let listed: Vec<_> = instances(&found).collect();
        assert_eq!(listed, [("0", "a"), ("1", "b")]);
        let shown = instance_json(&found, "1", "b");
        assert_eq!(shown["name"], "web_1");
        assert!(
            shown["id"]
                .as_str()
                .unwrap()
                .ends_with("/virtualMachineScaleSets/web/virtualMachines/1")
        );
        assert_eq!(
            shown["sku"],
            json!({"name": "Standard_B1s", "tier": "Standard"})
        );
        assert_eq!(
            shown["properties"]["hardwareProfile"]["vmSize"],
            "Standard_B1s"
        );
        assert_eq!(shown["identity"]["principalId"], "p");
        assert_eq!(shown["properties"]["vmId"], "b");
    }
}
