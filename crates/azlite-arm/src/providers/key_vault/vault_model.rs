//! The model of a Key Vault (`Microsoft.KeyVault/vaults`, SPEC-KV 2022-07-01, reference §2.6):
//! what a client sends (`Unverified*`, every member optional), what azlite stores, and the
//! rules between them: the vault name, the SKU, the soft-delete settings. Access policies and
//! their merges are in [`super::vault_policies`].
//!
//! The stored model is the vault's `properties` exactly as ARM returns them, kept under
//! `properties` in the resource body. The Key Vault data plane reads it from the store
//! (access policies, `enableRbacAuthorization`, `tenantId`), so its shape is a contract:
//! permissions are kept as sent (the data plane compares them case-insensitively and honours
//! `all`), GUIDs in their canonical lower-case form, all four permission lists always present.

use azlite_types::TenantId;
use serde::{Deserialize, Serialize};

pub(crate) use super::vault_policies::{
    AccessPolicyUpdateKind, UnverifiedAccessPolicy, update_access_policies, verify_access_policies,
};
use crate::ArmError;

/// `properties.sku`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sku {
    /// Always `A`.
    pub(crate) family: String,
    /// `standard` or `premium`.
    pub(crate) name: String,
}

/// `permissions` of an access policy: the four lists, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Permissions {
    #[serde(default)]
    pub(crate) keys: Vec<String>,
    #[serde(default)]
    pub(crate) secrets: Vec<String>,
    #[serde(default)]
    pub(crate) certificates: Vec<String>,
    #[serde(default)]
    pub(crate) storage: Vec<String>,
}

/// One entry of `accessPolicies`: who (tenant, object, optionally the application it acts
/// through) may do what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessPolicyEntry {
    pub(crate) tenant_id: String,
    pub(crate) object_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) application_id: Option<String>,
    pub(crate) permissions: Permissions,
}

/// The stored (and returned) `properties` of a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VaultProperties {
    pub(crate) tenant_id: String,
    pub(crate) sku: Sku,
    pub(crate) access_policies: Vec<AccessPolicyEntry>,
    pub(crate) enabled_for_deployment: bool,
    pub(crate) enabled_for_disk_encryption: bool,
    pub(crate) enabled_for_template_deployment: bool,
    pub(crate) enable_soft_delete: bool,
    pub(crate) soft_delete_retention_in_days: i64,
    pub(crate) enable_rbac_authorization: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) enable_purge_protection: Option<bool>,
    pub(crate) vault_uri: String,
    pub(crate) provisioning_state: String,
    pub(crate) public_network_access: String,
}

/// `sku` as sent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UnverifiedSku {
    family: Option<String>,
    name: Option<String>,
}

/// `properties` of a PUT (`VaultProperties`) or a PATCH (`VaultPatchProperties`) as sent.
/// Read-only members (`vaultUri`, `provisioningState`, `hsmPoolResourceId`,
/// `privateEndpointConnections`) and `networkAcls` (azlite has no network rules) are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnverifiedVaultProperties {
    pub(crate) tenant_id: Option<String>,
    pub(crate) sku: Option<UnverifiedSku>,
    pub(crate) access_policies: Option<Vec<UnverifiedAccessPolicy>>,
    pub(crate) enabled_for_deployment: Option<bool>,
    pub(crate) enabled_for_disk_encryption: Option<bool>,
    pub(crate) enabled_for_template_deployment: Option<bool>,
    pub(crate) enable_soft_delete: Option<bool>,
    pub(crate) soft_delete_retention_in_days: Option<i64>,
    pub(crate) enable_rbac_authorization: Option<bool>,
    pub(crate) enable_purge_protection: Option<bool>,
    pub(crate) create_mode: Option<String>,
    pub(crate) public_network_access: Option<String>,
}

/// 400 `BadRequest`, the code the Key Vault resource provider answers invalid bodies with.
pub(crate) fn bad_request(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("BadRequest", message)
}

/// Vault names: 3–24 characters of ASCII letters, digits and hyphens, starting with a letter,
/// ending with a letter or a digit, without consecutive hyphens (DOC-NAMES, reference §2.6).
pub(crate) fn valid_vault_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("--")
}

/// 400 `VaultNameNotValid`, worded as the resource provider words it.
pub(crate) fn invalid_vault_name(name: &str) -> ArmError {
    ArmError::bad_request("VaultNameNotValid", invalid_name_message(name))
}

/// Why `name` is not a vault name (also `checkNameAvailability`'s message).
pub(crate) fn invalid_name_message(name: &str) -> String {
    format!(
        "The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens."
    )
}

/// Why `name` is taken (409 `VaultAlreadyExists`, and `checkNameAvailability`'s message).
pub(crate) fn name_taken_message(name: &str) -> String {
    format!(
        "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken."
    )
}

/// Parses a required GUID member at `at`.
pub(crate) fn parse_guid<T: std::str::FromStr>(
    value: Option<&str>,
    at: &str,
) -> Result<T, ArmError> {
    let value = value.ok_or_else(|| bad_request(format!("The parameter {at} is required.")))?;
    value.parse().map_err(|_| {
        bad_request(format!(
            "Invalid value found at {at}: '{value}' is not a GUID."
        ))
    })
}

