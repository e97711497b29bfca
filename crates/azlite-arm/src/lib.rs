//! Azure Resource Manager: subscriptions, resource groups, providers, role definitions and
//! role assignments, user-assigned managed identities and virtual machines with their
//! `identity` block, key vaults with their access policies, with role-based access control
//! enforced on every call.
//!
//! A request goes: parse into an [`operation::Operation`] → authenticate the bearer token
//! ([`auth`]) → check `api-version` → authorize the caller for the operation's action at
//! its scope (an [`azlite_authz::AssignmentIndex`] held in memory, rebuilt from the store
//! at start-up and updated after every committed write) → run the operation on the store →
//! answer in ARM's shapes. Every failure is an [`ArmError`], rendered once.
//!
//! Core ARM (tenants, subscriptions, groups, role definitions and assignments, the shared
//! rules of tracked resources in `resources`) lives at the top of the crate; each resource
//! provider has a folder under `providers` with its own operation enum, parsed from the
//! segments after its namespace.
//!
//! Architecture Invariant: ARM depends on no other service. It verifies tokens with keys
//! from a [`azlite_token::KeySource`] and reads principals from the directory part of the
//! store.

pub mod auth;
mod caller;
mod error;
mod groups;
mod operation;
mod providers;
pub mod resource_filter;
mod resource_list;
mod resources;
mod role_assignments;
mod role_definitions;
mod subscriptions;
mod wire;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use azlite_authz::{
    Action, Assignment, AssignmentIndex, Authorized, RoleAssignmentId, RoleDefinitionId,
};
use azlite_store::{RoleAssignmentRecord, Store, StoreError, WriteBatch};
use azlite_token::KeySource;
use azlite_types::{Clock, ObjectId, ResourceId, SubscriptionId};

pub use caller::Caller;
pub use error::ArmError;
use operation::Operation;
pub use providers::storage::development::{
    DEVELOPMENT_ACCOUNT, DEVELOPMENT_GROUP, DEVELOPMENT_KEY,
};

/// The built-in Owner role.
pub const OWNER_ROLE: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

/// Host names and suffixes ARM reports in `/metadata/endpoints`.
#[derive(Debug, Clone)]
pub struct ArmConfig {
    /// Entra's authority host, e.g. `login.microsoftonline.com`.
    pub login_host: String,
    /// ARM's own host, e.g. `management.azure.com`.
    pub management_host: String,
    /// Microsoft Graph's host.
    pub graph_host: String,
    /// Storage suffix (`core.windows.net`).
    pub storage_suffix: String,
    /// Key Vault suffix (`vault.azure.net`).
    pub vault_suffix: String,
    /// Data Lake Store suffix (`azuredatalakestore.net`).
    pub datalake_suffix: String,
}

/// The ARM service.
pub struct Arm {
    store: Arc<dyn Store>,
    keys: Arc<dyn KeySource>,
    clock: Arc<dyn Clock>,
    config: ArmConfig,
    index: RwLock<AssignmentIndex>,
    /// Serializes role-assignment writes, so the uniqueness check and the write see the
    /// same index.
    assignment_writes: tokio::sync::Mutex<()>,
    /// Serializes the read-modify-write of resources that own service principals
    /// (identities, VMs, groups), so two racing creations cannot each make a principal for
    /// one resource. Taken before `assignment_writes` when both are needed.
    resource_writes: tokio::sync::Mutex<()>,
    /// Tokens already verified: a client sends the same one on every request.
    signatures: azlite_token::SignatureCache,
    /// Signalled after a delete that may leave content behind (see [`Arm::content_freed`]).
    content_freed: Arc<tokio::sync::Notify>,
    /// What a token for ARM must be ([`auth::validation`]), built once.
    validation: azlite_token::Validation,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arm").field("config", &self.config).finish()
    }
}

