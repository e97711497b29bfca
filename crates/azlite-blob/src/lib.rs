//! Azure Blob Storage's data plane (reference: dataplane-protocol.md §0 and §2).
//!
//! A request to `https://<account>.blob.core.windows.net/...` (or path-style
//! `/<account>/...` on an IP listener) goes: find the account (an ARM resource
//! `Microsoft.Storage/storageAccounts`) → `x-ms-version` → parse into an
//! [`operation::Operation`] → authenticate ([`auth`]: the credential; a request without one
//! gets the 401 Bearer challenge before its body is read) → authorize ([`policy`]: role
//! assignments through [`azlite_authz::DataActionCheck`]) → run the operation: metadata in
//! the store ([`azlite_store::BlobStore`]), bytes streamed to and from immutable extents
//! ([`azlite_content::ExtentStore`]) → answer in Blob's shapes. Every failure is a
//! [`BlobError`], rendered once as Azure's XML error.
//!
//! Writes are optimistic: an operation reads the container or blob, checks Azure's rules
//! (conditional headers, leases, append positions, block lists), and writes at the
//! generation it read; when another write got there first the store refuses, and the
//! operation starts over (a few times) on the new state.
//!
//! Architecture Invariant: Blob depends on no other service. Accounts are ARM resources it
//! reads through the store, tokens are verified with keys from a
//! [`azlite_token::KeySource`], role assignments are asked about through
//! [`azlite_authz::DataActionCheck`], and bytes live behind [`azlite_content::ExtentStore`].

mod append;
pub mod auth;
mod blobs;
mod blocks;
mod conditions;
mod containers;
mod copy;
mod development;
mod error;
mod expiry;
#[doc(hidden)]
pub mod fuzzing;
mod inline;
mod lease;
mod listing;
pub mod operation;
pub mod policy;
pub mod request;
mod service;
mod signed;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use azlite_authz::DataActionCheck;
use azlite_content::ExtentStore;
use azlite_store::{Resource, Store, StoreError};
use azlite_token::KeySource;
use azlite_types::{Clock, ResourceId, TenantId};

pub use auth::Credential;
pub use error::BlobError;
pub use expiry::UNCOMMITTED_BLOCK_LIFETIME_MS;
pub use request::BlobHost;

use operation::Operation;
use policy::Authorized;
use request::Query;

/// The ARM type of a storage account.
pub const ACCOUNT_TYPE: &str = "Microsoft.Storage/storageAccounts";
/// The `x-ms-version` answered when a request sends none.
pub const DEFAULT_VERSION: &str = "2026-02-06";
/// How long a freed extent stays readable, for reads that started before its blob changed.
const RELEASE_GRACE: Duration = Duration::from_secs(60);
/// How often a write that lost a race to another re-reads and tries again.
const WRITE_ATTEMPTS: usize = 8;

/// What the composition root tells the Blob service.
#[derive(Debug, Clone)]
pub struct BlobConfig {
    /// The blob host suffix, e.g. `blob.core.windows.net`.
    pub blob_suffix: String,
    /// The authority clients get tokens from, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
}

/// Verifies Shared Key, Shared Key Lite and SAS credentials: the seam where
/// `azlite-storage-auth` plugs in. Without one, such requests are refused with 403
/// `AuthenticationFailed`.
pub trait SignedRequestVerifier: Send + Sync {
    /// Verifies `credential` (never Bearer or Anonymous) of a request to `account` with
    /// `parts`, for `operation`; `Ok` authorizes the operation.
    fn verify(
        &self,
        account: &Account,
        parts: &Parts,
        credential: &Credential,
        operation: &Operation,
    ) -> Result<(), BlobError>;
}

/// A storage account as the data plane sees it.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its ARM id.
    pub id: ResourceId,
    /// Its name.
    pub name: String,
    /// Its subscription's tenant.
    pub tenant: TenantId,
    /// `properties.allowBlobPublicAccess` (false unless set, as for new Azure accounts).
    pub allow_public_access: bool,
    /// `properties.allowSharedKeyAccess` (true unless set to false).
    pub allow_shared_key: bool,
    /// `properties.isHnsEnabled` (a hierarchical namespace; false unless set).
    pub hierarchical_namespace: bool,
    /// `sku.name`, e.g. `Standard_LRS` (Get Account Information answers it).
    pub sku_name: String,
    /// `kind`, e.g. `StorageV2`.
    pub kind: String,
}

