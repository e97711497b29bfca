//! The development storage account of Azurite's drop-in mode (`azlite up --blob-listen`):
//! `devstoreaccount1` with Azurite's well-known key, so that `UseDevelopmentStorage=true`
//! and Azurite's connection strings work unmodified, with no ARM call first.
//!
//! It is an ordinary storage account (Standard_LRS, StorageV2, shared key access allowed)
//! in the resource group `azlite-devstorage` of the owner's subscription: ARM lists it,
//! `listKeys` shows its keys, and the Blob service on every listener serves it. At each
//! start with the drop-in listener, the account (and its group) is created if missing, and
//! its `key1` is set back to the well-known key if it was regenerated; `key2` is an
//! ordinary random key. An account of that name that a user made elsewhere is taken as
//! it is, its `key1` set to the well-known key too.

use std::collections::BTreeMap;

use azlite_store::{ResourceGroup, StorageAccountKey, WriteBatch};
use azlite_types::{ResourceId, SubscriptionId};
use serde_json::json;

use super::STORAGE_ACCOUNTS as KIND;
use super::account_model::{self as model, NewAccount};
use super::accounts::StoredAccount;
use super::keys;
use crate::providers::TrackedResource;
use crate::resources::{self, type_name};
use crate::wire::timestamp;
use crate::{Arm, ArmError};

/// Azurite's development account.
pub const DEVELOPMENT_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known key of [`DEVELOPMENT_ACCOUNT`] (public, in every SDK's docs).
pub const DEVELOPMENT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// The resource group the development account is made in.
pub const DEVELOPMENT_GROUP: &str = "azlite-devstorage";
/// Its location.
const LOCATION: &str = "eastus";

impl Arm {
    /// Makes sure the development account exists (in `subscription`, group
    /// [`DEVELOPMENT_GROUP`], when no account of its name exists anywhere) and that its
    /// `key1` is [`DEVELOPMENT_KEY`]; answers its id.
    pub async fn ensure_development_account(
        &self,
        subscription: SubscriptionId,
    ) -> Result<ResourceId, ArmError> {
        let now = self.clock.now();
        let found = self
            .store
            .find_resources_by_name(&type_name(KIND), DEVELOPMENT_ACCOUNT)
            .await?
            .into_iter()
            .next();
        let well_known = |id: &ResourceId| StorageAccountKey {
            account_id: id.clone(),
            key_name: "key1".to_owned(),
            value: DEVELOPMENT_KEY.to_owned(),
            created_at: now,
        };
        if let Some(account) = found {
            let current = self.store.list_storage_account_keys(&account.id).await?;
            if !current
                .iter()
                .any(|k| k.key_name == "key1" && k.value == DEVELOPMENT_KEY)
            {
                tracing::info!(account = %account.id, "key1 of the development account set back to the well-known key");
                self.store
                    .apply(WriteBatch {
                        storage_account_keys: vec![well_known(&account.id)],
                        ..Default::default()
                    })
                    .await?;
            }
            return Ok(account.id);
        }
        let resource = TrackedResource::new(
            subscription,
            DEVELOPMENT_GROUP.to_owned(),
            DEVELOPMENT_ACCOUNT,
            KIND,
        )
        .map_err(|_| {
            ArmError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "The development account's id is invalid.",
            )
        })?;
        let group = match self
            .store
            .get_resource_group(subscription, DEVELOPMENT_GROUP)
            .await?
        {
            Some(_) => Vec::new(),
            None => vec![ResourceGroup {
                subscription_id: subscription,
                name: DEVELOPMENT_GROUP.to_owned(),
                location: LOCATION.to_owned(),
                tags: BTreeMap::new(),
                managed_by: None,
                created_at: now,
                updated_at: now,
            }],
        };
        let sku = model::verify_sku(Some(
            serde_json::from_value(json!({ "name": "Standard_LRS" }))
                .map_err(|e| ArmError::internal(&e))?,
        ))?;
        let kind = model::verify_kind(Some("StorageV2"))?;
        let now_text = timestamp(now);
        let new = NewAccount {
            name: DEVELOPMENT_ACCOUNT,
            location: LOCATION,
            suffix: &self.config.storage_suffix,
            now: &now_text,
        };
        let sent = serde_json::from_value(json!({ "allowSharedKeyAccess": true }))
            .map_err(|e| ArmError::internal(&e))?;
        let account = StoredAccount {
            properties: model::new_properties(sent, &sku, kind, &new)?,
            sku,
            kind: kind.to_owned(),
            blob_service: None,
        };
        let stored = resources::stored(
            self,
            &resource,
            KIND,
            LOCATION.to_owned(),
            BTreeMap::new(),
            account.body(),
        );
        let mut account_keys = keys::new_keys(&resource.id, now);
        account_keys.retain(|k| k.key_name != "key1");
        account_keys.push(well_known(&resource.id));
        self.store
            .apply(WriteBatch {
                resource_groups: group,
                resources: vec![stored],
                storage_account_keys: account_keys,
                ..Default::default()
            })
            .await?;
        tracing::info!(account = %resource.id, "created the development storage account");
        Ok(resource.id)
    }
}
