//! Storage for azlite: the models as they are stored (Key Vault's secrets in
//! [`SecretStore`], storage accounts' keys in [`StorageAccountKeyStore`]), the traits every backend implements,
//! one error type, and the embedded SQLite backend.
//!
//! Architecture Invariant: services depend on the traits in this crate ([`Store`] and its
//! parts), never on a backend. Only `azlite-server` names [`SqliteStore`]. A PostgreSQL
//! backend will implement the same traits and run the same conformance suite
//! ([`conformance`], run for SQLite by `tests/conformance.rs`).
//!
//! Durability contract: a method that returns `Ok` has committed its write; a crash
//! (`kill -9`) at any moment afterwards loses nothing, and a crash at any moment leaves a
//! store that opens.
//!
//! Ordering contract: "oldest first" means by creation time, then by insertion order; for
//! credentials, which carry no creation time, by insertion order. An upsert that replaces
//! an object keeps its creation time and its place in the insertion order.

mod app_role_assignments;
mod blobs;
pub mod conformance;
pub mod datalake;
mod epoch_memo;
mod error;
mod models;
pub mod seal;
mod secrets;
mod sqlite;
mod storage_account_keys;
mod vault_secrets;

pub use app_role_assignments::{AppRoleAssignment, AppRoleAssignmentStore};
pub use blobs::{
    BlobContent, BlobKind, BlobRecord, BlobStore, Block, ContainerRecord, ContentHeaders, Expect,
    StoredLease, UncommittedBlock, UnixMillis,
};
pub use datalake::DataLakeStore;
pub use epoch_memo::EpochMemo;
pub use error::StoreError;
pub use models::{
    Application, Deletion, KeyCredential, PasswordCredential, Resource, ResourceGroup,
    RoleAssignmentRecord, ServicePrincipal, ServicePrincipalKind, StoredSigningKey, Subscription,
    Tenant, User, WriteBatch,
};
pub use seal::{STORE_KEY_FILE, StoreKey};
pub use sqlite::{SqliteStore, request_scope};
pub use storage_account_keys::{StorageAccountKey, StorageAccountKeyStore};
pub use vault_secrets::{DeletedSecret, SecretDeletion, SecretStore, SecretVersion};

use async_trait::async_trait;
use azlite_types::{ClientId, ObjectId, ResourceId, SubscriptionId, TenantId, UnixTime};
use uuid::Uuid;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Tenants, subscriptions and directory objects (applications, service principals, users)
/// with their credentials.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Commits every write in `batch` in one transaction: all of them or none, its
    /// deletions before its inserts (see [`WriteBatch`]). A duplicate key anywhere fails the
    /// whole batch with [`StoreError::Conflict`].
    async fn apply(&self, batch: WriteBatch) -> StoreResult<()>;

    /// A number that moves whenever anything this store holds may have changed: a write by
    /// this process (before the write returns), or a commit by another process on the same
    /// database (noticed by the next call). Blob's and Data Lake's own rows (containers,
    /// blobs, blocks, file trees) are the exception: their writes need not move it, so keep
    /// nothing derived from them under it. For callers that keep what they derived from
    /// reads: what was computed from reads started after the epoch was `e` may be reused
    /// while the epoch is still `e`. `None` when the backend cannot tell: keep nothing.
    fn epoch(&self) -> StoreResult<Option<u64>> {
        Ok(None)
    }

    /// A tenant by id.
    async fn get_tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>>;
    /// A tenant by its default domain (e.g. `azlite.onmicrosoft.com`), case-insensitively.
    async fn find_tenant_by_domain(&self, domain: &str) -> StoreResult<Option<Tenant>>;
    /// Every tenant, oldest first.
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;

    /// A subscription by id.
    async fn get_subscription(&self, id: SubscriptionId) -> StoreResult<Option<Subscription>>;
    /// Every subscription, oldest first.
    async fn list_subscriptions(&self) -> StoreResult<Vec<Subscription>>;

    /// An application object by its app (client) id.
    async fn get_application(&self, app_id: ClientId) -> StoreResult<Option<Application>>;
    /// An application object by its object id (the id Microsoft Graph addresses it by).
    async fn get_application_by_object_id(
        &self,
        object_id: ObjectId,
    ) -> StoreResult<Option<Application>>;
    /// The application objects whose home is `tenant`, oldest first, identifier URIs in
    /// order.
    async fn list_applications(&self, tenant: TenantId) -> StoreResult<Vec<Application>>;
    /// The application of `tenant` whose identifier URIs include `uri`, compared
    /// case-insensitively and exactly otherwise (callers try the variants they accept).
    /// An identifier URI is unique within a tenant: a second application claiming it fails
    /// with [`StoreError::Conflict`].
    async fn find_application_by_identifier_uri(
        &self,
        tenant: TenantId,
        uri: &str,
    ) -> StoreResult<Option<Application>>;

    /// The service principal of `app_id` in `tenant`.
    async fn get_service_principal_by_app_id(
        &self,
        tenant: TenantId,
        app_id: ClientId,
    ) -> StoreResult<Option<ServicePrincipal>>;
    /// A service principal by object id.
    async fn get_service_principal(
        &self,
        object_id: ObjectId,
    ) -> StoreResult<Option<ServicePrincipal>>;
    /// The service principals of a tenant, oldest first.
    async fn list_service_principals(&self, tenant: TenantId)
    -> StoreResult<Vec<ServicePrincipal>>;
    /// Deletes a service principal with its credentials. Returns whether it existed.
    ///
    /// Credentials are keyed by app id and belong to the application: they are deleted with
    /// the principal only when no application object and no other service principal has
    /// that app id (so credentials added straight to a principal leave with it, and an
    /// application's credentials survive the deletion of its principal).
    async fn delete_service_principal(&self, object_id: ObjectId) -> StoreResult<bool>;

    /// The password credentials (client secrets) of an application, oldest first.
    async fn list_password_credentials(
        &self,
        app_id: ClientId,
    ) -> StoreResult<Vec<PasswordCredential>>;
    /// The key credentials (certificates) of an application, oldest first.
    async fn list_key_credentials(&self, app_id: ClientId) -> StoreResult<Vec<KeyCredential>>;

    /// A user by object id.
    async fn get_user(&self, object_id: ObjectId) -> StoreResult<Option<User>>;
    /// A user by user principal name, case-insensitively.
    async fn find_user_by_upn(&self, upn: &str) -> StoreResult<Option<User>>;
}

