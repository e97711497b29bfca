//! The on-VM managed-identity endpoints (issue 4; `shared/reference/identity-protocol.md`
//! §1–2): an [`Imds`] serves one VM, named by its ARM id, and hands out tokens for the
//! identities that VM has at the moment of the request.
//!
//! One [`Imds::router`] answers every protocol whose paths do not collide, so the same
//! router can be bound to the IMDS address and to the extension's `127.0.0.1:50342`:
//!
//! | path | protocol | errors |
//! |---|---|---|
//! | `GET /metadata/identity/oauth2/token` | IMDS (§1) | IMDS |
//! | `GET /metadata/identity/info`, `/metadata/versions`, `/metadata/instance[/…]` | IMDS (§1.7) | IMDS |
//! | `GET /oauth2/token?resource=` | the VM extension (§2.1) | IMDS |
//! | `POST /oauth2/token` (form `resource=`) | the VM extension as the first tutorials call it, and Cloud Shell, which reuses the address (§2.2) | Cloud Shell's `{"error":{"code","message"}}` |
//! | `GET /msi/token` | App Service 2019-08-01 and 2017-09-01 (§2.3) | `{"statusCode","message"}` |
//!
//! Azure Arc uses IMDS's path with another protocol (a 401 challenge naming a key file),
//! so it has its own router, [`Imds::arc_router`], for its own listener (§2.4).
//!
//! Every token request reads the VM's identities through [`VmIdentities`] first (one store
//! read), so an identity detached from the VM is refused at once, cached token or not. The
//! token then comes from the cache or, on a miss, from the STS through
//! [`azlite_token::ManagedIdentityTokens`]: this crate never depends on the STS.
//!
//! Request rules of IMDS, in order: the optional throttle (429, `Retry-After: 1`);
//! `X-Forwarded-For` refused; `Metadata: true` (any case); duplicate query parameters
//! refused; `api-version` from IMDS's list and no older than the category; `resource`;
//! at most one selector (`client_id`, `object_id`, `msi_res_id`, or the older `mi_res_id`);
//! then the identity. Where the reference leaves a wire detail unconfirmed (marked \[U\]),
//! azlite chose, in the spirit of the confirmed ones:
//!
//! - `X-Forwarded-For`: 400 `bad_request`, "Request contains an X-Forwarded-For header…";
//! - several selectors: 400 `invalid_request`, "Only one of client_id, object_id or
//!   msi_res_id may be specified in the request";
//! - duplicate parameters: 400 `invalid_request`, "Duplicate query parameter '…'";
//! - a wrong verb: 405 `method_not_allowed` with `Allow`;
//! - a bad `api-version` on the identity endpoint: IMDS's general body with
//!   `newest-versions`;
//! - selectors match user-assigned identities only (the system-assigned one is the
//!   default, never named);
//! - App Service: bad api-version 400, wrong `X-IDENTITY-HEADER` 403, wrong `Secret`
//!   (2017) 401, unknown identity 400 (2019) or the system identity (2017).

mod app_service;
mod arc;
mod cache;
mod error;
mod extension;
#[doc(hidden)]
pub mod fuzzing;
mod metadata;
mod request;
mod selection;
mod source;
mod throttle;
mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use azlite_token::ManagedIdentityTokens;
use azlite_types::{Clock, ResourceId};
use tower::util::MapResponseLayer;

pub use error::ImdsError;
pub use source::{
    AssignedIdentities, SourceError, StoreVmIdentities, UserAssignedIdentity, VmIdentities,
    VmInstance,
};

use crate::cache::TokenCache;
use crate::request::TokenQuery;
use crate::selection::{Rules, select};
use crate::throttle::{Admitted, Throttle};
use crate::wire::{Issued, Served};

/// Settings of one VM's endpoints.
#[derive(Clone)]
pub struct ImdsConfig {
    /// The VM served.
    pub vm: ResourceId,
    /// The App Service secret: `IDENTITY_HEADER` (sent back as `X-IDENTITY-HEADER`) and, for
    /// the 2017 API, `MSI_SECRET` (sent back as `Secret`).
    pub identity_header: String,
    /// Apply Azure's managed-identity rate limits (20 per second, 5 at once). Off by default.
    pub throttle: bool,
    /// A cached token is served while it has at least this many seconds left; after that
    /// the STS is asked again. Default 300.
    pub refresh_margin_seconds: i64,
    /// Where Azure Arc's challenge key files are written; `None`: no Arc endpoint. Clients
    /// insist on `/var/opt/azcmagent/tokens` (reference §2.4).
    pub arc_key_directory: Option<PathBuf>,
    /// Where the Arc client sees `arc_key_directory`, when elsewhere: `azlite run --arc`
    /// mounts the server's directory at `/var/opt/azcmagent/tokens` inside the sandbox, and
    /// the challenge must name the file as the client will open it. `None`: the same path.
    pub arc_client_key_directory: Option<PathBuf>,
}

impl std::fmt::Debug for ImdsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImdsConfig")
            .field("vm", &self.vm)
            .field("identity_header", &"<redacted>")
            .field("throttle", &self.throttle)
            .field("refresh_margin_seconds", &self.refresh_margin_seconds)
            .field("arc_key_directory", &self.arc_key_directory)
            .field("arc_client_key_directory", &self.arc_client_key_directory)
            .finish()
    }
}

impl ImdsConfig {
    /// The defaults for `vm`, with a fresh random App Service secret.
    pub fn new(vm: ResourceId) -> Self {
        Self {
            vm,
            identity_header: uuid::Uuid::new_v4().to_string(),
            throttle: false,
            refresh_margin_seconds: 300,
            arc_key_directory: None,
            arc_client_key_directory: None,
        }
    }
}

