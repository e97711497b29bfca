//! Azure Data Lake Store Gen1 (reference: dataplane-protocol.md §4): the file tree of each
//! account with Gen1's POSIX ACLs ([`tree`], over the store's `DataLakeStore` and the
//! extents of `azlite-content` ([`content`])), and WebHDFS on `https://<account>.azuredatalakestore.net/webhdfs/v1/<path>?op=…`
//! ([`webhdfs`]).
//!
//! A request goes: find the account (an ARM resource `Microsoft.DataLakeStore/accounts`
//! with the host's name) → authenticate ([`auth`]: a token for Data Lake from the account's
//! tenant; 401 without one) → superuser? (RBAC, through [`azlite_authz::DataActionCheck`])
//! → parse the path and the operation once → the tree checks ACLs along the path and
//! operates → the answer in WebHDFS's shapes. Every failure is a [`DataLakeError`],
//! rendered once as a `RemoteException`.
//!
//! Architecture Invariant: Data Lake depends on no other service. Accounts are ARM
//! resources read through the store, tokens are verified with keys from a
//! [`azlite_token::KeySource`], role assignments are asked about through
//! [`azlite_authz::DataActionCheck`]. The tree ([`tree`]) and the ACL model
//! (`azlite-posix-acl`) know nothing of WebHDFS, so Gen2's wire can be put over them.

pub mod account;
pub mod auth;
pub mod content;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod path;
pub mod tree;
pub mod webhdfs;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use azlite_authz::DataActionCheck;
use azlite_store::Store;
use azlite_token::KeySource;
use azlite_types::Clock;

pub use content::Extents;
pub use error::DataLakeError;

/// The account a request is for: the first label of its host name, put on the request by
/// the listener's host routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLakeHost(pub String);

/// The Data Lake Store service.
pub struct DataLake {
    store: Arc<dyn Store>,
    keys: Arc<dyn KeySource>,
    clock: Arc<dyn Clock>,
    rbac: Arc<dyn DataActionCheck>,
    extents: Extents,
    /// Tokens already verified: a client sends the same one on every request.
    signatures: azlite_token::SignatureCache,
}

impl std::fmt::Debug for DataLake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataLake")
            .field("extents", &self.extents)
            .finish_non_exhaustive()
    }
}

impl DataLake {
    /// Data Lake on `store`, its files' bytes in `extents`, verifying tokens with `keys`
    /// and asking RBAC about superusers through `rbac`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<dyn KeySource>,
        clock: Arc<dyn Clock>,
        rbac: Arc<dyn DataActionCheck>,
        extents: Extents,
    ) -> Self {
        Self {
            store,
            keys,
            clock,
            rbac,
            extents,
            signatures: azlite_token::SignatureCache::default(),
        }
    }

    /// The router of every account's host. Requests must carry a [`DataLakeHost`].
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(handle).with_state(self)
    }
}

/// The one handler: the operation, then the headers Gen1 puts on every answer.
async fn handle(State(service): State<Arc<DataLake>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut response = match webhdfs::dispatch(&service, &parts, body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(method = %parts.method, path = parts.uri.path(), %error, "Data Lake request refused");
            error.into_response()
        }
    };
    let ok = response.status().is_success() || response.status().is_redirection();
    let headers = response.headers_mut();
    for (name, value) in [
        ("cache-control", "no-cache, no-cache, no-store, max-age=0"),
        ("pragma", "no-cache"),
        ("expires", "-1"),
        ("x-ms-webhdfs-version", "17.04.22.00"),
        ("x-content-type-options", "nosniff"),
        (
            "strict-transport-security",
            "max-age=15724800; includeSubDomains",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if ok {
        headers.insert("status", HeaderValue::from_static("0x0"));
    }
    if !headers.contains_key("x-ms-request-id")
        && let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
    {
        headers.insert("x-ms-request-id", id);
    }
    response
}
