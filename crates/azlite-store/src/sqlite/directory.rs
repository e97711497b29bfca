//! [`DirectoryStore`] for [`SqliteStore`]: the reads live here, the writes in
//! [`super::batch`].

use async_trait::async_trait;
use azlite_types::{ClientId, ObjectId, SubscriptionId, TenantId};
use rusqlite::{Connection, OptionalExtension};

use super::convert::{
    self, application_columns, backend, fold, guid, service_principal_columns,
    subscription_columns, tenant_columns, user_columns,
};
use super::read_cache::{Key, Value};
use super::{SqliteStore, batch};
use crate::{
    Application, DirectoryStore, KeyCredential, PasswordCredential, ServicePrincipal, StoreResult,
    Subscription, Tenant, User, WriteBatch,
};

/// A tenant by folded domain: a lookup in the unique index on `default_domain_folded`.
const FIND_TENANT_BY_DOMAIN: &str = concat!(
    "SELECT ",
    tenant_columns!(),
    " FROM tenants WHERE default_domain_folded = ?1"
);

/// An application by tenant and folded identifier URI: a lookup in the unique index on
/// `(tenant_id, uri_folded)`, then the application by its unique object id.
const FIND_APPLICATION_BY_IDENTIFIER_URI: &str = concat!(
    "SELECT ",
    application_columns!(),
    " FROM application_identifier_uris u \
     JOIN applications a ON a.object_id = u.application_object_id \
     WHERE u.tenant_id = ?1 AND u.uri_folded = ?2"
);

/// A user by folded UPN: a lookup in the unique index on `user_principal_name_folded`.
const FIND_USER_BY_UPN: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE user_principal_name_folded = ?1"
);

