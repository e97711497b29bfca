//! Data Lake Store Gen1 accounts through ARM (`Microsoft.DataLakeStore/accounts`,
//! SPEC-DLS 2016-11-01, reference §2.7): create, get, update, delete, the lists and
//! `locations/{location}/checkNameAvailability`.
//!
//! Names are global (the data plane's host is `{name}.{datalake suffix}`, answered as
//! `endpoint` without a scheme): 3–24 lowercase letters and digits, held by one account in
//! any group of any subscription. The account's `accountId` is a random GUID kept for its
//! life. Firewall, trusted identity providers and encryption settings are stored and
//! echoed, not enforced (docs/protocols/storage-arm.md). Answers are synchronous: PUT
//! 201/200 with `provisioningState: Succeeded`, PATCH 200, DELETE 200/204.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_store::Resource;
use azlite_types::{ResourceId, SubscriptionId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::DATA_LAKE_STORE_ACCOUNTS as KIND;
use crate::providers::TrackedResource;
use crate::resources::{self, Preamble, type_name};
use crate::subscriptions::subscription_for;
use crate::wire::{body, json, timestamp};
use crate::{Arm, ArmError, Caller};

/// The action of `checkNameAvailability`.
const CHECK_NAME: &str = "Microsoft.DataLakeStore/locations/checkNameAvailability/action";

/// The rule of a name, as `InvalidResourceName` states it.
const NAME_RULE: &str =
    "The name must be 3 to 24 characters long and contain only lowercase letters and digits.";

/// Account names: 3–24 lowercase letters and digits.
fn valid_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn name_taken_message(name: &str) -> String {
    format!("The Data Lake Store account name '{name}' is already taken.")
}

/// The properties a create or an update may send; others are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnverifiedProperties {
    default_group: Option<String>,
    encryption_state: Option<String>,
    encryption_config: Option<Value>,
    firewall_state: Option<String>,
    firewall_allow_azure_ips: Option<String>,
    trusted_id_provider_state: Option<String>,
    new_tier: Option<String>,
}

/// The body of a PUT (`CreateDataLakeStoreAccountParameters`).
#[derive(Debug, Deserialize)]
struct PutAccount {
    location: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    properties: Option<UnverifiedProperties>,
}

/// The body of a PATCH (`UpdateDataLakeStoreAccountParameters`).
#[derive(Debug, Deserialize)]
struct PatchAccount {
    tags: Option<BTreeMap<String, String>>,
    properties: Option<UnverifiedProperties>,
}

/// The body of `checkNameAvailability` (`CheckNameAvailabilityParameters`).
#[derive(Debug, Deserialize)]
struct CheckName {
    name: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
}

/// The stored properties, which are also the wire form (`DataLakeStoreAccountProperties`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountProperties {
    provisioning_state: String,
    state: String,
    endpoint: String,
    account_id: String,
    creation_time: String,
    last_modified_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_group: Option<String>,
    encryption_state: String,
    encryption_provisioning_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encryption_config: Option<Value>,
    firewall_state: String,
    firewall_allow_azure_ips: String,
    firewall_rules: Vec<Value>,
    virtual_network_rules: Vec<Value>,
    trusted_id_providers: Vec<Value>,
    trusted_id_provider_state: String,
    new_tier: String,
    current_tier: String,
}

fn invalid_value(property: &str, value: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestContent",
        format!(
            "The request content was invalid and could not be deserialized: the value '{value}' is not valid for 'properties.{property}'."
        ),
    )
}

