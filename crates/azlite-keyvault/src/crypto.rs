//! Encryption of secret values at rest: AES-256-GCM (aws-lc-rs) under a key that the
//! composition root keeps outside the database (`keyvault.key` in the data directory), so
//! a copy of the database alone reveals no value.
//!
//! Sealed form: `1` (format version) ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte tag. The
//! associated data binds a ciphertext to its place: the vault's ARM id (folded), the
//! secret's name (folded) and its version, so a sealed value copied to another secret or
//! vault fails to open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use azlite_types::ResourceId;

/// Length of a [`ValueKey`] in bytes.
pub const VALUE_KEY_LEN: usize = 32;

/// The first byte of every sealed value: the format above.
const FORMAT: u8 = 1;

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed secret value cannot be opened with this vault key")]
pub struct OpenError;

/// The key that seals secret values.
pub struct ValueKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for ValueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValueKey(<redacted>)")
    }
}

/// The associated data of a value: where it belongs.
fn place(vault: &ResourceId, name: &str, version: &str) -> Vec<u8> {
    let parts = [vault.as_str(), name, version];
    let mut aad = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts {
        aad.extend(part.bytes().map(|b| b.to_ascii_lowercase()));
        aad.push(0);
    }
    aad
}

impl ValueKey {
    /// A fresh random key (the bytes to store are [`ValueKey::generate_bytes`]'s).
    pub fn generate_bytes() -> [u8; VALUE_KEY_LEN] {
        let mut bytes = [0u8; VALUE_KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random number generator failed");
        bytes
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; VALUE_KEY_LEN]) -> Self {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).expect("AES-256-GCM takes any 32-byte key");
        Self {
            key: LessSafeKey::new(unbound),
        }
    }

    /// Seals `value` for the secret version at (`vault`, `name`, `version`).
    pub fn seal(&self, vault: &ResourceId, name: &str, version: &str, value: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random number generator failed");
        let mut in_out = value.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(place(vault, name, version)),
                &mut in_out,
            )
            .expect("sealing a value under 4 GiB does not fail");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        sealed
    }

    /// Opens a value sealed by [`ValueKey::seal`] for the same place.
    pub fn open(
        &self,
        vault: &ResourceId,
        name: &str,
        version: &str,
        sealed: &[u8],
    ) -> Result<String, OpenError> {
        let Some((&FORMAT, rest)) = sealed.split_first() else {
            return Err(OpenError);
        };
        if rest.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError)?;
        let mut in_out = ciphertext.to_vec();
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(place(vault, name, version)), &mut in_out)
            .map_err(|_| OpenError)?
            .len();
        in_out.truncate(plain_len);
        String::from_utf8(in_out).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(name: &str) -> ResourceId {
        format!(
            "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/{name}"
        )
        .parse()
        .unwrap()
    }

    #[test]
    fn a_value_round_trips_and_is_not_in_the_sealed_bytes() {
        let key = ValueKey::from_bytes(&ValueKey::generate_bytes());
        let sealed = key.seal(&vault("kv"), "Name", "abc", "p@ssw0rd!");
        assert!(!sealed.windows(9).any(|w| w == b"p@ssw0rd!"));
        assert_eq!(
            key.open(&vault("KV"), "name", "ABC", &sealed).unwrap(),
            "p@ssw0rd!",
            "places compare case-insensitively"
        );
        let again = key.seal(&vault("kv"), "Name", "abc", "p@ssw0rd!");
        assert_ne!(sealed, again, "a fresh nonce every time");
    }

    #[test]
    fn a_value_opens_only_in_its_place_and_under_its_key() {
        let key = ValueKey::from_bytes(&ValueKey::generate_bytes());
        let sealed = key.seal(&vault("kv"), "a", "v1", "x");
        assert_eq!(key.open(&vault("kv2"), "a", "v1", &sealed), Err(OpenError));
        assert_eq!(key.open(&vault("kv"), "b", "v1", &sealed), Err(OpenError));
        assert_eq!(key.open(&vault("kv"), "a", "v2", &sealed), Err(OpenError));
        let other = ValueKey::from_bytes(&ValueKey::generate_bytes());
        assert_eq!(other.open(&vault("kv"), "a", "v1", &sealed), Err(OpenError));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(&vault("kv"), "a", "v1", &tampered), Err(OpenError));
        assert_eq!(key.open(&vault("kv"), "a", "v1", &[]), Err(OpenError));
        assert_eq!(key.open(&vault("kv"), "a", "v1", &[1, 2]), Err(OpenError));
    }
}
