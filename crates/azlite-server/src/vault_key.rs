//! The key that seals Key Vault's secret values: `keyvault.key` in the data directory, next
//! to (never inside) the database, so a copy of `azlite.db` alone reveals no value.
//!
//! Created on the first start: 32 random bytes written to a temporary file (0600), synced,
//! then linked into place, which fails if another process made the key first; either way
//! every process then reads the one key in place.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use azlite_keyvault::{VALUE_KEY_LEN, ValueKey};

/// The key file's name in the data directory.
pub(crate) const VAULT_KEY_FILE: &str = "keyvault.key";

/// Why the key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[error("cannot load or create the Key Vault key {path}")]
pub struct VaultKeyError {
    /// The key file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The file of the secret user delegation keys are derived from (`azlite_storage_auth::udk`).
pub(crate) const USER_DELEGATION_KEY_FILE: &str = "userdelegation.key";

/// Loads the Key Vault key, creating it on the first start.
pub(crate) fn load_or_create(dir: &Path) -> Result<ValueKey, VaultKeyError> {
    Ok(ValueKey::from_bytes(&load_or_create_secret(
        dir,
        VAULT_KEY_FILE,
    )?))
}

/// Loads the 32-byte secret in `file` of the data directory, creating it (0600, synced,
/// linked into place) on the first start.
pub(crate) fn load_or_create_secret(
    dir: &Path,
    file: &str,
) -> Result<[u8; VALUE_KEY_LEN], VaultKeyError> {
    let path = dir.join(file);
    let error = |source| VaultKeyError {
        path: path.clone(),
        source,
    };
    if !path.exists() {
        create(dir, file, &path).map_err(error)?;
    }
    let bytes = std::fs::read(&path).map_err(error)?;
    let bytes: [u8; VALUE_KEY_LEN] = bytes.try_into().map_err(|_| {
        error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the key file must hold exactly {VALUE_KEY_LEN} bytes"),
        ))
    })?;
    Ok(bytes)
}

fn create(dir: &Path, file: &str, path: &Path) -> std::io::Result<()> {
    let temp = dir.join(format!(".{file}.{}", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&ValueKey::generate_bytes())?;
        file.sync_all()?;
        match std::fs::hard_link(&temp, path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        std::fs::File::open(dir)?.sync_all()
    })();
    let _ = std::fs::remove_file(&temp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_made_once_private_and_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let vault: azlite_types::ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv".parse().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let path = dir.path().join(VAULT_KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = first.seal(&vault, "s", "v", "value");
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(again.open(&vault, "s", "v", &sealed).unwrap(), "value");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        std::fs::write(&path, b"short").unwrap();
        assert!(load_or_create(dir.path()).is_err());
    }
}
