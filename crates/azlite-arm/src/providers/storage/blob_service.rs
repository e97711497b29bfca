//! The blob service of an account through ARM (`…/storageAccounts/{a}/blobServices/default`,
//! SPEC-STG 2023-05-01 `BlobServices_GetServiceProperties` and
//! `BlobServices_SetServiceProperties`), as azure-mgmt-storage, Terraform and the portal use
//! it to set CORS rules and soft delete.
//!
//! A PUT changes the properties it sends and keeps the others. They are checked as Azure
//! checks them, kept with the account (and deleted with it), and answered back; azlite
//! applies none of them (no CORS enforcement, soft delete, versioning or change feed), as
//! for the data plane's service properties: docs/protocols/blob.md.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::accounts::{self, StoredAccount};
use crate::providers::TrackedResource;
use crate::resources;
use crate::wire::json;
use crate::{Arm, ArmError, Caller};

/// The ARM type of the blob service.
const SERVICE_TYPE: &str = "Microsoft.Storage/storageAccounts/blobServices";
/// The most CORS rules a service takes.
const MAX_CORS_RULES: usize = 5;
/// The methods a CORS rule may allow.
const CORS_METHODS: &[&str] = &[
    "DELETE", "GET", "HEAD", "MERGE", "POST", "OPTIONS", "PUT", "PATCH", "CONNECT", "TRACE",
];

/// What an account's blob service has before any PUT.
fn defaults() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "cors": { "corsRules": [] },
        "deleteRetentionPolicy": { "enabled": false, "allowPermanentDelete": false },
        "containerDeleteRetentionPolicy": { "enabled": false },
        "isVersioningEnabled": false,
        "changeFeed": { "enabled": false },
    }) else {
        unreachable!("a JSON object literal is an object")
    };
    map
}

/// `GET|PUT …/storageAccounts/{a}/blobServices/default`.
pub(crate) async fn service(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    account: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let id = format!("{}/blobServices/default", account.id);
    let scope = id
        .parse()
        .map_err(|_| resources::not_found(super::STORAGE_ACCOUNTS, account))?;
    let verb = if *method == Method::PUT {
        "write"
    } else {
        "read"
    };
    let stored = super::blob_containers::preamble(
        arm,
        caller,
        account,
        &scope,
        &format!("{SERVICE_TYPE}/{verb}"),
    )
    .await?;
    let stored = if *method == Method::PUT {
        let sent = verify(request)?;
        let _writes = arm.resource_writes.lock().await;
        // Read again under the lock: a PATCH of the account may have landed meanwhile.
        let found = arm
            .store
            .get_resource(&account.id)
            .await?
            .ok_or_else(|| resources::not_found(super::STORAGE_ACCOUNTS, account))?;
        let mut current = StoredAccount::of(&found)?;
        let mut properties = match current.blob_service.take() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        properties.extend(sent);
        current.blob_service = Some(Value::Object(properties));
        accounts::write(arm, account, &found, found.tags.clone(), &current).await?;
        current
    } else {
        stored
    };
    let mut properties = defaults();
    if let Some(Value::Object(set)) = &stored.blob_service {
        properties.extend(set.clone());
    }
    Ok(json(
        StatusCode::OK,
        json!({
            "id": id,
            "name": "default",
            "type": SERVICE_TYPE,
            "sku": { "name": stored.sku.name, "tier": stored.sku.tier },
            "properties": properties,
        }),
    ))
}

/// The properties a PUT sends (`BlobServiceProperties.properties`), each checked; names
/// azlite does not know are left out, as ARM leaves out what a provider does not declare.
fn verify(request: &[u8]) -> Result<Map<String, Value>, ArmError> {
    let sent: Value = crate::wire::body(request)?;
    let Some(Value::Object(properties)) = sent.get("properties") else {
        return Err(invalid("properties", &sent));
    };
    let mut out = Map::new();
    for (name, value) in properties {
        let ok = match name.as_str() {
            "cors" => cors(value)?,
            "deleteRetentionPolicy" | "containerDeleteRetentionPolicy" | "restorePolicy" => {
                retention(name, value)?
            }
            "changeFeed" => change_feed(value)?,
            "isVersioningEnabled" | "automaticSnapshotPolicyEnabled" => value.is_boolean(),
            "defaultServiceVersion" => value.is_string(),
            "lastAccessTimeTrackingPolicy" => value.is_object(),
            _ => continue,
        };
        if !ok {
            return Err(invalid(name, value));
        }
        out.insert(name.clone(), value.clone());
    }
    Ok(out)
}

