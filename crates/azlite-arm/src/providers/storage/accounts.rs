//! Storage accounts through ARM (`Microsoft.Storage/storageAccounts`, SPEC-STG 2023-05-01,
//! reference §2.5): create, get, update, delete, the lists and `checkNameAvailability`.
//! The model and its rules are in [`super::account_model`]; the keys in [`super::keys`].
//!
//! Account names are global (the name is the data plane's host,
//! `{name}.blob.{storage suffix}`): a name held by an account in another group or
//! subscription is refused with 409 `StorageAccountAlreadyTaken`. A new account gets its
//! two keys in the same batch; deleting it deletes them (and what the store keeps below
//! it). Answers are synchronous: PUT 200 with `provisioningState: Succeeded` (the spec
//! declares 200 and 202 for `StorageAccounts_Create`, never 201, and the SDK poller takes a
//! 200 with a terminal state as final, reference §1.7), PATCH 200, DELETE 200/204.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_authz::Authorized;
use azlite_store::{Resource, WriteBatch};
use azlite_types::{ResourceId, SubscriptionId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::STORAGE_ACCOUNTS as KIND;
use super::account_model::{
    self as model, AccountProperties, NewAccount, Sku, UnverifiedAccountProperties, UnverifiedSku,
};
use super::keys;
use crate::providers::TrackedResource;
use crate::resources::{self, Preamble, type_name};
use crate::subscriptions::subscription_for;
use crate::wire::{body, json, timestamp};
use crate::{Arm, ArmError, Caller};

/// The action of `checkNameAvailability`.
const CHECK_NAME: &str = "Microsoft.Storage/checkNameAvailability/read";

/// The body of a PUT (`StorageAccountCreateParameters`).
#[derive(Debug, Deserialize)]
struct PutAccount {
    sku: Option<UnverifiedSku>,
    kind: Option<String>,
    location: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    properties: Option<UnverifiedAccountProperties>,
}

/// The body of a PATCH (`StorageAccountUpdateParameters`).
#[derive(Debug, Deserialize)]
struct PatchAccount {
    sku: Option<UnverifiedSku>,
    kind: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    properties: Option<UnverifiedAccountProperties>,
}

/// The body of `checkNameAvailability` (`StorageAccountCheckNameAvailabilityParameters`).
#[derive(Debug, Deserialize)]
struct CheckName {
    name: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
}

/// Where the stored body keeps the blob service's properties (never shown on the account).
const BLOB_SERVICE_FIELD: &str = "blobServiceProperties";

/// An account as stored: SKU, kind, properties, and its blob service's properties once
/// set through `blobServices/default`.
pub(crate) struct StoredAccount {
    pub(crate) sku: Sku,
    pub(crate) kind: String,
    pub(crate) properties: AccountProperties,
    pub(crate) blob_service: Option<Value>,
}

impl StoredAccount {
    /// Reads the stored body of an account.
    pub(crate) fn of(resource: &Resource) -> Result<Self, ArmError> {
        let field = |name: &str| resource.body.get(name).cloned().unwrap_or_default();
        let parse = |e: serde_json::Error| ArmError::internal(&e);
        Ok(Self {
            sku: serde_json::from_value(field("sku")).map_err(parse)?,
            kind: serde_json::from_value(field("kind")).map_err(parse)?,
            properties: serde_json::from_value(field("properties")).map_err(parse)?,
            blob_service: resource.body.get(BLOB_SERVICE_FIELD).cloned(),
        })
    }

    /// The stored body: `sku`, `kind`, `properties`, and the blob service's properties.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({ "sku": self.sku, "kind": self.kind, "properties": self.properties });
        if let Some(service) = &self.blob_service {
            body[BLOB_SERVICE_FIELD] = service.clone();
        }
        body
    }
}

/// The wire form of an account (`StorageAccount`).
fn account_json(resource: &Resource) -> Value {
    let field = |name: &str| resource.body.get(name).cloned().unwrap_or_default();
    json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.resource_type,
        "location": resource.location,
        "tags": resource.tags,
        "sku": field("sku"),
        "kind": field("kind"),
        "properties": field("properties"),
    })
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Storage/storageAccounts`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
) -> Result<Response, ArmError> {
    resources::list_of_kind(arm, caller, s, group, KIND, |r| Ok(account_json(r))).await
}

/// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Storage/storageAccounts/{name}`.
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
        let existing = arm.store.get_resource(&resource.id).await?;
        let found = existing.ok_or_else(|| resources::not_found(KIND, resource))?;
        return Ok(json(StatusCode::OK, account_json(&found)));
    }
    let _writes = arm.resource_writes.lock().await;
    let existing = arm.store.get_resource(&resource.id).await?;
    match *method {
        Method::PUT => put(arm, &authorized, resource, existing, request).await,
        Method::PATCH => {
            let found = existing.ok_or_else(|| resources::not_found(KIND, resource))?;
            patch(arm, &authorized, resource, found, request).await
        }
        _ => match existing {
            Some(found) => {
                resources::delete_with_principals(arm, &authorized, &found).await?;
                arm.signal_content_freed();
                Ok(StatusCode::OK.into_response())
            }
            None => Ok(StatusCode::NO_CONTENT.into_response()),
        },
    }
}