/// The Blob service.
pub struct Blob {
    store: Arc<dyn Store>,
    content: Arc<dyn ExtentStore>,
    keys: Arc<dyn KeySource>,
    clock: Arc<dyn Clock>,
    rbac: Arc<dyn DataActionCheck>,
    signed: Option<Arc<dyn SignedRequestVerifier>>,
    udk: Option<azlite_storage_auth::udk::UserDelegationKeyIssuer>,
    config: BlobConfig,
    signatures: azlite_token::SignatureCache,
    /// Accounts by name, while the store's epoch does not move (every request finds its
    /// account; an account's change or deletion is an ARM write, which moves the epoch).
    accounts: azlite_store::EpochMemo<String, Arc<Account>>,
    /// Accounts' keys by ARM id, decoded, while the store's epoch does not move (a
    /// `regenerateKey` moves it, so the old key fails on the next request).
    account_keys: azlite_store::EpochMemo<String, Arc<[azlite_storage_auth::AccountKey]>>,
    /// When uncommitted blocks were last expired (service clock, ms).
    last_expiry: std::sync::atomic::AtomicI64,
}

/// Accounts (and their keys) [`Blob`] keeps at most.
const ACCOUNT_MEMO: usize = 1024;

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Blob {
    /// The Blob service on `store` and `content`, verifying tokens with `keys` and asking
    /// `rbac` about role assignments.
    pub fn new(
        store: Arc<dyn Store>,
        content: Arc<dyn ExtentStore>,
        keys: Arc<dyn KeySource>,
        clock: Arc<dyn Clock>,
        rbac: Arc<dyn DataActionCheck>,
        config: BlobConfig,
    ) -> Self {
        // The server expires old blocks at start, before any request.
        let started = clock.now() * 1000;
        Self {
            store,
            content,
            keys,
            clock,
            rbac,
            signed: None,
            udk: None,
            config,
            signatures: azlite_token::SignatureCache::default(),
            accounts: azlite_store::EpochMemo::new(ACCOUNT_MEMO),
            account_keys: azlite_store::EpochMemo::new(ACCOUNT_MEMO),
            last_expiry: std::sync::atomic::AtomicI64::new(started),
        }
    }

    /// The same service, verifying Shared Key and SAS with `verifier`.
    pub fn with_signed_requests(mut self, verifier: Arc<dyn SignedRequestVerifier>) -> Self {
        self.signed = Some(verifier);
        self
    }

    /// The same service, issuing user delegation keys derived from `secret` (32 random
    /// bytes the server keeps private and persistent), and accepting user delegation SAS
    /// signed with them. Without one, `getUserDelegationKey` answers 500.
    pub fn with_user_delegation_secret(mut self, secret: &[u8]) -> Self {
        self.udk = Some(azlite_storage_auth::udk::UserDelegationKeyIssuer::new(
            secret,
        ));
        self
    }

    /// The router of every account. Requests must carry a [`BlobHost`] extension.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(handle).with_state(self)
    }

    /// The account of that name, if one exists (what path-style routing asks first).
    pub async fn find_account(&self, name: &str) -> Result<Option<Arc<Account>>, BlobError> {
        // The epoch before the reads: see `EpochMemo`.
        let epoch = self.store.epoch()?;
        if let Some(account) = self.accounts.get(epoch, name) {
            return Ok(Some(account));
        }
        let Some(account) = self.read_account(name).await? else {
            return Ok(None);
        };
        let account = Arc::new(account);
        self.accounts
            .put(epoch, name.to_owned(), Arc::clone(&account));
        Ok(Some(account))
    }

    /// The account of that name, read from the store.
    async fn read_account(&self, name: &str) -> Result<Option<Account>, BlobError> {
        let found = self
            .store
            .find_resources_by_name(ACCOUNT_TYPE, name)
            .await?;
        let Some(resource) = found.into_iter().next() else {
            return Ok(None);
        };
        let Some(subscription) = self
            .store
            .get_subscription(resource.subscription_id)
            .await?
        else {
            tracing::error!(account = %resource.id, "storage account of an unknown subscription");
            return Err(BlobError::internal());
        };
        Ok(Some(account_of(&resource, subscription.tenant_id)))
    }

    /// Now, in milliseconds: the injected clock's seconds, with the system's milliseconds
    /// (so that ETags and times order writes within one second).
    fn now_ms(&self) -> i64 {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::from(d.subsec_millis()));
        self.clock.now() * 1000 + millis
    }

    /// Removes `extents` once no read that started before they were freed can still need
    /// them; a crash before then leaves them to the sweep at start.
    fn release(&self, extents: Vec<uuid::Uuid>) {
        if extents.is_empty() {
            return;
        }
        let content = Arc::clone(&self.content);
        tokio::spawn(async move {
            tokio::time::sleep(RELEASE_GRACE).await;
            for extent in extents {
                if let Err(error) = content
                    .delete(azlite_content::ExtentId::from_uuid(extent))
                    .await
                {
                    tracing::warn!(%extent, %error, "could not remove a freed extent");
                }
            }
        });
    }
}

