//! The secrets operations (reference §1.2–§1.4), each taking the [`Permitted`] proof of its
//! authorization.
//!
//! Soft delete: on a vault with `enableSoftDelete` a deleted secret is visible at once under
//! `/deletedsecrets` (the SDKs' pollers accept that, §1.4) until it is recovered, purged, or
//! its scheduled purge date passes (it is then purged when next looked at).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use azlite_store::{DeletedSecret, SecretDeletion, SecretVersion, StoreError};

use crate::policy::Permitted;
use crate::vault::Vault;
use crate::wire::{self, Query, SetSecretRequest, UpdateSecretRequest, VaultUrl};
use crate::{KeyVault, KeyVaultError};

/// What every operation needs besides its arguments.
pub(crate) struct Context<'a> {
    pub(crate) kv: &'a KeyVault,
    pub(crate) vault: &'a Vault,
    pub(crate) url: VaultUrl,
    pub(crate) query: &'a Query,
    pub(crate) api_version: &'a str,
    /// The store's epoch when the request started, before any read.
    pub(crate) epoch: Option<u64>,
    pub(crate) _permitted: Permitted,
}

const SECONDS_PER_DAY: i64 = 86_400;

fn ok<T: serde::Serialize>(value: &T) -> Response {
    wire::json_body(value)
}

