//! The models as they are stored. These never go on the wire: services map them to their own
//! response types.

use std::collections::BTreeMap;

use azlite_types::{ClientId, ObjectId, ResourceId, SubscriptionId, TenantId, UnixTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A directory tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Tenant id (`tid`).
    pub id: TenantId,
    /// Display name.
    pub display_name: String,
    /// The initial domain, e.g. `azlite.onmicrosoft.com`; unique across tenants.
    pub default_domain: String,
    /// Creation time.
    pub created_at: UnixTime,
}

/// An ARM subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Subscription id.
    pub id: SubscriptionId,
    /// The tenant the subscription trusts.
    pub tenant_id: TenantId,
    /// Display name.
    pub display_name: String,
    /// `Enabled`, `Disabled`, ...
    pub state: String,
    /// Creation time.
    pub created_at: UnixTime,
}

/// An application object: the registration that owns credentials and identifier URIs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// Object id of the application object (not of its service principal).
    pub object_id: ObjectId,
    /// App (client) id; unique.
    pub app_id: ClientId,
    /// Home tenant.
    pub tenant_id: TenantId,
    /// Display name.
    pub display_name: String,
    /// App ID URIs under which the app can be requested as a resource.
    pub identifier_uris: Vec<String>,
    /// `1` or `2`: which token version this app accepts as a resource
    /// (`api.requestedAccessTokenVersion`; Entra's default, null, means 1).
    pub access_token_version: u8,
    /// Creation time.
    pub created_at: UnixTime,
}

/// What a service principal stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServicePrincipalKind {
    /// The local instance of an application registration.
    Application,
    /// A managed identity (system- or user-assigned). It has no application object in the
    /// tenant and no credentials: only the on-VM endpoints obtain tokens for it.
    ManagedIdentity,
}

/// A service principal: the identity that receives tokens and role assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePrincipal {
    /// Object id (`oid`, ARM's "principal id"); unique.
    pub object_id: ObjectId,
    /// App (client) id; unique per tenant.
    pub app_id: ClientId,
    /// Tenant the principal lives in.
    pub tenant_id: TenantId,
    /// Display name.
    pub display_name: String,
    /// Application or managed identity.
    pub kind: ServicePrincipalKind,
    /// For a managed identity, the ARM id it belongs to (`xms_mirid`): the VM for a
    /// system-assigned identity, the identity resource for a user-assigned one.
    pub managed_identity_resource_id: Option<String>,
    /// Creation time.
    pub created_at: UnixTime,
}

/// A client secret. Only a hash is stored; the secret itself is shown once, at creation.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordCredential {
    /// Credential id (`keyId`).
    pub key_id: Uuid,
    /// The application it belongs to.
    pub app_id: ClientId,
    /// Display name.
    pub display_name: String,
    /// The first three characters of the secret, as Graph shows them (`hint`).
    pub hint: String,
    /// Salt for the hash.
    pub salt: Vec<u8>,
    /// SHA-256 of salt ‖ secret.
    pub secret_hash: Vec<u8>,
    /// Valid from.
    pub start: UnixTime,
    /// Valid until.
    pub end: UnixTime,
}

impl std::fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("key_id", &self.key_id)
            .field("app_id", &self.app_id)
            .field("display_name", &self.display_name)
            .field("hint", &self.hint)
            .field("secret_hash", &"<redacted>")
            .field("start", &self.start)
            .field("end", &self.end)
            .finish()
    }
}

/// A certificate credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCredential {
    /// Credential id (`keyId`).
    pub key_id: Uuid,
    /// The application it belongs to.
    pub app_id: ClientId,
    /// Display name.
    pub display_name: String,
    /// The certificate, DER.
    pub certificate_der: Vec<u8>,
    /// Valid from.
    pub start: UnixTime,
    /// Valid until.
    pub end: UnixTime,
}