/// Why ARM could not start.
#[derive(Debug, thiserror::Error)]
pub enum ArmOpenError {
    /// Reading the store failed.
    #[error("cannot read role assignments")]
    Store(#[from] StoreError),
    /// A stored assignment does not fit the authorization model.
    #[error("stored role assignment {id} is invalid")]
    InvalidAssignment {
        /// The assignment.
        id: uuid::Uuid,
        /// Why.
        #[source]
        source: azlite_authz::AuthzError,
    },
}

impl Arm {
    /// Opens ARM on `store`: loads every role assignment into the in-memory index and makes
    /// sure each `(principal, subscription)` in `owners` holds Owner on that subscription.
    pub async fn open(
        store: Arc<dyn Store>,
        keys: Arc<dyn KeySource>,
        clock: Arc<dyn Clock>,
        config: ArmConfig,
        owners: &[(ObjectId, SubscriptionId)],
    ) -> Result<Self, ArmOpenError> {
        let mut index = AssignmentIndex::default();
        for record in store.list_role_assignments().await? {
            // One row the index refuses (written by an older version, or by hand) must not
            // keep the whole cloud from starting: it grants nothing and stays listed, so the
            // owner can see and delete it.
            if let Err(error) = index.insert(to_assignment(&record)) {
                tracing::warn!(
                    id = %record.id,
                    scope = %record.scope,
                    principal = %record.principal_id,
                    %error,
                    "skipping a stored role assignment that cannot be enforced"
                );
            }
        }
        let arm = Self {
            store,
            keys,
            clock,
            config,
            index: RwLock::new(index),
            assignment_writes: tokio::sync::Mutex::new(()),
            resource_writes: tokio::sync::Mutex::new(()),
            signatures: azlite_token::SignatureCache::default(),
            content_freed: Arc::new(tokio::sync::Notify::new()),
            validation: auth::validation(azlite_token::IssuerPolicy::AnyEntraTenant),
        };
        for (principal, subscription) in owners {
            arm.ensure_owner(*principal, *subscription).await?;
        }
        Ok(arm)
    }

    /// Signalled after ARM deleted what may own blob or file content: a storage or Data
    /// Lake account, a group, a blob container. ARM removes the metadata only; whoever holds
    /// the content (the server) removes what nothing references any more.
    pub fn content_freed(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.content_freed)
    }

    /// Tells the content's holder that a delete may have left content unreferenced.
    pub(crate) fn signal_content_freed(&self) {
        self.content_freed.notify_one();
    }

    async fn ensure_owner(
        &self,
        principal: ObjectId,
        subscription: SubscriptionId,
    ) -> Result<(), ArmOpenError> {
        let scope = ResourceId::subscription(subscription);
        let role: RoleDefinitionId = OWNER_ROLE.parse().expect("the Owner role id is a GUID");
        let exists = self
            .read_index()
            .assignments_of(principal)
            .any(|a| a.scope == scope && a.role_definition_id == role);
        if exists {
            return Ok(());
        }
        let now = self.clock.now();
        let record = RoleAssignmentRecord {
            id: uuid::Uuid::new_v4(),
            scope,
            principal_id: principal,
            principal_type: "ServicePrincipal".to_owned(),
            role_definition_id: *role.as_uuid(),
            description: Some("The owner of azlite, created on the first start.".to_owned()),
            created_at: now,
            updated_at: now,
            created_by: None,
        };
        let id = record.id;
        let assignment = to_assignment(&record);
        self.read_index()
            .check_insert(&assignment)
            .map_err(|source| ArmOpenError::InvalidAssignment { id, source })?;
        self.store
            .apply(WriteBatch {
                role_assignments: vec![record],
                ..Default::default()
            })
            .await?;
        self.insert_committed(assignment);
        Ok(())
    }

