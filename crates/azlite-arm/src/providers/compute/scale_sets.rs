//! Virtual machine scale sets (`Microsoft.Compute/virtualMachineScaleSets`, SPEC-VMSS), as
//! far as the managed-identity tutorials ("Use a Linux VM/VMSS") need them: the body is
//! stored and echoed (plus `provisioningState: Succeeded` and a stable `uniqueId`); nothing
//! runs. The `identity` block is real, as for VMs ([`super::machine`]), and the scale set's
//! instances ([`super::scale_set_vms`]) are `"0"` to `sku.capacity - 1`, each serving the
//! scale set's identities on its IMDS.
//!
//! The instances' stable `vmId`s are kept in the stored body under [`INSTANCES`] (never
//! shown): `[{"instanceId": "0", "vmId": "<guid>"}, …]`, grown and shrunk with the capacity.
//! `azlite-imds` reads that member to know which instances exist; it is a contract between
//! the two crates, like the identity block.

use axum::http::Method;
use axum::response::Response;
use azlite_store::Resource;
use azlite_types::SubscriptionId;
use serde_json::{Map, Value, json};

use super::VIRTUAL_MACHINE_SCALE_SETS;
use super::machine::{self, Machine, Members, merge_patch, object_member, stable_guid};
use crate::providers::TrackedResource;
use crate::resources::{self, Kind};
use crate::{Arm, ArmError, Caller};

/// The stored body's member listing the instances (see the module docs).
pub(crate) const INSTANCES: &str = "azliteInstances";
/// The capacity of a scale set created without `sku.capacity`.
pub(crate) const DEFAULT_CAPACITY: u64 = 2;
/// The largest capacity (Azure's limit for scale sets of platform images).
pub(crate) const MAX_CAPACITY: u64 = 1000;

/// A scale set, as [`machine`] handles it.
pub(crate) struct ScaleSet;

impl Machine for ScaleSet {
    const KIND: Kind = VIRTUAL_MACHINE_SCALE_SETS;

    fn render(resource: &Resource) -> Value {
        scale_set_json(resource)
    }

    fn put_body(members: Members, existing: Option<&Resource>) -> Result<Value, ArmError> {
        let old = existing.map(|r| &r.body);
        let mut sku = object_member(members.sku, "sku")?;
        if sku.get("capacity").is_none_or(Value::is_null) {
            sku["capacity"] = json!(old.map_or(DEFAULT_CAPACITY, capacity));
        }
        let properties = object_member(members.properties, "properties")?;
        let mut body = json!({ "sku": sku, "properties": properties });
        if let Some(zones) = members.zones.filter(|z| !z.is_null()) {
            body["zones"] = zones;
        }
        finish(body, old)
    }

    fn patch_body(members: Members, found: &Resource) -> Result<Value, ArmError> {
        let mut body = found.body.clone();
        for (name, changes) in [("sku", &members.sku), ("properties", &members.properties)] {
            if let Some(changes) = changes {
                let mut value = body.get(name).cloned().unwrap_or_default();
                merge_patch(&mut value, changes);
                body[name] = object_member(Some(value), name)?;
            }
        }
        finish(body, Some(&found.body))
    }
}

/// Checks the capacity, sets the read-only properties and lists the instances.
fn finish(mut body: Value, old: Option<&Value>) -> Result<Value, ArmError> {
    let count = match body.pointer("/sku/capacity") {
        Some(Value::Number(n)) => n.as_u64().filter(|c| *c <= MAX_CAPACITY),
        _ => None,
    };
    let Some(count) = count else {
        let given = body.pointer("/sku/capacity").cloned().unwrap_or_default();
        return Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The value {given} of parameter 'sku.capacity' is out of range. The value must be between 0 and {MAX_CAPACITY}, inclusive."
            ),
        ));
    };
    body["properties"]["provisioningState"] = json!("Succeeded");
    body["properties"]["uniqueId"] = json!(stable_guid(old, "/properties/uniqueId"));
    let known: Map<String, Value> = old
        .and_then(|b| b.get(INSTANCES))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i["instanceId"].as_str()?.to_owned(), i["vmId"].clone())))
        .collect();
    let instances: Vec<Value> = (0..count)
        .map(|i| {
            let id = i.to_string();
            let vm_id = known
                .get(&id)
                .filter(|v| v.is_string())
                .cloned()
                .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()));
            json!({ "instanceId": id, "vmId": vm_id })
        })
        .collect();
    body[INSTANCES] = Value::Array(instances);
    Ok(body)
}

