//! Soft-deleted key vaults (`Microsoft.KeyVault/deletedVaults`, SPEC-KV 2022-07-01):
//! `Vaults_ListDeleted` (`GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults`),
//! `Vaults_GetDeleted` (`GET …/locations/{l}/deletedVaults/{name}`) and `Vaults_PurgeDeleted`
//! (`POST …/locations/{l}/deletedVaults/{name}/purge`), and the two halves the vault itself
//! calls: the soft delete of a `DELETE` on a vault with `enableSoftDelete`, and the recovery
//! of a `PUT` with `createMode: recover`.
//!
//! A deleted vault keeps its row, at the vault's own id, with the type
//! `Microsoft.KeyVault/deletedVaults` and the deletion recorded beside its properties: its
//! secrets (kept by the store under the vault's id) stay with it, its name stays taken
//! (vault names are global) until it is purged or recovered, and nothing that looks for
//! vaults by type (the lists, the data plane, `/resources`) sees it. Its role assignments
//! go when it is deleted, as a hard delete takes them. A deleted vault past its
//! `scheduledPurgeDate` is gone: lists skip it, and a new vault of that name purges it.
//! `enablePurgeProtection` refuses a purge until then.
//!
//! Where azlite differs: deleting the resource group of a vault deletes the vault for good
//! (Azure soft-deletes it).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use azlite_authz::Authorized;
use azlite_store::{Deletion, Resource, WriteBatch};
use azlite_types::{ResourceId, SubscriptionId, UnixTime};
use serde_json::{Value, json};

use crate::groups::normalize_location;
use crate::subscriptions::subscription_for;
use crate::wire::{json, timestamp};
use crate::{Arm, ArmError, Caller};

/// The type of a deleted vault's row and of its wire form.
pub(crate) const DELETED_VAULTS: &str = "Microsoft.KeyVault/deletedVaults";
const LIST: &str = "Microsoft.KeyVault/deletedVaults/read";
const READ: &str = "Microsoft.KeyVault/locations/deletedVaults/read";
const PURGE: &str = "Microsoft.KeyVault/locations/deletedVaults/purge/action";
const DAY: UnixTime = 24 * 60 * 60;

/// Whether a stored row is a deleted vault.
pub(crate) fn is_deleted_vault(resource: &Resource) -> bool {
    resource.resource_type.eq_ignore_ascii_case(DELETED_VAULTS)
}

fn scheduled_purge(resource: &Resource) -> UnixTime {
    resource
        .body
        .pointer("/deletion/scheduledPurgeDate")
        .and_then(Value::as_i64)
        .unwrap_or(UnixTime::MAX)
}

/// Whether a deleted vault's retention has run out (it is then as good as purged).
pub(crate) fn expired(arm: &Arm, resource: &Resource) -> bool {
    scheduled_purge(resource) <= arm.clock.now()
}

fn purge_protected(resource: &Resource) -> bool {
    resource
        .body
        .pointer("/properties/enablePurgeProtection")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The row of a vault soft-deleted now, retained `retention_days`.
pub(crate) fn soft_deleted(arm: &Arm, vault: &Resource, retention_days: i64) -> Resource {
    let now = arm.clock.now();
    let mut row = vault.clone();
    row.resource_type = DELETED_VAULTS.to_owned();
    row.body["deletion"] = json!({
        "deletionDate": now,
        "scheduledPurgeDate": now.saturating_add(retention_days.saturating_mul(DAY)),
    });
    row.updated_at = now;
    row
}

/// Soft-deletes `vault`: its row becomes a deleted vault and the role assignments at or
/// below it go, in one batch.
pub(crate) async fn soft_delete(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    vault: &Resource,
    retention_days: i64,
) -> Result<(), ArmError> {
    let _writes = arm.assignment_writes.lock().await;
    let deletions = arm
        .assignment_ids_at_or_below(&vault.id)
        .into_iter()
        .map(Deletion::RoleAssignment)
        .collect();
    arm.store
        .apply(WriteBatch {
            deletions,
            resources: vec![soft_deleted(arm, vault, retention_days)],
            ..Default::default()
        })
        .await?;
    arm.forget_assignments_at_or_below(&vault.id);
    Ok(())
}

/// The vault's row as it was before the soft delete, for `createMode: recover`.
pub(crate) fn recovered(arm: &Arm, deleted: &Resource) -> Resource {
    let mut row = deleted.clone();
    row.resource_type = crate::resources::type_name(super::KEY_VAULTS);
    if let Some(body) = row.body.as_object_mut() {
        body.remove("deletion");
    }
    row.updated_at = arm.clock.now();
    row
}

/// The deleted vault holding `name`, unless there is none or its retention ran out.
pub(crate) async fn find(arm: &Arm, name: &str) -> Result<Option<Resource>, ArmError> {
    Ok(arm
        .store
        .find_resources_by_name(DELETED_VAULTS, name)
        .await?
        .into_iter()
        .find(|r| !expired(arm, r)))
}

/// The deleted vaults holding `name` whose retention ran out: a new vault of that name
/// purges them in its own batch.
pub(crate) async fn expired_holders(arm: &Arm, name: &str) -> Result<Vec<Deletion>, ArmError> {
    Ok(arm
        .store
        .find_resources_by_name(DELETED_VAULTS, name)
        .await?
        .into_iter()
        .filter(|r| expired(arm, r))
        .map(|r| Deletion::Resource(r.id))
        .collect())
}

/// 409 for a name held by a deleted vault, as Key Vault words it.
pub(crate) fn name_in_deleted_state(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "ConflictError",
        format!(
            "A vault with the same name '{name}' already exists in deleted state. You need to either recover or purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete."
        ),
    )
}

