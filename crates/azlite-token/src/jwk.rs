//! JSON Web Keys as the Entra keys endpoints publish them (RFC 7517; reference §3.5).

use serde::{Deserialize, Serialize};

/// One RSA signing key of a JWKS document, in Entra's shape:
/// `{"kty":"RSA","use":"sig","kid":…,"x5t":…,"n":…,"e":"AQAB","x5c":["MIID…"]}`, plus a
/// per-key `issuer` in the v2 keys document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Jwk {
    /// Key type; always `"RSA"` for keys this crate produces.
    pub kty: String,
    /// Public key use; `"sig"`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Key id, selected by the token header's `kid`; equals `x5t`.
    pub kid: String,
    /// base64url SHA-1 thumbprint of the certificate.
    pub x5t: String,
    /// RSA modulus, base64url without padding or leading zero bytes.
    pub n: String,
    /// RSA public exponent, base64url (`"AQAB"` for 65537).
    pub e: String,
    /// The certificate chain, standard base64 of each DER certificate (leaf first).
    pub x5c: Vec<String>,
    /// Issuer the key may sign for (v2 keys document only); absent on v1 keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// A JWKS document: `{"keys":[…]}`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct JwkSet {
    /// The keys, in publication order.
    pub keys: Vec<Jwk>,
}
