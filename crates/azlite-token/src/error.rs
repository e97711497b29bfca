//! Errors of this crate, one enum per job: keys and certificates ([`KeyError`]), access
//! tokens ([`TokenError`]) and client assertions ([`AssertionError`]).
//!
//! The `Display` text of [`TokenError`] and [`AssertionError`] is written to be shown to the
//! client in a 401 body or an `error_description`: it names what was wrong with the token the
//! client sent and never includes key material.

use crate::UnixTime;

/// A boxed error kept as the `source` of a variant, so the chain can be logged whole without
/// making the underlying crate's error type part of this crate's API.
type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Generating, parsing or loading a key or certificate failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The requested validity period is empty or outside what X.509 can encode.
    #[error(
        "invalid certificate validity: not_before ({not_before}) must be before not_after \
         ({not_after}) and both must be representable dates"
    )]
    InvalidValidity {
        /// Requested start of validity.
        not_before: UnixTime,
        /// Requested end of validity.
        not_after: UnixTime,
    },
    /// Generating the key pair or self-signing the certificate failed.
    #[error("generating the signing key or certificate failed")]
    Generation(#[source] BoxedSource),
    /// The PEM text could not be decoded or has the wrong label.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The bytes are not a well-formed X.509 certificate.
    #[error("invalid X.509 certificate: {0}")]
    Certificate(String),
    /// The private key could not be parsed or was rejected by the crypto library.
    #[error("invalid private key: {0}")]
    PrivateKey(String),
    /// The certificate's public key is not an RSA key.
    #[error("the certificate's public key is not an RSA key")]
    NotRsa,
    /// The RSA modulus is outside the 2048–8192 bit range that RS256/PS256 verification accepts.
    #[error("unsupported RSA key size: {bits} bits (2048 to 8192 bits are supported)")]
    UnsupportedKeySize {
        /// Modulus length in bits.
        bits: usize,
    },
    /// The private key does not belong to the certificate's public key.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
}

impl KeyError {
    pub(crate) fn generation(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Generation(Box::new(error))
    }
}

/// Signing or verifying an access token failed.
///
/// [`crate::verify`] checks in the order the variants are listed, so a token with several
/// problems reports the first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS of three base64url segments, a segment is not JSON, or a required
    /// claim is missing or has the wrong type.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header says `alg: none` (in any letter case): an unsigned token.
    #[error("unsigned tokens (alg \"none\") are not accepted")]
    AlgorithmNone,
    /// The header names an algorithm other than RS256.
    #[error("token algorithm {0:?} is not allowed; only RS256 is accepted")]
    AlgorithmNotAllowed(String),
    /// The header has no `kid`, so the signing key cannot be selected.
    #[error("token header has no kid")]
    MissingKeyId,
    /// The `kid` names no key in the key ring (unknown or rotated out).
    #[error("token is signed with an unknown key (kid {0:?})")]
    UnknownKey(String),
    /// The RS256 signature does not verify with the selected key.
    #[error("token signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past, beyond the allowed clock skew.
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp` claim.
        exp: UnixTime,
        /// The time the check was made at.
        now: UnixTime,
    },
    /// `nbf` is in the future, beyond the allowed clock skew.
    #[error("token is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf` claim.
        nbf: UnixTime,
        /// The time the check was made at.
        now: UnixTime,
    },
    /// `aud` is not one of the accepted audiences.
    #[error("token audience {0:?} is not accepted")]
    InvalidAudience(String),
    /// `iss` does not satisfy the issuer policy.
    #[error("token issuer {0:?} is not accepted")]
    InvalidIssuer(String),
    /// A JWK in the key set could not be turned into a verification key.
    #[error("invalid JWK: {0}")]
    InvalidJwk(String),
    /// Producing a token failed (the claims did not serialize to a JSON object, or the
    /// crypto library refused to sign).
    #[error("signing the token failed: {message}")]
    Signing {
        /// What went wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxedSource>,
    },
}

impl TokenError {
    pub(crate) fn signing(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Signing {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Verifying a client assertion (`client_assertion` JWT) failed.
///
/// [`crate::verify_client_assertion`] checks in the order the variants are listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssertionError {
    /// Not a compact JWS of three base64url segments, a segment is not JSON, or a required
    /// claim (`exp`, `iss`, `sub`, `aud`) is missing or has the wrong type.
    #[error("malformed client assertion: {0}")]
    Malformed(String),
    /// The header says `alg: none` (in any letter case): an unsigned assertion.
    #[error("unsigned client assertions (alg \"none\") are not accepted")]
    AlgorithmNone,
    /// The header names an algorithm other than RS256 or PS256.
    #[error("client assertion algorithm {0:?} is not allowed; RS256 and PS256 are accepted")]
    AlgorithmNotAllowed(String),
    /// No registered certificate matches the header's `x5t#S256`, `x5t` or `kid`.
    #[error("no registered certificate matches the client assertion's thumbprint")]
    NoMatchingCertificate,
    /// The signature does not verify with the matched certificate.
    #[error("client assertion signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past, beyond the allowed clock skew.
    #[error("client assertion expired at {exp} (now {now})")]
    Expired {
        /// The assertion's `exp` claim.
        exp: UnixTime,
        /// The time the check was made at.
        now: UnixTime,
    },
    /// `nbf` is in the future, beyond the allowed clock skew.
    #[error("client assertion is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The assertion's `nbf` claim.
        nbf: UnixTime,
        /// The time the check was made at.
        now: UnixTime,
    },
}
