//! Storage account access keys as stored, and the [`StorageAccountKeyStore`] trait.
//!
//! A storage account (`Microsoft.Storage/storageAccounts`) has two access keys, `key1` and
//! `key2`: 64 random bytes each, kept in their base64 text (88 characters), the form in
//! which ARM's `listKeys` answers them and in which clients pass them back (connection
//! strings, `--account-key`). Shared Key and SAS signatures are HMAC-SHA256 under the
//! base64-*decoded* bytes.
//!
//! Keys are keyed by the account's ARM id (compared as ARM compares ids: ASCII
//! case-insensitively) and their name. They are written only through a
//! [`crate::WriteBatch`] (`storage_account_keys`), in the same transaction as the account
//! (creation) or as the account's `keyCreationTime` (regeneration); a
//! [`crate::Deletion::Resource`] of the account, or of its group, deletes them in the same
//! transaction.
//!
//! The SQLite backend seals each value at rest under the store key ([`crate::seal`]); the
//! trait hands it out opened.
//!
//! For the data planes (Blob, and what verifies Shared Key and SAS): read the keys with
//! [`StorageAccountKeyStore::list_storage_account_keys`] on every verification, never from
//! a copy kept elsewhere. Regenerating a key replaces its row, so a signature made with the
//! old value stops verifying on the next request; that is Azure's contract. The lookup is
//! answered from memory while the database is unchanged, so reading per request is cheap.

use async_trait::async_trait;
use azlite_types::{ResourceId, UnixTime};

use crate::StoreResult;

/// One access key of a storage account.
#[derive(Clone, PartialEq, Eq)]
pub struct StorageAccountKey {
    /// The ARM id of the account.
    pub account_id: ResourceId,
    /// `key1` or `key2` (ARM's `keyName`).
    pub key_name: String,
    /// The key: base64 (standard alphabet, padded) of 64 random bytes. Secret: never
    /// logged ([`std::fmt::Debug`] hides it).
    pub value: String,
    /// When the key was made: ARM's `creationTime` of the key and the account's
    /// `keyCreationTime.{key1,key2}`.
    pub created_at: UnixTime,
}

impl std::fmt::Debug for StorageAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageAccountKey")
            .field("account_id", &self.account_id)
            .field("key_name", &self.key_name)
            .field("value", &"<secret>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// The access keys of storage accounts.
#[async_trait]
pub trait StorageAccountKeyStore: Send + Sync {
    /// The keys of the account `account` (its ARM id, compared case-insensitively), by key
    /// name (`key1` before `key2`); empty when the account has none (or does not exist).
    async fn list_storage_account_keys(
        &self,
        account: &ResourceId,
    ) -> StoreResult<Vec<StorageAccountKey>>;
}