/// The token service's signing keys.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every signing key, active or retired, oldest first.
    async fn list_signing_keys(&self) -> StoreResult<Vec<StoredSigningKey>>;
    /// Adds a key. A key with the same `kid` fails with [`StoreError::Conflict`].
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> StoreResult<()>;
    /// Marks a key retired at `at`: it signs no more tokens but stays published.
    /// Returns whether the key exists; a key already retired keeps its first retirement time.
    async fn retire_signing_key(&self, kid: &str, at: UnixTime) -> StoreResult<bool>;
    /// Removes a key for good (once no token it signed can still be valid).
    async fn delete_signing_key(&self, kid: &str) -> StoreResult<bool>;
}

/// Small named values: bootstrap ids, the clock offset.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The value of a setting, if set.
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Sets (inserts or replaces) a setting.
    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}

/// The ARM control plane's state: resource groups, resources and role assignments.
///
/// Reads only: every write goes through [`DirectoryStore::apply`], so a change that spans
/// objects (a group with its resources and the role assignments below it, a VM with its
/// identity) commits whole or not at all.
///
/// ARM compares ids, names and types case-insensitively and answers with the casing most
/// recently written (reference §1.2); so do these lookups. Case-insensitive here means
/// ASCII case, exactly as [`ResourceId`] compares.
#[async_trait]
pub trait ArmStore: Send + Sync {
    /// A resource group by subscription and name, case-insensitively.
    async fn get_resource_group(
        &self,
        subscription: SubscriptionId,
        name: &str,
    ) -> StoreResult<Option<ResourceGroup>>;
    /// The resource groups of a subscription, oldest first.
    async fn list_resource_groups(
        &self,
        subscription: SubscriptionId,
    ) -> StoreResult<Vec<ResourceGroup>>;

    /// A resource by id, case-insensitively.
    async fn get_resource(&self, id: &ResourceId) -> StoreResult<Option<Resource>>;
    /// The resources of a subscription, oldest first, child resources included; only those
    /// in `resource_group` and of `resource_type` when given (both compared
    /// case-insensitively, the type as a whole: `Microsoft.Sql/servers` does not select
    /// `Microsoft.Sql/servers/databases`).
    async fn list_resources(
        &self,
        subscription: SubscriptionId,
        resource_group: Option<&str>,
        resource_type: Option<&str>,
    ) -> StoreResult<Vec<Resource>>;

    /// The resources of `resource_type` named `name` in every subscription, oldest first
    /// (both compared case-insensitively): how a data plane finds the resource behind a
    /// global name (`<vault>.vault.azure.net`), and how ARM keeps such names unique.
    async fn find_resources_by_name(
        &self,
        resource_type: &str,
        name: &str,
    ) -> StoreResult<Vec<Resource>>;

    /// A role assignment by id (its name).
    async fn get_role_assignment(&self, id: Uuid) -> StoreResult<Option<RoleAssignmentRecord>>;
    /// Every role assignment, oldest first: what the authorization index loads at start.
    async fn list_role_assignments(&self) -> StoreResult<Vec<RoleAssignmentRecord>>;
    /// The role assignments of one principal, at every scope, oldest first.
    async fn list_role_assignments_for_principal(
        &self,
        principal: ObjectId,
    ) -> StoreResult<Vec<RoleAssignmentRecord>>;
}

/// Everything a backend provides.
pub trait Store:
    DirectoryStore
    + SigningKeyStore
    + SettingsStore
    + ArmStore
    + SecretStore
    + StorageAccountKeyStore
    + DataLakeStore
    + BlobStore
    + AppRoleAssignmentStore
{
}

impl<T> Store for T where
    T: DirectoryStore
        + SigningKeyStore
        + SettingsStore
        + ArmStore
        + SecretStore
        + StorageAccountKeyStore
        + DataLakeStore
        + BlobStore
        + AppRoleAssignmentStore
{
}
