//! Client assertions: the `client_assertion` JWT a confidential client signs with its
//! certificate for `client_credentials` (RFC 7523; reference §4.2).
//!
//! MSAL sends `PS256` with `x5t#S256` (or `RS256` with `x5t` when only a SHA-1 thumbprint is
//! known); the Azure SDK for Rust sends `RS256` with `x5t`. Some clients put the hex SHA-1
//! thumbprint in `kid` instead. All of these are accepted. A certificate chain in the header
//! (`x5c`) is ignored: only certificates the client registered are trusted.

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::Value;

use crate::UnixTime;
use crate::certificate::ClientCertificate;
use crate::compact::{AlgorithmCheck, CompactJws, JoseHeader, signature_is_valid};
use crate::error::AssertionError;

/// A client assertion's header and claims, NOT verified: lets the STS find the client (by
/// `iss`/`sub`) and its certificates before calling [`verify_client_assertion`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnverifiedAssertion {
    /// Header `alg`, verbatim.
    pub alg: String,
    /// Header `x5t`: base64url SHA-1 certificate thumbprint.
    pub x5t: Option<String>,
    /// Header `x5t#S256`: base64url SHA-256 certificate thumbprint.
    pub x5t_s256: Option<String>,
    /// Header `kid`.
    pub kid: Option<String>,
    /// Claim `iss`; the client id.
    pub iss: Option<String>,
    /// Claim `sub`; the client id.
    pub sub: Option<String>,
    /// Claim `aud`; the token endpoint URL. A one-element array is read as its element.
    pub aud: Option<String>,
    /// Claim `exp`.
    pub exp: Option<UnixTime>,
    /// Claim `nbf`.
    pub nbf: Option<UnixTime>,
    /// Claim `jti`.
    pub jti: Option<String>,
}

impl UnverifiedAssertion {
    /// Decodes the header and claims without checking anything but their shape.
    pub fn parse(jwt: &str) -> Result<Self, AssertionError> {
        let jws = CompactJws::parse(jwt).map_err(AssertionError::Malformed)?;
        Self::from_jws(&jws)
    }

    fn from_jws(jws: &CompactJws<'_>) -> Result<Self, AssertionError> {
        let claims: RawClaims = jws.claims().map_err(AssertionError::Malformed)?;
        let JoseHeader {
            alg,
            kid,
            x5t,
            x5t_s256,
            ..
        } = &jws.header;
        Ok(Self {
            alg: alg.clone(),
            x5t: x5t.clone(),
            x5t_s256: x5t_s256.clone(),
            kid: kid.clone(),
            iss: string_claim("iss", claims.iss)?,
            sub: string_claim("sub", claims.sub)?,
            aud: audience_claim(claims.aud)?,
            exp: time_claim("exp", claims.exp)?,
            nbf: time_claim("nbf", claims.nbf)?,
            jti: string_claim("jti", claims.jti)?,
        })
    }
}

/// The claims read from an assertion, typed loosely so the error can name the bad claim.
#[derive(Deserialize)]
struct RawClaims {
    #[serde(default)]
    iss: Value,
    #[serde(default)]
    sub: Value,
    #[serde(default)]
    aud: Value,
    #[serde(default)]
    exp: Value,
    #[serde(default)]
    nbf: Value,
    #[serde(default)]
    jti: Value,
}

fn string_claim(name: &str, value: Value) -> Result<Option<String>, AssertionError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        _ => Err(AssertionError::Malformed(format!(
            "claim {name} must be a string"
        ))),
    }
}

fn audience_claim(value: Value) -> Result<Option<String>, AssertionError> {
    match value {
        Value::Array(mut values) if values.len() == 1 => string_claim("aud", values.remove(0)),
        Value::Array(_) => Err(AssertionError::Malformed(
            "claim aud must name exactly one audience".into(),
        )),
        other => string_claim("aud", other),
    }
}

/// A NumericDate (RFC 7519 §2): an integer, or a non-integer number rounded down.
fn time_claim(name: &str, value: Value) -> Result<Option<UnixTime>, AssertionError> {
    let invalid = || AssertionError::Malformed(format!("claim {name} must be a number"));
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => match number.as_i64() {
            Some(seconds) => Ok(Some(seconds)),
            None => number
                .as_f64()
                .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
                .map(|seconds| Some(seconds.floor() as UnixTime))
                .ok_or_else(invalid),
        },
        _ => Err(invalid()),
    }
}

