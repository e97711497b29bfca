//! Between rows and models: GUID and case-folding conventions, row readers, and the mapping
//! of rusqlite errors onto [`StoreError`].
//!
//! The `*_COLUMNS` macros name the columns each row reader expects, in order, so a query
//! and its reader cannot drift apart silently.

use azlite_types::{ClientId, ObjectId, SubscriptionId, TenantId};
use rusqlite::types::Type;
use rusqlite::{Connection, Row, ffi};
use uuid::Uuid;

use crate::{
    Application, KeyCredential, PasswordCredential, ServicePrincipal, ServicePrincipalKind,
    StoreError, StoredSigningKey, Subscription, Tenant, User,
};

/// Maps a rusqlite error that is not a conflict: undecodable data is [`StoreError::Corrupt`],
/// anything else [`StoreError::Backend`] with the error as its source.
pub(super) fn backend(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::Utf8Error(..) => StoreError::Corrupt(e.to_string()),
        rusqlite::Error::SqliteFailure(
            ffi::Error {
                code: ffi::ErrorCode::NotADatabase | ffi::ErrorCode::DatabaseCorrupt,
                ..
            },
            _,
        ) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Backend(Box::new(e)),
    }
}

/// Maps a UNIQUE or PRIMARY KEY violation to [`StoreError::Conflict`] and anything else as
/// [`backend`] does. `describe` gets the columns SQLite names (`"tenants.id"`,
/// `"service_principals.tenant_id, service_principals.app_id"`) and says what collided.
pub(super) fn conflict_or_backend(
    e: rusqlite::Error,
    describe: impl FnOnce(&str) -> String,
) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(failure, message)
            if failure.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            // SQLite words it "UNIQUE constraint failed: table.column[, table.column]".
            let columns = message
                .as_deref()
                .and_then(|m| m.split_once(": "))
                .map_or("", |(_, columns)| columns);
            StoreError::Conflict(describe(columns))
        }
        _ => backend(e),
    }
}

/// The stored form of a GUID: hyphenated lower case, as Azure prints it.
pub(super) fn guid(id: &Uuid) -> String {
    id.hyphenated().to_string()
}

/// The stored form of a case-insensitive key. Unicode lower case rather than SQLite's
/// NOCASE, which folds ASCII only (a UPN may hold `Ä`).
pub(super) fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Reads a GUID column; text that is not a GUID is a conversion failure (corrupt data).
pub(super) fn uuid_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    let text = row
        .get_ref(index)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))?;
    Uuid::parse_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

macro_rules! tenant_columns {
    () => {
        "id, display_name, default_domain, created_at"
    };
}
pub(super) use tenant_columns;

/// Reads a row selected with `tenant_columns!()`.
pub(super) fn tenant(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: TenantId::from_uuid(uuid_at(row, 0)?),
        display_name: row.get(1)?,
        default_domain: row.get(2)?,
        created_at: row.get(3)?,
    })
}

macro_rules! subscription_columns {
    () => {
        "id, tenant_id, display_name, state, created_at"
    };
}
pub(super) use subscription_columns;

/// Reads a row selected with `subscription_columns!()`.
pub(super) fn subscription(row: &Row<'_>) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        id: SubscriptionId::from_uuid(uuid_at(row, 0)?),
        tenant_id: TenantId::from_uuid(uuid_at(row, 1)?),
        display_name: row.get(2)?,
        state: row.get(3)?,
        created_at: row.get(4)?,
    })
}

macro_rules! application_columns {
    () => {
        "a.object_id, a.app_id, a.tenant_id, a.display_name, a.access_token_version, \
         a.created_at"
    };
}
pub(super) use application_columns;

/// Reads a row selected with `application_columns!()` (from `applications a`) and loads its
/// identifier URIs; call inside a transaction so both come from one snapshot.
pub(super) fn application(conn: &Connection, row: &Row<'_>) -> rusqlite::Result<Application> {
    let object_id = uuid_at(row, 0)?;
    let mut uris = conn.prepare_cached(
        "SELECT uri FROM application_identifier_uris \
         WHERE application_object_id = ?1 ORDER BY position",
    )?;
    let identifier_uris = uris
        .query_map([guid(&object_id)], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Application {
        object_id: ObjectId::from_uuid(object_id),
        app_id: ClientId::from_uuid(uuid_at(row, 1)?),
        tenant_id: TenantId::from_uuid(uuid_at(row, 2)?),
        display_name: row.get(3)?,
        identifier_uris,
        access_token_version: row.get(4)?,
        created_at: row.get(5)?,
    })
}

