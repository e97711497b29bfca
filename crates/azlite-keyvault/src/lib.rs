//! Azure Key Vault's secrets data plane (reference: dataplane-protocol.md §1).
//!
//! A request to `https://<vault>.<suffix>/...` goes: find the vault (an ARM resource
//! `Microsoft.KeyVault/vaults` with that global name) → authenticate ([`auth`]: without a
//! bearer token, the 401 challenge, before the body is read) → `api-version` → parse into
//! an [`operation::Operation`] → authorize ([`policy`]: access policies, or RBAC data
//! actions through [`azlite_authz::DataActionCheck`]) → read the body → run the operation on
//! the store → answer in Key Vault's shapes ([`wire`]). Every failure is a
//! [`KeyVaultError`], rendered once.
//!
//! Values are encrypted at rest ([`crypto`]): the store keeps only AES-256-GCM ciphertexts
//! bound to their vault, name and version, under a key the composition root keeps outside
//! the database.
//!
//! Where azlite differs from Key Vault (on purpose): only secrets are served (no keys,
//! certificates, backup or restore); a deleted secret shows under `/deletedsecrets` at once
//! (Azure takes seconds, which clients poll through); list paging tokens are offsets.
//!
//! Architecture Invariant: Key Vault depends on no other service. It reads vaults (ARM
//! resources) and secrets through the store's traits, verifies tokens with keys from a
//! [`azlite_token::KeySource`], and asks about role assignments through
//! [`azlite_authz::DataActionCheck`], which the composition root implements with ARM.

pub mod auth;
mod bundle;
pub mod crypto;
mod error;
pub mod operation;
pub mod policy;
mod secrets;
pub mod vault;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_authz::DataActionCheck;
use azlite_store::{EpochMemo, Store};
use azlite_token::KeySource;
use azlite_types::Clock;

pub use crypto::{VALUE_KEY_LEN, ValueKey};
pub use error::KeyVaultError;
use operation::Operation;
use vault::{VAULT_TYPE, Vault};
use wire::{Query, VaultUrl};

/// The largest request body read (a value is at most 25 KB; JSON escaping may double it).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the composition root tells Key Vault.
#[derive(Debug, Clone)]
pub struct KeyVaultConfig {
    /// The vault host suffix, e.g. `vault.azure.net`: the challenge's resource is
    /// `https://` + it.
    pub vault_suffix: String,
    /// The authority clients get tokens from, e.g. `https://login.microsoftonline.com`
    /// (the challenge names `<authority>/<tenant id>`).
    pub authority: String,
}

/// The vault a request is for: the first label of its host name, put on the request by the
/// listener's host routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultHost(pub String);

/// The Key Vault service.
pub struct KeyVault {
    store: Arc<dyn Store>,
    keys: Arc<dyn KeySource>,
    clock: Arc<dyn Clock>,
    rbac: Arc<dyn DataActionCheck>,
    value_key: ValueKey,
    config: KeyVaultConfig,
    /// Tokens already verified: a client sends the same one on every request.
    signatures: azlite_token::SignatureCache,
    /// Vaults by lowercased name, as read at the store's epoch: a vault changed or deleted
    /// through ARM moves the epoch, so the next request reads it again.
    vaults: EpochMemo<String, Arc<Vault>>,
    /// Secret versions read by get secret, by `<vault>/<name>/<version>` lowercased (an
    /// empty version: the newest), at the store's epoch: any write (a new version, an
    /// update, a deletion, the vault's) moves it, so the next request reads again.
    secrets: EpochMemo<String, Arc<azlite_store::SecretVersion>>,
    /// `https://<vault suffix>`, the challenge's resource.
    resource: String,
    /// What a token must be for this resource.
    validation: azlite_token::Validation,
}

/// Vaults kept in [`KeyVault::vaults`].
const VAULT_MEMO_CAPACITY: usize = 1024;
/// Secret versions kept in [`KeyVault::secrets`].
const SECRET_MEMO_CAPACITY: usize = 4096;

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVault")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KeyVault {
    /// Key Vault on `store`, verifying tokens with `keys`, checking RBAC vaults with `rbac`
    /// and sealing values with `value_key`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<dyn KeySource>,
        clock: Arc<dyn Clock>,
        rbac: Arc<dyn DataActionCheck>,
        value_key: ValueKey,
        config: KeyVaultConfig,
    ) -> Self {
        let resource = format!("https://{}", config.vault_suffix.trim_end_matches('.'));
        let validation = auth::validation(&resource);
        Self {
            store,
            keys,
            clock,
            rbac,
            value_key,
            config,
            signatures: azlite_token::SignatureCache::default(),
            vaults: EpochMemo::new(VAULT_MEMO_CAPACITY),
            secrets: EpochMemo::new(SECRET_MEMO_CAPACITY),
            resource,
            validation,
        }
    }

    /// The router of every vault's host. Requests must carry a [`VaultHost`] extension.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(handle).with_state(self)
    }

    /// The resource named in the challenge: `https://<vault suffix>`.
    fn resource(&self) -> &str {
        &self.resource
    }
}

/// The one handler of [`KeyVault::router`].
async fn handle(State(kv): State<Arc<KeyVault>>, request: Request) -> Response {
    kv.serve(request).await
}