/// A client assertion whose signature and lifetime have been checked. The caller (the STS)
/// still checks `iss == sub == client_id` and `aud`.
///
/// Only [`verify_client_assertion`] creates one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedAssertion {
    /// Claim `iss`.
    pub iss: String,
    /// Claim `sub`.
    pub sub: String,
    /// Claim `aud`.
    pub aud: String,
    /// Claim `exp`.
    pub exp: UnixTime,
    /// Claim `nbf`, if sent.
    pub nbf: Option<UnixTime>,
    /// Claim `jti`, if sent (for replay detection by the caller).
    pub jti: Option<String>,
    /// `x5t` (base64url SHA-1 thumbprint) of the certificate that verified the signature.
    pub thumbprint_sha1: String,
}

/// Verifies a client assertion against the client's registered certificates.
///
/// Checks, in order: structure (`Malformed`); `alg` RS256 or PS256 (`AlgorithmNone`,
/// `AlgorithmNotAllowed`); certificate selection by `x5t#S256`, else `x5t`, else `kid` as a
/// hex or base64url SHA-1 thumbprint (`NoMatchingCertificate`); the signature
/// (`InvalidSignature`); `exp` present and `exp > now - leeway` (`Malformed`, `Expired`);
/// `nbf <= now + leeway` if present (`NotYetValid`); `iss`, `sub`, `aud` present
/// (`Malformed`). The certificate's own validity dates are not checked here.
pub fn verify_client_assertion(
    jwt: &str,
    certificates: &[ClientCertificate],
    now: UnixTime,
    leeway_seconds: i64,
) -> Result<VerifiedAssertion, AssertionError> {
    let jws = CompactJws::parse(jwt).map_err(AssertionError::Malformed)?;
    let assertion = UnverifiedAssertion::from_jws(&jws)?;

    let algorithm = match jws.check_algorithm(&[Algorithm::RS256, Algorithm::PS256]) {
        AlgorithmCheck::None => return Err(AssertionError::AlgorithmNone),
        AlgorithmCheck::NotAllowed(alg) => return Err(AssertionError::AlgorithmNotAllowed(alg)),
        AlgorithmCheck::Allowed(algorithm) => algorithm,
    };

    let certificate = select_certificate(&assertion, certificates)
        .ok_or(AssertionError::NoMatchingCertificate)?;
    if !signature_is_valid(&jws, certificate.decoding_key(), algorithm) {
        return Err(AssertionError::InvalidSignature);
    }

    let exp = assertion.exp.ok_or_else(|| missing("exp"))?;
    if exp <= now.saturating_sub(leeway_seconds) {
        return Err(AssertionError::Expired { exp, now });
    }
    if let Some(nbf) = assertion.nbf
        && nbf > now.saturating_add(leeway_seconds)
    {
        return Err(AssertionError::NotYetValid { nbf, now });
    }

    Ok(VerifiedAssertion {
        iss: assertion.iss.ok_or_else(|| missing("iss"))?,
        sub: assertion.sub.ok_or_else(|| missing("sub"))?,
        aud: assertion.aud.ok_or_else(|| missing("aud"))?,
        exp,
        nbf: assertion.nbf,
        jti: assertion.jti,
        thumbprint_sha1: certificate.x5t().to_owned(),
    })
}

fn missing(claim: &str) -> AssertionError {
    AssertionError::Malformed(format!("required claim {claim} is missing"))
}

/// The strongest thumbprint the header carries decides; a weaker one is not consulted when a
/// stronger one fails to match. Thumbprints are compared without base64 padding: MSAL
/// Python pads them (`…O4=`), RFC 7515 says not to, Entra takes both.
fn select_certificate<'c>(
    assertion: &UnverifiedAssertion,
    certificates: &'c [ClientCertificate],
) -> Option<&'c ClientCertificate> {
    let unpadded = |t: &str| t.trim_end_matches('=').to_owned();
    if let Some(x5t_s256) = assertion.x5t_s256.as_deref().map(unpadded) {
        return certificates
            .iter()
            .find(|certificate| certificate.x5t_s256() == x5t_s256);
    }
    if let Some(x5t) = assertion.x5t.as_deref().map(unpadded) {
        return certificates
            .iter()
            .find(|certificate| certificate.x5t() == x5t);
    }
    let kid = assertion.kid.as_deref()?;
    certificates.iter().find(|certificate| {
        certificate.thumbprint_hex().eq_ignore_ascii_case(kid) || certificate.x5t() == kid
    })
}
