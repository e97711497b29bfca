//! Client secrets: generation, hashing and constant-time checking.
//!
//! Secrets are high-entropy random strings, so a salted SHA-256 is enough to keep them out
//! of the store (a slow password hash buys nothing against 200 bits of entropy). The format
//! mimics Entra's (`xxx8Q~` followed by 34 characters) so that tools that sniff secrets
//! recognise them.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Characters Entra uses in generated secrets.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~";

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG failing is not something to recover from.
    SystemRandom::new()
        .fill(&mut out)
        .expect("the system random number generator failed");
    out
}

fn random_chars(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<64>() {
            // 66 symbols: reject values that would bias the distribution.
            let limit = (256 / ALPHABET.len()) * ALPHABET.len();
            if (b as usize) < limit && out.len() < n {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

/// A new client secret, in Entra's 40-character shape.
pub(crate) fn new_client_secret() -> String {
    format!("{}8Q~{}", random_chars(3), random_chars(34))
}

/// A new salt.
pub(crate) fn new_salt() -> Vec<u8> {
    random_bytes::<16>().to_vec()
}

/// SHA-256 of salt ‖ secret.
pub(crate) fn hash_secret(salt: &[u8], secret: &str) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(salt);
    ctx.update(secret.as_bytes());
    ctx.finish().as_ref().to_vec()
}

/// Whether `secret` hashes to `expected`, compared in constant time.
pub(crate) fn secret_matches(salt: &[u8], secret: &str, expected: &[u8]) -> bool {
    let actual = hash_secret(salt, secret);
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_entras_shape_and_differ() {
        let a = new_client_secret();
        let b = new_client_secret();
        assert_eq!(a.len(), 40);
        assert_eq!(&a[3..6], "8Q~");
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn hash_checks_the_secret_and_the_salt() {
        let salt = new_salt();
        let hash = hash_secret(&salt, "s3cret");
        assert!(secret_matches(&salt, "s3cret", &hash));
        assert!(!secret_matches(&salt, "s3creT", &hash));
        assert!(!secret_matches(&new_salt(), "s3cret", &hash));
    }
}