/// A user account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Object id (`oid`); unique.
    pub object_id: ObjectId,
    /// Home tenant.
    pub tenant_id: TenantId,
    /// `alice@azlite.onmicrosoft.com`; unique, case-insensitively.
    pub user_principal_name: String,
    /// Display name.
    pub display_name: String,
    /// Salt for the password hash.
    pub password_salt: Vec<u8>,
    /// SHA-256 of salt ‖ password, or empty when the user cannot sign in with a password.
    pub password_hash: Vec<u8>,
    /// Creation time.
    pub created_at: UnixTime,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("object_id", &self.object_id)
            .field("tenant_id", &self.tenant_id)
            .field("user_principal_name", &self.user_principal_name)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// A token-signing key with its self-signed certificate, PEM encoded.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSigningKey {
    /// Key id: the base64url SHA-1 thumbprint of the certificate (`kid` = `x5t`).
    pub kid: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The private key, PKCS#8 PEM.
    pub private_key_pem: String,
    /// When the key was made.
    pub created_at: UnixTime,
    /// When it stopped signing; `None` while it is the active key.
    pub retired_at: Option<UnixTime>,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("private_key_pem", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// An ARM resource group.
///
/// Keyed by subscription and name, compared case-insensitively (ASCII, as
/// [`ResourceId`] compares); the name keeps the casing most recently written, as ARM does
/// (reference §1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// The subscription the group lives in.
    pub subscription_id: SubscriptionId,
    /// The name, as most recently written.
    pub name: String,
    /// Azure region, e.g. `eastus`.
    pub location: String,
    /// Tags, replaced as a whole on every write.
    pub tags: BTreeMap<String, String>,
    /// The id of the resource that manages the group, if any (`managedBy`).
    pub managed_by: Option<String>,
    /// When the group was first created; an upsert keeps it.
    pub created_at: UnixTime,
    /// When the group was last written.
    pub updated_at: UnixTime,
}

/// A tracked ARM resource inside a resource group, possibly a nested child resource
/// (`.../providers/Microsoft.Sql/servers/s1/databases/db1`): its id says where it sits.
///
/// Keyed by id, compared case-insensitively; the id keeps the casing most recently written.
/// `subscription_id` and `resource_group` restate parts of the id for the list filters and
/// must agree with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The full ARM id.
    pub id: ResourceId,
    /// The subscription in the id.
    pub subscription_id: SubscriptionId,
    /// The resource group name in the id, as written.
    pub resource_group: String,
    /// The full type, e.g. `Microsoft.Compute/virtualMachines` or
    /// `Microsoft.Sql/servers/databases`, as written.
    pub resource_type: String,
    /// The last name in the id.
    pub name: String,
    /// Azure region, e.g. `eastus`.
    pub location: String,
    /// Tags, replaced as a whole on every write.
    pub tags: BTreeMap<String, String>,
    /// The provider's stored model (properties, identity, sku, kind, ...). The store keeps
    /// it as JSON and never looks inside.
    pub body: serde_json::Value,
    /// When the resource was first created; an upsert keeps it.
    pub created_at: UnixTime,
    /// When the resource was last written.
    pub updated_at: UnixTime,
}

/// An Azure RBAC role assignment as stored: `principal_id` holds `role_definition_id` at
/// `scope` and below (reference §3.4).
///
/// The id is unique, and so is the triple (scope, role definition, principal): ARM refuses
/// a second assignment name for the same triple with `RoleAssignmentExists` (§3.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignmentRecord {
    /// The assignment's GUID: its ARM `name`.
    pub id: Uuid,
    /// Where it applies: the root `/`, a subscription, a group or a resource; compared
    /// case-insensitively, kept as written.
    pub scope: ResourceId,
    /// The user, group or service principal it grants to.
    pub principal_id: ObjectId,
    /// `User`, `Group`, `ServicePrincipal`, ... as given.
    pub principal_type: String,
    /// The GUID of the role definition (role ids are compared by their trailing GUID).
    pub role_definition_id: Uuid,
    /// Free text.
    pub description: Option<String>,
    /// When it was created.
    pub created_at: UnixTime,
    /// When it was last written.
    pub updated_at: UnixTime,
    /// Who created it, if known.
    pub created_by: Option<ObjectId>,
}

