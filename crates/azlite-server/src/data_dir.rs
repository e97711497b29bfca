//! The data directory holds secrets: the database (the STS's signing keys, sealed, and every
//! hash), `keyvault.key`, `store.key`, the owner's secret in `connection.json`, the CA's
//! key. So the directory is 0700 and every private file 0600, whatever the umask and whatever
//! was there before: azlite tightens what it owns and refuses, saying why, what it does not.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The database file's name in the data directory.
pub(crate) const DATABASE_FILE: &str = "azlite.db";

/// SQLite's companions of the database file, which hold the same data.
const DATABASE_COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Creating, reading or changing the directory or one of its files failed.
    #[error("cannot prepare {path}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The path exists and is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// The directory or a private file belongs to another user: azlite will not loosen or
    /// take over what is not its own, nor keep secrets where another user controls them.
    #[error(
        "{path} belongs to user {owner}, not to user {me} that runs azlite: choose another --data-dir, or change its owner"
    )]
    NotOurs {
        /// The directory or file.
        path: PathBuf,
        /// Its owner's uid.
        owner: u32,
        /// Our effective uid.
        me: u32,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates the data directory (0700) or makes an existing one 0700, and makes the database
/// and its companions 0600, creating the database file empty (0600) if it is missing so that
/// SQLite, which gives the `-wal` and `-shm` files the database's mode, never creates any of
/// them under the umask.
pub fn prepare(dir: &Path) -> Result<(), DataDirError> {
    private_dir(dir)?;
    let database = dir.join(DATABASE_FILE);
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&database)
        .map_err(io(&database))?;
    private_file(&database)?;
    for suffix in DATABASE_COMPANIONS {
        let companion = dir.join(format!("{DATABASE_FILE}{suffix}"));
        if companion.exists() {
            private_file(&companion)?;
        }
    }
    Ok(())
}

/// After the store opened: its companions and the store key are 0600, as are
/// `keyvault.key` and `connection.json` when they exist (an older azlite, or a copy, may
/// have left them looser).
pub(crate) fn prepare_after_open(dir: &Path) -> Result<(), DataDirError> {
    let private = DATABASE_COMPANIONS
        .iter()
        .map(|suffix| format!("{DATABASE_FILE}{suffix}"))
        .chain(
            [
                azlite_store::STORE_KEY_FILE,
                crate::vault_key::VAULT_KEY_FILE,
                "connection.json",
            ]
            .map(str::to_owned),
        );
    for name in private {
        let path = dir.join(name);
        if path.exists() {
            private_file(&path)?;
        }
    }
    Ok(())
}

/// Creates `dir` (and its missing parents) 0700, or makes an existing directory of ours
/// 0700.
pub fn private_dir(dir: &Path) -> Result<(), DataDirError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let metadata = fs::metadata(dir).map_err(io(dir))?;
    if !metadata.is_dir() {
        return Err(DataDirError::NotADirectory(dir.to_owned()));
    }
    restrict(dir, &metadata, 0o700)
}

/// Makes an existing file of ours 0600.
pub(crate) fn private_file(path: &Path) -> Result<(), DataDirError> {
    let metadata = fs::metadata(path).map_err(io(path))?;
    restrict(path, &metadata, 0o600)
}

fn restrict(path: &Path, metadata: &fs::Metadata, mode: u32) -> Result<(), DataDirError> {
    let me = nix::unistd::geteuid().as_raw();
    if metadata.uid() != me {
        return Err(DataDirError::NotOurs {
            path: path.to_owned(),
            owner: metadata.uid(),
            me,
        });
    }
    if metadata.mode() & 0o777 != mode {
        tracing::info!(path = %path.display(), from = format!("{:o}", metadata.mode() & 0o777), to = format!("{mode:o}"), "restricting permissions");
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn an_existing_loose_directory_and_database_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let database = dir.join(DATABASE_FILE);
        fs::write(&database, b"").unwrap();
        fs::set_permissions(&database, fs::Permissions::from_mode(0o644)).unwrap();
        let wal = dir.join("azlite.db-wal");
        fs::write(&wal, b"").unwrap();
        fs::set_permissions(&wal, fs::Permissions::from_mode(0o666)).unwrap();

        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&database), 0o600);
        assert_eq!(mode(&wal), 0o600);
    }

    #[test]
    fn a_new_directory_gets_a_private_empty_database() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DATABASE_FILE)), 0o600);
        assert_eq!(fs::metadata(dir.join(DATABASE_FILE)).unwrap().len(), 0);
    }

    #[test]
    fn a_directory_of_another_user_is_refused_not_taken_over() {
        if !nix::unistd::geteuid().is_root() {
            // Only root can give a directory away; as another user the case cannot arise
            // in a test.
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("theirs");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let nobody = nix::unistd::Uid::from_raw(65534);
        nix::unistd::chown(&dir, Some(nobody), None).unwrap();
        let error = prepare(&dir).unwrap_err();
        assert!(
            matches!(error, DataDirError::NotOurs { owner: 65534, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("belongs to user 65534"),
            "{error}"
        );
        assert_eq!(mode(&dir), 0o755, "left as it was");
        assert!(!dir.join(DATABASE_FILE).exists(), "nothing written in it");
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("data");
        fs::write(&file, b"x").unwrap();
        assert!(prepare(&file).is_err());
    }
}
