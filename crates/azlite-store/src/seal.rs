//! Sealing of secret columns at rest: AES-256-GCM (aws-lc-rs) under the store key, a file
//! kept beside the database (`store.key`, 0600), never inside it, so a copy of the database
//! alone reveals no secret column.
//!
//! How a backend uses it for a secret column: [`StoreKey::seal`] the value with a `place`
//! naming the column and the row (e.g. `b"signing_keys.private_key_pem\0{kid}"`) before
//! writing, store the bytes (a BLOB, or [`StoreKey::seal_text`] for a TEXT column), and
//! [`StoreKey::open`] ([`StoreKey::open_text`]) them with the same place after reading. The place is the associated data: a sealed value copied to another row or
//! column fails to open. The SQLite backend seals the STS's private signing keys this way.
//!
//! Sealed form: `1` (format version) ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte tag.
//!
//! The key file is made on the first open: 32 random bytes written to a temporary file
//! (0600), synced, then linked into place, which fails if another process made the key
//! first; either way every process then reads the one key in place.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use crate::{StoreError, StoreResult};

/// The key file's name, in the database's directory.
pub const STORE_KEY_FILE: &str = "store.key";

/// Length of the key in bytes.
const KEY_LEN: usize = 32;

/// The first byte of every sealed value: the format above.
const FORMAT: u8 = 1;

/// How a TEXT column holds a sealed value (format 1 above, base64 without padding).
const TEXT_PREFIX: &str = "sealed:1:";

/// Whether a TEXT column's value is sealed ([`StoreKey::seal_text`]) rather than plain text
/// from a store older than sealing.
pub fn is_sealed_text(stored: &str) -> bool {
    stored.starts_with(TEXT_PREFIX)
}

/// The key that seals the store's secret columns.
pub struct StoreKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

/// The key file of the database at `database`.
pub fn store_key_path(database: &Path) -> PathBuf {
    database.with_file_name(STORE_KEY_FILE)
}

impl StoreKey {
    /// The key from its 32 bytes.
    fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).expect("AES-256-GCM takes any 32-byte key");
        Self {
            key: LessSafeKey::new(unbound),
        }
    }

    /// Reads the key at `path`; `Ok(None)` when there is no such file.
    pub fn load(path: &Path) -> StoreResult<Option<Self>> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::Backend(Box::new(e))),
        };
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            StoreError::Backend(
                format!(
                    "{} must hold exactly {KEY_LEN} bytes: it is not azlite's store key",
                    path.display()
                )
                .into(),
            )
        })?;
        Ok(Some(Self::from_bytes(&bytes)))
    }

    /// Makes a new key file at `path` (0600), or keeps the one another process made first,
    /// and returns the key in place.
    pub fn create(path: &Path) -> StoreResult<Self> {
        let backend = |e: std::io::Error| StoreError::Backend(Box::new(e));
        let dir = path.parent().unwrap_or(Path::new("."));
        let temp = dir.join(format!(
            ".{STORE_KEY_FILE}.{}",
            uuid::Uuid::new_v4().simple()
        ));
        let result = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            let mut bytes = [0u8; KEY_LEN];
            SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| std::io::Error::other("the system random number generator failed"))?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            match std::fs::hard_link(&temp, path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            std::fs::File::open(dir)?.sync_all()
        })();
        let _ = std::fs::remove_file(&temp);
        result.map_err(backend)?;
        Self::load(path)?.ok_or_else(|| {
            StoreError::Backend(format!("{} vanished after it was made", path.display()).into())
        })
    }

    /// Seals `plaintext` for `place` (see the module documentation).
    pub fn seal(&self, place: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random number generator failed");
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(place),
                &mut in_out,
            )
            .expect("sealing a value under 4 GiB does not fail");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        sealed
    }

    /// [`StoreKey::seal`] for a TEXT column: `sealed:1:` and the sealed bytes in base64.
    pub fn seal_text(&self, place: &[u8], plaintext: &str) -> String {
        format!(
            "{TEXT_PREFIX}{}",
            STANDARD_NO_PAD.encode(self.seal(place, plaintext.as_bytes()))
        )
    }

    /// Opens a value sealed by [`StoreKey::seal_text`] for the same `place`.
    pub fn open_text(&self, place: &[u8], stored: &str) -> StoreResult<String> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("a sealed value {what}"));
        let encoded = stored
            .strip_prefix(TEXT_PREFIX)
            .ok_or_else(|| corrupt("is not sealed"))?;
        let sealed = STANDARD_NO_PAD
            .decode(encoded)
            .map_err(|_| corrupt("is not base64"))?;
        String::from_utf8(self.open(place, &sealed)?).map_err(|_| corrupt("is not UTF-8"))
    }

    /// Opens a value sealed by [`StoreKey::seal`] for the same `place`. A value that does not
    /// open (another key, another place, altered bytes) is [`StoreError::Corrupt`].
    pub fn open(&self, place: &[u8], sealed: &[u8]) -> StoreResult<Vec<u8>> {
        let corrupt = || {
            StoreError::Corrupt(
                "a sealed value does not open with store.key (another key, or altered)".into(),
            )
        };
        let Some((&FORMAT, rest)) = sealed.split_first() else {
            return Err(corrupt());
        };
        if rest.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| corrupt())?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(place), &mut in_out)
            .map_err(|_| corrupt())?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_place_with_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_KEY_FILE);
        assert!(StoreKey::load(&path).unwrap().is_none());
        let key = StoreKey::create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = key.seal(b"t.c\0row1", b"secret");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open(b"t.c\0row1", &sealed).unwrap(), b"secret");
        assert!(key.open(b"t.c\0row2", &sealed).is_err());
        let again = StoreKey::load(&path).unwrap().unwrap();
        assert_eq!(again.open(b"t.c\0row1", &sealed).unwrap(), b"secret");
        // A second create keeps the first key.
        let second = StoreKey::create(&path).unwrap();
        assert_eq!(second.open(b"t.c\0row1", &sealed).unwrap(), b"secret");
        let other = tempfile::tempdir().unwrap();
        let stranger = StoreKey::create(&other.path().join(STORE_KEY_FILE)).unwrap();
        assert!(stranger.open(b"t.c\0row1", &sealed).is_err());
        let text = key.seal_text(b"p", "-----BEGIN PRIVATE KEY-----");
        assert!(is_sealed_text(&text) && !text.contains("PRIVATE"));
        assert_eq!(
            key.open_text(b"p", &text).unwrap(),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert!(key.open_text(b"q", &text).is_err());
        assert!(!is_sealed_text("-----BEGIN PRIVATE KEY-----"));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open(b"t.c\0row1", &altered).is_err());
    }
}
