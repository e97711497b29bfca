//! The token service (STS): azlite's Entra ID.
//!
//! It owns tenants, service principals and their credentials, the signing keys, and Entra's
//! endpoints: the v1 and v2 token endpoints (client credentials with a secret or a
//! certificate assertion), OpenID discovery, the JWKS and instance discovery. It also issues
//! managed identities' tokens to the on-VM endpoints, through
//! [`azlite_token::ManagedIdentityTokens`] (implemented for [`Sts`] in `managed_identity`).
//!
//! Architecture Invariant: the STS reaches storage only through `azlite_store` traits and
//! never depends on another service. Handlers in [`http`] parse the request, call a domain
//! function on [`Sts`], and map the result to Entra's wire format.

mod assertion_rules;
mod directory;
mod error;
mod grant;
pub mod http;
mod issue;
mod keys;
mod managed_identity;
mod replay;
mod resources;
mod secrets;

use std::sync::Arc;

use azlite_store::Store;
use azlite_types::Clock;

pub use directory::{
    Bootstrap, CreateApplicationError, CreatedApplication, NewApplication, add_client_secret,
    bootstrap, create_application,
};
pub use error::StsError;
pub use grant::{Endpoint, TokenForm, TokenRequest, TokenResponse};
pub use issue::{ClientAuthentication, Issuance, IssuedToken, issuer_v1, issuer_v2};
pub use keys::{KeyManager, Rotation};
pub use resources::{Resource, ResourceSuffixes, is_first_party};

/// Settings of the token service.
#[derive(Debug, Clone)]
pub struct StsConfig {
    /// Lifetime of tokens issued to applications (seconds). Entra's are 60–90 minutes; its
    /// `expires_in` is typically 3599.
    pub app_token_lifetime: i64,
    /// Lifetime of tokens issued to managed identities (seconds). Entra's last about 24 h
    /// (reference §1.4); IMDS answers `expires_in` 86399.
    pub managed_identity_token_lifetime: i64,
    /// Longest lifetime of any token the STS issues; retired signing keys stay published
    /// this long. [`Sts::open`] raises it to the longest lifetime above if it is shorter, so
    /// a token never outlives the key that verifies it.
    pub max_token_lifetime: i64,
    /// Host suffixes of per-account resource URIs.
    pub resource_suffixes: ResourceSuffixes,
}

impl Default for StsConfig {
    fn default() -> Self {
        Self {
            app_token_lifetime: 3599,
            managed_identity_token_lifetime: 86_399,
            max_token_lifetime: 25 * 3600,
            resource_suffixes: ResourceSuffixes::default(),
        }
    }
}

impl StsConfig {
    /// `max_token_lifetime`, raised to the longest lifetime the STS issues.
    pub fn longest_token_lifetime(&self) -> i64 {
        self.max_token_lifetime
            .max(self.app_token_lifetime)
            .max(self.managed_identity_token_lifetime)
    }
}

/// The token service.
pub struct Sts {
    store: Arc<dyn Store>,
    keys: KeyManager,
    clock: Arc<dyn Clock>,
    config: StsConfig,
    /// Client assertions accepted and not yet expired, to refuse their replay.
    seen_assertions: replay::SeenAssertions,
}

impl std::fmt::Debug for Sts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sts")
            .field("keys", &self.keys)
            .field("config", &self.config)
            .finish()
    }
}

impl Sts {
    /// Opens the token service on `store`, loading (or creating) its signing keys.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        mut config: StsConfig,
    ) -> Result<Self, StsError> {
        config.max_token_lifetime = config.longest_token_lifetime();
        // Trait upcasting: the key manager sees only the key part of the store.
        let key_store: Arc<dyn azlite_store::SigningKeyStore> = store.clone();
        let keys =
            KeyManager::load_or_create(key_store, clock.clone(), config.max_token_lifetime).await?;
        Ok(Self {
            store,
            keys,
            clock,
            config,
            seen_assertions: replay::SeenAssertions::default(),
        })
    }

    /// The signing keys.
    pub fn keys(&self) -> &KeyManager {
        &self.keys
    }

    /// The store the STS uses.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock the STS uses.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

impl azlite_token::KeySource for Sts {
    fn key_ring(&self) -> Arc<azlite_token::KeyRing> {
        self.keys.key_ring()
    }
}
