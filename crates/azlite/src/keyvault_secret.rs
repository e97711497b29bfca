//! `azlite keyvault secret set|show|list|delete|recover|purge`, as `az keyvault secret …`:
//! Key Vault's data plane, reached as any client reaches it: HTTPS to
//! `https://<vault>.vault.azure.net` (the name resolved to azlite's listener, azlite's CA
//! trusted) with the owner's token for `https://vault.azure.net`. The owner needs an access
//! policy (or, on an RBAC vault, a role) like anyone else.
//!
//! Output is az's: timestamps as ISO 8601 strings, `nbf`/`exp` as `notBefore`/`expires`, the
//! secret's `name` taken from its id.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Client, print_json};

/// The api-version the CLI sends to Key Vault.
const API_VERSION: &str = "7.6";
/// The token scope of Key Vault.
const VAULT_SCOPE: &str = "https://vault.azure.net/.default";
/// The vaults' host suffix (azlite's default names).
const VAULT_SUFFIX: &str = "vault.azure.net";

/// Secret commands.
#[derive(Debug, Subcommand)]
pub(crate) enum SecretCommand {
    /// Create a secret, or a new version of it.
    Set {
        /// Name of the vault.
        #[arg(long)]
        vault_name: String,
        /// Name of the secret.
        #[arg(short = 'n', long)]
        name: String,
        /// The value.
        #[arg(long)]
        value: String,
        /// Content type of the value, e.g. `text/plain`.
        #[arg(long)]
        content_type: Option<String>,
        /// Tags, `key=value` each.
        #[arg(long, num_args = 1..)]
        tags: Option<Vec<String>>,
    },
    /// Show a secret with its value (the newest version, or `--version`).
    Show {
        /// Name of the vault.
        #[arg(long)]
        vault_name: String,
        /// Name of the secret.
        #[arg(short = 'n', long)]
        name: String,
        /// A version; the newest when omitted.
        #[arg(long)]
        version: Option<String>,
    },
    /// List the secrets of a vault (without values).
    List {
        /// Name of the vault.
        #[arg(long)]
        vault_name: String,
    },
    /// Delete a secret (all versions; recoverable on a soft-delete vault).
    Delete {
        /// Name of the vault.
        #[arg(long)]
        vault_name: String,
        /// Name of the secret.
        #[arg(short = 'n', long)]
        name: String,
    },
    /// Recover a deleted secret.
    Recover {
        /// Name of the vault.
        #[arg(long)]
        vault_name: String,
        /// Name of the secret.
        #[arg(short = 'n', long)]
        name: String,
    },
    /// Purge a deleted secret for good.
    Purge {
        /// Name of the vault.
        #[arg(long)]
        vault_name: String,
        /// Name of the secret.
        #[arg(short = 'n', long)]
        name: String,
    },
}

/// A connection to one vault.
struct VaultClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl VaultClient {
    async fn connect(client: &Client, vault: &str) -> anyhow::Result<Self> {
        let info = &client.info;
        let addr: SocketAddr = info
            .https
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .parse()
            .with_context(|| {
                format!("connection.json's https ({}) is not an address", info.https)
            })?;
        let ca = std::fs::read(&info.ca_certificate).with_context(|| {
            format!(
                "cannot read the CA certificate {}",
                info.ca_certificate.display()
            )
        })?;
        let host = format!("{vault}.{VAULT_SUFFIX}");
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .no_proxy()
            .resolve(&host, addr)
            .build()?;
        Ok(Self {
            http,
            base: format!("https://{host}:{}", addr.port()),
            token: client.owner_token(VAULT_SCOPE).await?,
        })
    }

    /// Calls the vault at `path` (or at a full `nextLink` URL); errors name Key Vault's code.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = if path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}?api-version={API_VERSION}", self.base)
        };
        crate::client::send_with(&self.http, method, &url, &self.token, body).await
    }
}

/// Unix seconds as az prints them: `2024-01-02T03:04:05+00:00`.
fn iso(value: &Value) -> Value {
    value
        .as_i64()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"
            ))
            .ok()
        })
        .map_or(Value::Null, Value::String)
}