/// The managed-identity endpoints of one VM.
pub struct Imds {
    config: ImdsConfig,
    source: Arc<dyn VmIdentities>,
    tokens: Arc<dyn ManagedIdentityTokens>,
    clock: Arc<dyn Clock>,
    cache: TokenCache,
    throttle: Option<Throttle>,
    arc: Option<arc::ArcSecrets>,
}

impl std::fmt::Debug for Imds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imds")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Imds {
    /// The endpoints of `config.vm`: its identities from `source`, tokens from `tokens` (the
    /// STS), time from `clock`.
    pub fn new(
        config: ImdsConfig,
        source: Arc<dyn VmIdentities>,
        tokens: Arc<dyn ManagedIdentityTokens>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let throttle = config.throttle.then(Throttle::default);
        let arc = config.arc_key_directory.clone().map(|directory| {
            let seen_as = config.arc_client_key_directory.clone();
            arc::ArcSecrets::new(directory.clone(), seen_as.unwrap_or(directory))
        });
        Self {
            config,
            source,
            tokens,
            clock,
            cache: TokenCache::default(),
            throttle,
            arc,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ImdsConfig {
        &self.config
    }

    /// IMDS, the VM extension, Cloud Shell and App Service (see the crate docs), plain HTTP.
    /// No fallback is set, so the router can be merged; unknown paths get axum's empty 404.
    pub fn router(self: Arc<Self>) -> Router {
        let imds = metadata::routes().layer(MapResponseLayer::new(imds_server_header));
        imds.merge(extension::routes())
            .merge(app_service::routes())
            .with_state(self)
    }

    /// Azure Arc's HIMDS on IMDS's path, or `None` without `arc_key_directory`.
    pub fn arc_router(self: Arc<Self>) -> Option<Router> {
        self.arc.as_ref()?;
        Some(
            arc::routes()
                .layer(MapResponseLayer::new(imds_server_header))
                .with_state(self),
        )
    }

    /// Admits a token request under the throttle, when on.
    fn admit(&self) -> Result<Admitted, ImdsError> {
        match &self.throttle {
            Some(throttle) => throttle.admit(self.clock.as_ref()),
            None => Ok(Admitted::unthrottled()),
        }
    }

    /// The token for `query`: the VM's identities now, the identity `query` names by
    /// `rules`, then the cache or the STS.
    async fn token(&self, query: &TokenQuery<'_>, rules: Rules) -> Result<Served, ImdsError> {
        let identities = self
            .source
            .identities(&self.config.vm)
            .await?
            .unwrap_or_default();
        let principal = select(&identities, &query.selector, rules)?;
        let now = self.clock.now();
        let margin = self.config.refresh_margin_seconds;
        let cached = if query.bypass_cache {
            None
        } else {
            self.cache.fresh(principal, query.resource, now, margin)
        };
        let token = match cached {
            Some(token) => token,
            None => {
                let token = self
                    .tokens
                    .managed_identity_token(principal, query.resource)
                    .await?;
                let token = Arc::new(Issued::new(token));
                self.cache
                    .insert(principal, query.resource, token.clone(), now, |p| {
                        identities.contains(p)
                    });
                token
            }
        };
        Ok(Served {
            token,
            now,
            echo: query.echo.map(|(name, value)| (name, value.to_owned())),
        })
    }
}

/// Adds `Server: IMDS/…` to IMDS's answers (a plain function in tower's `MapResponse`: no
/// boxed future per request, as axum's `map_response` middleware would cost).
fn imds_server_header(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static(wire::IMDS_SERVER));
    response
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use azlite_token::{ManagedIdentityToken, ManagedIdentityTokenError};
    use azlite_types::{ManualClock, ObjectId};

    use super::*;

    struct NoVm;

    #[async_trait]
    impl VmIdentities for NoVm {
        async fn identities(
            &self,
            _: &ResourceId,
        ) -> Result<Option<Arc<AssignedIdentities>>, SourceError> {
            Ok(None)
        }

        async fn instance(&self, _: &ResourceId) -> Result<Option<VmInstance>, SourceError> {
            Ok(None)
        }
    }

    struct NoTokens;

    #[async_trait]
    impl ManagedIdentityTokens for NoTokens {
        async fn managed_identity_token(
            &self,
            principal: ObjectId,
            _: &str,
        ) -> Result<ManagedIdentityToken, ManagedIdentityTokenError> {
            Err(ManagedIdentityTokenError::UnknownIdentity(principal))
        }
    }

    fn imds(config: ImdsConfig) -> Arc<Imds> {
        Arc::new(Imds::new(
            config,
            Arc::new(NoVm),
            Arc::new(NoTokens),
            Arc::new(ManualClock::at(0)),
        ))
    }

    fn vm() -> ResourceId {
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
            .parse()
            .unwrap()
    }

    #[test]
    fn arc_is_served_only_with_a_key_directory() {
        assert!(imds(ImdsConfig::new(vm())).arc_router().is_none());
        let mut config = ImdsConfig::new(vm());
        config.arc_key_directory = Some("/nonexistent/tokens".into());
        assert!(imds(config).arc_router().is_some());
    }

    #[test]
    fn defaults_are_azures_and_the_secret_is_redacted() {
        let config = ImdsConfig::new(vm());
        assert!(!config.throttle);
        assert_eq!(config.refresh_margin_seconds, 300);
        assert_ne!(
            ImdsConfig::new(vm()).identity_header,
            config.identity_header
        );
        assert!(!format!("{config:?}").contains(&config.identity_header));
    }
}
