//! `azlite vm create` and `azlite vm identity assign|remove|show`, as `az vm …`.

use std::path::Path;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Client, print_json};
use crate::identity::identity_path;

/// az's keyword for the system-assigned identity in identity lists.
const SYSTEM: &str = "[system]";

/// Virtual machine commands.
#[derive(Debug, Subcommand)]
pub(crate) enum VmCommand {
    /// Create a virtual machine (a record of one: azlite runs no guest).
    Create {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the VM.
        #[arg(short = 'n', long)]
        name: String,
        /// Location; the group's when omitted.
        #[arg(short = 'l', long)]
        location: Option<String>,
        /// Identities: none given means system-assigned; names or ids of user-assigned
        /// identities, and `[system]` for the system-assigned one.
        #[arg(long, num_args = 0..)]
        assign_identity: Option<Vec<String>>,
        /// VM size, recorded as given.
        #[arg(long, default_value = "Standard_B1s")]
        size: String,
    },
    /// Managed identities of a VM.
    Identity {
        #[command(subcommand)]
        command: VmIdentityCommand,
    },
}

/// VM identity commands.
#[derive(Debug, Subcommand)]
pub(crate) enum VmIdentityCommand {
    /// Enable the system-assigned identity, or attach user-assigned ones.
    Assign {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the VM.
        #[arg(short = 'n', long)]
        name: String,
        /// User-assigned identities (names or ids) and/or `[system]`; `[system]` by default.
        #[arg(long, num_args = 0..)]
        identities: Vec<String>,
    },
    /// Disable the system-assigned identity, or detach user-assigned ones.
    Remove {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the VM.
        #[arg(short = 'n', long)]
        name: String,
        /// User-assigned identities (names or ids) and/or `[system]`; `[system]` by default.
        #[arg(long, num_args = 0..)]
        identities: Vec<String>,
    },
    /// Show a VM's identities.
    Show {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the VM.
        #[arg(short = 'n', long)]
        name: String,
    },
}

fn vm_path(client: &Client, group: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Compute/virtualMachines/{name}",
        client.group(group)
    )
}

/// Splits an identity list into "system" and the ids of user-assigned identities (names are
/// resolved in the VM's group, as az does).
fn split_identities(client: &Client, group: &str, identities: &[String]) -> (bool, Vec<String>) {
    let system = identities.is_empty() || identities.iter().any(|i| i.eq_ignore_ascii_case(SYSTEM));
    let users = identities
        .iter()
        .filter(|i| !i.eq_ignore_ascii_case(SYSTEM))
        .map(|i| {
            if i.starts_with('/') {
                i.clone()
            } else {
                identity_path(client, group, i)
            }
        })
        .collect();
    (system, users)
}

fn identity_type(system: bool, user: bool) -> &'static str {
    match (system, user) {
        (true, true) => "SystemAssigned, UserAssigned",
        (true, false) => "SystemAssigned",
        (false, true) => "UserAssigned",
        (false, false) => "None",
    }
}

/// The identities a VM has now: system on or off, and its user-assigned ids.
fn current(vm: &Value) -> (bool, Vec<String>) {
    let kind = vm["identity"]["type"]
        .as_str()
        .unwrap_or("None")
        .to_ascii_lowercase();
    let users = vm["identity"]["userAssignedIdentities"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    (kind.contains("systemassigned"), users)
}

/// az's summary of a VM's identities.
fn summary(vm: &Value) -> Value {
    json!({
        "systemAssignedIdentity": vm["identity"]["principalId"].as_str().unwrap_or(""),
        "userAssignedIdentities": vm["identity"].get("userAssignedIdentities").cloned().unwrap_or(json!({})),
    })
}

pub(crate) async fn run(data_dir: &Path, command: VmCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        VmCommand::Create {
            resource_group,
            name,
            location,
            assign_identity,
            size,
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
            let mut body = json!({
                "location": location,
                "properties": {
                    "hardwareProfile": { "vmSize": size },
                    "osProfile": { "computerName": name, "adminUsername": "azureuser" },
                },
            });
            if let Some(identities) = assign_identity {
                let (system, users) = split_identities(&client, &resource_group, &identities);
                let map: Map<String, Value> = users.into_iter().map(|id| (id, json!({}))).collect();
                body["identity"] = json!({ "type": identity_type(system, !map.is_empty()) });
                if !map.is_empty() {
                    body["identity"]["userAssignedIdentities"] = Value::Object(map);
                }
            }
            print_json(
                &client
                    .arm(
                        Method::PUT,
                        &vm_path(&client, &resource_group, &name),
                        Some(&body),
                    )
                    .await?,
            )
        }
        VmCommand::Identity { command } => identity(&client, command).await,
    }
}

async fn identity(client: &Client, command: VmIdentityCommand) -> anyhow::Result<()> {
    match command {
        VmIdentityCommand::Show {
            resource_group,
            name,
        } => {
            let vm = client
                .arm(Method::GET, &vm_path(client, &resource_group, &name), None)
                .await?;
            print_json(vm.get("identity").unwrap_or(&Value::Null))
        }
        VmIdentityCommand::Assign {
            resource_group,
            name,
            identities,
        } => {
            let path = vm_path(client, &resource_group, &name);
            let vm = client.arm(Method::GET, &path, None).await?;
            let (had_system, had_users) = current(&vm);
            let (system, users) = split_identities(client, &resource_group, &identities);
            let mut map: Map<String, Value> =
                had_users.into_iter().map(|id| (id, json!({}))).collect();
            for id in users {
                map.insert(id, json!({}));
            }
            let mut patch = json!({ "identity": { "type": identity_type(had_system || system, !map.is_empty()) } });
            if !map.is_empty() {
                patch["identity"]["userAssignedIdentities"] = Value::Object(map);
            }
            let updated = client.arm(Method::PATCH, &path, Some(&patch)).await?;
            print_json(&summary(&updated))
        }
        VmIdentityCommand::Remove {
            resource_group,
            name,
            identities,
        } => {
            let path = vm_path(client, &resource_group, &name);
            let vm = client.arm(Method::GET, &path, None).await?;
            let (had_system, had_users) = current(&vm);
            let (remove_system, remove_users) =
                split_identities(client, &resource_group, &identities);
            let remove_system = remove_system
                && (identities.is_empty()
                    || identities.iter().any(|i| i.eq_ignore_ascii_case(SYSTEM)));
            let keep: Vec<&String> = had_users
                .iter()
                .filter(|id| !remove_users.iter().any(|r| r.eq_ignore_ascii_case(id)))
                .collect();
            let system = had_system && !remove_system;
            let mut patch =
                json!({ "identity": { "type": identity_type(system, !keep.is_empty()) } });
            if !keep.is_empty() {
                let removed: Map<String, Value> = had_users
                    .iter()
                    .filter(|id| !keep.contains(id))
                    .map(|id| (id.clone(), Value::Null))
                    .collect();
                patch["identity"]["userAssignedIdentities"] = Value::Object(removed);
            }
            let updated = client.arm(Method::PATCH, &path, Some(&patch)).await?;
            print_json(&summary(&updated))
        }
    }
}
