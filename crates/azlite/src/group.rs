//! `azlite group create|show|list|delete`, as `az group …`.

use std::path::Path;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Client, print_json};

/// Resource group commands.
#[derive(Debug, Subcommand)]
pub(crate) enum GroupCommand {
    /// Create (or update) a resource group.
    Create {
        /// Name of the group.
        #[arg(short = 'n', long)]
        name: String,
        /// Location, e.g. eastus.
        #[arg(short = 'l', long)]
        location: String,
        /// Tags, as key=value.
        #[arg(long, num_args = 0..)]
        tags: Vec<String>,
    },
    /// Show a resource group.
    Show {
        /// Name of the group.
        #[arg(short = 'n', long)]
        name: String,
    },
    /// List the resource groups of the subscription.
    List,
    /// Delete a resource group, everything in it and the role assignments in it.
    Delete {
        /// Name of the group.
        #[arg(short = 'n', long)]
        name: String,
        /// Do not ask for confirmation (azlite never asks; accepted for az compatibility).
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

/// Parses `key=value` tags.
pub(crate) fn parse_tags(tags: &[String]) -> anyhow::Result<Value> {
    let mut map = Map::new();
    for tag in tags {
        let (key, value) = tag.split_once('=').unwrap_or((tag, ""));
        anyhow::ensure!(
            !key.is_empty(),
            "a tag needs a name: '{tag}' (use key=value)"
        );
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    Ok(Value::Object(map))
}

pub(crate) async fn run(data_dir: &Path, command: GroupCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        GroupCommand::Create {
            name,
            location,
            tags,
        } => {
            let body = json!({ "location": location, "tags": parse_tags(&tags)? });
            print_json(
                &client
                    .arm(Method::PUT, &client.group(&name), Some(&body))
                    .await?,
            )
        }
        GroupCommand::Show { name } => {
            print_json(&client.arm(Method::GET, &client.group(&name), None).await?)
        }
        GroupCommand::List => {
            let list = client
                .arm(
                    Method::GET,
                    &format!("{}/resourcegroups", client.subscription()),
                    None,
                )
                .await?;
            print_json(&list["value"])
        }
        GroupCommand::Delete { name, yes: _ } => {
            client
                .arm(Method::DELETE, &client.group(&name), None)
                .await?;
            Ok(())
        }
    }
}
