//! Key vaults through ARM (`Microsoft.KeyVault/vaults`, SPEC-KV 2022-07-01, reference §2.6):
//! create or update, update, get, delete, the lists, `accessPolicies/{add|replace|remove}`
//! and `checkNameAvailability`. The model and its rules are in [`super::vault_model`] and
//! [`super::vault_policies`].
//!
//! Vault names are global (the name is the data plane's host, `{name}.{vault suffix}`): a
//! name held by a vault in any group of any subscription is refused with 409
//! `VaultAlreadyExists`. Deleting a vault with `enableSoftDelete` soft-deletes it
//! ([`super::deleted_vaults`]: its name stays taken until it is purged or recovered with
//! `createMode: recover`); without, it goes for good with what the store keeps below it. Answers
//! are synchronous: PUT 201/200 with `provisioningState: Succeeded`, which the SDKs' pollers
//! take as final (reference §1.7), PATCH 200, DELETE 200/204.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_authz::Authorized;
use azlite_store::{Resource, WriteBatch};
use azlite_types::{ResourceId, SubscriptionId, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::KEY_VAULTS as KIND;
use super::deleted_vaults;
use super::vault_model::{
    self, AccessPolicyUpdateKind, Base, UnverifiedAccessPolicy, UnverifiedVaultProperties,
    VaultProperties, bad_request,
};
use crate::providers::TrackedResource;
use crate::resources::{self, Preamble, type_name};
use crate::subscriptions::subscription_for;
use crate::wire::{body, json};
use crate::{Arm, ArmError, Caller};

/// The action of `accessPolicies/{kind}` (reference §3.8: `{ns}/{type}/{child}/write`).
const ACCESS_POLICIES_WRITE: &str = "Microsoft.KeyVault/vaults/accessPolicies/write";
/// The action of `checkNameAvailability`.
const CHECK_NAME: &str = "Microsoft.KeyVault/checkNameAvailability/read";

/// The body of a PUT (`VaultCreateOrUpdateParameters`).
#[derive(Debug, Deserialize)]
struct PutVault {
    location: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    properties: Option<UnverifiedVaultProperties>,
}

/// The body of a PATCH (`VaultPatchParameters`).
#[derive(Debug, Deserialize)]
struct PatchVault {
    tags: Option<BTreeMap<String, String>>,
    properties: Option<UnverifiedVaultProperties>,
}

/// The body of `accessPolicies/{kind}` (`VaultAccessPolicyParameters`).
#[derive(Debug, Deserialize)]
struct AccessPolicyUpdate {
    properties: Option<AccessPolicyUpdateProperties>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessPolicyUpdateProperties {
    access_policies: Option<Vec<UnverifiedAccessPolicy>>,
}

/// The body of `checkNameAvailability` (`VaultCheckNameAvailabilityParameters`).
#[derive(Debug, Deserialize)]
struct CheckName {
    name: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
}

/// The stored properties of a vault.
fn properties_of(resource: &Resource) -> Result<VaultProperties, ArmError> {
    let properties = resource.body.get("properties").cloned().unwrap_or_default();
    serde_json::from_value(properties).map_err(|e| ArmError::internal(&e))
}

/// The wire form of a vault (`Vault`): the stored properties as they are.
fn vault_json(resource: &Resource) -> Value {
    json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.resource_type,
        "location": resource.location,
        "tags": resource.tags,
        "properties": resource.body.get("properties").cloned().unwrap_or_default(),
    })
}

/// `https://{name}.{suffix}/`: the data plane's URL of a vault.
fn vault_uri(arm: &Arm, name: &str) -> String {
    format!("https://{name}.{}/", arm.config.vault_suffix)
}