/// Verifies `sku`: `family` `A` (the default), `name` `standard` or `premium`, stored in the
/// spec's lower case.
fn verify_sku(sku: UnverifiedSku) -> Result<Sku, ArmError> {
    let family = sku.family.unwrap_or_else(|| "A".to_owned());
    if !family.eq_ignore_ascii_case("A") {
        return Err(bad_request(format!(
            "Invalid value found at properties.sku.family: '{family}'. The only SKU family is 'A'."
        )));
    }
    let name = sku
        .name
        .ok_or_else(|| bad_request("The parameter properties.sku.name is required."))?;
    match ["standard", "premium"]
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(&name))
    {
        Some(n) => Ok(Sku {
            family: "A".to_owned(),
            name: n.to_owned(),
        }),
        None => Err(bad_request(format!(
            "Invalid value found at properties.sku.name: '{name}'. Allowed values are standard, premium."
        ))),
    }
}

/// What a write starts from: the stored properties of an existing vault, or none.
pub(crate) struct Base<'a> {
    /// The vault as stored, when it exists.
    pub(crate) existing: Option<&'a VaultProperties>,
    /// `https://{name}.{vault suffix}/`.
    pub(crate) vault_uri: String,
}

/// The properties after a PUT (`full = true`: required members must be there, absent
/// optional ones take their defaults; on an existing vault, absent `accessPolicies` and the
/// irreversible settings are kept) or a PATCH (`full = false`: only what is sent changes).
/// The caller checks that `tenantId` names a known tenant.
pub(crate) fn apply(
    request: UnverifiedVaultProperties,
    base: Base<'_>,
    full: bool,
) -> Result<VaultProperties, ArmError> {
    let existing = base.existing;
    // `createMode: recover` is the vault's PUT restoring a deleted vault (crate::vaults);
    // properties are never applied with it.
    if let Some(mode) = &request.create_mode
        && !mode.eq_ignore_ascii_case("default")
    {
        return Err(bad_request(format!(
            "Invalid value '{mode}' for properties.createMode: properties are applied only with 'default'."
        )));
    }
    let tenant_id = match (request.tenant_id.as_deref(), existing) {
        (Some(t), _) => parse_guid::<TenantId>(Some(t), "properties.tenantId")?.to_string(),
        (None, Some(old)) if !full => old.tenant_id.clone(),
        _ => {
            return Err(bad_request(
                "The parameter properties.tenantId is required.",
            ));
        }
    };
    let sku = match (request.sku, existing) {
        (Some(sku), _) => verify_sku(sku)?,
        (None, Some(old)) if !full => old.sku.clone(),
        _ => return Err(bad_request("The parameter properties.sku is required.")),
    };
    let access_policies = match (request.access_policies, existing) {
        (Some(entries), _) => verify_access_policies(entries, "properties.accessPolicies")?,
        (None, Some(old)) => old.access_policies.clone(),
        (None, None) => Vec::new(),
    };
    let flag = |sent: Option<bool>, old: Option<bool>, default: bool| {
        sent.or(if full { None } else { old }).unwrap_or(default)
    };
    let enable_soft_delete = request
        .enable_soft_delete
        .or(existing.map(|o| o.enable_soft_delete))
        .unwrap_or(true);
    if existing.is_some_and(|o| o.enable_soft_delete) && !enable_soft_delete {
        return Err(bad_request(
            "The property \"enableSoftDelete\" has been set to true. It cannot be reverted to false.",
        ));
    }
    let retention = request
        .soft_delete_retention_in_days
        .or(existing.map(|o| o.soft_delete_retention_in_days))
        .unwrap_or(90);
    if !(7..=90).contains(&retention) {
        return Err(bad_request(format!(
            "Invalid value found at properties.softDeleteRetentionInDays: {retention}. It accepts values from 7 to 90."
        )));
    }
    let enable_purge_protection = match request.enable_purge_protection {
        Some(false) => {
            return Err(bad_request(
                "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.",
            ));
        }
        Some(true) => Some(true),
        None => existing.and_then(|o| o.enable_purge_protection),
    };
    if let Some(access) = &request.public_network_access
        && !access.eq_ignore_ascii_case("enabled")
    {
        return Err(bad_request(format!(
            "Invalid value found at properties.publicNetworkAccess: '{access}'. azlite serves every vault with public network access ('Enabled')."
        )));
    }
    Ok(VaultProperties {
        tenant_id,
        sku,
        access_policies,
        enabled_for_deployment: flag(
            request.enabled_for_deployment,
            existing.map(|o| o.enabled_for_deployment),
            false,
        ),
        enabled_for_disk_encryption: flag(
            request.enabled_for_disk_encryption,
            existing.map(|o| o.enabled_for_disk_encryption),
            false,
        ),
        enabled_for_template_deployment: flag(
            request.enabled_for_template_deployment,
            existing.map(|o| o.enabled_for_template_deployment),
            false,
        ),
        enable_soft_delete,
        soft_delete_retention_in_days: retention,
        enable_rbac_authorization: flag(
            request.enable_rbac_authorization,
            existing.map(|o| o.enable_rbac_authorization),
            false,
        ),
        enable_purge_protection,
        vault_uri: base.vault_uri,
        provisioning_state: "Succeeded".to_owned(),
        public_network_access: "Enabled".to_owned(),
    })
}

#[cfg(test)]
#[path = "vault_model_tests.rs"]
mod tests;
