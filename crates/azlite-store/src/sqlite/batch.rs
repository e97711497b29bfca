//! The writes: [`apply`] (a [`WriteBatch`] in one transaction, its ARM part in
//! [`super::arm::writes`]) and [`delete_service_principal`].
//!
//! Every write transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, so it
//! cannot fail half-way with `SQLITE_BUSY` because another process started writing.

use azlite_types::ObjectId;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::arm::writes as arm;
use super::convert::{backend, conflict_or_backend, fold, guid, kind_text};
use crate::seal::StoreKey;
use crate::{
    Application, Deletion, KeyCredential, PasswordCredential, ServicePrincipal, StoreResult,
    Subscription, Tenant, User, WriteBatch,
};

/// Applies everything in `batch` in one transaction: the deletions in order, then the
/// inserts and upserts (secret columns sealed under `key`). On any error (a conflict included) the transaction is dropped,
/// which rolls it back: nothing of the batch is written.
pub(super) fn apply(conn: &mut Connection, key: &StoreKey, batch: &WriteBatch) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    for deletion in &batch.deletions {
        delete(&tx, deletion)?;
    }
    for tenant in &batch.tenants {
        insert_tenant(&tx, tenant)?;
    }
    for subscription in &batch.subscriptions {
        insert_subscription(&tx, subscription)?;
    }
    for application in &batch.applications {
        insert_application(&tx, application)?;
    }
    for principal in &batch.service_principals {
        insert_service_principal(&tx, principal)?;
    }
    for credential in &batch.password_credentials {
        insert_password_credential(&tx, credential)?;
    }
    for credential in &batch.key_credentials {
        insert_key_credential(&tx, credential)?;
    }
    for user in &batch.users {
        insert_user(&tx, user)?;
    }
    for (key, value) in &batch.settings {
        super::settings::put(&tx, key, value)?;
    }
    for group in &batch.resource_groups {
        arm::upsert_resource_group(&tx, group)?;
    }
    for resource in &batch.resources {
        arm::upsert_resource(&tx, resource)?;
    }
    for assignment in &batch.role_assignments {
        arm::insert_role_assignment(&tx, assignment)?;
    }
    for account_key in &batch.storage_account_keys {
        super::storage_account_keys::upsert_key(&tx, key, account_key)?;
    }
    for assignment in &batch.app_role_assignments {
        super::app_role_assignments::insert(&tx, assignment)?;
    }
    tx.commit().map_err(backend)
}

/// Applies one deletion inside the batch's transaction; deleting nothing is not an error.
fn delete(tx: &Transaction<'_>, deletion: &Deletion) -> StoreResult<()> {
    match deletion {
        Deletion::ServicePrincipal(object_id) => {
            remove_service_principal(tx, *object_id)?;
            Ok(())
        }
        Deletion::Application(object_id) => remove_application(tx, *object_id),
        Deletion::Resource(id) => arm::delete_resource(tx, id),
        Deletion::ResourceGroup { subscription, name } => {
            arm::delete_resource_group(tx, *subscription, name)
        }
        Deletion::RoleAssignment(id) => arm::delete_role_assignment(tx, *id),
        Deletion::AppRoleAssignment(id) => super::app_role_assignments::delete(tx, id),
    }
}

fn insert_tenant(tx: &Transaction<'_>, tenant: &Tenant) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO tenants (id, display_name, default_domain, default_domain_folded, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(tenant.id.as_uuid()),
            tenant.display_name,
            tenant.default_domain,
            fold(&tenant.default_domain),
            tenant.created_at,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |columns| {
            if columns.contains("default_domain") {
                format!(
                    "a tenant with default domain '{}' already exists",
                    tenant.default_domain
                )
            } else {
                format!("tenant {} already exists", tenant.id)
            }
        })
    })?;
    Ok(())
}