/// Fetches the application selected by `sql` (over `applications a`, one parameter) with its
/// identifier URIs, from one snapshot.
fn query_application(
    conn: &mut Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Option<Application>> {
    let tx = conn.transaction().map_err(backend)?;
    let application = tx
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_row(params, |row| convert::application(&tx, row))
                .optional()
        })
        .map_err(backend)?;
    Ok(application)
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn apply(&self, batch: WriteBatch) -> StoreResult<()> {
        let key = std::sync::Arc::clone(&self.key);
        self.write(move |conn| batch::apply(conn, &key, &batch))
            .await
    }

    async fn get_tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        self.read(move |conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                tenant_columns!(),
                " FROM tenants WHERE id = ?1"
            ))
            .and_then(|mut stmt| {
                stmt.query_row([guid(id.as_uuid())], convert::tenant)
                    .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn find_tenant_by_domain(&self, domain: &str) -> StoreResult<Option<Tenant>> {
        let folded = fold(domain);
        self.read(move |conn| {
            conn.prepare_cached(FIND_TENANT_BY_DOMAIN)
                .and_then(|mut stmt| stmt.query_row([folded], convert::tenant).optional())
                .map_err(backend)
        })
        .await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.read(|conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                tenant_columns!(),
                " FROM tenants ORDER BY created_at, seq"
            ))
            .and_then(|mut stmt| stmt.query_map([], convert::tenant)?.collect())
            .map_err(backend)
        })
        .await
    }

    async fn get_subscription(&self, id: SubscriptionId) -> StoreResult<Option<Subscription>> {
        let from = |v| match v {
            Value::Subscription(subscription) => Some(subscription),
            _ => None,
        };
        self.read_cached(
            Key::Subscription(id),
            Value::Subscription,
            from,
            move |conn| {
                conn.prepare_cached(concat!(
                    "SELECT ",
                    subscription_columns!(),
                    " FROM subscriptions WHERE id = ?1"
                ))
                .and_then(|mut stmt| {
                    stmt.query_row([guid(id.as_uuid())], convert::subscription)
                        .optional()
                })
                .map_err(backend)
            },
        )
        .await
    }

    async fn list_subscriptions(&self) -> StoreResult<Vec<Subscription>> {
        self.read(|conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM subscriptions ORDER BY created_at, seq"
            ))
            .and_then(|mut stmt| stmt.query_map([], convert::subscription)?.collect())
            .map_err(backend)
        })
        .await
    }

    async fn get_application(&self, app_id: ClientId) -> StoreResult<Option<Application>> {
        self.read(move |conn| {
            query_application(
                conn,
                concat!(
                    "SELECT ",
                    application_columns!(),
                    " FROM applications a WHERE a.app_id = ?1"
                ),
                [guid(app_id.as_uuid())],
            )
        })
        .await
    }

    async fn get_application_by_object_id(
        &self,
        object_id: ObjectId,
    ) -> StoreResult<Option<Application>> {
        self.read(move |conn| {
            query_application(
                conn,
                concat!(
                    "SELECT ",
                    application_columns!(),
                    " FROM applications a WHERE a.object_id = ?1"
                ),
                [guid(object_id.as_uuid())],
            )
        })
        .await
    }

    async fn list_applications(&self, tenant: TenantId) -> StoreResult<Vec<Application>> {
        self.read(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let applications = tx
                .prepare_cached(concat!(
                    "SELECT ",
                    application_columns!(),
                    " FROM applications a WHERE a.tenant_id = ?1 ORDER BY a.created_at, a.seq"
                ))
                .and_then(|mut stmt| {
                    stmt.query_map([guid(tenant.as_uuid())], |row| {
                        convert::application(&tx, row)
                    })?
                    .collect()
                })
                .map_err(backend)?;
            Ok(applications)
        })
        .await
    }

    async fn find_application_by_identifier_uri(
        &self,
        tenant: TenantId,
        uri: &str,
    ) -> StoreResult<Option<Application>> {
        let folded = fold(uri);
        self.read(move |conn| {
            query_application(
                conn,
                FIND_APPLICATION_BY_IDENTIFIER_URI,
                [guid(tenant.as_uuid()), folded],
            )
        })
        .await
    }

    async fn get_service_principal_by_app_id(
        &self,
        tenant: TenantId,
        app_id: ClientId,
    ) -> StoreResult<Option<ServicePrincipal>> {
        self.read(move |conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                service_principal_columns!(),
                " FROM service_principals WHERE tenant_id = ?1 AND app_id = ?2"
            ))
            .and_then(|mut stmt| {
                stmt.query_row(
                    [guid(tenant.as_uuid()), guid(app_id.as_uuid())],
                    convert::service_principal,
                )
                .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn get_service_principal(
        &self,
        object_id: ObjectId,
    ) -> StoreResult<Option<ServicePrincipal>> {
        let key = Key::ServicePrincipal(object_id);
        let from = |v| match v {
            Value::ServicePrincipal(sp) => Some(sp),
            _ => None,
        };
        self.read_cached(key, Value::ServicePrincipal, from, move |conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                service_principal_columns!(),
                " FROM service_principals WHERE object_id = ?1"
            ))
            .and_then(|mut stmt| {
                stmt.query_row([guid(object_id.as_uuid())], convert::service_principal)
                    .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn list_service_principals(
        &self,
        tenant: TenantId,
    ) -> StoreResult<Vec<ServicePrincipal>> {
        self.read(move |conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                service_principal_columns!(),
                " FROM service_principals WHERE tenant_id = ?1 ORDER BY created_at, seq"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([guid(tenant.as_uuid())], convert::service_principal)?
                    .collect()
            })
            .map_err(backend)
        })
        .await
    }

    async fn delete_service_principal(&self, object_id: ObjectId) -> StoreResult<bool> {
        self.write(move |conn| batch::delete_service_principal(conn, object_id))
            .await
    }

    async fn list_password_credentials(
        &self,
        app_id: ClientId,
    ) -> StoreResult<Vec<PasswordCredential>> {
        self.read(move |conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                convert::password_credential_columns!(),
                " FROM password_credentials WHERE app_id = ?1 ORDER BY seq"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([guid(app_id.as_uuid())], convert::password_credential)?
                    .collect()
            })
            .map_err(backend)
        })
        .await
    }

    async fn list_key_credentials(&self, app_id: ClientId) -> StoreResult<Vec<KeyCredential>> {
        self.read(move |conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                convert::key_credential_columns!(),
                " FROM key_credentials WHERE app_id = ?1 ORDER BY seq"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([guid(app_id.as_uuid())], convert::key_credential)?
                    .collect()
            })
            .map_err(backend)
        })
        .await
    }

    async fn get_user(&self, object_id: ObjectId) -> StoreResult<Option<User>> {
        self.read(move |conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE object_id = ?1"
            ))
            .and_then(|mut stmt| {
                stmt.query_row([guid(object_id.as_uuid())], convert::user)
                    .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn find_user_by_upn(&self, upn: &str) -> StoreResult<Option<User>> {
        let folded = fold(upn);
        self.read(move |conn| {
            conn.prepare_cached(FIND_USER_BY_UPN)
                .and_then(|mut stmt| stmt.query_row([folded], convert::user).optional())
                .map_err(backend)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The case-insensitive lookups are index lookups, not table scans.
    #[test]
    fn case_insensitive_lookups_use_an_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut conn).unwrap();
        for sql in [
            FIND_TENANT_BY_DOMAIN,
            FIND_APPLICATION_BY_IDENTIFIER_URI,
            FIND_USER_BY_UPN,
        ] {
            let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let params = rusqlite::params_from_iter(["x"].repeat(plan.parameter_count()));
            let steps: Vec<String> = plan
                .query_map(params, |row| row.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(!steps.is_empty(), "{sql}");
            for step in &steps {
                assert!(
                    step.starts_with("SEARCH") && step.contains("INDEX"),
                    "{sql}: {steps:?}"
                );
            }
        }
    }
}
