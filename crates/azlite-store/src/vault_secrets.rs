//! Key Vault secrets as stored, and the [`SecretStore`] trait.
//!
//! A secret lives in a vault, keyed by the vault's ARM id (compared as ARM compares ids:
//! ASCII case-insensitively) and its name (Key Vault names are case-insensitive too; the
//! casing most recently written is kept). A secret has versions, the newest of which is
//! "the" secret, and is either active or deleted (soft delete): a deleted secret keeps its
//! versions until it is recovered or purged, and its name cannot be reused meanwhile.
//!
//! The store never sees a secret's value: the Key Vault service seals it (AES-256-GCM under
//! a key kept outside the database) before it reaches the store, and the store keeps the
//! sealed bytes as they are.

use std::collections::BTreeMap;

use async_trait::async_trait;
use azlite_types::{ResourceId, UnixTime};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// One version of a Key Vault secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretVersion {
    /// The ARM id of the vault that holds the secret.
    pub vault_id: ResourceId,
    /// The secret's name, as most recently written.
    pub name: String,
    /// The version: 32 lowercase hex characters, unique within the secret.
    pub version: String,
    /// The value, sealed by the service. Opaque to the store.
    pub sealed_value: Vec<u8>,
    /// `contentType`.
    pub content_type: Option<String>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `attributes.enabled`.
    pub enabled: bool,
    /// `attributes.nbf`.
    pub not_before: Option<UnixTime>,
    /// `attributes.exp`.
    pub expires: Option<UnixTime>,
    /// `attributes.created`.
    pub created_at: UnixTime,
    /// `attributes.updated`.
    pub updated_at: UnixTime,
}

impl std::fmt::Debug for SecretVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretVersion")
            .field("vault_id", &self.vault_id)
            .field("name", &self.name)
            .field("version", &self.version)
            .field("sealed_value", &"<sealed>")
            .field("enabled", &self.enabled)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// When a secret was (soft) deleted and when it will be purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretDeletion {
    /// `deletedDate`.
    pub deleted_at: UnixTime,
    /// `scheduledPurgeDate`.
    pub scheduled_purge_at: UnixTime,
}

/// A soft-deleted secret: its newest version and when it was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedSecret {
    /// The newest version at deletion.
    pub latest: SecretVersion,
    /// The deletion.
    pub deletion: SecretDeletion,
}

/// The secrets of Key Vault's data plane.
///
/// Names and versions are compared case-insensitively (ASCII); vault ids as ARM ids are.
/// Only active secrets are seen by the non-`deleted` methods. A `Deletion` of the vault's
/// resource (or of its group) in a [`crate::WriteBatch`] deletes its secrets, active and
/// deleted, in the same transaction.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Adds a version to a secret, creating the secret if it has none (the name takes the
    /// casing given). Fails with [`crate::StoreError::Conflict`] when the secret is deleted
    /// (its name cannot be reused until it is recovered or purged) or the version exists.
    async fn insert_secret_version(&self, version: &SecretVersion) -> StoreResult<()>;

    /// A version of an active secret, or its newest version when `version` is `None`.
    async fn get_secret_version(
        &self,
        vault: &ResourceId,
        name: &str,
        version: Option<&str>,
    ) -> StoreResult<Option<SecretVersion>>;

    /// Replaces the attributes (content type, tags, enabled, nbf, exp, updated) of an
    /// existing version of an active secret, found by vault, name and version; the value
    /// and the creation time stay. Returns whether the version exists.
    async fn update_secret_version(&self, version: &SecretVersion) -> StoreResult<bool>;

    /// The newest version of every active secret of a vault, by name (case-folded).
    async fn list_secrets(&self, vault: &ResourceId) -> StoreResult<Vec<SecretVersion>>;

    /// Every version of an active secret, oldest first; empty when there is no such secret.
    async fn list_secret_versions(
        &self,
        vault: &ResourceId,
        name: &str,
    ) -> StoreResult<Vec<SecretVersion>>;

    /// Deletes an active secret: with `soft`, marks it deleted (recoverable); without,
    /// removes it with every version. Returns its newest version, or `None` when there is
    /// no active secret of that name.
    async fn delete_secret(
        &self,
        vault: &ResourceId,
        name: &str,
        soft: Option<SecretDeletion>,
    ) -> StoreResult<Option<SecretVersion>>;

    /// A deleted secret.
    async fn get_deleted_secret(
        &self,
        vault: &ResourceId,
        name: &str,
    ) -> StoreResult<Option<DeletedSecret>>;

    /// Every deleted secret of a vault, by name (case-folded).
    async fn list_deleted_secrets(&self, vault: &ResourceId) -> StoreResult<Vec<DeletedSecret>>;

    /// Makes a deleted secret active again. Returns its newest version, or `None` when there
    /// is no deleted secret of that name.
    async fn recover_deleted_secret(
        &self,
        vault: &ResourceId,
        name: &str,
    ) -> StoreResult<Option<SecretVersion>>;

    /// Removes a deleted secret with every version, for good. Returns whether it existed.
    async fn purge_deleted_secret(&self, vault: &ResourceId, name: &str) -> StoreResult<bool>;
}