/// The tenant of a vault must be one azlite knows: its data plane takes tokens from it.
async fn require_tenant(arm: &Arm, properties: &VaultProperties) -> Result<(), ArmError> {
    let tenant: TenantId = properties
        .tenant_id
        .parse()
        .map_err(|e| ArmError::internal(&e))?;
    if arm.store.get_tenant(tenant).await?.is_none() {
        return Err(bad_request(format!(
            "Invalid value found at properties.tenantId: the tenant '{tenant}' does not exist."
        )));
    }
    Ok(())
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.KeyVault/vaults`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
) -> Result<Response, ArmError> {
    resources::list_of_kind(arm, caller, s, group, KIND, |r| Ok(vault_json(r))).await
}

/// `GET|PUT|PATCH|DELETE …/providers/Microsoft.KeyVault/vaults/{name}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let Preamble { authorized, .. } =
        resources::preamble_for(arm, caller, method, KIND, resource).await?;
    if *method == Method::GET {
        let found = live(arm.store.get_resource(&resource.id).await?)
            .ok_or_else(|| resources::not_found(KIND, resource))?;
        return Ok(json(StatusCode::OK, vault_json(&found)));
    }
    let _writes = arm.resource_writes.lock().await;
    let stored = arm.store.get_resource(&resource.id).await?;
    let existing = live(stored);
    match *method {
        Method::PUT if is_recover(request) => recover(arm, &authorized, resource, existing).await,
        Method::PUT => put(arm, &authorized, resource, existing, request).await,
        Method::PATCH => {
            let found = existing.ok_or_else(|| resources::not_found(KIND, resource))?;
            patch(arm, &authorized, resource, found, request).await
        }
        _ => match existing {
            Some(found) => {
                let properties = properties_of(&found)?;
                if properties.enable_soft_delete {
                    let days = properties.soft_delete_retention_in_days;
                    deleted_vaults::soft_delete(arm, &authorized, &found, days).await?;
                } else {
                    resources::delete_with_principals(arm, &authorized, &found).await?;
                }
                Ok(StatusCode::OK.into_response())
            }
            None => Ok(StatusCode::NO_CONTENT.into_response()),
        },
    }
}

/// A stored vault, unless it is a soft-deleted one.
fn live(stored: Option<Resource>) -> Option<Resource> {
    stored.filter(|r| !deleted_vaults::is_deleted_vault(r))
}

/// Whether a PUT asks for `createMode: recover`.
fn is_recover(request: &[u8]) -> bool {
    serde_json::from_slice::<Value>(request)
        .ok()
        .and_then(|v| v.pointer("/properties/createMode").cloned())
        .and_then(|m| m.as_str().map(|m| m.eq_ignore_ascii_case("recover")))
        .unwrap_or(false)
}

/// `createMode: recover`: the soft-deleted vault of this name, at this id, comes back as it
/// was (properties, tags, secrets); the rest of the request is not used, as in Azure.
async fn recover(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    resource: &TrackedResource,
    existing: Option<Resource>,
) -> Result<Response, ArmError> {
    if existing.is_some() {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "VaultAlreadyExists",
            vault_model::name_taken_message(&resource.name),
        ));
    }
    let deleted = deleted_vaults::find(arm, &resource.name)
        .await?
        .ok_or_else(|| {
            bad_request(format!(
                "There is no deleted vault named '{}' to recover.",
                resource.name
            ))
        })?;
    if deleted.id != resource.id {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "ConflictError",
            format!(
                "The deleted vault '{}' was '{}': it can be recovered only there.",
                resource.name, deleted.id
            ),
        ));
    }
    let restored = deleted_vaults::recovered(arm, &deleted);
    arm.store
        .apply(WriteBatch {
            resources: vec![restored.clone()],
            ..Default::default()
        })
        .await?;
    Ok(json(StatusCode::OK, vault_json(&restored)))
}

/// Refuses a name held by another vault anywhere (reference §2.6: names are global), or by
/// a soft-deleted vault until it is purged or recovered; deleted vaults past their
/// retention are purged first.
async fn require_free_name(arm: &Arm, resource: &TrackedResource) -> Result<(), ArmError> {
    if deleted_vaults::find(arm, &resource.name).await?.is_some() {
        return Err(deleted_vaults::name_in_deleted_state(&resource.name));
    }
    let expired = deleted_vaults::expired_holders(arm, &resource.name).await?;
    if !expired.is_empty() {
        arm.store
            .apply(WriteBatch {
                deletions: expired,
                ..Default::default()
            })
            .await?;
    }
    resources::require_free_name(
        arm,
        resource,
        KIND,
        "VaultAlreadyExists",
        vault_model::name_taken_message(&resource.name),
    )
    .await
}

/// Creates (201) or replaces (200) a vault.
async fn put(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    resource: &TrackedResource,
    existing: Option<Resource>,
    request: &[u8],
) -> Result<Response, ArmError> {
    if !vault_model::valid_vault_name(&resource.name) {
        return Err(vault_model::invalid_vault_name(&resource.name));
    }
    let put: PutVault = body(request)?;
    let location = resources::put_location(put.location, existing.as_ref(), resource)?;
    let request = put
        .properties
        .ok_or_else(|| bad_request("The parameter properties is required."))?;
    let old = existing.as_ref().map(properties_of).transpose()?;
    if existing.is_none() {
        require_free_name(arm, resource).await?;
    }
    let base = Base {
        existing: old.as_ref(),
        vault_uri: vault_uri(arm, &resource.name),
    };
    let properties = vault_model::apply(request, base, true)?;
    require_tenant(arm, &properties).await?;
    let tags = put.tags.unwrap_or_default();
    let stored = write(arm, resource, location, tags, &properties).await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json(status, vault_json(&stored)))
}

