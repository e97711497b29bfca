//! JWS compact serialization (RFC 7515 §7.1): splitting a token into its three segments and
//! reading the protected header ourselves.
//!
//! The header is parsed here rather than by `jsonwebtoken` because `jsonwebtoken` cannot even
//! represent `alg: none` or an unknown algorithm; we need to see those values to reject them
//! with a precise error, and to decide the algorithm before any key is chosen.

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::encoding::b64url_decode;

/// Tokens longer than this are refused before any decoding. Entra access tokens are a few
/// kilobytes even with group claims; this bounds the work an unauthenticated caller causes.
const MAX_TOKEN_LEN: usize = 64 * 1024;

/// A compact JWS split into its parts, segments decoded but nothing verified.
pub(crate) struct CompactJws<'a> {
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    /// The signature segment as sent (base64url, checked to decode).
    pub(crate) signature_b64: &'a str,
    pub(crate) header: JoseHeader,
    payload: Vec<u8>,
}

/// The protected-header members this crate reads.
#[derive(Deserialize)]
pub(crate) struct JoseHeader {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    #[serde(default)]
    pub(crate) x5t: Option<String>,
    #[serde(default, rename = "x5t#S256")]
    pub(crate) x5t_s256: Option<String>,
    /// RFC 7515 §4.1.11: a recipient must reject extensions it does not understand; we
    /// understand none, so any `crit` makes the token malformed.
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// The outcome of checking a header `alg` against an allow-list.
pub(crate) enum AlgorithmCheck {
    /// `none`, in any letter case.
    None,
    /// Anything not on the allow-list, verbatim.
    NotAllowed(String),
    /// An allowed algorithm.
    Allowed(Algorithm),
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes; the error text explains what is malformed.
    pub(crate) fn parse(token: &'a str) -> Result<Self, String> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(format!("token is longer than {MAX_TOKEN_LEN} bytes"));
        }
        let mut segments = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err("expected three '.'-separated segments".into());
        };
        let header_bytes =
            b64url_decode(header_b64).map_err(|_| "header segment is not base64url".to_owned())?;
        let payload = b64url_decode(payload_b64)
            .map_err(|_| "payload segment is not base64url".to_owned())?;
        b64url_decode(signature_b64)
            .map_err(|_| "signature segment is not base64url".to_owned())?;
        if !is_json_object(&header_bytes) {
            return Err("header is not a JSON object".into());
        }
        if !is_json_object(&payload) {
            return Err("claims are not a JSON object".into());
        }
        let header: JoseHeader = serde_json::from_slice(&header_bytes)
            .map_err(|error| format!("header is not a valid JOSE header: {error}"))?;
        if header.crit.is_some() {
            return Err("header has critical extensions (crit), none are supported".into());
        }
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        Ok(Self {
            signing_input,
            signature_b64,
            header,
            payload,
        })
    }

    /// Deserializes the payload as `T`; the error text explains what is missing or wrong.
    pub(crate) fn claims<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.payload)
            .map_err(|error| format!("claims are not valid: {error}"))
    }

    /// Checks the header `alg` against `allowed`. The algorithm used to verify is the one
    /// from the allow-list, never a value parsed from the token.
    pub(crate) fn check_algorithm(&self, allowed: &[Algorithm]) -> AlgorithmCheck {
        let alg = self.header.alg.as_str();
        if alg.eq_ignore_ascii_case("none") {
            return AlgorithmCheck::None;
        }
        allowed
            .iter()
            .find(|candidate| algorithm_name(**candidate) == alg)
            .map_or_else(
                || AlgorithmCheck::NotAllowed(alg.to_owned()),
                |a| AlgorithmCheck::Allowed(*a),
            )
    }
}

/// serde would also read a struct from a JSON array; JOSE headers and claim sets must be
/// objects (RFC 7515 §4, RFC 7519 §7.2), so look at the first byte before deserializing.
fn is_json_object(json: &[u8]) -> bool {
    json.trim_ascii_start().first() == Some(&b'{')
}

/// The JWA name (RFC 7518 §3.1) of the algorithms this crate accepts.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::RS256 => "RS256",
        Algorithm::PS256 => "PS256",
        // Only RS256 and PS256 are ever put on an allow-list; any other entry matches nothing.
        _ => "",
    }
}

/// Checks a signature with `jsonwebtoken`'s aws-lc verifier. `algorithm` comes from the
/// caller's allow-list, so `jsonwebtoken` never sees an algorithm chosen by the token.
pub(crate) fn signature_is_valid(
    jws: &CompactJws<'_>,
    key: &jsonwebtoken::DecodingKey,
    algorithm: Algorithm,
) -> bool {
    jsonwebtoken::crypto::verify(
        jws.signature_b64,
        jws.signing_input.as_bytes(),
        key,
        algorithm,
    )
    .unwrap_or(false)
}
