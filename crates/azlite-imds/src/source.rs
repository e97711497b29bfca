//! Where the endpoint learns which identities its VM has now: [`VmIdentities`], read on
//! every token request so that an identity detached from the VM is refused at once.
//!
//! [`StoreVmIdentities`] reads ARM's stored VM (`azlite_store::ArmStore::get_resource`). The
//! identity block is kept in the resource body in ARM's wire shape (`azlite-arm`'s
//! `identity_block`, reference §2.4):
//!
//! ```json
//! {"identity": {"type": "SystemAssigned, UserAssigned",
//!               "principalId": "<guid>", "tenantId": "<guid>",
//!               "userAssignedIdentities": {"<identity id>": {"principalId": "<guid>",
//!                                                            "clientId": "<guid>"}}}}
//! ```
//!
//! That shape is a contract between the two crates; this module reads it without depending
//! on `azlite-arm`, as a client of ARM would.
//!
//! A scale set's instance (`…/virtualMachineScaleSets/{name}/virtualMachines/{instanceId}`)
//! is served from its scale set's stored body: the identity block as above, and the
//! instances ARM keeps under `azliteInstances` (`[{"instanceId": "0", "vmId": "<guid>"}]`,
//! another contract with `azlite-arm`); an instance not listed there does not exist.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use azlite_store::{EpochMemo, Store, StoreError};
use azlite_types::{ClientId, ObjectId, ResourceId, TenantId};
use serde_json::Value;

/// A user-assigned identity attached to the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAssignedIdentity {
    /// The identity's ARM id (`…/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`).
    pub resource_id: ResourceId,
    /// Its service principal's object id.
    pub principal_id: ObjectId,
    /// Its client (app) id.
    pub client_id: ClientId,
}

/// The identities a VM has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignedIdentities {
    /// The system-assigned identity's principal, when it is on.
    pub system: Option<ObjectId>,
    /// The user-assigned identities, in the order ARM lists them.
    pub user_assigned: Vec<UserAssignedIdentity>,
}

impl AssignedIdentities {
    /// Whether `principal` is one of these identities.
    pub fn contains(&self, principal: ObjectId) -> bool {
        self.system == Some(principal)
            || self
                .user_assigned
                .iter()
                .any(|u| u.principal_id == principal)
    }
}

/// What `GET /metadata/instance` tells about the VM (its `compute` section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmInstance {
    /// The VM's ARM id.
    pub resource_id: ResourceId,
    /// Its subscription.
    pub subscription_id: String,
    /// Its resource group, as written.
    pub resource_group: String,
    /// Its name.
    pub name: String,
    /// Its region.
    pub location: String,
    /// `properties.vmId`.
    pub vm_id: String,
    /// The scale set's name for an instance of one, or empty.
    pub vm_scale_set_name: String,
    /// `properties.hardwareProfile.vmSize`, or empty.
    pub vm_size: String,
    /// `properties.storageProfile.osDisk.osType`, or empty.
    pub os_type: String,
    /// The first of `zones`, or empty.
    pub zone: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The tenant its subscription trusts (for `/metadata/identity/info`).
    pub tenant_id: Option<TenantId>,
}

/// Why the VM could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored VM does not have the shape ARM writes.
    #[error("the stored virtual machine '{vm}' is malformed: {why}")]
    Corrupt {
        /// The VM.
        vm: String,
        /// What is wrong.
        why: String,
    },
}

/// The current state of a VM, as the endpoint needs it.
#[async_trait]
pub trait VmIdentities: Send + Sync {
    /// The identities `vm` has now; `None` when the VM does not exist.
    async fn identities(
        &self,
        vm: &ResourceId,
    ) -> Result<Option<Arc<AssignedIdentities>>, SourceError>;

    /// The compute metadata of `vm`; `None` when the VM does not exist.
    async fn instance(&self, vm: &ResourceId) -> Result<Option<VmInstance>, SourceError>;
}

/// VMs whose answers [`StoreVmIdentities`] keeps (one serves one VM; the sandbox's hub
/// serves every VM through its own).
const MEMO_CAPACITY: usize = 64;

