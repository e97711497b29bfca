//! Account keys and HMAC-SHA256, the one primitive of every storage signature.
//!
//! A signature is `base64(HMAC-SHA256(key, UTF-8(string-to-sign)))`. Verification decodes the
//! presented signature and lets aws-lc-rs compare the MACs in constant time.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A storage account key (or a user delegation key's value): the raw bytes behind the
/// base64 text that `listKeys` shows. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountKey(Vec<u8>);

impl std::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountKey(…)")
    }
}

impl AccountKey {
    /// A key from its base64 text, as in a connection string's `AccountKey=`.
    pub fn from_base64(text: &str) -> Option<Self> {
        STANDARD.decode(text.trim()).ok().map(AccountKey)
    }

    /// A key from raw bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        AccountKey(bytes.into())
    }

    /// The key as base64 text.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// The signature of `string_to_sign` under this key, base64.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        STANDARD.encode(hmac::sign(&key, string_to_sign.as_bytes()).as_ref())
    }

    /// Whether `signature` (base64) is this key's signature of `string_to_sign`, compared in
    /// constant time. Malformed base64 is simply not a match.
    pub fn verify(&self, string_to_sign: &str, signature: &str) -> bool {
        let Ok(presented) = STANDARD.decode(signature) else {
            return false;
        };
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        hmac::verify(&key, string_to_sign.as_bytes(), &presented).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let key = AccountKey::from_base64("a2V5").unwrap();
        let sig = key.sign("hello");
        assert!(key.verify("hello", &sig));
        assert!(!key.verify("hello!", &sig));
        assert!(!key.verify("hello", "not base64!"));
        assert!(!key.verify("hello", ""));
        assert_eq!(format!("{key:?}"), "AccountKey(…)");
    }
}
