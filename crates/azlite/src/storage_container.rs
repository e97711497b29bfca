//! `azlite storage container create|list|delete`, as `az storage container …`: Blob's
//! container operations over HTTPS ([`crate::blob_client`]), printed as az prints them.

use std::path::Path;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::blob_client::{AuthMode, BlobClient, BlobRequest, path_of, xml_elements, xml_text};
use crate::client::print_json;

/// Container commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ContainerCommand {
    /// Create a container (`{"created": false}` when it exists, as az prints).
    Create {
        /// Name of the storage account.
        #[arg(long)]
        account_name: String,
        /// Name of the container.
        #[arg(short = 'n', long)]
        name: String,
        /// `key` (Shared Key with the account key) or `login` (the owner's token).
        #[arg(long, value_enum, default_value_t)]
        auth_mode: AuthMode,
    },
    /// List the containers of an account.
    List {
        /// Name of the storage account.
        #[arg(long)]
        account_name: String,
        /// Only containers whose names start with this.
        #[arg(long)]
        prefix: Option<String>,
        /// `key` (Shared Key with the account key) or `login` (the owner's token).
        #[arg(long, value_enum, default_value_t)]
        auth_mode: AuthMode,
    },
    /// Delete a container and its blobs.
    Delete {
        /// Name of the storage account.
        #[arg(long)]
        account_name: String,
        /// Name of the container.
        #[arg(short = 'n', long)]
        name: String,
        /// `key` (Shared Key with the account key) or `login` (the owner's token).
        #[arg(long, value_enum, default_value_t)]
        auth_mode: AuthMode,
    },
}

pub(crate) async fn run(data_dir: &Path, command: ContainerCommand) -> anyhow::Result<()> {
    match command {
        ContainerCommand::Create {
            account_name,
            name,
            auth_mode,
        } => {
            let client = BlobClient::connect(data_dir, &account_name, auth_mode).await?;
            let path = path_of(&name, None)?;
            let request = BlobRequest::new(Method::PUT, &path).query("restype", "container");
            match client.send(request, None).await {
                Ok(_) => print_json(&json!({ "created": true })),
                Err(e) if e.to_string().starts_with("(ContainerAlreadyExists)") => {
                    print_json(&json!({ "created": false }))
                }
                Err(e) => Err(e),
            }
        }
        ContainerCommand::List {
            account_name,
            prefix,
            auth_mode,
        } => {
            let client = BlobClient::connect(data_dir, &account_name, auth_mode).await?;
            let mut out = Vec::new();
            let mut marker = String::new();
            loop {
                let mut request = BlobRequest::new(Method::GET, "/").query("comp", "list");
                if !marker.is_empty() {
                    request = request.query("marker", marker.clone());
                }
                if let Some(prefix) = &prefix {
                    request = request.query("prefix", prefix.clone());
                }
                let xml = client.send(request, None).await?.text().await?;
                out.extend(
                    xml_elements(&xml, "Container")
                        .into_iter()
                        .map(container_json),
                );
                marker = xml_text(&xml, "NextMarker").unwrap_or_default();
                if marker.is_empty() {
                    break;
                }
            }
            print_json(&Value::Array(out))
        }
        ContainerCommand::Delete {
            account_name,
            name,
            auth_mode,
        } => {
            let client = BlobClient::connect(data_dir, &account_name, auth_mode).await?;
            let path = path_of(&name, None)?;
            let request = BlobRequest::new(Method::DELETE, &path).query("restype", "container");
            match client.send(request, None).await {
                Ok(_) => print_json(&json!({ "deleted": true })),
                Err(e) if e.to_string().starts_with("(ContainerNotFound)") => {
                    print_json(&json!({ "deleted": false }))
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// One `<Container>` of List Containers as az prints it.
fn container_json(xml: &str) -> Value {
    let text = |tag: &str| xml_text(xml, tag).map_or(Value::Null, Value::String);
    json!({
        "name": text("Name"),
        "properties": {
            "etag": text("Etag"),
            "lastModified": text("Last-Modified"),
            "lease": {
                "duration": text("LeaseDuration"),
                "state": text("LeaseState"),
                "status": text("LeaseStatus"),
            },
            "publicAccess": text("PublicAccess"),
        },
    })
}