    /// Adds to the index an assignment the store has just committed, after
    /// [`AssignmentIndex::check_insert`] accepted it under `assignment_writes` (or at
    /// start-up, before anyone else can write). A refusal here would be a bug: it is logged,
    /// and the assignment grants nothing until the next start, which skips it too.
    fn insert_committed(&self, assignment: Assignment) {
        let id = assignment.id;
        if let Err(error) = self.write_index().insert(assignment) {
            tracing::error!(%id, %error, "a committed role assignment was refused by the index");
        }
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, AssignmentIndex> {
        // A panic while holding the lock cannot leave the index half-updated: every
        // mutation is a single insert or remove.
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, AssignmentIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks that `caller` may perform the control-plane `action` at `scope`.
    pub fn authorize(
        &self,
        caller: &Caller,
        scope: &ResourceId,
        action: &str,
    ) -> Result<Authorized<'static>, ArmError> {
        let action = Action::control(action);
        let index = self.read_index();
        match index.check(caller.object_id, scope, &action).into_result() {
            Ok(proof) => Ok(proof.into_owned()),
            Err(_) => Err(ArmError::authorization_failed(
                &caller.client,
                &caller.object_id.to_string(),
                action.as_str(),
                scope.as_str(),
            )),
        }
    }

    /// Drops from the index the role assignments at or below `scope`, which the store
    /// deleted with it. Call holding `assignment_writes`, after the store committed.
    fn forget_assignments_at_or_below(&self, scope: &ResourceId) {
        let mut index = self.write_index();
        let gone: Vec<RoleAssignmentId> = index
            .iter()
            .filter(|a| scope.contains(&a.scope))
            .map(|a| a.id)
            .collect();
        for id in gone {
            index.remove(id);
        }
    }

    /// The role assignments at or below `scope` (to delete with what is at `scope`).
    fn assignment_ids_at_or_below(&self, scope: &ResourceId) -> Vec<uuid::Uuid> {
        self.read_index()
            .iter()
            .filter(|a| scope.contains(&a.scope))
            .map(|a| *a.id.as_uuid())
            .collect()
    }

    /// Whether `caller` may perform `action` at `scope` (for filtering lists).
    fn can(&self, caller: &Caller, scope: &ResourceId, action: &str) -> bool {
        self.read_index()
            .check(caller.object_id, scope, &Action::control(action))
            .is_allowed()
    }

    /// Whether `principal` holds a role assignment at `scope` or anywhere below it.
    fn has_assignment_within(&self, principal: ObjectId, scope: &ResourceId) -> bool {
        self.read_index()
            .assignments_of(principal)
            .any(|a| scope.contains(&a.scope))
    }

    /// The router of ARM. Mount it at the root of ARM's host.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(handle).with_state(self)
    }
}

/// Data planes (Key Vault, Blob) check data actions (and Blob some actions) against ARM's live assignment index through
/// this trait, so that they do not depend on ARM.
impl azlite_authz::DataActionCheck for Arm {
    fn check_data_action(
        &self,
        principal: ObjectId,
        scope: &ResourceId,
        data_action: &str,
    ) -> azlite_authz::Decision<'static> {
        self.read_index()
            .check_data_action(principal, scope, data_action)
    }

    fn check_control_action(
        &self,
        principal: ObjectId,
        scope: &ResourceId,
        action: &str,
    ) -> azlite_authz::Decision<'static> {
        azlite_authz::DataActionCheck::check_control_action(
            &*self.read_index(),
            principal,
            scope,
            action,
        )
    }
}

fn to_assignment(record: &RoleAssignmentRecord) -> Assignment {
    Assignment {
        id: RoleAssignmentId::from_uuid(record.id),
        principal_id: record.principal_id,
        role_definition_id: RoleDefinitionId::from_uuid(record.role_definition_id),
        scope: record.scope.clone(),
    }
}

/// The one handler: request ids, then the operation.
async fn handle(
    State(arm): State<Arc<Arm>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    arm.answer(&method, &uri, &headers, body).await
}

impl Arm {
    /// Answers one request, as [`Arm::router`] does, without a router around it: the
    /// listener's host routing calls this for ARM's hosts and paths. The body is read as
    /// the router's `Bytes` extractor reads it (its default limit, its rejection).
    pub async fn serve(&self, request: axum::extract::Request) -> Response {
        use axum::extract::FromRequest;
        let (parts, body) = request.into_parts();
        let axum::http::request::Parts {
            method,
            uri,
            headers,
            ..
        } = parts;
        let body = match Bytes::from_request(axum::extract::Request::new(body), &()).await {
            Ok(body) => body,
            Err(rejection) => return rejection.into_response(),
        };
        self.answer(&method, &uri, &headers, body).await
    }