/// `cors.corsRules`: at most five rules, each with origins, methods Azure knows, headers
/// and a non-negative `maxAgeInSeconds`.
fn cors(value: &Value) -> Result<bool, ArmError> {
    let Some(rules) = value.get("corsRules").and_then(Value::as_array) else {
        return Ok(value.get("corsRules").is_none() && value.is_object());
    };
    if rules.len() > MAX_CORS_RULES {
        return Err(ArmError::bad_request(
            "InvalidRequestPropertyValue",
            format!("A blob service takes at most {MAX_CORS_RULES} CORS rules."),
        ));
    }
    let strings = |rule: &Value, name: &str| {
        rule.get(name)
            .and_then(Value::as_array)
            .is_some_and(|list| !list.is_empty() && list.iter().all(Value::is_string))
    };
    Ok(rules.iter().all(|rule| {
        [
            "allowedOrigins",
            "allowedMethods",
            "allowedHeaders",
            "exposedHeaders",
        ]
        .iter()
        .all(|name| strings(rule, name))
            && rule["allowedMethods"].as_array().is_some_and(|methods| {
                methods
                    .iter()
                    .filter_map(Value::as_str)
                    .all(|m| CORS_METHODS.contains(&m.to_ascii_uppercase().as_str()))
            })
            && rule
                .get("maxAgeInSeconds")
                .and_then(Value::as_i64)
                .is_some_and(|age| age >= 0)
    }))
}

/// A retention policy: `enabled`, and when enabled `days` from 1 to 365.
fn retention(name: &str, value: &Value) -> Result<bool, ArmError> {
    let Some(enabled) = value.get("enabled").and_then(Value::as_bool) else {
        return Ok(false);
    };
    let days = value.get("days");
    match days.map(Value::as_i64) {
        None if !enabled => Ok(true),
        Some(Some(days)) if (1..=365).contains(&days) => Ok(true),
        _ => Err(ArmError::bad_request(
            "InvalidRequestPropertyValue",
            format!("{name}.days must be between 1 and 365 when the policy is enabled."),
        )),
    }
}

/// `changeFeed`: `enabled`, and `retentionInDays` from 1 to 146000 when sent.
fn change_feed(value: &Value) -> Result<bool, ArmError> {
    let enabled = value.get("enabled").is_some_and(Value::is_boolean);
    let days_ok = match value.get("retentionInDays") {
        None | Some(Value::Null) => true,
        Some(days) => days.as_i64().is_some_and(|d| (1..=146_000).contains(&d)),
    };
    Ok(enabled && days_ok)
}

fn invalid(name: &str, value: &Value) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestPropertyValue",
        format!("The value '{value}' is not allowed for property {name}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(properties: Value) -> Result<Map<String, Value>, ArmError> {
        verify(json!({ "properties": properties }).to_string().as_bytes())
    }

    #[test]
    fn a_put_keeps_what_azure_declares_and_checks_it() {
        let sent = put(json!({
            "deleteRetentionPolicy": { "enabled": true, "days": 7 },
            "isVersioningEnabled": false,
            "somethingElse": 1,
        }))
        .unwrap();
        assert_eq!(sent.len(), 2);
        assert!(put(json!({ "deleteRetentionPolicy": { "enabled": true } })).is_err());
        assert!(put(json!({ "deleteRetentionPolicy": { "enabled": true, "days": 366 } })).is_err());
        assert!(put(json!({ "deleteRetentionPolicy": { "enabled": false } })).is_ok());
        assert!(put(json!({ "isVersioningEnabled": "yes" })).is_err());
        assert!(verify(b"{}").is_err());
    }

    #[test]
    fn cors_rules_are_checked() {
        let rule = json!({
            "allowedOrigins": ["https://example.com"],
            "allowedMethods": ["GET", "put"],
            "allowedHeaders": ["*"],
            "exposedHeaders": ["x-ms-*"],
            "maxAgeInSeconds": 60,
        });
        assert!(put(json!({ "cors": { "corsRules": [rule.clone()] } })).is_ok());
        let mut bad = rule.clone();
        bad["allowedMethods"] = json!(["FETCH"]);
        assert!(put(json!({ "cors": { "corsRules": [bad] } })).is_err());
        let six: Vec<Value> = (0..6).map(|_| rule.clone()).collect();
        assert!(put(json!({ "cors": { "corsRules": six } })).is_err());
    }
}
