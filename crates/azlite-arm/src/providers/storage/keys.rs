//! A storage account's access keys through ARM: `listKeys` and `regenerateKey`
//! (SPEC-STG, reference §2.5, dataplane reference §3), and the two keys a new account gets.
//!
//! A key is 64 bytes from the system's random number generator, kept and answered as
//! base64 (88 characters, like Azure's). Keys are stored in
//! [`azlite_store::StorageAccountKeyStore`]; a regeneration replaces the key and the
//! account's `keyCreationTime` in one batch, and the data planes read the keys on every
//! verification, so signatures made with the old value fail from the next request on.
//!
//! RBAC as in Azure: `listKeys` needs `…/listkeys/action` and `regenerateKey`
//! `…/regeneratekey/action` on the account (Storage Account Contributor and Storage Account
//! Key Operator Service Role have them; Reader does not: 403 naming the action and scope).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::http::StatusCode;
use axum::response::Response;
use azlite_store::{StorageAccountKey, WriteBatch};
use azlite_types::{ResourceId, UnixTime};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::STORAGE_ACCOUNTS as KIND;
use super::account_model::invalid_values;
use super::accounts::StoredAccount;
use crate::providers::TrackedResource;
use crate::resources;
use crate::wire::{body, json, timestamp};
use crate::{Arm, ArmError, Caller};

/// The action of `listKeys` (canonical lowercase, DOC-PERM-STG).
pub(crate) const LIST_KEYS: &str = "Microsoft.Storage/storageAccounts/listkeys/action";
/// The action of `regenerateKey`.
pub(crate) const REGENERATE_KEY: &str = "Microsoft.Storage/storageAccounts/regeneratekey/action";
/// The names of an account's keys.
const KEY_NAMES: [&str; 2] = ["key1", "key2"];

/// The body of `regenerateKey` (`StorageAccountRegenerateKeyParameters`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegenerateKey {
    key_name: Option<String>,
}

/// A new key: base64 of 64 random bytes.
fn new_value() -> String {
    let mut bytes = [0u8; 64];
    // The system RNG failing is not something to recover from.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random number generator failed");
    STANDARD.encode(bytes)
}

/// The two keys of a new account, made at `now`.
pub(crate) fn new_keys(account: &ResourceId, now: UnixTime) -> Vec<StorageAccountKey> {
    KEY_NAMES
        .into_iter()
        .map(|name| StorageAccountKey {
            account_id: account.clone(),
            key_name: name.to_owned(),
            value: new_value(),
            created_at: now,
        })
        .collect()
}

/// `{"keys":[…]}` (`StorageAccountListKeysResult`).
fn keys_json(keys: &[StorageAccountKey]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "creationTime": timestamp(k.created_at),
                "keyName": k.key_name,
                "value": k.value,
                "permissions": "FULL",
            })
        })
        .collect();
    json!({ "keys": keys })
}

/// `POST …/storageAccounts/{name}/listKeys`: the account's keys.
pub(crate) async fn list_keys(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
) -> Result<Response, ArmError> {
    let _preamble = resources::preamble(arm, caller, resource, LIST_KEYS).await?;
    let found = arm.store.get_resource(&resource.id).await?;
    let found = found.ok_or_else(|| resources::not_found(KIND, resource))?;
    let keys = arm.store.list_storage_account_keys(&found.id).await?;
    Ok(json(StatusCode::OK, keys_json(&keys)))
}

/// `POST …/storageAccounts/{name}/regenerateKey` with `{"keyName":"key1"|"key2"}`: a new
/// value for that key; answers both keys.
pub(crate) async fn regenerate_key(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _preamble = resources::preamble(arm, caller, resource, REGENERATE_KEY).await?;
    let sent: RegenerateKey = body(request)?;
    let key_name = sent
        .key_name
        .and_then(|n| KEY_NAMES.into_iter().find(|k| k.eq_ignore_ascii_case(&n)))
        .ok_or_else(|| invalid_values("keyName"))?;
    let _writes = arm.resource_writes.lock().await;
    let mut found = arm
        .store
        .get_resource(&resource.id)
        .await?
        .ok_or_else(|| resources::not_found(KIND, resource))?;
    let now = arm.clock.now();
    let mut account = StoredAccount::of(&found)?;
    let created = timestamp(now);
    match key_name {
        "key1" => account.properties.key_creation_time.key1 = created,
        _ => account.properties.key_creation_time.key2 = created,
    }
    found.body = account.body();
    found.updated_at = now;
    let key = StorageAccountKey {
        account_id: found.id.clone(),
        key_name: key_name.to_owned(),
        value: new_value(),
        created_at: now,
    };
    arm.store
        .apply(WriteBatch {
            resources: vec![found.clone()],
            storage_account_keys: vec![key],
            ..Default::default()
        })
        .await?;
    let keys = arm.store.list_storage_account_keys(&found.id).await?;
    Ok(json(StatusCode::OK, keys_json(&keys)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_88_characters_of_base64_of_64_random_bytes() {
        let a = new_value();
        assert_eq!(a.len(), 88);
        assert_eq!(STANDARD.decode(&a).unwrap().len(), 64);
        assert_ne!(a, new_value());
        let id: ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a1".parse().unwrap();
        let keys = new_keys(&id, 7);
        assert_eq!(
            keys.iter().map(|k| k.key_name.as_str()).collect::<Vec<_>>(),
            KEY_NAMES
        );
        assert_ne!(keys[0].value, keys[1].value);
        let wire = keys_json(&keys);
        assert_eq!(wire["keys"][0]["permissions"], "FULL");
        assert_eq!(wire["keys"][1]["creationTime"], "1970-01-01T00:00:07Z");
    }
}