/// Updates a vault: the properties sent replace the stored ones member by member,
/// `tags` are replaced when sent.
async fn patch(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    resource: &TrackedResource,
    found: Resource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let patch: PatchVault = body(request)?;
    let old = properties_of(&found)?;
    let base = Base {
        existing: Some(&old),
        vault_uri: old.vault_uri.clone(),
    };
    let properties = vault_model::apply(patch.properties.unwrap_or_default(), base, false)?;
    require_tenant(arm, &properties).await?;
    let tags = patch.tags.unwrap_or_else(|| found.tags.clone());
    let stored = write(arm, resource, found.location.clone(), tags, &properties).await?;
    Ok(json(StatusCode::OK, vault_json(&stored)))
}

/// Stores the vault (an upsert: `created_at` is kept).
async fn write(
    arm: &Arm,
    resource: &TrackedResource,
    location: String,
    tags: BTreeMap<String, String>,
    properties: &VaultProperties,
) -> Result<Resource, ArmError> {
    let body = json!({ "properties": properties });
    resources::write_tracked(arm, resource, KIND, location, tags, body).await
}

/// `PUT …/vaults/{name}/accessPolicies/{kind}`: merges the given entries into the vault's
/// list ([`vault_model::update_access_policies`]) and answers with them, as the spec's
/// example does.
pub(crate) async fn update_access_policy(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    kind: AccessPolicyUpdateKind,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _preamble = resources::preamble(arm, caller, resource, ACCESS_POLICIES_WRITE).await?;
    let update: AccessPolicyUpdate = body(request)?;
    let entries = update
        .properties
        .and_then(|p| p.access_policies)
        .ok_or_else(|| bad_request("The parameter properties.accessPolicies is required."))?;
    let changes = vault_model::verify_access_policies(entries, "properties.accessPolicies")?;
    let _writes = arm.resource_writes.lock().await;
    let found = live(arm.store.get_resource(&resource.id).await?)
        .ok_or_else(|| resources::not_found(KIND, resource))?;
    let mut properties = properties_of(&found)?;
    vault_model::update_access_policies(&mut properties.access_policies, kind, changes.clone())?;
    write(
        arm,
        resource,
        found.location.clone(),
        found.tags.clone(),
        &properties,
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        json!({
            "id": format!("{}/accessPolicies/{}", resource.id, kind.as_str()),
            "name": kind.as_str(),
            "type": format!("{}/accessPolicies", type_name(KIND)),
            "location": found.location,
            "properties": { "accessPolicies": changes },
        }),
    ))
}

/// `POST /subscriptions/{s}/providers/Microsoft.KeyVault/checkNameAvailability`: whether a
/// vault could be created under `name` (`CheckNameAvailabilityResult`).
pub(crate) async fn check_name_availability(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, &ResourceId::subscription(s), CHECK_NAME)?;
    subscription_for(arm, caller, s).await?;
    let check: CheckName = body(request)?;
    let name = check
        .name
        .ok_or_else(|| bad_request("The parameter name is required."))?;
    match check.resource_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case(&type_name(KIND)) => {}
        other => {
            return Err(bad_request(format!(
                "Invalid value found at type: '{}'. The only type is '{}'.",
                other.unwrap_or_default(),
                type_name(KIND)
            )));
        }
    }
    let answer = if !vault_model::valid_vault_name(&name) {
        json!({
            "nameAvailable": false,
            "reason": "AccountNameInvalid",
            "message": vault_model::invalid_name_message(&name),
        })
    } else if !arm
        .store
        .find_resources_by_name(&type_name(KIND), &name)
        .await?
        .is_empty()
        || deleted_vaults::find(arm, &name).await?.is_some()
    {
        json!({
            "nameAvailable": false,
            "reason": "AlreadyExists",
            "message": vault_model::name_taken_message(&name),
        })
    } else {
        json!({ "nameAvailable": true })
    };
    Ok(json(StatusCode::OK, answer))
}