macro_rules! service_principal_columns {
    () => {
        "object_id, app_id, tenant_id, display_name, kind, managed_identity_resource_id, \
         created_at"
    };
}
pub(super) use service_principal_columns;

/// The stored form of a service principal kind.
pub(super) fn kind_text(kind: ServicePrincipalKind) -> &'static str {
    match kind {
        ServicePrincipalKind::Application => "Application",
        ServicePrincipalKind::ManagedIdentity => "ManagedIdentity",
    }
}

/// Reads a row selected with `service_principal_columns!()`.
pub(super) fn service_principal(row: &Row<'_>) -> rusqlite::Result<ServicePrincipal> {
    let kind_column = row.get_ref(4)?.as_str();
    let kind_column = kind_column
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, Type::Text, Box::new(e)))?;
    let kind = match kind_column {
        "Application" => ServicePrincipalKind::Application,
        "ManagedIdentity" => ServicePrincipalKind::ManagedIdentity,
        other => {
            let message = format!("unknown service principal kind '{other}'");
            return Err(rusqlite::Error::FromSqlConversionFailure(
                4,
                Type::Text,
                message.into(),
            ));
        }
    };
    Ok(ServicePrincipal {
        object_id: ObjectId::from_uuid(uuid_at(row, 0)?),
        app_id: ClientId::from_uuid(uuid_at(row, 1)?),
        tenant_id: TenantId::from_uuid(uuid_at(row, 2)?),
        display_name: row.get(3)?,
        kind,
        managed_identity_resource_id: row.get(5)?,
        created_at: row.get(6)?,
    })
}

macro_rules! password_credential_columns {
    () => {
        "key_id, app_id, display_name, hint, salt, secret_hash, start_time, end_time"
    };
}
pub(super) use password_credential_columns;

/// Reads a row selected with `password_credential_columns!()`.
pub(super) fn password_credential(row: &Row<'_>) -> rusqlite::Result<PasswordCredential> {
    Ok(PasswordCredential {
        key_id: uuid_at(row, 0)?,
        app_id: ClientId::from_uuid(uuid_at(row, 1)?),
        display_name: row.get(2)?,
        hint: row.get(3)?,
        salt: row.get(4)?,
        secret_hash: row.get(5)?,
        start: row.get(6)?,
        end: row.get(7)?,
    })
}

macro_rules! key_credential_columns {
    () => {
        "key_id, app_id, display_name, certificate_der, start_time, end_time"
    };
}
pub(super) use key_credential_columns;

/// Reads a row selected with `key_credential_columns!()`.
pub(super) fn key_credential(row: &Row<'_>) -> rusqlite::Result<KeyCredential> {
    Ok(KeyCredential {
        key_id: uuid_at(row, 0)?,
        app_id: ClientId::from_uuid(uuid_at(row, 1)?),
        display_name: row.get(2)?,
        certificate_der: row.get(3)?,
        start: row.get(4)?,
        end: row.get(5)?,
    })
}

macro_rules! user_columns {
    () => {
        "object_id, tenant_id, user_principal_name, display_name, password_salt, \
         password_hash, created_at"
    };
}
pub(super) use user_columns;

/// Reads a row selected with `user_columns!()`.
pub(super) fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        object_id: ObjectId::from_uuid(uuid_at(row, 0)?),
        tenant_id: TenantId::from_uuid(uuid_at(row, 1)?),
        user_principal_name: row.get(2)?,
        display_name: row.get(3)?,
        password_salt: row.get(4)?,
        password_hash: row.get(5)?,
        created_at: row.get(6)?,
    })
}

macro_rules! signing_key_columns {
    () => {
        "kid, certificate_pem, private_key_pem, created_at, retired_at"
    };
}
pub(super) use signing_key_columns;

/// Reads a row selected with `signing_key_columns!()`.
pub(super) fn signing_key(row: &Row<'_>) -> rusqlite::Result<StoredSigningKey> {
    Ok(StoredSigningKey {
        kid: row.get(0)?,
        certificate_pem: row.get(1)?,
        private_key_pem: row.get(2)?,
        created_at: row.get(3)?,
        retired_at: row.get(4)?,
    })
}
