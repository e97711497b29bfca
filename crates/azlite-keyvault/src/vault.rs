//! A vault as the data plane sees it: read from the ARM resource
//! `Microsoft.KeyVault/vaults` that ARM stores (`properties` of its body), found by the
//! vault's global name.

use azlite_store::Resource;
use azlite_types::{ObjectId, ResourceId, TenantId};
use serde::Deserialize;

/// The ARM resource type of a vault.
pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// What the data plane needs of a vault.
#[derive(Debug, Clone)]
pub struct Vault {
    /// Its ARM id: the key of its secrets and the scope of RBAC checks.
    pub id: ResourceId,
    /// Its name, as ARM holds it.
    pub name: String,
    /// Its region (for error messages).
    pub location: String,
    /// The tenant whose tokens it accepts.
    pub tenant_id: TenantId,
    /// `enableRbacAuthorization`: RBAC data actions instead of access policies.
    pub rbac: bool,
    /// `enableSoftDelete` (default true).
    pub soft_delete: bool,
    /// `softDeleteRetentionInDays` (default 90).
    pub retention_days: i64,
    /// `enablePurgeProtection`: deleted secrets cannot be purged.
    pub purge_protection: bool,
    /// `accessPolicies`.
    pub access_policies: Vec<AccessPolicy>,
}

/// One entry of `accessPolicies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    /// `tenantId`.
    pub tenant_id: Option<TenantId>,
    /// `objectId`: the principal granted.
    pub object_id: ObjectId,
    /// `applicationId`: for a compound identity, the application the principal must act
    /// through.
    pub application_id: Option<String>,
    /// `permissions.secrets`, as given.
    pub secrets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    tenant_id: Option<String>,
    #[serde(default)]
    access_policies: Vec<PolicyWire>,
    enable_soft_delete: Option<bool>,
    soft_delete_retention_in_days: Option<i64>,
    enable_rbac_authorization: Option<bool>,
    enable_purge_protection: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyWire {
    tenant_id: Option<String>,
    object_id: Option<String>,
    application_id: Option<String>,
    #[serde(default)]
    permissions: PermissionsWire,
}

#[derive(Deserialize, Default)]
struct PermissionsWire {
    #[serde(default)]
    secrets: Vec<String>,
}

/// Why a stored vault resource cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("the vault resource {id} is not a valid vault: {why}")]
pub struct InvalidVault {
    /// The resource.
    pub id: String,
    /// Why.
    pub why: String,
}

impl Vault {
    /// Reads a vault from its ARM resource. Access-policy entries whose object id is not a
    /// GUID grant nothing and are skipped.
    pub fn from_resource(resource: &Resource) -> Result<Self, InvalidVault> {
        let invalid = |why: String| InvalidVault {
            id: resource.id.to_string(),
            why,
        };
        let properties = resource
            .body
            .get("properties")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let properties: Properties =
            serde_json::from_value(properties).map_err(|e| invalid(e.to_string()))?;
        let tenant_id = properties
            .tenant_id
            .as_deref()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| invalid("properties.tenantId is not a tenant id".to_owned()))?;
        let access_policies = properties
            .access_policies
            .into_iter()
            .filter_map(|p| {
                Some(AccessPolicy {
                    tenant_id: p.tenant_id.and_then(|t| t.parse().ok()),
                    object_id: p.object_id?.parse().ok()?,
                    application_id: p.application_id.filter(|a| !a.is_empty()),
                    secrets: p.permissions.secrets,
                })
            })
            .collect();
        Ok(Self {
            id: resource.id.clone(),
            name: resource.name.clone(),
            location: resource.location.clone(),
            tenant_id,
            rbac: properties.enable_rbac_authorization.unwrap_or(false),
            soft_delete: properties.enable_soft_delete.unwrap_or(true),
            retention_days: properties
                .soft_delete_retention_in_days
                .unwrap_or(90)
                .clamp(7, 90),
            purge_protection: properties.enable_purge_protection.unwrap_or(false),
            access_policies,
        })
    }

    /// `recoveryLevel` of this vault's secrets (spec's `DeletionRecoveryLevel`): customized
    /// when the retention is not the default 90 days, and without `Purgeable` under purge
    /// protection.
    pub fn recovery_level(&self) -> &'static str {
        match (
            self.soft_delete,
            self.retention_days == 90,
            self.purge_protection,
        ) {
            (false, _, _) => "Purgeable",
            (true, true, false) => "Recoverable+Purgeable",
            (true, true, true) => "Recoverable",
            (true, false, false) => "CustomizedRecoverable+Purgeable",
            (true, false, true) => "CustomizedRecoverable",
        }
    }

    /// `recoverableDays`: the retention when soft delete is on, else 0.
    pub fn recoverable_days(&self) -> i64 {
        if self.soft_delete {
            self.retention_days
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn resource(properties: serde_json::Value) -> Resource {
        let id: ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
            .parse()
            .unwrap();
        Resource {
            id,
            subscription_id: "00000000-0000-0000-0000-000000000001".parse().unwrap(),
            resource_group: "rg".into(),
            resource_type: VAULT_TYPE.into(),
            name: "kv".into(),
            location: "eastus".into(),
            tags: BTreeMap::new(),
            body: serde_json::json!({ "properties": properties }),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn defaults_are_azures() {
        let vault = Vault::from_resource(&resource(serde_json::json!({
            "tenantId": "00000000-0000-0000-0000-0000000000aa",
            "sku": {"family": "A", "name": "standard"},
        })))
        .unwrap();
        assert!(vault.soft_delete && !vault.rbac && !vault.purge_protection);
        assert_eq!(vault.recovery_level(), "Recoverable+Purgeable");
        assert_eq!(vault.recoverable_days(), 90);
    }

    #[test]
    fn policies_and_levels_are_read() {
        let vault = Vault::from_resource(&resource(serde_json::json!({
            "tenantId": "00000000-0000-0000-0000-0000000000aa",
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 7,
            "enablePurgeProtection": true,
            "accessPolicies": [
                {"tenantId": "00000000-0000-0000-0000-0000000000aa",
                 "objectId": "00000000-0000-0000-0000-0000000000bb",
                 "permissions": {"secrets": ["Get", "list"], "keys": []}},
                {"objectId": "not a guid", "permissions": {"secrets": ["all"]}}
            ]
        })))
        .unwrap();
        assert_eq!(vault.access_policies.len(), 1);
        assert_eq!(vault.access_policies[0].secrets, ["Get", "list"]);
        assert_eq!(vault.recovery_level(), "CustomizedRecoverable");
        assert_eq!(vault.recoverable_days(), 7);
        let err = Vault::from_resource(&resource(serde_json::json!({}))).unwrap_err();
        assert!(err.to_string().contains("tenantId"), "{err}");
    }
}
