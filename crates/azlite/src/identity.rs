//! `azlite identity create|show|list|delete -g -n`, as `az identity …`.

use std::path::Path;

use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use crate::client::{Client, flatten, flatten_list, print_json};
use crate::group::parse_tags;

/// User-assigned identity commands.
#[derive(Debug, Subcommand)]
pub(crate) enum IdentityCommand {
    /// Create a user-assigned managed identity.
    Create {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the identity.
        #[arg(short = 'n', long)]
        name: String,
        /// Location; the group's when omitted.
        #[arg(short = 'l', long)]
        location: Option<String>,
        /// Tags, as key=value.
        #[arg(long, num_args = 0..)]
        tags: Vec<String>,
    },
    /// Show an identity.
    Show {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the identity.
        #[arg(short = 'n', long)]
        name: String,
    },
    /// List identities, in a group or in the subscription.
    List {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// Delete an identity (and its service principal).
    Delete {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the identity.
        #[arg(short = 'n', long)]
        name: String,
    },
}

/// The id path of a user-assigned identity.
pub(crate) fn identity_path(client: &Client, group: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        client.group(group)
    )
}

pub(crate) async fn run(data_dir: &Path, command: IdentityCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        IdentityCommand::Create {
            resource_group,
            name,
            location,
            tags,
        } => {
            let location = match location {
                Some(location) => location,
                None => {
                    let group = client
                        .arm(Method::GET, &client.group(&resource_group), None)
                        .await?;
                    group["location"].as_str().unwrap_or("eastus").to_owned()
                }
            };
            let body = json!({ "location": location, "tags": parse_tags(&tags)? });
            let created = client
                .arm(
                    Method::PUT,
                    &identity_path(&client, &resource_group, &name),
                    Some(&body),
                )
                .await?;
            print_json(&flatten(&created))
        }
        IdentityCommand::Show {
            resource_group,
            name,
        } => print_json(&flatten(
            &client
                .arm(
                    Method::GET,
                    &identity_path(&client, &resource_group, &name),
                    None,
                )
                .await?,
        )),
        IdentityCommand::List { resource_group } => {
            let scope = match &resource_group {
                Some(group) => client.group(group),
                None => client.subscription(),
            };
            let list = client
                .arm(
                    Method::GET,
                    &format!("{scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"),
                    None,
                )
                .await?;
            print_json(&flatten_list(&list))
        }
        IdentityCommand::Delete {
            resource_group,
            name,
        } => {
            client
                .arm(
                    Method::DELETE,
                    &identity_path(&client, &resource_group, &name),
                    None,
                )
                .await?;
            Ok(())
        }
    }
}
