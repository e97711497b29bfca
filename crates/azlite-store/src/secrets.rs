//! Client secrets: minted once, stored only as a salted hash, checked in constant time.
//!
//! The hash format is part of the store's contract, so it lives with the model: the token
//! service checks what Graph and the bootstrap mint. Secrets are high-entropy random strings,
//! so a salted SHA-256 is enough (a slow password hash buys nothing against ~200 bits). The
//! shape mimics Entra's (`xxx8Q~` and 34 more characters) so that tools that sniff secrets
//! recognise them; `hint` is the first three characters, as Graph shows.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use azlite_types::{ClientId, UnixTime};

use crate::PasswordCredential;

/// Characters Entra uses in generated secrets.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG failing is not something to recover from.
    SystemRandom::new()
        .fill(&mut out)
        .expect("the system random number generator failed");
    out
}

fn random_chars(n: usize) -> String {
    // 66 symbols: bytes at or above the largest multiple of 66 are rejected, so that every
    // symbol is equally likely.
    let limit = (256 / ALPHABET.len()) * ALPHABET.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<64>() {
            if (b as usize) < limit && out.len() < n {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

/// SHA-256 of salt ‖ secret.
fn hash_secret(salt: &[u8], secret: &str) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(salt);
    ctx.update(secret.as_bytes());
    ctx.finish().as_ref().to_vec()
}

impl PasswordCredential {
    /// A new client secret for `app_id`, valid from `start` to `end`: the credential to
    /// store, and the secret itself, to show once.
    pub fn mint(
        app_id: ClientId,
        display_name: impl Into<String>,
        start: UnixTime,
        end: UnixTime,
    ) -> (Self, String) {
        let secret = format!("{}8Q~{}", random_chars(3), random_chars(34));
        let salt = random_bytes::<16>().to_vec();
        let credential = Self {
            key_id: uuid::Uuid::new_v4(),
            app_id,
            display_name: display_name.into(),
            hint: secret[..3].to_owned(),
            secret_hash: hash_secret(&salt, &secret),
            salt,
            start,
            end,
        };
        (credential, secret)
    }

    /// Whether `secret` is this credential's secret, compared in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        let actual = hash_secret(&self.salt, secret);
        actual.len() == self.secret_hash.len()
            && actual
                .iter()
                .zip(&self.secret_hash)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_entras_shape_and_differ() {
        let app = ClientId::new_random();
        let (a, secret_a) = PasswordCredential::mint(app, "a", 0, 10);
        let (_, secret_b) = PasswordCredential::mint(app, "b", 0, 10);
        assert_eq!(secret_a.len(), 40);
        assert_eq!(&secret_a[3..6], "8Q~");
        assert_ne!(secret_a, secret_b);
        assert!(secret_a.bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(a.hint, secret_a[..3]);
    }

    #[test]
    fn only_the_secret_matches_and_the_hash_is_salted_sha256() {
        let (credential, secret) = PasswordCredential::mint(ClientId::new_random(), "x", 0, 10);
        assert!(credential.matches(&secret));
        assert!(!credential.matches(&secret.to_uppercase()));
        assert!(!credential.matches(""));
        // Known answer: SHA-256("salt" ‖ "secret").
        let expected = "bede90386d450cea8b77b822f8887065e4e5abf132c2f9dccfcc7fbd4cba5e35";
        let hash: String = hash_secret(b"salt", "secret")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hash, expected);
        assert_ne!(credential.secret_hash, hash_secret(b"other salt", &secret));
    }
}