/// The capacity of a stored scale set.
pub(crate) fn capacity(body: &Value) -> u64 {
    body.pointer("/sku/capacity")
        .and_then(Value::as_u64)
        .unwrap_or_default()
}

/// The wire form of a scale set: the stored body without [`INSTANCES`].
fn scale_set_json(resource: &Resource) -> Value {
    let mut value = json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.resource_type,
        "location": resource.location,
        "tags": resource.tags,
    });
    for key in ["sku", "identity", "zones"] {
        if let Some(v) = resource.body.get(key).filter(|v| !v.is_null()) {
            value[key] = v.clone();
        }
    }
    value["properties"] = resource.body.get("properties").cloned().unwrap_or_default();
    value
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Compute/virtualMachineScaleSets`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
) -> Result<Response, ArmError> {
    resources::list_of_kind(arm, caller, s, group, VIRTUAL_MACHINE_SCALE_SETS, |r| {
        Ok(scale_set_json(r))
    })
    .await
}

/// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Compute/virtualMachineScaleSets/{name}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    machine::one::<ScaleSet>(arm, caller, method, resource, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instances(body: &Value) -> Vec<(String, String)> {
        body[INSTANCES]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["instanceId"].as_str().unwrap().to_owned(),
                    i["vmId"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn a_new_scale_set_has_the_default_capacity_and_read_only_members() {
        let body = ScaleSet::put_body(Members::default(), None).unwrap();
        assert_eq!(body["sku"]["capacity"], json!(DEFAULT_CAPACITY));
        assert_eq!(body["properties"]["provisioningState"], "Succeeded");
        assert!(body["properties"]["uniqueId"].is_string());
        let ids: Vec<String> = instances(&body).into_iter().map(|(i, _)| i).collect();
        assert_eq!(ids, ["0", "1"]);
    }

    #[test]
    fn instances_keep_their_vm_ids_as_the_capacity_changes() {
        let members = |capacity: u64| Members {
            sku: Some(json!({ "name": "Standard_B1s", "capacity": capacity })),
            ..Members::default()
        };
        let three = ScaleSet::put_body(members(3), None).unwrap();
        let old = instances(&three);
        let one = finish(
            json!({ "sku": { "capacity": 1 }, "properties": {} }),
            Some(&three),
        )
        .unwrap();
        assert_eq!(instances(&one), old[..1]);
        assert_eq!(
            one["properties"]["uniqueId"],
            three["properties"]["uniqueId"]
        );
        let four = finish(
            json!({ "sku": { "capacity": 4 }, "properties": {} }),
            Some(&one),
        )
        .unwrap();
        let now = instances(&four);
        assert_eq!(now.len(), 4);
        assert_eq!(now[0], old[0]);
        assert_ne!(
            now[1].1, old[1].1,
            "a removed instance's vmId is not reused"
        );
    }

    #[test]
    fn a_capacity_out_of_range_is_refused() {
        for capacity in [json!(-1), json!(1001), json!("2"), json!(1.5)] {
            let members = Members {
                sku: Some(json!({ "capacity": capacity })),
                ..Members::default()
            };
            let error = ScaleSet::put_body(members, None).unwrap_err();
            assert_eq!(error.code, "InvalidParameter", "{capacity}");
        }
    }

    #[test]
    fn the_instance_list_is_not_shown() {
        let body = ScaleSet::put_body(Members::default(), None).unwrap();
        let resource = Resource {
            id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss".parse().unwrap(),
            subscription_id: "00000000-0000-0000-0000-000000000001".parse().unwrap(),
            resource_group: "rg".into(),
            resource_type: "Microsoft.Compute/virtualMachineScaleSets".into(),
            name: "ss".into(),
            location: "eastus".into(),
            tags: Default::default(),
            body,
            created_at: 0,
            updated_at: 0,
        };
        let shown = scale_set_json(&resource);
        assert!(shown.get(INSTANCES).is_none() && shown["properties"].get(INSTANCES).is_none());
        assert_eq!(shown["sku"]["capacity"], json!(2));
    }
}
