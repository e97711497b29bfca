//! The secret shapes of Key Vault's responses (reference §1.3): `SecretBundle`,
//! `SecretItem`, `DeletedSecretBundle` and `DeletedSecretItem`, one struct serialized
//! straight into the response's bytes (no intermediate `serde_json::Value`). Fields come out
//! in Key Vault's order; the optional ones only when set.

use std::collections::BTreeMap;

use azlite_store::{DeletedSecret, SecretVersion};
use serde::Serialize;

use crate::vault::Vault;
use crate::wire::VaultUrl;

/// A secret as Key Vault answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretBundle<'a> {
    /// The value, in a bundle of an operation that reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    /// `…/secrets/{name}[/{version}]`.
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    attributes: Attributes,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: &'a BTreeMap<String, String>,
    /// `…/deletedsecrets/{name}`, for a deleted secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_purge_date: Option<i64>,
}

/// `attributes`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Attributes {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    created: i64,
    updated: i64,
    recovery_level: &'static str,
    recoverable_days: i64,
}

/// The fields of every shape: `id` (with or without the version), `contentType`,
/// `attributes`, `tags` (only when set).
fn common<'a>(
    url: &VaultUrl,
    vault: &Vault,
    version: &'a SecretVersion,
    with_version: bool,
) -> SecretBundle<'a> {
    SecretBundle {
        value: None,
        id: url.secret_id(
            &version.name,
            with_version.then_some(version.version.as_str()),
        ),
        content_type: version.content_type.as_deref(),
        attributes: Attributes {
            enabled: version.enabled,
            nbf: version.not_before,
            exp: version.expires,
            created: version.created_at,
            updated: version.updated_at,
            recovery_level: vault.recovery_level(),
            recoverable_days: vault.recoverable_days(),
        },
        tags: &version.tags,
        recovery_id: None,
        deleted_date: None,
        scheduled_purge_date: None,
    }
}

/// A `SecretBundle`: the version's properties, and its value when given.
pub fn bundle<'a>(
    url: &VaultUrl,
    vault: &Vault,
    version: &'a SecretVersion,
    value: Option<&'a str>,
) -> SecretBundle<'a> {
    SecretBundle {
        value,
        ..common(url, vault, version, true)
    }
}

/// A `SecretItem` of a list: no value; the id has no version in the list of secrets and
/// has one in the list of versions.
pub fn item<'a>(
    url: &VaultUrl,
    vault: &Vault,
    version: &'a SecretVersion,
    with_version: bool,
) -> SecretBundle<'a> {
    common(url, vault, version, with_version)
}

fn with_deletion<'a>(
    url: &VaultUrl,
    deleted: &DeletedSecret,
    shape: SecretBundle<'a>,
) -> SecretBundle<'a> {
    SecretBundle {
        recovery_id: Some(url.recovery_id(&deleted.latest.name)),
        deleted_date: Some(deleted.deletion.deleted_at),
        scheduled_purge_date: Some(deleted.deletion.scheduled_purge_at),
        ..shape
    }
}

/// A `DeletedSecretBundle` (without the value).
pub fn deleted_bundle<'a>(
    url: &VaultUrl,
    vault: &Vault,
    deleted: &'a DeletedSecret,
) -> SecretBundle<'a> {
    with_deletion(url, deleted, common(url, vault, &deleted.latest, true))
}

/// A `DeletedSecretItem` (its id without the version).
pub fn deleted_item<'a>(
    url: &VaultUrl,
    vault: &Vault,
    deleted: &'a DeletedSecret,
) -> SecretBundle<'a> {
    with_deletion(url, deleted, common(url, vault, &deleted.latest, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use azlite_store::SecretDeletion;

    fn vault() -> Vault {
        Vault {
            id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
                .parse()
                .unwrap(),
            name: "kv".into(),
            location: "eastus".into(),
            tenant_id: "00000000-0000-0000-0000-0000000000aa".parse().unwrap(),
            rbac: false,
            soft_delete: true,
            retention_days: 90,
            purge_protection: false,
            access_policies: Vec::new(),
        }
    }

    fn version(tags: &[(&str, &str)], content_type: Option<&str>) -> SecretVersion {
        SecretVersion {
            vault_id: vault().id,
            name: "s".into(),
            version: "0123".into(),
            sealed_value: Vec::new(),
            content_type: content_type.map(str::to_owned),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            enabled: true,
            not_before: None,
            expires: Some(99),
            created_at: 10,
            updated_at: 11,
        }
    }

    fn text<T: Serialize>(shape: &T) -> String {
        serde_json::to_string(shape).unwrap()
    }

    #[test]
    fn shapes_come_out_in_key_vaults_order() {
        let url = VaultUrl("https://kv.vault.azure.net".into());
        let plain = version(&[], None);
        assert_eq!(
            text(&bundle(&url, &vault(), &plain, Some("v\"1"))),
            r#"{"value":"v\"1","id":"https://kv.vault.azure.net/secrets/s/0123","attributes":{"enabled":true,"exp":99,"created":10,"updated":11,"recoveryLevel":"Recoverable+Purgeable","recoverableDays":90}}"#
        );
        let tagged = version(&[("a", "b")], Some("text/plain"));
        assert_eq!(
            text(&item(&url, &vault(), &tagged, false)),
            r#"{"id":"https://kv.vault.azure.net/secrets/s","contentType":"text/plain","attributes":{"enabled":true,"exp":99,"created":10,"updated":11,"recoveryLevel":"Recoverable+Purgeable","recoverableDays":90},"tags":{"a":"b"}}"#
        );
        let deleted = DeletedSecret {
            latest: plain,
            deletion: SecretDeletion {
                deleted_at: 20,
                scheduled_purge_at: 30,
            },
        };
        assert_eq!(
            text(&deleted_bundle(&url, &vault(), &deleted)),
            r#"{"id":"https://kv.vault.azure.net/secrets/s/0123","attributes":{"enabled":true,"exp":99,"created":10,"updated":11,"recoveryLevel":"Recoverable+Purgeable","recoverableDays":90},"recoveryId":"https://kv.vault.azure.net/deletedsecrets/s","deletedDate":20,"scheduledPurgeDate":30}"#
        );
        assert_eq!(
            text(&deleted_item(&url, &vault(), &deleted)),
            r#"{"id":"https://kv.vault.azure.net/secrets/s","attributes":{"enabled":true,"exp":99,"created":10,"updated":11,"recoveryLevel":"Recoverable+Purgeable","recoverableDays":90},"recoveryId":"https://kv.vault.azure.net/deletedsecrets/s","deletedDate":20,"scheduledPurgeDate":30}"#
        );
    }
}