fn account_of(resource: &Resource, tenant: TenantId) -> Account {
    let text = |pointer: &str, default: &str| {
        resource
            .body
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    let flag = |name: &str| {
        resource
            .body
            .pointer(&format!("/properties/{name}"))
            .and_then(serde_json::Value::as_bool)
    };
    Account {
        id: resource.id.clone(),
        name: resource.name.clone(),
        tenant,
        allow_public_access: flag("allowBlobPublicAccess").unwrap_or(false),
        allow_shared_key: flag("allowSharedKeyAccess").unwrap_or(true),
        hierarchical_namespace: flag("isHnsEnabled").unwrap_or(false),
        sku_name: text("/sku/name", "Standard_LRS"),
        kind: text("/kind", "StorageV2"),
    }
}

/// The account a request's [`BlobHost`] names, found by the router that chose Blob (so the
/// service need not look it up again).
#[derive(Debug, Clone)]
pub struct FoundAccount(pub Arc<Account>);

/// Everything an operation needs about its request.
pub(crate) struct Context<'a> {
    pub(crate) blob: &'a Blob,
    pub(crate) account: &'a Account,
    pub(crate) host: &'a BlobHost,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) query: &'a Query,
    pub(crate) version: &'a str,
    pub(crate) now: i64,
    /// The verified Bearer caller, if the request carried a token.
    pub(crate) caller: Option<auth::Caller>,
    pub(crate) _authorized: Authorized,
}

impl Context<'_> {
    /// The service endpoint as the client addressed it (for listings).
    pub(crate) fn endpoint(&self) -> String {
        let scheme = if self.host.secure { "https" } else { "http" };
        let host = wire::header(self.headers, "host").map_or_else(
            || format!("{}.{}", self.account.name, self.blob.config.blob_suffix),
            str::to_owned,
        );
        if self.host.path_style {
            format!("{scheme}://{host}/{}/", self.account.name)
        } else {
            format!("{scheme}://{host}/")
        }
    }
}

/// Retries `attempt` while the store reports that what it read changed.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, BlobError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Retry>>,
{
    for _ in 0..WRITE_ATTEMPTS {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Retry::Changed) => continue,
            Err(Retry::Fail(error)) => return Err(error),
        }
    }
    Err(BlobError::new(
        StatusCode::CONFLICT,
        "OperationTimedOut",
        "The operation could not be completed within the permitted time: the resource kept changing.",
    ))
}

/// The outcome of one attempt of a write.
pub(crate) enum Retry {
    /// The store refused: what was read changed. Read again.
    Changed,
    /// A final answer.
    Fail(BlobError),
}

impl From<BlobError> for Retry {
    fn from(error: BlobError) -> Self {
        Self::Fail(error)
    }
}

impl From<StoreError> for Retry {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Changed(_) => Self::Changed,
            other => Self::Fail(other.into()),
        }
    }
}

impl From<azlite_content::ContentError> for Retry {
    fn from(error: azlite_content::ContentError) -> Self {
        Self::Fail(error.into())
    }
}

/// The one handler: the operation, then the headers Blob puts on every answer.
async fn handle(State(blob): State<Arc<Blob>>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let version = wire::header(&parts.headers, "x-ms-version")
        .unwrap_or(DEFAULT_VERSION)
        .to_owned();
    let mut response = match service::dispatch(&blob, &parts, body, &version).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(method = %parts.method, path = parts.uri.path(), %error, "Blob request refused");
            let time = httpdate::fmt_http_date(std::time::SystemTime::now());
            error.render(&request_id, &time)
        }
    };
    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert("x-ms-request-id", id);
    }
    if let Ok(version) = HeaderValue::from_str(&version) {
        headers.insert("x-ms-version", version);
    }
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
    {
        headers.insert(axum::http::header::DATE, date);
    }
    headers.insert(
        axum::http::header::SERVER,
        HeaderValue::from_static("Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"),
    );
    if let Some(id) = parts.headers.get("x-ms-client-request-id") {
        headers.insert("x-ms-client-request-id", id.clone());
    }
    response
}

/// The most of a refused request's body [`drain`] reads.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;
/// How long [`drain`] waits for it.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and discards the body of a request refused before its body was read (a Put Blob
/// without a data role, a bad signature), when it is at most [`DRAIN_LIMIT`] bytes: a client
/// still sending it (Python's http.client, which az uses, writes the whole body before it
/// reads) then reads the error, rather than a connection reset under its write.
pub(crate) async fn drain(parts: &axum::http::request::Parts, body: Body) {
    use futures_util::StreamExt;
    let length = wire::header(&parts.headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if !length.is_some_and(|n| (1..=DRAIN_LIMIT).contains(&n)) {
        return;
    }
    let mut stream = body.into_data_stream();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        let mut read = 0u64;
        while let Some(Ok(chunk)) = stream.next().await {
            read += chunk.len() as u64;
            if read > DRAIN_LIMIT {
                break;
            }
        }
    })
    .await;
}

/// The body of a request as a byte stream.
pub(crate) fn body_stream(body: Body) -> azlite_content::ByteStream {
    use futures_util::TryStreamExt;
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}
