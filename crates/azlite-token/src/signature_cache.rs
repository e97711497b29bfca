//! Tokens whose signature was verified, remembered by their exact text, so a resource
//! service verifies each token's RS256 signature once however often a client sends it.
//!
//! The lookup must cost far less than the RSA operation it saves, and much less than a hash
//! of the whole token (a SHA-256 of a 1.5 KB token is about a microsecond): entries are
//! filed under the token's last [`TAIL`] bytes, which lie in its signature (base64url of
//! an RSA signature: as good as random for tokens the STS signed, and only verified tokens
//! are ever filed), and a hit is confirmed by comparing the whole text with the one that was
//! verified, in constant time. Two verified tokens with the same tail only evict each other;
//! a token that differs from the verified one in any byte is never a hit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::verify::VerifiedToken;

/// How many trailing bytes of a token file it.
const TAIL: usize = 16;

/// Tokens whose structure, `alg` and signature were verified, with what was read from
/// them: the `kid` that verified them and their claims. A `kid` is the thumbprint of its
/// certificate, so the same `kid` names the same key; the header and claims are a function
/// of the text, so a hit skips their parsing too, and never the checks that depend on the
/// moment or the caller (the key still in the ring, lifetime, audience, issuer).
/// Bounded: past [`SignatureCache::CAPACITY`] entries it starts over.
#[derive(Debug, Default)]
pub struct SignatureCache {
    verified: Mutex<HashMap<[u8; TAIL], Entry>>,
}

/// One verified token: its exact text, and what verifying it found.
#[derive(Debug)]
struct Entry {
    token: Box<str>,
    verified: Arc<VerifiedToken>,
}

impl SignatureCache {
    /// Entries kept at most.
    pub const CAPACITY: usize = 16_384;

    fn tail(token: &str) -> [u8; TAIL] {
        let bytes = token.as_bytes();
        let mut tail = [0u8; TAIL];
        let take = bytes.len().min(TAIL);
        tail[..take].copy_from_slice(&bytes[bytes.len() - take..]);
        tail
    }

    /// What verifying exactly `token` found, if it was verified before.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<VerifiedToken>> {
        let verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = verified.get(&Self::tail(token))?;
        same_bytes(entry.token.as_bytes(), token.as_bytes()).then(|| Arc::clone(&entry.verified))
    }

    /// Remembers `token`, whose signature was just verified.
    pub(crate) fn insert(&self, token: &str, checked: Arc<VerifiedToken>) {
        let entry = Entry {
            token: token.into(),
            verified: checked,
        };
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= Self::CAPACITY {
            verified.clear();
        }
        verified.insert(Self::tail(token), entry);
    }
}

/// Whether `a` and `b` are the same bytes, in time that depends only on their lengths (a
/// token's length is not secret; its bytes are another client's credential).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessTokenClaims;

    fn verified(oid: &str) -> Arc<VerifiedToken> {
        let claims: AccessTokenClaims = serde_json::from_value(serde_json::json!({
            "aud": "a", "iss": "i", "iat": 0, "nbf": 0, "exp": 1, "oid": oid, "sub": oid,
            "tid": "t", "uti": "u", "ver": "1.0"
        }))
        .unwrap();
        Arc::new(VerifiedToken {
            kid: "k".into(),
            claims,
        })
    }

    #[test]
    fn only_the_exact_text_is_a_hit() {
        let cache = SignatureCache::default();
        let token = "header.payload.signature-0123456789abcdef";
        cache.insert(token, verified("one"));
        assert_eq!(cache.get(token).unwrap().claims.oid, "one");
        // Same tail, another payload: not the verified bytes.
        assert!(
            cache
                .get("header.PAYLOAD.signature-0123456789abcdef")
                .is_none()
        );
        assert!(cache.get("x.signature-0123456789abcdef").is_none());
        assert!(
            cache
                .get("header.payload.signature-0123456789abcdeF")
                .is_none()
        );
        // A verified token with the same tail replaces the first; neither answers for the other.
        let other = "HEADER.payload.signature-0123456789abcdef";
        cache.insert(other, verified("two"));
        assert_eq!(cache.get(other).unwrap().claims.oid, "two");
        assert!(cache.get(token).is_none());
        // Short texts are filed too.
        cache.insert("ab", verified("short"));
        assert_eq!(cache.get("ab").unwrap().claims.oid, "short");
        assert!(cache.get("b").is_none());
    }

    #[test]
    fn same_bytes_compares_everything() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
        assert!(same_bytes(b"", b""));
    }
}
