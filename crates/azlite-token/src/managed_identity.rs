//! The contract between the on-VM token endpoints (IMDS, the VM extension, App Service,
//! Cloud Shell) and the token service: "a token for this managed identity, for this
//! resource". A trait, like [`crate::KeySource`], so that the endpoints do not depend on the
//! STS and could run on another machine than the STS (issue 4).

use std::fmt;

use async_trait::async_trait;
use azlite_types::{ClientId, ObjectId};

use crate::UnixTime;

/// A token issued to a managed identity, with what the endpoints put beside it on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct ManagedIdentityToken {
    /// The signed JWT.
    pub access_token: String,
    /// `exp`.
    pub expires_on: UnixTime,
    /// `nbf`.
    pub not_before: UnixTime,
    /// The resource exactly as requested (a v1 token's `aud`).
    pub resource: String,
    /// The identity's client (app) id: IMDS answers it as `client_id`.
    pub client_id: ClientId,
}

impl fmt::Debug for ManagedIdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityToken")
            .field("access_token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .field("not_before", &self.not_before)
            .field("resource", &self.resource)
            .field("client_id", &self.client_id)
            .finish()
    }
}

/// Why no token was issued.
#[derive(Debug, thiserror::Error)]
pub enum ManagedIdentityTokenError {
    /// The principal does not exist or is not a managed identity (it was deleted, or it is
    /// an application's principal, which must authenticate itself).
    #[error("'{0}' is not a managed identity")]
    UnknownIdentity(ObjectId),
    /// The resource is not known in the identity's tenant. IMDS answers
    /// `invalid_resource` with `description`, which carries Entra's AADSTS code and text.
    #[error("{description}")]
    UnknownResource {
        /// The resource as requested.
        resource: String,
        /// Entra's error description, e.g. `AADSTS500011: The resource principal named …`.
        description: String,
    },
    /// Storage or signing failed; the source goes to the log, not to the client.
    #[error("the token service failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Issues tokens to managed identities. The STS implements it; the on-VM endpoints hold it
/// as `Arc<dyn ManagedIdentityTokens>` and cache what it returns.
///
/// The implementation authenticates nothing: whoever holds this trait object may mint a
/// token for any managed identity. The endpoints decide which identities a caller may use
/// (the ones attached to the VM they serve).
#[async_trait]
pub trait ManagedIdentityTokens: Send + Sync {
    /// A fresh token for `principal` (a managed identity's object id) and `resource` (an
    /// App ID URI or app id, kept verbatim as the v1 `aud`).
    async fn managed_identity_token(
        &self,
        principal: ObjectId,
        resource: &str,
    ) -> Result<ManagedIdentityToken, ManagedIdentityTokenError>;
}
