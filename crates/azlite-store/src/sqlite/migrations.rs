//! Forward-only schema migrations, embedded in the binary.
//!
//! The schema version is SQLite's `PRAGMA user_version` (0 in a new file). Migration `n`
//! takes the store from version `n - 1` to `n` in one transaction that also sets the
//! version, so a crash leaves the store at `n - 1` or `n`, never in between. A migration is
//! never edited once released: changes go in a new one.

use rusqlite::{Connection, TransactionBehavior};

use super::convert::backend;
use crate::{StoreError, StoreResult};

/// One schema change.
struct Migration {
    /// The version the store is at after this migration.
    version: i64,
    /// What it does, for the log.
    name: &'static str,
    /// The statements, run as one batch.
    sql: &'static str,
}

/// Every migration, in order; `MIGRATIONS[i].version == i + 1`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "ARM resource groups, resources and role assignments",
        sql: include_str!("migrations/0002_arm.sql"),
    },
    Migration {
        version: 3,
        name: "resources by type and name across subscriptions",
        sql: include_str!("migrations/0003_resource_names.sql"),
    },
    Migration {
        version: 4,
        name: "Key Vault secrets",
        sql: include_str!("migrations/0004_keyvault_secrets.sql"),
    },
    Migration {
        version: 5,
        name: "storage account keys",
        sql: include_str!("migrations/0005_storage_account_keys.sql"),
    },
    Migration {
        version: 6,
        name: "Blob Storage containers, blobs and blocks",
        sql: include_str!("migrations/0006_blob.sql"),
    },
    Migration {
        version: 7,
        name: "Data Lake Store Gen1 file trees",
        sql: include_str!("migrations/0007_datalake.sql"),
    },
    Migration {
        version: 8,
        name: "Microsoft Graph app role assignments",
        sql: include_str!("migrations/0008_app_role_assignments.sql"),
    },
    Migration {
        version: 9,
        name: "Blob Storage: small blobs' content inline",
        sql: include_str!("migrations/0009_blob_inline_content.sql"),
    },
    Migration {
        version: 10,
        name: "Blob Storage: service properties per account",
        sql: include_str!("migrations/0010_blob_service_properties.sql"),
    },
];

/// The newest schema version this build knows.
pub(super) const KNOWN_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> StoreResult<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(backend)
}

fn refuse_if_too_new(found: i64) -> StoreResult<()> {
    if found > KNOWN_VERSION {
        return Err(StoreError::TooNew {
            found,
            known: KNOWN_VERSION,
        });
    }
    Ok(())
}

/// Fails with [`StoreError::TooNew`] if the store's schema is newer than this build's.
pub(super) fn check_not_too_new(conn: &Connection) -> StoreResult<()> {
    refuse_if_too_new(user_version(conn)?)
}

/// Applies the migrations the store has not seen yet, each in its own transaction.
///
/// The version is re-read inside each (immediate, so write-locked) transaction: if another
/// process migrates the same file at the same time, each migration still runs once.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    for migration in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let current = user_version(&tx)?;
        refuse_if_too_new(current)?;
        if current >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "migrated store"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_consecutively_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
        }
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), KNOWN_VERSION);
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), KNOWN_VERSION);
    }

    #[test]
    fn a_store_at_version_1_upgrades_keeping_its_data() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('kept', 'yes')",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), KNOWN_VERSION);
        let kept: String = conn
            .query_row("SELECT value FROM settings WHERE key = 'kept'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, "yes");
        let groups: i64 = conn
            .query_row("SELECT count(*) FROM resource_groups", [], |r| r.get(0))
            .unwrap();
        assert_eq!(groups, 0, "the new tables exist");
    }

    #[test]
    fn blob_service_properties_move_from_settings_with_their_account() {
        let mut conn = Connection::open_in_memory().unwrap();
        for migration in &MIGRATIONS[..9] {
            conn.execute_batch(migration.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 9).unwrap();
        let account =
            "/subscriptions/s/resourcegroups/rg/providers/microsoft.storage/storageaccounts/kept";
        conn.execute(
            "INSERT INTO resources (id, id_folded, subscription_id, resource_group, \
             resource_group_folded, resource_type, resource_type_folded, name, location, tags, \
             body, created_at, updated_at) \
             VALUES (?1, ?1, 's', 'rg', 'rg', 't', 't', 'kept', 'eastus', '{}', '{}', 1, 1)",
            [account],
        )
        .unwrap();
        for (key, value) in [
            (format!("blob-service-properties:{account}"), "<kept/>"),
            (
                "blob-service-properties:/subscriptions/s/resourcegroups/rg/providers/microsoft.storage/storageaccounts/gone".to_owned(),
                "<gone/>",
            ),
            ("other".to_owned(), "stays"),
        ] {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                [key.as_str(), value],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let moved: Vec<(String, String)> = conn
            .prepare("SELECT account_id_folded, document FROM blob_service_properties")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(moved, [(account.to_owned(), "<kept/>".to_owned())]);
        let settings: Vec<String> = conn
            .prepare("SELECT key FROM settings")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(settings, ["other"]);
    }

    #[test]
    fn a_newer_store_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", KNOWN_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, StoreError::TooNew { found, known } if found == KNOWN_VERSION + 1 && known == KNOWN_VERSION),
            "{err:?}"
        );
    }
}