/// [`VmIdentities`] over the store ARM writes to.
///
/// The last answer is kept with the store's epoch ([`azlite_store::DirectoryStore::epoch`])
/// it was read at, and given again while the epoch has not moved: any write to the store
/// (an identity detached, a VM or principal deleted), by this process or another, moves the
/// epoch before it returns, so the next request reads the store again.
pub struct StoreVmIdentities {
    store: Arc<dyn Store>,
    last: EpochMemo<ResourceId, Option<Arc<AssignedIdentities>>>,
}

impl std::fmt::Debug for StoreVmIdentities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreVmIdentities").finish_non_exhaustive()
    }
}

impl StoreVmIdentities {
    /// Reads VMs from `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            last: EpochMemo::new(MEMO_CAPACITY),
        }
    }

    /// What the store holds now for `vm`.
    async fn read_identities(
        &self,
        vm: &ResourceId,
    ) -> Result<Option<AssignedIdentities>, SourceError> {
        let Some((resource, _)) = self.machine(vm).await? else {
            return Ok(None);
        };
        let mut identities =
            identities_from_body(&resource.body).map_err(|why| SourceError::Corrupt {
                vm: vm.to_string(),
                why,
            })?;
        // A user-assigned identity deleted while still attached stays in the VM's block (as in
        // Azure), but its principal is gone: it can have no token, cached or not.
        let mut present = Vec::with_capacity(identities.user_assigned.len());
        for identity in identities.user_assigned {
            if self
                .store
                .get_service_principal(identity.principal_id)
                .await?
                .is_some()
            {
                present.push(identity);
            }
        }
        identities.user_assigned = present;
        Ok(Some(identities))
    }
}

#[async_trait]
impl VmIdentities for StoreVmIdentities {
    async fn identities(
        &self,
        vm: &ResourceId,
    ) -> Result<Option<Arc<AssignedIdentities>>, SourceError> {
        // The epoch first: a write that lands during the reads below moves it, so what they
        // return is at least as new as the epoch it is kept under.
        let epoch = self.store.epoch()?;
        if let Some(remembered) = self.last.get(epoch, vm) {
            return Ok(remembered);
        }
        let identities = self.read_identities(vm).await?.map(Arc::new);
        self.last.put(epoch, vm.clone(), identities.clone());
        Ok(identities)
    }

    async fn instance(&self, vm: &ResourceId) -> Result<Option<VmInstance>, SourceError> {
        let Some((resource, instance)) = self.machine(vm).await? else {
            return Ok(None);
        };
        let tenant_id = self
            .store
            .get_subscription(resource.subscription_id)
            .await?
            .map(|s| s.tenant_id);
        let text = |pointer: &str| {
            resource
                .body
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (name, vm_id, vm_scale_set_name, vm_size, os_type, resource_id) = match instance {
            None => (
                resource.name.clone(),
                text("/properties/vmId"),
                String::new(),
                text("/properties/hardwareProfile/vmSize"),
                text("/properties/storageProfile/osDisk/osType"),
                resource.id.clone(),
            ),
            Some(instance) => (
                format!("{}_{}", resource.name, instance.instance_id),
                instance.vm_id,
                resource.name.clone(),
                text("/sku/name"),
                text("/properties/virtualMachineProfile/storageProfile/osDisk/osType"),
                vm.clone(),
            ),
        };
        Ok(Some(VmInstance {
            resource_id,
            subscription_id: resource.subscription_id.to_string(),
            resource_group: resource.resource_group.clone(),
            name,
            location: resource.location.clone(),
            vm_id,
            vm_scale_set_name,
            vm_size,
            os_type,
            zone: text("/zones/0"),
            tags: resource.tags.clone(),
            tenant_id,
        }))
    }
}

/// The type of a scale set's instances.
const SCALE_SET_VM_TYPE: &str = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines";

/// An instance of a scale set, as its scale set lists it.
struct ScaleSetInstance {
    instance_id: String,
    vm_id: String,
}

impl StoreVmIdentities {
    /// The stored resource that holds `vm`'s identities: the VM itself, or for an instance of
    /// a scale set, the scale set (with the instance, which it must list).
    async fn machine(
        &self,
        vm: &ResourceId,
    ) -> Result<Option<(azlite_store::Resource, Option<ScaleSetInstance>)>, SourceError> {
        let is_instance = vm
            .resource_type()
            .is_some_and(|t| t.eq_ignore_ascii_case(SCALE_SET_VM_TYPE));
        if !is_instance {
            return Ok(self.store.get_resource(vm).await?.map(|r| (r, None)));
        }
        let text = vm.as_str();
        let Some((parent, instance_id)) = text
            .rsplit_once('/')
            .and_then(|(rest, i)| Some((rest.rsplit_once('/')?.0, i)))
        else {
            return Ok(None);
        };
        let Ok(parent) = parent.parse::<ResourceId>() else {
            return Ok(None);
        };
        let Some(scale_set) = self.store.get_resource(&parent).await? else {
            return Ok(None);
        };
        let listed = scale_set
            .body
            .get("azliteInstances")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|i| i["instanceId"].as_str() == Some(instance_id))
            .map(|i| ScaleSetInstance {
                instance_id: instance_id.to_owned(),
                vm_id: i["vmId"].as_str().unwrap_or_default().to_owned(),
            });
        Ok(listed.map(|instance| (scale_set, Some(instance))))
    }
}