/// The wire form (`DeletedVault`).
fn deleted_json(r: &Resource) -> Value {
    let deletion = |key: &str| {
        r.body
            .pointer(&format!("/deletion/{key}"))
            .and_then(Value::as_i64)
            .map(timestamp)
    };
    json!({
        "id": format!(
            "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
            r.subscription_id, normalize_location(&r.location), r.name
        ),
        "name": r.name,
        "type": DELETED_VAULTS,
        "properties": {
            "vaultId": r.id,
            "location": r.location,
            "deletionDate": deletion("deletionDate"),
            "scheduledPurgeDate": deletion("scheduledPurgeDate"),
            "tags": r.tags,
            "purgeProtectionEnabled": purge_protected(r),
        },
    })
}

fn not_found(location: &str, name: &str) -> ArmError {
    ArmError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.KeyVault/locations/{location}/deletedVaults/{name}' under resource group '<null>' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// The live deleted vault `name` of subscription `s` in `location`.
async fn one_in(
    arm: &Arm,
    s: SubscriptionId,
    location: &str,
    name: &str,
) -> Result<Resource, ArmError> {
    find(arm, name)
        .await?
        .filter(|r| r.subscription_id == s)
        .filter(|r| normalize_location(&r.location) == normalize_location(location))
        .ok_or_else(|| not_found(location, name))
}

/// `GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, &ResourceId::subscription(s), LIST)?;
    subscription_for(arm, caller, s).await?;
    let value: Vec<Value> = arm
        .store
        .list_resources(s, None, Some(DELETED_VAULTS))
        .await?
        .iter()
        .filter(|r| !expired(arm, r))
        .map(deleted_json)
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// `GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedManagedHSMs`: always empty,
/// since azlite serves no managed HSMs (`az keyvault list-deleted` lists both kinds).
pub(crate) async fn list_hsms(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(
        caller,
        &ResourceId::subscription(s),
        "Microsoft.KeyVault/deletedManagedHSMs/read",
    )?;
    subscription_for(arm, caller, s).await?;
    Ok(json(StatusCode::OK, json!({ "value": [] })))
}

/// `GET /subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/deletedVaults/{name}`.
pub(crate) async fn get(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    location: &str,
    name: &str,
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, &ResourceId::subscription(s), READ)?;
    subscription_for(arm, caller, s).await?;
    let found = one_in(arm, s, location, name).await?;
    Ok(json(StatusCode::OK, deleted_json(&found)))
}

/// `POST …/locations/{l}/deletedVaults/{name}/purge`: the vault and its secrets for good;
/// refused while purge protection holds it. Answers 200 at once (the SDK's poller takes it
/// as final).
pub(crate) async fn purge(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    location: &str,
    name: &str,
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, &ResourceId::subscription(s), PURGE)?;
    subscription_for(arm, caller, s).await?;
    let _resources = arm.resource_writes.lock().await;
    let found = one_in(arm, s, location, name).await?;
    if purge_protected(&found) {
        return Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Operation 'DeletedVaultPurge' is not allowed.",
        ));
    }
    let _writes = arm.assignment_writes.lock().await;
    arm.store
        .apply(WriteBatch {
            deletions: vec![Deletion::Resource(found.id.clone())],
            ..Default::default()
        })
        .await?;
    arm.forget_assignments_at_or_below(&found.id);
    Ok(StatusCode::OK.into_response())
}
