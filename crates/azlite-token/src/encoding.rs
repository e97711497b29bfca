//! Byte encodings used on the wire: base64url without padding (RFC 7515 §2), standard
//! base64 for `x5c` (RFC 7517 §4.7), PEM armour (RFC 7468) and certificate thumbprints
//! (`x5t`, `x5t#S256`: RFC 7515 §4.1.7–4.1.8).

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// base64url without padding, the JWS encoding of every segment and of JWK numbers.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding: no padding, no non-canonical trailing bits, so one token has
/// exactly one encoding.
pub(crate) fn b64url_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

/// Standard base64 with padding, the encoding of `x5c` entries.
pub(crate) fn b64_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// `x5t`: base64url of the SHA-1 of the certificate DER. SHA-1 is what Entra publishes as
/// `kid`/`x5t`; it identifies a certificate, it protects nothing.
pub(crate) fn thumbprint_sha1(der: &[u8]) -> String {
    b64url(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// The SHA-1 thumbprint as lower-case hex, the form the Azure portal and `az` print and some
/// clients send as `kid`.
pub(crate) fn thumbprint_sha1_hex(der: &[u8]) -> String {
    let hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    hash.as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `x5t#S256`: base64url of the SHA-256 of the certificate DER.
pub(crate) fn thumbprint_sha256(der: &[u8]) -> String {
    b64url(digest::digest(&digest::SHA256, der).as_ref())
}

/// An unsigned big-endian integer without leading zero bytes, as JWK `n` and `e` require
/// (RFC 7518 §6.3.1.1). DER integers carry a leading zero when the top bit is set.
pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes
        .iter()
        .position(|&byte| byte != 0)
        .unwrap_or(bytes.len());
    &bytes[first..]
}

/// PEM armour with 64-column lines and LF line endings (RFC 7468 §2).
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    pem.push_str("-----BEGIN ");
    pem.push_str(label);
    pem.push_str("-----\n");
    for line in body.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END ");
    pem.push_str(label);
    pem.push_str("-----\n");
    pem
}

/// Decodes the first PEM block in `text`, returning its label and contents.
pub(crate) fn pem_decode(text: &str) -> Result<(String, Vec<u8>), String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(text.as_bytes())
        .map_err(|error| format!("no PEM block could be decoded ({error})"))?;
    Ok((pem.label, pem.contents))
}