fn insert_subscription(tx: &Transaction<'_>, subscription: &Subscription) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO subscriptions (id, tenant_id, display_name, state, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(subscription.id.as_uuid()),
            guid(subscription.tenant_id.as_uuid()),
            subscription.display_name,
            subscription.state,
            subscription.created_at,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |_| {
            format!("subscription {} already exists", subscription.id)
        })
    })?;
    Ok(())
}

fn insert_application(tx: &Transaction<'_>, application: &Application) -> StoreResult<()> {
    let object_id = guid(application.object_id.as_uuid());
    let tenant_id = guid(application.tenant_id.as_uuid());
    tx.prepare_cached(
        "INSERT INTO applications \
         (object_id, app_id, tenant_id, display_name, access_token_version, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            object_id,
            guid(application.app_id.as_uuid()),
            tenant_id,
            application.display_name,
            application.access_token_version,
            application.created_at,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |columns| {
            if columns.contains("app_id") {
                format!(
                    "an application with app id {} already exists",
                    application.app_id
                )
            } else {
                format!(
                    "application object {} already exists",
                    application.object_id
                )
            }
        })
    })?;

    let mut insert_uri = tx
        .prepare_cached(
            "INSERT INTO application_identifier_uris \
             (application_object_id, position, tenant_id, uri, uri_folded) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(backend)?;
    for (position, uri) in application.identifier_uris.iter().enumerate() {
        // Positions are small (a Vec index); i64 holds any of them.
        let position = position as i64;
        insert_uri
            .execute(params![object_id, position, tenant_id, uri, fold(uri)])
            .map_err(|e| {
                conflict_or_backend(e, |_| {
                    format!(
                        "the identifier URI '{uri}' is already used in tenant {}",
                        application.tenant_id
                    )
                })
            })?;
    }
    Ok(())
}

fn insert_service_principal(tx: &Transaction<'_>, principal: &ServicePrincipal) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO service_principals (object_id, app_id, tenant_id, display_name, kind, \
         managed_identity_resource_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(principal.object_id.as_uuid()),
            guid(principal.app_id.as_uuid()),
            guid(principal.tenant_id.as_uuid()),
            principal.display_name,
            kind_text(principal.kind),
            principal.managed_identity_resource_id,
            principal.created_at,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |columns| {
            if columns.contains("app_id") {
                format!(
                    "tenant {} already has a service principal for app id {}",
                    principal.tenant_id, principal.app_id
                )
            } else {
                format!("service principal {} already exists", principal.object_id)
            }
        })
    })?;
    Ok(())
}

fn insert_password_credential(
    tx: &Transaction<'_>,
    credential: &PasswordCredential,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO password_credentials \
         (key_id, app_id, display_name, hint, salt, secret_hash, start_time, end_time) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(&credential.key_id),
            guid(credential.app_id.as_uuid()),
            credential.display_name,
            credential.hint,
            credential.salt,
            credential.secret_hash,
            credential.start,
            credential.end,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |_| {
            format!(
                "a credential with key id {} already exists",
                credential.key_id
            )
        })
    })?;
    Ok(())
}

fn insert_key_credential(tx: &Transaction<'_>, credential: &KeyCredential) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO key_credentials \
         (key_id, app_id, display_name, certificate_der, start_time, end_time) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(&credential.key_id),
            guid(credential.app_id.as_uuid()),
            credential.display_name,
            credential.certificate_der,
            credential.start,
            credential.end,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |_| {
            format!(
                "a certificate with key id {} already exists",
                credential.key_id
            )
        })
    })?;
    Ok(())
}

fn insert_user(tx: &Transaction<'_>, user: &User) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO users (object_id, tenant_id, user_principal_name, \
         user_principal_name_folded, display_name, password_salt, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            guid(user.object_id.as_uuid()),
            guid(user.tenant_id.as_uuid()),
            user.user_principal_name,
            fold(&user.user_principal_name),
            user.display_name,
            user.password_salt,
            user.password_hash,
            user.created_at,
        ])
    })
    .map_err(|e| {
        conflict_or_backend(e, |columns| {
            if columns.contains("user_principal_name") {
                format!("a user named '{}' already exists", user.user_principal_name)
            } else {
                format!("user {} already exists", user.object_id)
            }
        })
    })?;
    Ok(())
}