impl Context<'_> {
    fn now(&self) -> i64 {
        self.kv.clock.now()
    }

    /// The value of a version, opened.
    fn open(&self, version: &SecretVersion) -> Result<String, KeyVaultError> {
        self.kv
            .value_key
            .open(&version.vault_id, &version.name, &version.version, &version.sealed_value)
            .map_err(|e| {
                tracing::error!(vault = %self.vault.id, name = %version.name, error = %e, "cannot open a secret value");
                KeyVaultError::internal()
            })
    }

    /// A deleted secret that is still within its retention; one past its scheduled purge
    /// date is purged now.
    async fn live_deleted(&self, name: &str) -> Result<Option<DeletedSecret>, KeyVaultError> {
        let store = &self.kv.store;
        let Some(deleted) = store.get_deleted_secret(&self.vault.id, name).await? else {
            return Ok(None);
        };
        if deleted.deletion.scheduled_purge_at <= self.now() {
            store.purge_deleted_secret(&self.vault.id, name).await?;
            return Ok(None);
        }
        Ok(Some(deleted))
    }

    /// `PUT /secrets/{name}`: a new version, which becomes the secret.
    pub(crate) async fn set_secret(
        &self,
        name: &str,
        body: &[u8],
    ) -> Result<Response, KeyVaultError> {
        let request: SetSecretRequest = wire::parse_body(body)?;
        let value = request
            .value
            .ok_or_else(|| KeyVaultError::bad_parameter("The property 'value' is required."))?;
        if value.len() > wire::MAX_VALUE_BYTES {
            return Err(KeyVaultError::bad_parameter(
                "The secret value exceeds the maximum size of 25 KB.",
            ));
        }
        wire::check_properties(request.content_type.as_deref(), request.tags.as_ref())?;
        let attributes = request.attributes.unwrap_or_default();
        let now = self.now();
        let version_id = uuid::Uuid::new_v4().simple().to_string();
        let sealed = self
            .kv
            .value_key
            .seal(&self.vault.id, name, &version_id, &value);
        let version = SecretVersion {
            vault_id: self.vault.id.clone(),
            name: name.to_owned(),
            version: version_id,
            sealed_value: sealed,
            content_type: request.content_type,
            tags: request.tags.unwrap_or_default(),
            enabled: attributes.enabled.unwrap_or(true),
            not_before: attributes.nbf,
            expires: attributes.exp,
            created_at: now,
            updated_at: now,
        };
        match self.kv.store.insert_secret_version(&version).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                // The name is held by a deleted secret, unless its retention just ran out.
                if self.live_deleted(name).await?.is_some() {
                    return Err(KeyVaultError::deleted_but_recoverable(name));
                }
                self.kv.store.insert_secret_version(&version).await?;
            }
            Err(e) => return Err(e.into()),
        }
        Ok(ok(&wire::bundle(
            &self.url,
            self.vault,
            &version,
            Some(&value),
        )))
    }

    /// `GET /secrets/{name}[/{version}]`: the value (403 for a disabled version).
    pub(crate) async fn get_secret(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Response, KeyVaultError> {
        let found = self.secret_version(name, version).await?;
        if !found.enabled {
            return Err(KeyVaultError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Operation get is not allowed on a disabled secret.",
            )
            .with_inner("SecretDisabled"));
        }
        let value = self.open(&found)?;
        Ok(ok(&wire::bundle(
            &self.url,
            self.vault,
            &found,
            Some(&value),
        )))
    }

    /// A version of a secret (`None`: the newest), as read at the request's epoch.
    async fn secret_version(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Arc<SecretVersion>, KeyVaultError> {
        let mut key = format!("{}/{name}/{}", self.vault.name, version.unwrap_or_default());
        key.make_ascii_lowercase();
        if let Some(found) = self.kv.secrets.get(self.epoch, &key) {
            return Ok(found);
        }
        let found = self
            .kv
            .store
            .get_secret_version(&self.vault.id, name, version)
            .await?
            .ok_or_else(|| KeyVaultError::secret_not_found(name))?;
        let found = Arc::new(found);
        self.kv.secrets.put(self.epoch, key, Arc::clone(&found));
        Ok(found)
    }

    /// `PATCH /secrets/{name}[/{version}]`: attributes, content type, tags; never the value.
    pub(crate) async fn update_secret(
        &self,
        name: &str,
        version: Option<&str>,
        body: &[u8],
    ) -> Result<Response, KeyVaultError> {
        let request: UpdateSecretRequest = if body.is_empty() {
            UpdateSecretRequest::default()
        } else {
            wire::parse_body(body)?
        };
        wire::check_properties(request.content_type.as_deref(), request.tags.as_ref())?;
        let store = &self.kv.store;
        let mut found = store
            .get_secret_version(&self.vault.id, name, version)
            .await?
            .ok_or_else(|| KeyVaultError::secret_not_found(name))?;
        if let Some(content_type) = request.content_type {
            found.content_type = Some(content_type);
        }
        if let Some(tags) = request.tags {
            found.tags = tags;
        }
        if let Some(attributes) = request.attributes {
            if let Some(enabled) = attributes.enabled {
                found.enabled = enabled;
            }
            if attributes.nbf.is_some() {
                found.not_before = attributes.nbf;
            }
            if attributes.exp.is_some() {
                found.expires = attributes.exp;
            }
        }
        found.updated_at = self.now();
        if !store.update_secret_version(&found).await? {
            return Err(KeyVaultError::secret_not_found(name));
        }
        Ok(ok(&wire::bundle(&self.url, self.vault, &found, None)))
    }

    /// `GET /secrets`: the newest version of every secret, ids without version.
    pub(crate) async fn get_secrets(&self) -> Result<Response, KeyVaultError> {
        let page = self.query.page()?;
        let secrets = self.kv.store.list_secrets(&self.vault.id).await?;
        let items: Vec<_> = secrets
            .iter()
            .map(|s| wire::item(&self.url, self.vault, s, false))
            .collect();
        let base = format!("{}/secrets", self.url.0);
        Ok(ok(&wire::page(items, page, &base, self.api_version)))
    }

    /// `GET /secrets/{name}/versions`: every version, ids with version.
    pub(crate) async fn get_secret_versions(&self, name: &str) -> Result<Response, KeyVaultError> {
        let page = self.query.page()?;
        let versions = self
            .kv
            .store
            .list_secret_versions(&self.vault.id, name)
            .await?;
        let items: Vec<_> = versions
            .iter()
            .map(|s| wire::item(&self.url, self.vault, s, true))
            .collect();
        let base = format!("{}/secrets/{name}/versions", self.url.0);
        Ok(ok(&wire::page(items, page, &base, self.api_version)))
    }

    /// `DELETE /secrets/{name}`: every version; recoverable on a soft-delete vault.
    pub(crate) async fn delete_secret(&self, name: &str) -> Result<Response, KeyVaultError> {
        let now = self.now();
        let soft = self.vault.soft_delete.then(|| SecretDeletion {
            deleted_at: now,
            scheduled_purge_at: now + self.vault.retention_days * SECONDS_PER_DAY,
        });
        let latest = self
            .kv
            .store
            .delete_secret(&self.vault.id, name, soft)
            .await?
            .ok_or_else(|| KeyVaultError::secret_not_found(name))?;
        Ok(match soft {
            Some(deletion) => ok(&wire::deleted_bundle(
                &self.url,
                self.vault,
                &DeletedSecret { latest, deletion },
            )),
            // Without soft delete there is nothing to recover: no recoveryId, and the
            // SDKs' pollers finish at once.
            None => ok(&wire::bundle(&self.url, self.vault, &latest, None)),
        })
    }

    /// `GET /deletedsecrets`.
    pub(crate) async fn get_deleted_secrets(&self) -> Result<Response, KeyVaultError> {
        let page = self.query.page()?;
        let now = self.now();
        let mut live = Vec::new();
        for deleted in self.kv.store.list_deleted_secrets(&self.vault.id).await? {
            if deleted.deletion.scheduled_purge_at <= now {
                self.kv
                    .store
                    .purge_deleted_secret(&self.vault.id, &deleted.latest.name)
                    .await?;
                continue;
            }
            live.push(deleted);
        }
        let items: Vec<_> = live
            .iter()
            .map(|deleted| wire::deleted_item(&self.url, self.vault, deleted))
            .collect();
        let base = format!("{}/deletedsecrets", self.url.0);
        Ok(ok(&wire::page(items, page, &base, self.api_version)))
    }

    /// `GET /deletedsecrets/{name}`.
    pub(crate) async fn get_deleted_secret(&self, name: &str) -> Result<Response, KeyVaultError> {
        let deleted = self
            .live_deleted(name)
            .await?
            .ok_or_else(|| KeyVaultError::deleted_secret_not_found(name))?;
        Ok(ok(&wire::deleted_bundle(&self.url, self.vault, &deleted)))
    }

    /// `POST /deletedsecrets/{name}/recover`: the secret is active again, every version.
    pub(crate) async fn recover_deleted_secret(
        &self,
        name: &str,
    ) -> Result<Response, KeyVaultError> {
        if self.live_deleted(name).await?.is_none() {
            return Err(KeyVaultError::deleted_secret_not_found(name));
        }
        let latest = self
            .kv
            .store
            .recover_deleted_secret(&self.vault.id, name)
            .await?
            .ok_or_else(|| KeyVaultError::deleted_secret_not_found(name))?;
        Ok(ok(&wire::bundle(&self.url, self.vault, &latest, None)))
    }

    /// `DELETE /deletedsecrets/{name}`: gone for good; 204.
    pub(crate) async fn purge_deleted_secret(&self, name: &str) -> Result<Response, KeyVaultError> {
        if self.vault.purge_protection {
            return Err(KeyVaultError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed. Vault: {};location={}",
                    self.vault.name, self.vault.location
                ),
            )
            .with_inner("PurgeProtectionEnabled"));
        }
        if !self
            .kv
            .store
            .purge_deleted_secret(&self.vault.id, name)
            .await?
        {
            return Err(KeyVaultError::deleted_secret_not_found(name));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}
