//! `azlite dls account create|show|list|delete`, as `az dls account …`: the account through
//! ARM (`Microsoft.DataLakeStore/accounts`). Output is az's: the account flattened
//! (`properties` merged into the top level) plus `resourceGroup`.

use std::path::Path;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use crate::client::{Client, flatten, flatten_list, print_json};

/// Data Lake Store account commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Create a Data Lake Store account.
    Create {
        /// Name of the account: 3 to 24 lowercase letters and digits, globally unique.
        #[arg(short = 'n', long = "account")]
        account: String,
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Location; the group's when omitted.
        #[arg(short = 'l', long)]
        location: Option<String>,
        /// The default owning group of new files and folders.
        #[arg(long)]
        default_group: Option<String>,
    },
    /// Show a Data Lake Store account.
    Show {
        /// Name of the account.
        #[arg(short = 'n', long = "account")]
        account: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// List Data Lake Store accounts, in a group or in the subscription.
    List {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// Delete a Data Lake Store account and its files.
    Delete {
        /// Name of the account.
        #[arg(short = 'n', long = "account")]
        account: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
}

/// The provider path of the accounts under `scope` (a subscription or group path).
fn accounts_path(scope: &str) -> String {
    format!("{scope}/providers/Microsoft.DataLakeStore/accounts")
}

/// The id path of an account: in the given group, else found by name in the subscription.
async fn account_path(client: &Client, name: &str, group: Option<&str>) -> anyhow::Result<String> {
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
        .with_context(|| {
            format!("The Data Lake Store account '{name}' was not found in the subscription.")
        })
}

pub(crate) async fn run(data_dir: &Path, command: AccountCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        AccountCommand::Create {
            account,
            resource_group,
            location,
            default_group,
        } => {
            let path = format!(
                "{}/{account}",
                accounts_path(&client.group(&resource_group))
            );
            let location = match location {
                Some(location) => location,
                None => {
                    let group = client
                        .arm(Method::GET, &client.group(&resource_group), None)
                        .await?;
                    group["location"].as_str().unwrap_or("eastus2").to_owned()
                }
            };
            let mut body = json!({ "location": location, "properties": {} });
            if let Some(group) = default_group {
                body["properties"]["defaultGroup"] = json!(group);
            }
            let answer = client.arm(Method::PUT, &path, Some(&body)).await?;
            print_json(&flatten(&answer))
        }
        AccountCommand::Show {
            account,
            resource_group,
        } => {
            let path = account_path(&client, &account, resource_group.as_deref()).await?;
            let answer = client.arm(Method::GET, &path, None).await?;
            print_json(&flatten(&answer))
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
            account,
            resource_group,
        } => {
            let path = account_path(&client, &account, resource_group.as_deref()).await?;
            client.arm(Method::DELETE, &path, None).await?;
            Ok(())
        }
    }
}