    /// The operation, then the headers ARM puts on every answer.
    async fn answer(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response {
        let arm = self;
        let mut response = match arm.dispatch(method, uri, headers, body).await {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(%method, path = uri.path(), %error, "ARM request refused");
                error.into_response()
            }
        };
        let h = response.headers_mut();
        let mut buffer = uuid::Uuid::encode_buffer();
        let request_id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
        if let Ok(request_id) = HeaderValue::from_str(request_id) {
            // The client's correlation id when it sent a readable one, else the request's id.
            let correlation = headers
                .get("x-ms-correlation-request-id")
                .filter(|v| v.to_str().is_ok())
                .cloned()
                .unwrap_or_else(|| request_id.clone());
            h.insert("x-ms-request-id", request_id);
            h.insert("x-ms-correlation-request-id", correlation);
        }
        let echo = headers
            .get("x-ms-return-client-request-id")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if echo && let Some(id) = headers.get("x-ms-client-request-id") {
            h.insert("x-ms-client-request-id", id.clone());
        }
        response
    }
}

impl Arm {
    async fn dispatch(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response, ArmError> {
        let path = uri.path();
        if path.eq_ignore_ascii_case("/metadata/endpoints") {
            return Ok(subscriptions::metadata_endpoints(&self.config, headers));
        }
        let operation = operation::parse(path);
        let caller = Caller::authenticate(self, headers).await?;
        let query = wire::Query::parse(uri.query());
        query.require_api_version()?;
        if !operation::allows(&operation, method) {
            return Err(ArmError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("The requested method '{method}' is not allowed for the resource."),
            ));
        }
        use Operation as O;
        match operation {
            O::ListTenants => subscriptions::list_tenants(self, &caller).await,
            O::ListSubscriptions => subscriptions::list_subscriptions(self, &caller).await,
            O::GetSubscription(s) => subscriptions::get_subscription(self, &caller, s).await,
            O::ListProviders(s) => subscriptions::list_providers(self, &caller, s).await,
            O::GetProvider(s, ns) | O::RegisterProvider(s, ns) => {
                subscriptions::get_provider(self, &caller, s, &ns).await
            }
            O::ListResourceGroups(s) => {
                groups::list_resource_groups(self, &caller, s, &query).await
            }
            O::ResourceGroup(s, name) => {
                groups::resource_group(self, &caller, method, s, &name, &body).await
            }
            O::ListResources(s, group) => {
                let request = (path, headers);
                resource_list::list_resources(self, &caller, s, group.as_deref(), &query, request)
                    .await
            }
            O::ListRoleAssignments(scope) => {
                role_assignments::list(self, &caller, &scope, &query).await
            }
            O::RoleAssignment(scope, name) => {
                role_assignments::one(self, &caller, method, &scope, &name, &body).await
            }
            O::ListRoleDefinitions(scope) => {
                role_definitions::list(self, &caller, &scope, &query).await
            }
            O::RoleDefinition(scope, id) => role_definitions::get(self, &caller, &scope, &id).await,
            O::ListPermissions(scope) => role_definitions::permissions(self, &caller, &scope).await,
            O::Provider(op) => {
                let request = providers::Request {
                    caller: &caller,
                    method,
                    path,
                    headers,
                    query: &query,
                    body: &body,
                };
                providers::dispatch(self, op, request).await
            }
            O::InvalidScope { scope, assignment } => Err(role_assignments::invalid_scope(
                &scope,
                assignment.as_deref().filter(|_| method == Method::PUT),
            )),
            O::UnsupportedType(resource_type) => {
                Err(subscriptions::unsupported_type(&resource_type))
            }
            O::Invalid => Err(ArmError::not_found(
                "InvalidResourceType",
                format!("The request path '{path}' is not a valid Azure Resource Manager path."),
            )),
        }
    }
}