/// `value` in the casing of one of `allowed`, or 400.
fn one_of(property: &str, value: &str, allowed: &[&'static str]) -> Result<String, ArmError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map(|a| (*a).to_owned())
        .ok_or_else(|| invalid_value(property, value))
}

/// The tiers (`TierType`).
const TIERS: [&str; 7] = [
    "Consumption",
    "Commitment_1TB",
    "Commitment_10TB",
    "Commitment_100TB",
    "Commitment_500TB",
    "Commitment_1PB",
    "Commitment_5PB",
];

/// Applies what a request sends over `properties`.
fn apply(request: UnverifiedProperties, p: &mut AccountProperties) -> Result<(), ArmError> {
    const STATES: &[&str] = &["Enabled", "Disabled"];
    if let Some(group) = request.default_group {
        p.default_group = Some(group);
    }
    if let Some(state) = request.encryption_state {
        p.encryption_state = one_of("encryptionState", &state, STATES)?;
    }
    if let Some(config) = request.encryption_config.filter(|c| !c.is_null()) {
        p.encryption_config = Some(config);
    }
    if let Some(state) = request.firewall_state {
        p.firewall_state = one_of("firewallState", &state, STATES)?;
    }
    if let Some(state) = request.firewall_allow_azure_ips {
        p.firewall_allow_azure_ips = one_of("firewallAllowAzureIps", &state, STATES)?;
    }
    if let Some(state) = request.trusted_id_provider_state {
        p.trusted_id_provider_state = one_of("trustedIdProviderState", &state, STATES)?;
    }
    if let Some(tier) = request.new_tier {
        p.new_tier = one_of("newTier", &tier, &TIERS)?;
        p.current_tier = p.new_tier.clone();
    }
    if p.encryption_state == "Enabled" && p.encryption_config.is_none() {
        p.encryption_config = Some(json!({ "type": "ServiceManaged" }));
    }
    Ok(())
}

fn properties_of(resource: &Resource) -> Result<AccountProperties, ArmError> {
    let properties = resource.body.get("properties").cloned().unwrap_or_default();
    serde_json::from_value(properties).map_err(|e| ArmError::internal(&e))
}

/// The wire form of an account (`DataLakeStoreAccount`).
fn account_json(resource: &Resource) -> Value {
    json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.resource_type,
        "location": resource.location,
        "tags": resource.tags,
        "properties": resource.body.get("properties").cloned().unwrap_or_default(),
    })
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.DataLakeStore/accounts`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
) -> Result<Response, ArmError> {
    resources::list_of_kind(arm, caller, s, group, KIND, |r| Ok(account_json(r))).await
}

/// `GET|PUT|PATCH|DELETE …/providers/Microsoft.DataLakeStore/accounts/{name}`.
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
        Method::PUT => put(arm, resource, existing, request).await,
        Method::PATCH => {
            let found = existing.ok_or_else(|| resources::not_found(KIND, resource))?;
            let patch: PatchAccount = body(request)?;
            let mut properties = properties_of(&found)?;
            apply(patch.properties.unwrap_or_default(), &mut properties)?;
            properties.last_modified_time = timestamp(arm.clock.now());
            let tags = patch.tags.unwrap_or_else(|| found.tags.clone());
            let stored = write(arm, resource, found.location, tags, &properties).await?;
            Ok(json(StatusCode::OK, account_json(&stored)))
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

/// Creates (201) or replaces (200) an account; a replaced account keeps its `accountId`,
/// creation time and endpoint.
async fn put(
    arm: &Arm,
    resource: &TrackedResource,
    existing: Option<Resource>,
    request: &[u8],
) -> Result<Response, ArmError> {
    if !valid_name(&resource.name) {
        return Err(resources::invalid_name(KIND, &resource.name, NAME_RULE));
    }
    let put: PutAccount = body(request)?;
    let location = resources::put_location(put.location, existing.as_ref(), resource)?;
    let now = timestamp(arm.clock.now());
    let old = existing.as_ref().map(properties_of).transpose()?;
    if existing.is_none() {
        let holders = arm
            .store
            .find_resources_by_name(&type_name(KIND), &resource.name)
            .await?;
        if holders.iter().any(|r| r.id != resource.id) {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                "NameAlreadyExists",
                name_taken_message(&resource.name),
            ));
        }
    }
    let mut properties = AccountProperties {
        provisioning_state: "Succeeded".to_owned(),
        state: "Active".to_owned(),
        endpoint: format!("{}.{}", resource.name, arm.config.datalake_suffix),
        account_id: old.as_ref().map_or_else(
            || uuid::Uuid::new_v4().to_string(),
            |o| o.account_id.clone(),
        ),
        creation_time: old
            .as_ref()
            .map_or_else(|| now.clone(), |o| o.creation_time.clone()),
        last_modified_time: now,
        default_group: None,
        encryption_state: "Enabled".to_owned(),
        encryption_provisioning_state: "Succeeded".to_owned(),
        encryption_config: None,
        firewall_state: "Disabled".to_owned(),
        firewall_allow_azure_ips: "Disabled".to_owned(),
        firewall_rules: Vec::new(),
        virtual_network_rules: Vec::new(),
        trusted_id_providers: Vec::new(),
        trusted_id_provider_state: "Disabled".to_owned(),
        new_tier: "Consumption".to_owned(),
        current_tier: "Consumption".to_owned(),
    };
    if let Some(old) = &old {
        properties.endpoint.clone_from(&old.endpoint);
    }
    apply(put.properties.unwrap_or_default(), &mut properties)?;
    let tags = put.tags.unwrap_or_default();
    let stored = write(arm, resource, location, tags, &properties).await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json(status, account_json(&stored)))
}

/// Stores the account (an upsert: `created_at` is kept).
async fn write(
    arm: &Arm,
    resource: &TrackedResource,
    location: String,
    tags: BTreeMap<String, String>,
    properties: &AccountProperties,
) -> Result<Resource, ArmError> {
    let body = json!({ "properties": properties });
    resources::write_tracked(arm, resource, KIND, location, tags, body).await
}

/// `POST /subscriptions/{s}/providers/Microsoft.DataLakeStore/locations/{l}/checkNameAvailability`
/// (`NameAvailabilityInformation`).
pub(crate) async fn check_name_availability(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, &ResourceId::subscription(s), CHECK_NAME)?;
    subscription_for(arm, caller, s).await?;
    let check: CheckName = body(request)?;
    let name = check.name.ok_or_else(|| {
        ArmError::bad_request("InvalidRequestContent", "The parameter name is required.")
    })?;
    match check.resource_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case(&type_name(KIND)) => {}
        other => {
            return Err(ArmError::bad_request(
                "InvalidRequestContent",
                format!(
                    "Invalid value found at type: '{}'. The only type is '{}'.",
                    other.unwrap_or_default(),
                    type_name(KIND)
                ),
            ));
        }
    }
    let answer = if !valid_name(&name) {
        json!({
            "nameAvailable": false,
            "reason": "Invalid",
            "message": format!("The Data Lake Store account name '{name}' is invalid. {NAME_RULE}"),
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
            "message": name_taken_message(&name),
        })
    } else {
        json!({ "nameAvailable": true })
    };
    Ok(json(StatusCode::OK, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_3_to_24_lowercase_letters_and_digits() {
        assert!(valid_name("adls1"));
        assert!(!valid_name("Adls1"));
        assert!(!valid_name("ad"));
        assert!(!valid_name(&"a".repeat(25)));
        assert!(!valid_name("ad-ls"));
    }
}