impl KeyVault {
    /// Answers one request, as [`KeyVault::router`] does, without a router around it: the
    /// listener's host routing calls this for every vault host. The request must carry a
    /// [`VaultHost`] extension.
    /// The operation, then the headers Key Vault puts on every answer.
    pub async fn serve(&self, request: Request) -> Response {
        let kv = self;
        let (parts, body) = request.into_parts();
        let mut location = None;
        let mut response = match kv.dispatch(&parts, body, &mut location).await {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(method = %parts.method, path = parts.uri.path(), %error, "Key Vault request refused");
                error.into_response()
            }
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        let mut id = uuid::Uuid::encode_buffer();
        if let Ok(id) =
            HeaderValue::from_str(uuid::Uuid::new_v4().hyphenated().encode_lower(&mut id))
        {
            headers.insert("x-ms-request-id", id);
        }
        headers.insert(
            "x-ms-keyvault-service-version",
            HeaderValue::from_static("1.9.0.0"),
        );
        if let Some(region) =
            location.and_then(|v: Arc<Vault>| HeaderValue::from_str(&v.location).ok())
        {
            headers.insert("x-ms-keyvault-region", region);
        }
        if let Some(id) = parts.headers.get("x-ms-client-request-id") {
            headers.insert("x-ms-client-request-id", id.clone());
        }
        response
    }
}

impl KeyVault {
    /// Finds the vault the host names, at `epoch` (read before: see `EpochMemo`).
    async fn find_vault(
        &self,
        epoch: Option<u64>,
        name: &str,
    ) -> Result<Arc<Vault>, KeyVaultError> {
        let folded = name.to_ascii_lowercase();
        if let Some(vault) = self.vaults.get(epoch, &folded) {
            return Ok(vault);
        }
        let vault = Arc::new(self.read_vault(name).await?);
        self.vaults.put(epoch, folded, Arc::clone(&vault));
        Ok(vault)
    }

    /// Reads the vault the host names from the store.
    async fn read_vault(&self, name: &str) -> Result<Vault, KeyVaultError> {
        let found = self.store.find_resources_by_name(VAULT_TYPE, name).await?;
        let Some(resource) = found.first() else {
            return Err(KeyVaultError::new(
                StatusCode::NOT_FOUND,
                "VaultNotFound",
                format!("The vault '{name}' does not exist."),
            ));
        };
        Vault::from_resource(resource).map_err(|e| {
            tracing::error!(error = %e, "cannot serve a vault");
            KeyVaultError::internal()
        })
    }

    async fn dispatch(
        &self,
        parts: &Parts,
        body: Body,
        location: &mut Option<Arc<Vault>>,
    ) -> Result<Response, KeyVaultError> {
        let Some(VaultHost(name)) = parts.extensions.get::<VaultHost>() else {
            return Err(KeyVaultError::new(
                StatusCode::NOT_FOUND,
                "VaultNotFound",
                "The request does not name a vault.",
            ));
        };
        // The epoch before any read: see `EpochMemo`.
        let epoch = self.store.epoch()?;
        let vault = self.find_vault(epoch, name).await?;
        *location = Some(Arc::clone(&vault));

        // Authentication comes first, and the body is not touched until the caller is
        // authorized: clients send their first request without a token (and without its
        // body) to learn the challenge.
        let resource = self.resource();
        let with_challenge = |mut e: KeyVaultError| {
            e.challenge = Some(auth::challenge(
                &self.config.authority,
                resource,
                vault.tenant_id,
            ));
            e
        };
        let token =
            auth::bearer(&parts.headers).ok_or_else(|| with_challenge(auth::missing_token()))?;
        let keys = self.keys.key_ring();
        let verifier = auth::Verifier {
            keys: &keys,
            signatures: &self.signatures,
            validation: &self.validation,
            resource,
            tenant: vault.tenant_id,
            now: self.clock.now(),
        };
        let caller = verifier.verify(token).map_err(with_challenge)?;

        let query = Query::parse(parts.uri.query());
        let api_version = query.require_api_version()?;
        let operation = operation::parse(&parts.method, parts.uri.path())?;
        let permitted = policy::authorize(&vault, &caller, &operation, self.rbac.as_ref())?;

        let body = match operation {
            Operation::SetSecret(_) | Operation::UpdateSecret(..) => {
                axum::body::to_bytes(body, MAX_BODY_BYTES)
                    .await
                    .map_err(|_| {
                        KeyVaultError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "BadParameter",
                            "The request body is too large.",
                        )
                    })?
            }
            _ => Default::default(),
        };
        let context = secrets::Context {
            kv: self,
            vault: &vault,
            url: vault_url(parts, name, &self.config.vault_suffix),
            query: &query,
            api_version,
            epoch,
            _permitted: permitted,
        };
        use Operation as O;
        match &operation {
            O::SetSecret(n) => context.set_secret(n, &body).await,
            O::GetSecret(n, v) => context.get_secret(n, v.as_deref()).await,
            O::UpdateSecret(n, v) => context.update_secret(n, v.as_deref(), &body).await,
            O::GetSecrets => context.get_secrets().await,
            O::GetSecretVersions(n) => context.get_secret_versions(n).await,
            O::DeleteSecret(n) => context.delete_secret(n).await,
            O::GetDeletedSecrets => context.get_deleted_secrets().await,
            O::GetDeletedSecret(n) => context.get_deleted_secret(n).await,
            O::RecoverDeletedSecret(n) => context.recover_deleted_secret(n).await,
            O::PurgeDeletedSecret(n) => context.purge_deleted_secret(n).await,
        }
    }
}

/// `https://` + the authority the client addressed (its `Host`, port included as sent), or
/// the vault's canonical host when the request has none.
fn vault_url(parts: &Parts, name: &str, suffix: &str) -> VaultUrl {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| format!("{name}.{suffix}"));
    VaultUrl(format!("https://{host}"))
}
