//! Access-token verification as a resource service does it (reference §3.5): select the key
//! by `kid` from the JWKS, check the RS256 signature, then lifetime, audience and issuer.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::UnixTime;
use crate::claims::AccessTokenClaims;
use crate::compact::{AlgorithmCheck, CompactJws, signature_is_valid};
use crate::encoding::b64url_decode;
use crate::error::TokenError;
use crate::jwk::JwkSet;
use crate::signature_cache::SignatureCache;

/// Verification keys built from a JWKS (what a resource service fetched from the STS).
///
/// Keys whose `kty` is not `RSA` or whose `use` is not `sig` are skipped, as RFC 7517 §5
/// asks of keys an implementation does not understand.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: HashMap<String, DecodingKey>,
}

impl KeyRing {
    /// Builds the verification keys once, so [`verify`] does no key parsing per token.
    ///
    /// Fails on an RSA signing key whose `n`/`e` are not base64url, whose modulus is outside
    /// 2048–8192 bits, or whose `kid` repeats an earlier key's.
    pub fn from_jwks(jwks: &JwkSet) -> Result<KeyRing, TokenError> {
        let mut keys = HashMap::with_capacity(jwks.keys.len());
        for jwk in &jwks.keys {
            if jwk.kty != "RSA" || jwk.use_ != "sig" {
                continue;
            }
            let invalid = |what: &str| TokenError::InvalidJwk(format!("key {:?}: {what}", jwk.kid));
            let n = b64url_decode(&jwk.n).map_err(|_| invalid("n is not base64url"))?;
            let e = b64url_decode(&jwk.e).map_err(|_| invalid("e is not base64url"))?;
            let bits = significant_bits(&n);
            if !(2048..=8192).contains(&bits) {
                return Err(invalid(&format!(
                    "{bits}-bit modulus, 2048 to 8192 bits supported"
                )));
            }
            if significant_bits(&e) == 0 {
                return Err(invalid("e is zero"));
            }
            if keys.contains_key(&jwk.kid) {
                return Err(invalid("kid appears more than once"));
            }
            keys.insert(
                jwk.kid.clone(),
                DecodingKey::from_rsa_raw_components(&n, &e),
            );
        }
        Ok(KeyRing { keys })
    }

    /// Whether a key with this `kid` is in the ring.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring has no keys (every token will fail with [`TokenError::UnknownKey`]).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn significant_bits(big_endian: &[u8]) -> usize {
    match big_endian.iter().position(|&byte| byte != 0) {
        Some(first) => (big_endian.len() - first) * 8 - big_endian[first].leading_zeros() as usize,
        None => 0,
    }
}

/// Which issuers a resource accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssuerPolicy {
    /// `iss` must equal one of these strings exactly.
    Exact(Vec<String>),
    /// Any tenant (multi-tenant validation, reference §3.5): `iss` must be
    /// `https://sts.windows.net/{tid}/` or `https://login.microsoftonline.com/{tid}/v2.0`
    /// where `{tid}` is the token's own `tid` claim and is a GUID.
    AnyEntraTenant,
}

impl IssuerPolicy {
    fn accepts(&self, claims: &AccessTokenClaims) -> bool {
        match self {
            IssuerPolicy::Exact(issuers) => issuers.contains(&claims.iss),
            IssuerPolicy::AnyEntraTenant => {
                let tid = claims.tid.as_str();
                let iss = claims.iss.as_str();
                is_guid(tid)
                    && (iss
                        .strip_prefix("https://sts.windows.net/")
                        .and_then(|s| s.strip_suffix('/'))
                        == Some(tid)
                        || iss
                            .strip_prefix("https://login.microsoftonline.com/")
                            .and_then(|s| s.strip_suffix("/v2.0"))
                            == Some(tid))
            }
        }
    }
}

/// A GUID in its 8-4-4-4-12 hex form, either letter case.
fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// What a resource requires of a token besides a valid signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    /// Accepted `aud` values, compared exactly and case-sensitively. List every variant the
    /// resource accepts (with and without trailing slash, reference §3.4).
    pub audiences: Vec<String>,
    /// Accepted issuers.
    pub issuers: IssuerPolicy,
    /// Allowed clock skew for `exp` and `nbf`, in seconds.
    pub leeway_seconds: i64,
}

impl Validation {
    /// The clock skew Entra's own validators (Microsoft.IdentityModel) allow by default:
    /// 5 minutes.
    pub const DEFAULT_LEEWAY_SECONDS: i64 = 300;

    /// A validation with the default leeway of [`Self::DEFAULT_LEEWAY_SECONDS`].
    pub fn new(audiences: Vec<String>, issuers: IssuerPolicy) -> Self {
        Self {
            audiences,
            issuers,
            leeway_seconds: Self::DEFAULT_LEEWAY_SECONDS,
        }
    }
}

/// A token whose signature, lifetime, audience and issuer have been checked.
///
/// Only [`verify`] creates one (the struct is `non_exhaustive`, so it cannot be built with a
/// literal outside this crate).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// The `kid` of the key that verified the signature.
    pub kid: String,
    /// The token's claims.
    pub claims: AccessTokenClaims,
}

