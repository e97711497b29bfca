//! `azlite keyvault create|show|list|delete|set-policy`, as `az keyvault …`: the vault through
//! ARM (`Microsoft.KeyVault/vaults`). Output is az's: the vault as ARM answers it (properties
//! not flattened) plus `resourceGroup`.

use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, print_json, with_resource_group};

/// Key Vault commands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeyvaultCommand {
    /// Create a key vault. Unless RBAC authorization is enabled, the creator (the owner)
    /// gets an access policy with every key, secret, certificate and storage permission.
    Create {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: String,
        /// Name of the vault (globally unique).
        #[arg(short = 'n', long)]
        name: String,
        /// Location; the group's when omitted.
        #[arg(short = 'l', long)]
        location: Option<String>,
        /// Authorize data-plane calls with Azure RBAC instead of access policies.
        #[arg(long)]
        enable_rbac_authorization: bool,
        /// Soft-delete retention, 7 to 90 days.
        #[arg(long, default_value_t = 90)]
        retention_days: i64,
        /// `standard` or `premium`.
        #[arg(long, default_value = "standard")]
        sku: String,
    },
    /// Show a key vault.
    Show {
        /// Name of the vault.
        #[arg(short = 'n', long)]
        name: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// List key vaults, in a group or in the subscription.
    List {
        /// Resource group.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// Delete a key vault (and its secrets). azlite keeps no soft-deleted vaults.
    Delete {
        /// Name of the vault.
        #[arg(short = 'n', long)]
        name: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
    },
    /// Set the access policy of an object: the permission kinds given replace that object's
    /// permissions of those kinds; the kinds not given stay as they are.
    SetPolicy {
        /// Name of the vault.
        #[arg(short = 'n', long)]
        name: String,
        /// Resource group; found from the name when omitted.
        #[arg(short = 'g', long)]
        resource_group: Option<String>,
        /// Object id of the user, group or service principal.
        #[arg(long)]
        object_id: String,
        /// Application id, for a compound identity (the object through that application).
        #[arg(long)]
        application_id: Option<String>,
        /// Key permissions, e.g. `get list`.
        #[arg(long, num_args = 1..)]
        key_permissions: Option<Vec<String>>,
        /// Secret permissions, e.g. `get list set`.
        #[arg(long, num_args = 1..)]
        secret_permissions: Option<Vec<String>>,
        /// Certificate permissions.
        #[arg(long, num_args = 1..)]
        certificate_permissions: Option<Vec<String>>,
        /// Storage account permissions.
        #[arg(long, num_args = 1..)]
        storage_permissions: Option<Vec<String>>,
    },
    /// Secrets in a key vault (as `az keyvault secret`).
    Secret {
        #[command(subcommand)]
        command: crate::keyvault_secret::SecretCommand,
    },
}

/// The provider path of the vaults under `scope` (a subscription or group path).
fn vaults_path(scope: &str) -> String {
    format!("{scope}/providers/Microsoft.KeyVault/vaults")
}

/// The id path of a vault: in the given group, else found by name in the subscription (as az
/// does when `-g` is left out).
async fn vault_path(client: &Client, name: &str, group: Option<&str>) -> anyhow::Result<String> {
    if let Some(group) = group {
        return Ok(format!("{}/{name}", vaults_path(&client.group(group))));
    }
    let list = client
        .arm(Method::GET, &vaults_path(&client.subscription()), None)
        .await?;
    list["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| {
            v["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|v| v["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("The Vault '{name}' not found within subscription."))
}

pub(crate) async fn run(data_dir: &Path, command: KeyvaultCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        KeyvaultCommand::Create {
            resource_group,
            name,
            location,
            enable_rbac_authorization,
            retention_days,
            sku,
        } => {
            let request = CreateRequest {
                group: resource_group,
                name,
                location,
                enable_rbac_authorization,
                retention_days,
                sku,
            };
            print_json(&with_resource_group(&create(&client, request).await?))
        }
        KeyvaultCommand::Show {
            name,
            resource_group,
        } => {
            let path = vault_path(&client, &name, resource_group.as_deref()).await?;
            print_json(&with_resource_group(
                &client.arm(Method::GET, &path, None).await?,
            ))
        }
        KeyvaultCommand::List { resource_group } => {
            let scope = match &resource_group {
                Some(group) => client.group(group),
                None => client.subscription(),
            };
            let list = client.arm(Method::GET, &vaults_path(&scope), None).await?;
            let vaults: Vec<Value> = list["value"]
                .as_array()
                .into_iter()
                .flatten()
                .map(with_resource_group)
                .collect();
            print_json(&Value::Array(vaults))
        }
        KeyvaultCommand::Delete {
            name,
            resource_group,
        } => {
            let path = vault_path(&client, &name, resource_group.as_deref()).await?;
            client.arm(Method::DELETE, &path, None).await?;
            Ok(())
        }
        KeyvaultCommand::SetPolicy {
            name,
            resource_group,
            object_id,
            application_id,
            key_permissions,
            secret_permissions,
            certificate_permissions,
            storage_permissions,
        } => {
            let path = vault_path(&client, &name, resource_group.as_deref()).await?;
            let change = PolicyChange {
                object_id,
                application_id,
                kinds: [
                    ("keys", key_permissions),
                    ("secrets", secret_permissions),
                    ("certificates", certificate_permissions),
                    ("storage", storage_permissions),
                ],
            };
            print_json(&with_resource_group(
                &set_policy(&client, &path, change).await?,
            ))
        }
        KeyvaultCommand::Secret { command } => crate::keyvault_secret::run(&client, command).await,
    }
}

/// What `keyvault create` was asked for.
struct CreateRequest {
    group: String,
    name: String,
    location: Option<String>,
    enable_rbac_authorization: bool,
    retention_days: i64,
    sku: String,
}

/// `az keyvault create`: refuses an existing vault, then PUTs one with the creator's access
/// policy (every permission, as `all`) unless RBAC authorization is on.
async fn create(client: &Client, request: CreateRequest) -> anyhow::Result<Value> {
    let path = format!(
        "{}/{}",
        vaults_path(&client.group(&request.group)),
        request.name
    );
    if client.arm(Method::GET, &path, None).await.is_ok() {
        bail!("The specified vault: {} already exists", request.name);
    }
    let location = match request.location {
        Some(location) => location,
        None => {
            let group = client
                .arm(Method::GET, &client.group(&request.group), None)
                .await?;
            group["location"].as_str().unwrap_or("eastus").to_owned()
        }
    };
    let tenant = client.info.tenant_id.clone();
    let access_policies = if request.enable_rbac_authorization {
        json!([])
    } else {
        let me = client.admin(Method::GET, "whoami", None).await?;
        let object_id = me["oid"]
            .as_str()
            .context("whoami did not name the owner's object id")?;
        json!([{
            "tenantId": tenant,
            "objectId": object_id,
            "permissions": {
                "keys": ["all"],
                "secrets": ["all"],
                "certificates": ["all"],
                "storage": ["all"],
            },
        }])
    };
    let body = json!({
        "location": location,
        "properties": {
            "tenantId": tenant,
            "sku": { "family": "A", "name": request.sku },
            "accessPolicies": access_policies,
            "enableRbacAuthorization": request.enable_rbac_authorization,
            "softDeleteRetentionInDays": request.retention_days,
        },
    });
    client.arm(Method::PUT, &path, Some(&body)).await
}

/// What `keyvault set-policy` changes: the permission kinds given, for one identity.
struct PolicyChange {
    object_id: String,
    application_id: Option<String>,
    kinds: [(&'static str, Option<Vec<String>>); 4],
}

/// `az keyvault set-policy`: reads the vault, replaces the given kinds of the identity's entry
/// (or adds an entry), and PUTs the vault back.
async fn set_policy(client: &Client, path: &str, change: PolicyChange) -> anyhow::Result<Value> {
    let mut vault = client.arm(Method::GET, path, None).await?;
    if vault["properties"]["enableRbacAuthorization"].as_bool() == Some(true) {
        bail!("Cannot set policies to a vault with '--enable-rbac-authorization' specified");
    }
    let tenant = vault["properties"]["tenantId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let same = |a: Option<&str>, b: Option<&str>| {
        a.unwrap_or_default()
            .eq_ignore_ascii_case(b.unwrap_or_default())
    };
    let policies = vault["properties"]["accessPolicies"]
        .as_array_mut()
        .context("the vault has no accessPolicies list")?;
    let existing = policies.iter_mut().find(|p| {
        same(p["objectId"].as_str(), Some(&change.object_id))
            && same(
                p["applicationId"].as_str(),
                change.application_id.as_deref(),
            )
            && same(p["tenantId"].as_str(), Some(&tenant))
    });
    let entry = match existing {
        Some(entry) => entry,
        None => {
            let mut entry = json!({
                "tenantId": tenant,
                "objectId": change.object_id,
                "permissions": {},
            });
            if let Some(app) = &change.application_id {
                entry["applicationId"] = json!(app);
            }
            policies.push(entry);
            policies.last_mut().expect("just pushed")
        }
    };
    for (kind, permissions) in change.kinds {
        if let Some(mut permissions) = permissions {
            // az drops duplicates (`set(...)`).
            let mut seen = std::collections::HashSet::new();
            permissions.retain(|p| seen.insert(p.to_ascii_lowercase()));
            entry["permissions"][kind] = json!(permissions);
        }
    }
    let body = json!({
        "location": vault["location"],
        "tags": vault["tags"],
        "properties": vault["properties"],
    });
    client.arm(Method::PUT, path, Some(&body)).await
}