/// Reads the identity block of a stored resource body (none when absent).
pub(crate) fn identities_from_body(body: &Value) -> Result<AssignedIdentities, String> {
    let Some(block) = body.get("identity").filter(|v| !v.is_null()) else {
        return Ok(AssignedIdentities::default());
    };
    fn guid<T: std::str::FromStr>(value: Option<&Value>, what: &str) -> Result<Option<T>, String> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => text
                .parse()
                .map(Some)
                .map_err(|_| format!("{what} '{text}' is not a GUID")),
            Some(other) => Err(format!("{what} {other} is not a string")),
        }
    }
    let system = guid::<ObjectId>(block.get("principalId"), "identity.principalId")?;
    let mut user_assigned = Vec::new();
    match block.get("userAssignedIdentities") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                let resource_id: ResourceId = key
                    .parse()
                    .map_err(|e| format!("user-assigned identity key: {e}"))?;
                let principal_id = guid(value.get("principalId"), "principalId")?;
                let client_id = guid(value.get("clientId"), "clientId")?;
                let (Some(principal_id), Some(client_id)) = (principal_id, client_id) else {
                    return Err(format!("user-assigned identity '{key}' lacks its ids"));
                };
                user_assigned.push(UserAssignedIdentity {
                    resource_id,
                    principal_id,
                    client_id,
                });
            }
        }
        Some(_) => return Err("identity.userAssignedIdentities is not an object".into()),
    }
    Ok(AssignedIdentities {
        system,
        user_assigned,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const UAI: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";

    #[test]
    fn reads_the_block_arm_stores() {
        let system = ObjectId::new_random();
        let principal = ObjectId::new_random();
        let client = ClientId::new_random();
        let body = json!({
            "properties": {"vmId": "x"},
            "identity": {
                "type": "SystemAssigned, UserAssigned",
                "principalId": system,
                "tenantId": TenantId::new_random(),
                "userAssignedIdentities": {UAI: {"principalId": principal, "clientId": client}},
            }
        });
        let ids = identities_from_body(&body).unwrap();
        assert_eq!(ids.system, Some(system));
        assert_eq!(
            ids.user_assigned,
            vec![UserAssignedIdentity {
                resource_id: UAI.parse().unwrap(),
                principal_id: principal,
                client_id: client,
            }]
        );
        assert!(ids.contains(system) && ids.contains(principal));
        assert!(!ids.contains(ObjectId::new_random()));
    }

    #[test]
    fn no_block_means_no_identity() {
        assert_eq!(
            identities_from_body(&json!({"properties": {}})).unwrap(),
            AssignedIdentities::default()
        );
        assert_eq!(
            identities_from_body(&json!({"identity": null})).unwrap(),
            AssignedIdentities::default()
        );
    }

    #[test]
    fn a_malformed_block_is_an_error_not_an_empty_set() {
        for body in [
            json!({"identity": {"principalId": "nope"}}),
            json!({"identity": {"userAssignedIdentities": []}}),
            json!({"identity": {"userAssignedIdentities": {UAI: {"principalId": ObjectId::new_random()}}}}),
            json!({"identity": {"userAssignedIdentities": {"not-an-id": {}}}}),
        ] {
            assert!(identities_from_body(&body).is_err(), "{body}");
        }
    }
}
