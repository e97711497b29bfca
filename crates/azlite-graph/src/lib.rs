//! A Microsoft Graph subset (v1.0): applications with their passwords, service principals
//! (Microsoft Graph's own among them, with its app roles), app role assignments, and
//! `directoryObjects/getByIds`, as `az ad sp create-for-rbac` and `az role assignment
//! create` use them (reference arm-rbac-protocol.md §4.5).
//!
//! A request goes: parse into an `operation::Operation` → authenticate the bearer token
//! ([`Caller`]: Graph's audiences, an issuer of a tenant azlite knows) → authorize
//! (`policy`: the Graph application permissions in the token's `roles`, or azlite's
//! directory administrator; the check returns the proof the operation takes) → run the
//! operation on the store → answer in Graph's shapes. Every failure is a [`GraphError`],
//! rendered once with Graph's `innerError` and request ids.
//!
//! Where azlite differs from Graph (on purpose):
//! * every list is one page: `$top`, `$select`, `$count` and `$orderby` are accepted and
//!   ignored, and there is no `@odata.nextLink`;
//! * `$filter` serves one comparison (see `filter`); anything else is
//!   `Request_UnsupportedQuery`;
//! * deletions are permanent (no `deletedItems` to restore from);
//! * a service principal is made only for an application of the caller's own tenant;
//! * the owner's application and principal and Microsoft Graph's principal cannot be
//!   deleted, and a managed identity's principal is deleted only with its Azure resource
//!   (400 `Request_BadRequest`);
//! * the owner is a directory administrator (as a Global Administrator) without a
//!   directory role object; `Application.ReadWrite.OwnedBy` grants nothing (azlite keeps
//!   no owners), and app roles are granted to service principals only.
//!
//! Architecture Invariant: Graph depends on no other service. It verifies tokens with keys
//! from a [`azlite_token::KeySource`], reads and writes the directory part of the store, and
//! learns who administers the directory from the composition root ([`GraphConfig`]).

mod app_role_assignments;
mod applications;
mod caller;
mod credentials;
mod directory_objects;
mod error;
mod filter;
mod operation;
mod policy;
mod service_principals;
mod wire;

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use azlite_store::Store;
use azlite_token::KeySource;
use azlite_types::{Clock, ObjectId};

pub use caller::{Caller, GRAPH_AUDIENCES};
pub use error::GraphError;
use operation::Operation;
use policy::Permission;
use wire::RequestContext;

/// What the composition root tells Graph.
#[derive(Debug, Clone, Default)]
pub struct GraphConfig {
    /// The principals (object ids) allowed to change the directory: azlite's owner.
    pub administrators: HashSet<ObjectId>,
}

/// The Microsoft Graph service.
pub struct Graph {
    store: Arc<dyn Store>,
    keys: Arc<dyn KeySource>,
    clock: Arc<dyn Clock>,
    config: GraphConfig,
    /// Tokens already verified: a client sends the same one on every request.
    signatures: azlite_token::SignatureCache,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("config", &self.config)
            .finish()
    }
}

impl Graph {
    /// Graph on `store`, verifying tokens with `keys`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<dyn KeySource>,
        clock: Arc<dyn Clock>,
        config: GraphConfig,
    ) -> Self {
        Self {
            store,
            keys,
            clock,
            config,
            signatures: azlite_token::SignatureCache::default(),
        }
    }

    /// The router of Graph. Mount it at the root of Graph's host (paths start `/v1.0/`).
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(handle).with_state(self)
    }
}

/// The one handler: request ids, then the operation, then the one error mapping.
async fn handle(
    State(graph): State<Arc<Graph>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let context = RequestContext::new(&headers, graph.clock.now());
    let mut response = match graph.dispatch(&method, &uri, &headers, &body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(%method, path = uri.path(), %error, "Graph request refused");
            error.into_response(&context)
        }
    };
    context.stamp(&mut response);
    response
}

impl Graph {
    async fn dispatch(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Response, GraphError> {
        let operation = operation::parse(method, uri.path());
        let caller = Caller::authenticate(self, headers).await?;
        let query = wire::Query::parse(uri.query());
        use Operation as O;
        use Permission as P;
        match operation {
            O::ListApplications => {
                let read = self.authorize_read(&caller, P::ReadApplications)?;
                applications::list_applications(self, read, &query).await
            }
            O::CreateApplication => {
                let write = self.authorize_write(&caller, P::WriteApplications)?;
                applications::create_application(self, write, body).await
            }
            O::GetApplication(id) => {
                let read = self.authorize_read(&caller, P::ReadApplications)?;
                applications::get_application(self, read, id).await
            }
            O::DeleteApplication(id) => {
                let write = self.authorize_write(&caller, P::WriteApplications)?;
                applications::delete_application(self, write, id).await
            }
            O::AddPassword(id) => {
                let write = self.authorize_write(&caller, P::WriteApplications)?;
                applications::add_password(self, write, id, body).await
            }
            O::ListServicePrincipals => {
                let read = self.authorize_read(&caller, P::ReadApplications)?;
                service_principals::list_service_principals(self, read, &query).await
            }
            O::CreateServicePrincipal => {
                let write = self.authorize_write(&caller, P::WriteApplications)?;
                service_principals::create_service_principal(self, write, body).await
            }
            O::GetServicePrincipal(key) => {
                let read = self.authorize_read(&caller, P::ReadApplications)?;
                service_principals::get_service_principal(self, read, key).await
            }
            O::DeleteServicePrincipal(key) => {
                let write = self.authorize_write(&caller, P::WriteApplications)?;
                service_principals::delete_service_principal(self, write, key).await
            }
            O::ListAppRoleAssignments(side, key) => {
                let read = self.authorize_read(&caller, P::ReadApplications)?;
                app_role_assignments::list_app_role_assignments(self, read, side, key).await
            }
            O::CreateAppRoleAssignment(side, key) => {
                let write = self.authorize_write(&caller, P::WriteAppRoleAssignments)?;
                app_role_assignments::create_app_role_assignment(self, write, side, key, body).await
            }
            O::GetAppRoleAssignment(side, key, id) => {
                let read = self.authorize_read(&caller, P::ReadApplications)?;
                app_role_assignments::get_app_role_assignment(self, read, side, key, &id).await
            }
            O::DeleteAppRoleAssignment(side, key, id) => {
                let write = self.authorize_write(&caller, P::WriteAppRoleAssignments)?;
                app_role_assignments::delete_app_role_assignment(self, write, side, key, &id).await
            }
            O::GetByIds => {
                let read = self.authorize_read(&caller, P::ReadDirectory)?;
                directory_objects::get_by_ids(self, read, body).await
            }
            O::InvalidObjectId(id) => Err(GraphError::bad_request(format!(
                "Invalid object identifier '{id}'."
            ))),
            O::MethodNotAllowed => Err(GraphError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request target.",
            )),
            O::UnknownSegment(segment) => Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("Resource not found for the segment '{segment}'."),
            )),
        }
    }
}