/// Verifies an access token. This is the only way to get a [`VerifiedToken`].
///
/// Checks, in order, each with its own [`TokenError`]: structure and required claims
/// (`Malformed`); `alg`, which must be RS256 (`AlgorithmNone`, `AlgorithmNotAllowed`); `kid`
/// (`MissingKeyId`, `UnknownKey`); the signature (`InvalidSignature`); `exp <= now - leeway`
/// (`Expired`); `nbf > now + leeway` (`NotYetValid`); `aud` (`InvalidAudience`); `iss`
/// (`InvalidIssuer`).
pub fn verify(
    token: &str,
    keys: &KeyRing,
    validation: &Validation,
    now: UnixTime,
) -> Result<VerifiedToken, TokenError> {
    verify_inner(token, keys, validation, now, None)
}

/// [`verify`], with the RSA operation and the parsing skipped for a token whose exact bytes
/// `cache` saw verified (structure, `alg`, signature: all functions of those bytes). What
/// depends on the moment or the resource runs on every call: the verifying key still being
/// in `keys`, lifetime against `now`, audience and issuer. A resource service sees the same
/// token on every request of a client for up to a day (RS256 costs tens of microseconds,
/// parsing a few; the lookup a comparison of the token's bytes, [`SignatureCache`]).
pub fn verify_with_cache(
    token: &str,
    keys: &KeyRing,
    validation: &Validation,
    now: UnixTime,
    cache: &SignatureCache,
) -> Result<VerifiedToken, TokenError> {
    verify_inner(token, keys, validation, now, Some(cache))
}

/// Structure and required claims, `alg`, `kid` and the signature.
pub(crate) fn check_signature(token: &str, keys: &KeyRing) -> Result<VerifiedToken, TokenError> {
    let jws = CompactJws::parse(token).map_err(TokenError::Malformed)?;
    let claims: AccessTokenClaims = jws.claims().map_err(TokenError::Malformed)?;

    let algorithm = match jws.check_algorithm(&[Algorithm::RS256]) {
        AlgorithmCheck::None => return Err(TokenError::AlgorithmNone),
        AlgorithmCheck::NotAllowed(alg) => return Err(TokenError::AlgorithmNotAllowed(alg)),
        AlgorithmCheck::Allowed(algorithm) => algorithm,
    };

    let kid = jws.header.kid.as_deref().ok_or(TokenError::MissingKeyId)?;
    let key = keys
        .keys
        .get(kid)
        .ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))?;
    if !signature_is_valid(&jws, key, algorithm) {
        return Err(TokenError::InvalidSignature);
    }
    Ok(VerifiedToken {
        kid: kid.to_owned(),
        claims,
    })
}

/// What depends on the moment and the resource: lifetime, audience, issuer.
fn check_claims(
    claims: &AccessTokenClaims,
    validation: &Validation,
    now: UnixTime,
) -> Result<(), TokenError> {
    let leeway = validation.leeway_seconds;
    if claims.exp <= now.saturating_sub(leeway) {
        return Err(TokenError::Expired {
            exp: claims.exp,
            now,
        });
    }
    if claims.nbf > now.saturating_add(leeway) {
        return Err(TokenError::NotYetValid {
            nbf: claims.nbf,
            now,
        });
    }
    if !validation.audiences.contains(&claims.aud) {
        return Err(TokenError::InvalidAudience(claims.aud.clone()));
    }
    if !validation.issuers.accepts(claims) {
        return Err(TokenError::InvalidIssuer(claims.iss.clone()));
    }
    Ok(())
}

fn verify_inner(
    token: &str,
    keys: &KeyRing,
    validation: &Validation,
    now: UnixTime,
    cache: Option<&SignatureCache>,
) -> Result<VerifiedToken, TokenError> {
    match cache {
        Some(cache) => verify_shared(token, keys, validation, now, cache).map(|v| (*v).clone()),
        None => {
            let verified = check_signature(token, keys)?;
            check_claims(&verified.claims, validation, now)?;
            Ok(verified)
        }
    }
}

/// [`verify_with_cache`], answering with the cache's own copy of the verified token: a hit
/// allocates nothing. For the hot paths of the resource services (Key Vault, ARM), which
/// see the same token on every request of a client.
pub fn verify_shared(
    token: &str,
    keys: &KeyRing,
    validation: &Validation,
    now: UnixTime,
    cache: &SignatureCache,
) -> Result<Arc<VerifiedToken>, TokenError> {
    let checked = match cache.get(token) {
        // The key that verified it must still be published: a retired key's tokens fail.
        Some(hit) if !keys.contains(&hit.kid) => {
            return Err(TokenError::UnknownKey(hit.kid.clone()));
        }
        Some(hit) => hit,
        None => {
            // Only a token whose signature verified is remembered.
            let checked = Arc::new(check_signature(token, keys)?);
            cache.insert(token, Arc::clone(&checked));
            checked
        }
    };
    check_claims(&checked.claims, validation, now)?;
    Ok(checked)
}

/// Where a resource service gets the verification keys: the STS's published JWKS, handed
/// over in-process. A trait so that services do not depend on the STS (and could fetch the
/// JWKS over HTTPS instead).
pub trait KeySource: Send + Sync {
    /// The keys currently published.
    fn key_ring(&self) -> std::sync::Arc<KeyRing>;
}