/// Refuses a name held by another account anywhere (names are global).
async fn require_free_name(arm: &Arm, resource: &TrackedResource) -> Result<(), ArmError> {
    resources::require_free_name(
        arm,
        resource,
        KIND,
        "StorageAccountAlreadyTaken",
        model::name_taken_message(&resource.name),
    )
    .await
}

/// Creates an account with its two keys, or updates an existing one with what the body
/// sends (a create of an existing account updates it, as the Storage provider documents);
/// 200 either way.
async fn put(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    resource: &TrackedResource,
    existing: Option<Resource>,
    request: &[u8],
) -> Result<Response, ArmError> {
    if !model::valid_name(&resource.name) {
        return Err(model::invalid_name(&resource.name));
    }
    let put: PutAccount = body(request)?;
    let location = resources::put_location(put.location, existing.as_ref(), resource)?;
    let sent = put.properties.unwrap_or_default();
    let tags = put.tags.unwrap_or_default();
    let Some(found) = existing else {
        let sku = model::verify_sku(put.sku)?;
        let kind = model::verify_kind(put.kind.as_deref())?;
        require_free_name(arm, resource).await?;
        let now = arm.clock.now();
        let now_text = timestamp(now);
        let new = NewAccount {
            name: &resource.name,
            location: &location,
            suffix: &arm.config.storage_suffix,
            now: &now_text,
        };
        let account = StoredAccount {
            properties: model::new_properties(sent, &sku, kind, &new)?,
            sku,
            kind: kind.to_owned(),
            blob_service: None,
        };
        let stored = resources::stored(arm, resource, KIND, location, tags, account.body());
        let batch = WriteBatch {
            resources: vec![stored.clone()],
            storage_account_keys: keys::new_keys(&resource.id, now),
            ..Default::default()
        };
        arm.store.apply(batch).await?;
        return Ok(json(StatusCode::OK, account_json(&stored)));
    };
    let old = StoredAccount::of(&found)?;
    let kind = model::update_kind(&old.kind, put.kind.as_deref())?;
    let account = StoredAccount {
        sku: model::update_sku(old.sku, put.sku, kind)?,
        properties: model::update_properties(sent, old.properties, kind)?,
        kind: kind.to_owned(),
        blob_service: old.blob_service,
    };
    let stored = write(arm, resource, &found, tags, &account).await?;
    Ok(json(StatusCode::OK, account_json(&stored)))
}

/// Updates an account: what the body sends replaces what is stored, `tags` are replaced
/// when sent.
async fn patch(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    resource: &TrackedResource,
    found: Resource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let patch: PatchAccount = body(request)?;
    let old = StoredAccount::of(&found)?;
    let kind = model::update_kind(&old.kind, patch.kind.as_deref())?;
    let account = StoredAccount {
        sku: model::update_sku(old.sku, patch.sku, kind)?,
        properties: model::update_properties(
            patch.properties.unwrap_or_default(),
            old.properties,
            kind,
        )?,
        kind: kind.to_owned(),
        blob_service: old.blob_service,
    };
    let tags = patch.tags.unwrap_or_else(|| found.tags.clone());
    let stored = write(arm, resource, &found, tags, &account).await?;
    Ok(json(StatusCode::OK, account_json(&stored)))
}

/// Stores an existing account anew (an upsert: `created_at` is kept).
pub(crate) async fn write(
    arm: &Arm,
    resource: &TrackedResource,
    found: &Resource,
    tags: BTreeMap<String, String>,
    account: &StoredAccount,
) -> Result<Resource, ArmError> {
    let location = found.location.clone();
    resources::write_tracked(arm, resource, KIND, location, tags, account.body()).await
}

/// `POST /subscriptions/{s}/providers/Microsoft.Storage/checkNameAvailability`: whether an
/// account could be created under `name` (`CheckNameAvailabilityResult`).
pub(crate) async fn check_name_availability(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, &ResourceId::subscription(s), CHECK_NAME)?;
    subscription_for(arm, caller, s).await?;
    let check: CheckName = body(request)?;
    let name = check.name.ok_or_else(|| model::invalid_values("name"))?;
    match check.resource_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case(&type_name(KIND)) => {}
        _ => return Err(model::invalid_values("type")),
    }
    let answer = if !model::valid_name(&name) {
        json!({
            "nameAvailable": false,
            "reason": "AccountNameInvalid",
            "message": model::invalid_name_message(&name),
        })
    } else if !arm
        .store
        .find_resources_by_name(&type_name(KIND), &name)
        .await?
        .is_empty()
    {
        json!({
            "nameAvailable": false,
            "reason": "AlreadyExists",
            "message": model::name_taken_message(&name),
        })
    } else {
        json!({ "nameAvailable": true })
    };
    Ok(json(StatusCode::OK, answer))
}
