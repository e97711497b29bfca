//! JWT and JWK types, RS256 signing and token verification for azlite. No I/O.
//!
//! This crate is the only place in azlite that touches token cryptography:
//!
//! * [`SigningKey`] is the STS's RSA-2048 key with its self-signed certificate; it signs
//!   access tokens in the Entra wire format (reference §3) and publishes itself as a [`Jwk`].
//! * [`KeyRing`] + [`verify`] are what a resource service does with a token: select the key
//!   by `kid`, check the RS256 signature, then time, audience and issuer. [`verify`] is the
//!   only producer of a [`VerifiedToken`].
//! * [`ClientCertificate`] + [`verify_client_assertion`] check the `client_assertion` JWTs
//!   that confidential clients send to the token endpoint (reference §4.2).
//!
//! * [`ManagedIdentityTokens`] is the contract between the on-VM token endpoints and the STS
//!   that issues their tokens (issue 4).
//!
//! Architecture Invariant: this crate depends on no other azlite crate but the vocabulary
//! (`azlite-types`, for the ids in [`ManagedIdentityTokens`]) and does no I/O; time is always
//! passed in as a [`UnixTime`].
//!
//! Architecture Invariant: the signature algorithm is never taken from a token. Access tokens
//! are RS256 only and client assertions RS256 or PS256; `alg: none` and HMAC algorithms are
//! rejected before any key is touched. Cryptography comes from `aws-lc-rs` (through
//! `jsonwebtoken` and `rcgen`); nothing here implements a primitive.

mod assertion;
mod certificate;
mod claims;
mod compact;
mod encoding;
mod error;
mod jwk;
mod keys;
mod managed_identity;
mod signature_cache;
mod verify;

#[cfg(test)]
mod tests;

pub use assertion::{UnverifiedAssertion, VerifiedAssertion, verify_client_assertion};
pub use certificate::ClientCertificate;
pub use claims::AccessTokenClaims;
pub use error::{AssertionError, KeyError, TokenError};
pub use jwk::{Jwk, JwkSet};
pub use keys::{HeaderStyle, SigningKey};
pub use managed_identity::{
    ManagedIdentityToken, ManagedIdentityTokenError, ManagedIdentityTokens,
};
pub use signature_cache::SignatureCache;
pub use verify::{
    IssuerPolicy, KeyRing, KeySource, Validation, VerifiedToken, verify, verify_shared,
    verify_with_cache,
};

/// Seconds since the Unix epoch, as carried in the `iat`, `nbf` and `exp` claims.
///
/// The same type as `azlite_types::UnixTime` (both are `i64`).
pub type UnixTime = i64;