/// A bundle or item as az prints it.
fn az_shape(secret: &Value, with_value: bool) -> Value {
    let attributes = &secret["attributes"];
    let id = secret["id"].as_str().unwrap_or_default();
    let name = id
        .split_once("/secrets/")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        json!({
            "created": iso(&attributes["created"]),
            "enabled": attributes["enabled"],
            "expires": iso(&attributes["exp"]),
            "notBefore": iso(&attributes["nbf"]),
            "recoverableDays": attributes["recoverableDays"],
            "recoveryLevel": attributes["recoveryLevel"],
            "updated": iso(&attributes["updated"]),
        }),
    );
    out.insert("contentType".into(), secret["contentType"].clone());
    if secret.get("recoveryId").is_some() {
        out.insert("deletedDate".into(), iso(&secret["deletedDate"]));
    }
    out.insert("id".into(), json!(id));
    if with_value {
        out.insert("kid".into(), secret["kid"].clone());
    }
    out.insert("managed".into(), secret["managed"].clone());
    out.insert("name".into(), json!(name));
    if secret.get("recoveryId").is_some() {
        out.insert("recoveryId".into(), secret["recoveryId"].clone());
        out.insert(
            "scheduledPurgeDate".into(),
            iso(&secret["scheduledPurgeDate"]),
        );
    }
    out.insert("tags".into(), secret["tags"].clone());
    if with_value {
        out.insert("value".into(), secret["value"].clone());
    }
    Value::Object(out)
}

/// `key=value` tags (a bare `key` gets an empty value, as az does).
fn parse_tags(tags: &[String]) -> Value {
    let map: Map<String, Value> = tags
        .iter()
        .map(|t| match t.split_once('=') {
            Some((k, v)) => (k.to_owned(), json!(v)),
            None => (t.clone(), json!("")),
        })
        .collect();
    Value::Object(map)
}

/// Runs a secret command with the owner's client.
pub(crate) async fn run(client: &Client, command: SecretCommand) -> anyhow::Result<()> {
    use SecretCommand as C;
    match command {
        C::Set {
            vault_name,
            name,
            value,
            content_type,
            tags,
        } => {
            let vault = VaultClient::connect(client, &vault_name).await?;
            let mut body = json!({ "value": value });
            if let Some(content_type) = content_type {
                body["contentType"] = json!(content_type);
            }
            if let Some(tags) = tags {
                body["tags"] = parse_tags(&tags);
            }
            let answer = vault
                .call(Method::PUT, &format!("/secrets/{name}"), Some(&body))
                .await?;
            print_json(&az_shape(&answer, true))
        }
        C::Show {
            vault_name,
            name,
            version,
        } => {
            let vault = VaultClient::connect(client, &vault_name).await?;
            let path = format!("/secrets/{name}/{}", version.unwrap_or_default());
            print_json(&az_shape(
                &vault.call(Method::GET, &path, None).await?,
                true,
            ))
        }
        C::List { vault_name } => {
            let vault = VaultClient::connect(client, &vault_name).await?;
            let mut items = Vec::new();
            let mut next = "/secrets".to_owned();
            loop {
                let page = vault.call(Method::GET, &next, None).await?;
                items.extend(
                    page["value"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| az_shape(s, false)),
                );
                match page["nextLink"].as_str() {
                    Some(link) => next = link.to_owned(),
                    None => break,
                }
            }
            print_json(&Value::Array(items))
        }
        C::Delete { vault_name, name } => {
            let vault = VaultClient::connect(client, &vault_name).await?;
            let answer = vault
                .call(Method::DELETE, &format!("/secrets/{name}"), None)
                .await?;
            print_json(&az_shape(&answer, true))
        }
        C::Recover { vault_name, name } => {
            let vault = VaultClient::connect(client, &vault_name).await?;
            let answer = vault
                .call(
                    Method::POST,
                    &format!("/deletedsecrets/{name}/recover"),
                    None,
                )
                .await?;
            print_json(&az_shape(&answer, false))
        }
        C::Purge { vault_name, name } => {
            let vault = VaultClient::connect(client, &vault_name).await?;
            vault
                .call(Method::DELETE, &format!("/deletedsecrets/{name}"), None)
                .await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_print_as_az_prints_them() {
        let bundle = json!({
            "value": "v",
            "id": "https://kv.vault.azure.net:8443/secrets/db/0123456789abcdef0123456789abcdef",
            "attributes": {"enabled": true, "created": 0, "updated": 86_400,
                           "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
            "tags": {"a": "b"},
        });
        let shaped = az_shape(&bundle, true);
        assert_eq!(shaped["name"], "db");
        assert_eq!(shaped["value"], "v");
        assert_eq!(shaped["attributes"]["created"], "1970-01-01T00:00:00+00:00");
        assert_eq!(shaped["attributes"]["updated"], "1970-01-02T00:00:00+00:00");
        assert_eq!(shaped["attributes"]["expires"], Value::Null);
        assert!(shaped.get("recoveryId").is_none());
        assert_eq!(
            parse_tags(&["a=b".into(), "c".into(), "d=e=f".into()]),
            json!({"a": "b", "c": "", "d": "e=f"})
        );
    }
}