/// A deletion in a [`WriteBatch`]. Deleting something that does not exist is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// A service principal, with the semantics of
    /// [`crate::DirectoryStore::delete_service_principal`] (its app id's credentials go with
    /// it when nothing else owns them, and so do the app role assignments it holds or that
    /// were granted on it). Its ARM role assignments stay, as in Azure.
    ServicePrincipal(ObjectId),
    /// An application object (by object id) with everything that belongs to it, as Graph's
    /// `DELETE /applications/{id}` removes them: its identifier URIs, every password and key
    /// credential of its app id, and its service principal in its home tenant (with that
    /// principal's app role assignments, as [`Deletion::ServicePrincipal`]). Principals
    /// of the app id in other tenants stay (they can no longer authenticate: the
    /// credentials are gone). ARM role assignments stay, as in Azure.
    Application(ObjectId),
    /// A resource, every resource below it (child and extension resources) and every role
    /// assignment whose scope is the resource or below it. Meant for resource ids: given a
    /// group's or a subscription's id it deletes everything below that id but not the group
    /// (that is [`Deletion::ResourceGroup`]).
    Resource(ResourceId),
    /// A resource group, every resource in it and every role assignment whose scope is the
    /// group or below it. The name is compared case-insensitively.
    ResourceGroup {
        /// The group's subscription.
        subscription: SubscriptionId,
        /// The group's name.
        name: String,
    },
    /// A role assignment by id.
    RoleAssignment(Uuid),
    /// An app role assignment by id (see [`crate::AppRoleAssignmentStore`]).
    AppRoleAssignment(String),
}

/// A set of writes committed atomically by [`crate::DirectoryStore::apply`]: the
/// deletions first, in order, then the inserts and upserts, field by field in the order
/// declared here. A conflict anywhere writes nothing.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    /// Deletions, applied before everything else in the batch (so a batch may delete an
    /// object and create it anew under the same key).
    pub deletions: Vec<Deletion>,
    /// Tenants to insert.
    pub tenants: Vec<Tenant>,
    /// Subscriptions to insert.
    pub subscriptions: Vec<Subscription>,
    /// Application objects to insert.
    pub applications: Vec<Application>,
    /// Service principals to insert.
    pub service_principals: Vec<ServicePrincipal>,
    /// Client secrets to insert.
    pub password_credentials: Vec<PasswordCredential>,
    /// Certificates to insert.
    pub key_credentials: Vec<KeyCredential>,
    /// Users to insert.
    pub users: Vec<User>,
    /// Settings to insert or replace.
    pub settings: Vec<(String, String)>,
    /// Resource groups to insert or replace, by subscription and case-insensitive name. A
    /// replaced group keeps its `created_at` and takes the new casing of its name.
    pub resource_groups: Vec<ResourceGroup>,
    /// Resources to insert or replace, by case-insensitive id. A replaced resource keeps its
    /// `created_at` and takes the new casing of its id.
    pub resources: Vec<Resource>,
    /// Role assignments to insert. An existing id, or an existing (scope, role definition,
    /// principal), is a [`crate::StoreError::Conflict`].
    pub role_assignments: Vec<RoleAssignmentRecord>,
    /// Storage account keys to insert or replace, by case-insensitive account id and key
    /// name (a regenerated key replaces the old one). See [`crate::StorageAccountKeyStore`].
    pub storage_account_keys: Vec<crate::StorageAccountKey>,
    /// App role assignments to insert. An existing id, or an existing (principal,
    /// resource, app role), is a [`crate::StoreError::Conflict`].
    pub app_role_assignments: Vec<crate::AppRoleAssignment>,
}