/// Deletes an application object inside `tx`, with its identifier URIs, every credential of
/// its app id and its service principal in its home tenant (see
/// [`Deletion::Application`]). Deleting an unknown object deletes nothing.
fn remove_application(tx: &Transaction<'_>, object_id: ObjectId) -> StoreResult<()> {
    let object_id = guid(object_id.as_uuid());
    // The identifier URIs go explicitly rather than through the foreign key's cascade, so
    // the deletion does not depend on the connection's `foreign_keys` setting.
    tx.prepare_cached("DELETE FROM application_identifier_uris WHERE application_object_id = ?1")
        .and_then(|mut stmt| stmt.execute([&object_id]))
        .map_err(backend)?;
    let deleted: Option<(String, String)> = tx
        .prepare_cached("DELETE FROM applications WHERE object_id = ?1 RETURNING app_id, tenant_id")
        .and_then(|mut stmt| {
            stmt.query_row([&object_id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .map_err(backend)?;
    let Some((app_id, tenant_id)) = deleted else {
        return Ok(());
    };
    let principal: Option<String> = tx
        .prepare_cached(
            "DELETE FROM service_principals WHERE tenant_id = ?1 AND app_id = ?2 \
             RETURNING object_id",
        )
        .and_then(|mut stmt| {
            stmt.query_row([&tenant_id, &app_id], |row| row.get(0))
                .optional()
        })
        .map_err(backend)?;
    if let Some(principal) = principal {
        super::app_role_assignments::delete_of_principal(tx, &principal)?;
    }
    for sql in [
        "DELETE FROM password_credentials WHERE app_id = ?1",
        "DELETE FROM key_credentials WHERE app_id = ?1",
    ] {
        tx.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute([&app_id]))
            .map_err(backend)?;
    }
    Ok(())
}

/// Deletes a service principal, and its app id's credentials when nothing else owns them,
/// in a transaction of its own.
pub(super) fn delete_service_principal(
    conn: &mut Connection,
    object_id: ObjectId,
) -> StoreResult<bool> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let existed = remove_service_principal(&tx, object_id)?;
    tx.commit().map_err(backend)?;
    Ok(existed)
}

/// Deletes a service principal, and its app id's credentials when nothing else owns them,
/// inside `tx`. Returns whether the principal existed.
///
/// Credentials are keyed by app id and belong to the application, not to one principal.
/// They go with the principal only when no application object and no other service
/// principal (another tenant's instance of a multi-tenant app) has the app id: credentials
/// added straight to a principal leave with it, and an application's credentials survive
/// the deletion of one of its principals.
fn remove_service_principal(tx: &Transaction<'_>, object_id: ObjectId) -> StoreResult<bool> {
    let app_id: Option<String> = tx
        .prepare_cached("DELETE FROM service_principals WHERE object_id = ?1 RETURNING app_id")
        .and_then(|mut stmt| {
            stmt.query_row([guid(object_id.as_uuid())], |row| row.get(0))
                .optional()
        })
        .map_err(backend)?;
    let Some(app_id) = app_id else {
        return Ok(false);
    };
    super::app_role_assignments::delete_of_principal(tx, &guid(object_id.as_uuid()))?;
    let still_owned: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM applications WHERE app_id = ?1) \
             OR EXISTS (SELECT 1 FROM service_principals WHERE app_id = ?1)",
        )
        .and_then(|mut stmt| stmt.query_row([&app_id], |row| row.get(0)))
        .map_err(backend)?;
    if !still_owned {
        for sql in [
            "DELETE FROM password_credentials WHERE app_id = ?1",
            "DELETE FROM key_credentials WHERE app_id = ?1",
        ] {
            tx.prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute([&app_id]))
                .map_err(backend)?;
        }
    }
    Ok(true)
}
