//! `azlite storage account create|list|show|delete|keys list|keys renew`, as
//! `az storage account …`: the account through ARM (`Microsoft.Storage/storageAccounts`).
//! Output is az's: the account flattened (`properties` merged into the top level) plus
//! `resourceGroup`; keys as the list `listKeys` answers.

use std::path::Path;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, flatten, flatten_list, print_json};

/// Storage account commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Create a storage account (with its two access keys).
    Create {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the account: 3 to 24 lowercase letters and digits, globally unique.
        #[arg(short = 'n', long)]
        name: String,
        /// Location; the group's when omitted.
        #[arg(short = 'l', long)]
        location: Option<String>,
        /// SKU, e.g. `Standard_LRS` (az's default is `Standard_RAGRS`).
        #[arg(long, default_value = "Standard_RAGRS")]
        sku: String,
        /// Kind: `StorageV2`, `Storage`, `BlobStorage`, `BlockBlobStorage`, `FileStorage`.
        #[arg(long, default_value = "StorageV2")]
        kind: String,
        /// Enable the hierarchical namespace (Data Lake Storage Gen2).
        #[arg(long = "enable-hierarchical-namespace", visible_alias = "hns")]
        hns: bool,
        /// Allow (`true`, the default) or refuse (`false`) Shared Key and key-signed SAS.
        #[arg(long)]
        allow_shared_key_access: Option<bool>,
    },
    /// Show a storage account.
    Show {
        /// Name of the account.
        #[arg(short = 'n', long)]
        name: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// List storage accounts, in a group or in the subscription.
    List {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// Delete a storage account, with its keys and content.
    Delete {
        /// Name of the account.
        #[arg(short = 'n', long)]
        name: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// The account's access keys (as `az storage account keys`).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// `storage account keys` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// List the access keys.
    List {
        /// Name of the account.
        #[arg(short = 'n', long = "account-name")]
        account_name: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// Regenerate one access key; prints both.
    Renew {
        /// Name of the account.
        #[arg(short = 'n', long = "account-name")]
        account_name: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
        /// Which key: `primary` (key1) or `secondary` (key2).
        #[arg(long, value_enum)]
        key: KeyChoice,
    },
}

/// The key `keys renew` regenerates.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KeyChoice {
    /// `key1`.
    Primary,
    /// `key2`.
    Secondary,
}

/// The provider path of the accounts under `scope` (a subscription or group path).
fn accounts_path(scope: &str) -> String {
    format!("{scope}/providers/Microsoft.Storage/storageAccounts")
}

/// The id path of an account: in the given group, else found by name in the subscription
/// (as az does when `-g` is left out).
pub(crate) async fn account_path(
    client: &Client,
    name: &str,
    group: Option<&str>,
) -> anyhow::Result<String> {
    if let Some(group) = group {
        return Ok(format!("{}/{name}", accounts_path(&client.group(group))));
    }
    let list = client
        .arm(Method::GET, &accounts_path(&client.subscription()), None)
        .await?;
    list["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| {
            a["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|a| a["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("The storage account '{name}' was not found in the subscription."))
}

/// `listKeys`' answer as az prints it: the list.
fn keys_of(answer: &Value) -> Value {
    answer["keys"].clone()
}

pub(crate) async fn run(data_dir: &Path, command: AccountCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        AccountCommand::Create {
            resource_group,
            name,
            location,
            sku,
            kind,
            hns,
            allow_shared_key_access,
        } => {
            let path = format!("{}/{name}", accounts_path(&client.group(&resource_group)));
            let location = match location {
                Some(location) => location,
                None => {
                    let group = client
                        .arm(Method::GET, &client.group(&resource_group), None)
                        .await?;
                    group["location"].as_str().unwrap_or("eastus").to_owned()
                }
            };
            let mut properties = json!({
                "isHnsEnabled": hns,
                "minimumTlsVersion": "TLS1_2",
                "allowBlobPublicAccess": false,
            });
            if let Some(allow) = allow_shared_key_access {
                properties["allowSharedKeyAccess"] = json!(allow);
            }
            let body = json!({
                "location": location,
                "sku": { "name": sku },
                "kind": kind,
                "properties": properties,
            });
            print_json(&flatten(
                &client.arm(Method::PUT, &path, Some(&body)).await?,
            ))
        }
        AccountCommand::Show {
            name,
            resource_group,
        } => {
            let path = account_path(&client, &name, resource_group.as_deref()).await?;
            print_json(&flatten(&client.arm(Method::GET, &path, None).await?))
        }
        AccountCommand::List { resource_group } => {
            let scope = match &resource_group {
                Some(group) => client.group(group),
                None => client.subscription(),
            };
            let list = client
                .arm(Method::GET, &accounts_path(&scope), None)
                .await?;
            print_json(&flatten_list(&list))
        }
        AccountCommand::Delete {
            name,
            resource_group,
        } => {
            let path = account_path(&client, &name, resource_group.as_deref()).await?;
            client.arm(Method::DELETE, &path, None).await?;
            Ok(())
        }
        AccountCommand::Keys { command } => keys(&client, command).await,
    }
}

async fn keys(client: &Client, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::List {
            account_name,
            resource_group,
        } => {
            let path = account_path(client, &account_name, resource_group.as_deref()).await?;
            let answer = client
                .arm(Method::POST, &format!("{path}/listKeys"), None)
                .await?;
            print_json(&keys_of(&answer))
        }
        KeysCommand::Renew {
            account_name,
            resource_group,
            key,
        } => {
            let path = account_path(client, &account_name, resource_group.as_deref()).await?;
            let key_name = match key {
                KeyChoice::Primary => "key1",
                KeyChoice::Secondary => "key2",
            };
            let answer = client
                .arm(
                    Method::POST,
                    &format!("{path}/regenerateKey"),
                    Some(&json!({ "keyName": key_name })),
                )
                .await?;
            if !answer["keys"].is_array() {
                bail!("regenerateKey answered no keys");
            }
            print_json(&keys_of(&answer))
        }
    }
}
