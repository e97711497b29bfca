//! `azlite dls fs …`, as `az dls fs …`: Data Lake Store Gen1's file system through WebHDFS
//! on `https://<account>.azuredatalakestore.net` (the name resolved to azlite's listener,
//! azlite's CA trusted), with the owner's token for `https://datalake.azure.net/`. The owner
//! is the account's RBAC Owner, so a superuser: these are the portal's "Data Explorer" and
//! "Access" steps of the tutorial, one command each.
//!
//! Uploads go as the Python client sends them: CREATE, then APPENDs of 4 MiB at their
//! offsets; downloads stream the answer of one OPEN to the file. Neither holds a file in
//! memory.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::{Client, print_json};

/// The resource of Data Lake's tokens (the trailing slash matters, as the tutorial says).
const DATALAKE_RESOURCE: &str = "https://datalake.azure.net//.default";
/// The accounts' host suffix (azlite's default names).
const DATALAKE_SUFFIX: &str = "azuredatalakestore.net";
/// The block an upload sends per APPEND (the Python client's).
const UPLOAD_BLOCK: usize = 4 * 1024 * 1024;

/// File system commands.
#[derive(Debug, Subcommand)]
pub(crate) enum FsCommand {
    /// List a folder.
    List {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The folder.
        #[arg(long, default_value = "/")]
        path: String,
    },
    /// Make a folder (and the missing ones above it).
    Mkdir {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The folder.
        #[arg(long)]
        path: String,
    },
    /// Upload a local file.
    Upload {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The local file.
        #[arg(long)]
        source_path: PathBuf,
        /// Where it goes.
        #[arg(long)]
        destination_path: String,
        /// Replace an existing file.
        #[arg(long)]
        overwrite: bool,
    },
    /// Download a file.
    Download {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The file.
        #[arg(long)]
        source_path: String,
        /// The local file to write.
        #[arg(long)]
        destination_path: PathBuf,
    },
    /// Delete a file or folder.
    Delete {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The file or folder.
        #[arg(long)]
        path: String,
        /// Delete a folder with what is in it.
        #[arg(long)]
        recurse: bool,
    },
    /// Move (rename) a file or folder.
    Move {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// What to move.
        #[arg(long)]
        source_path: String,
        /// Where to.
        #[arg(long)]
        destination_path: String,
    },
    /// Permissions and ACLs (as `az dls fs access`).
    Access {
        #[command(subcommand)]
        command: AccessCommand,
    },
}

/// Access commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AccessCommand {
    /// Show owner, group, permission and ACL entries.
    Show {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The file or folder.
        #[arg(long)]
        path: String,
    },
    /// Add or change ACL entries, e.g. `user:<object id>:r-x,default:user:<object id>:rwx`.
    SetEntry {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The file or folder.
        #[arg(long)]
        path: String,
        /// The entries.
        #[arg(long)]
        acl_spec: String,
    },
    /// Remove ACL entries, e.g. `user:<object id>`.
    RemoveEntry {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The file or folder.
        #[arg(long)]
        path: String,
        /// The entries.
        #[arg(long)]
        acl_spec: String,
    },
    /// Change the owner and/or the owning group.
    SetOwner {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The file or folder.
        #[arg(long)]
        path: String,
        /// The new owner (object id).
        #[arg(long)]
        owner: Option<String>,
        /// The new owning group (object id).
        #[arg(long)]
        group: Option<String>,
    },
    /// Change the permission bits (octal, e.g. `0750`).
    SetPermission {
        /// Name of the account.
        #[arg(long)]
        account: String,
        /// The file or folder.
        #[arg(long)]
        path: String,
        /// The permission.
        #[arg(long)]
        permission: String,
    },
}

/// A WebHDFS client of one account.
struct Lake {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// Percent-encodes a path for the URL (keeping `/`).
fn encode_path(path: &str) -> String {
    let mut out = String::new();
    for byte in path.trim_start_matches('/').bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Percent-encodes a query value.
fn encode_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl Lake {
    async fn connect(client: &Client, account: &str) -> anyhow::Result<Self> {
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
        let host = format!("{account}.{DATALAKE_SUFFIX}");
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, addr)
            .build()?;
        Ok(Self {
            http,
            base: format!("https://{host}:{}/webhdfs/v1", addr.port()),
            token: client.owner_token(DATALAKE_RESOURCE).await?,
        })
    }

    /// Sends `op` on `path`; the answer, or an error naming the RemoteException.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<reqwest::Response> {
        let url = format!("{}/{}?{query}", self.base, encode_path(path));
        let response = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let remote = &value["RemoteException"];
            match (remote["exception"].as_str(), remote["message"].as_str()) {
                (Some(exception), Some(message)) => bail!("({exception}) {message}"),
                _ => bail!("{status}: {text}"),
            }
        }
        Ok(response)
    }

    async fn json(&self, method: Method, path: &str, query: &str) -> anyhow::Result<Value> {
        let text = self
            .send(method, path, query, Vec::new())
            .await?
            .text()
            .await?;
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }
}

fn require_true(answer: &Value, what: &str) -> anyhow::Result<()> {
    if answer["boolean"] == Value::Bool(true) {
        Ok(())
    } else {
        bail!("{what} failed: {answer}")
    }
}

async fn upload(
    lake: &Lake,
    source: &PathBuf,
    destination: &str,
    overwrite: bool,
) -> anyhow::Result<()> {
    let mut file = tokio::fs::File::open(source)
        .await
        .with_context(|| format!("cannot open {}", source.display()))?;
    lake.send(
        Method::PUT,
        destination,
        &format!("op=CREATE&write=true&overwrite={overwrite}"),
        Vec::new(),
    )
    .await?;
    let mut offset = 0u64;
    let mut block = vec![0; UPLOAD_BLOCK];
    loop {
        let mut filled = 0;
        while filled < block.len() {
            let n = file.read(&mut block[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        lake.send(
            Method::POST,
            destination,
            &format!("op=APPEND&append=true&offset={offset}&syncFlag=DATA"),
            block[..filled].to_vec(),
        )
        .await?;
        offset += filled as u64;
    }
    Ok(())
}

async fn download(lake: &Lake, source: &str, destination: &PathBuf) -> anyhow::Result<()> {
    let mut response = lake
        .send(Method::GET, source, "op=OPEN&read=true", Vec::new())
        .await?;
    let mut file = tokio::fs::File::create(destination)
        .await
        .with_context(|| format!("cannot create {}", destination.display()))?;
    while let Some(chunk) = response.chunk().await? {
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(())
}

pub(crate) async fn run(data_dir: &std::path::Path, command: FsCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    use FsCommand as F;
    match command {
        F::List { account, path } => {
            let lake = Lake::connect(&client, &account).await?;
            let mut items = Vec::new();
            let mut after = String::new();
            loop {
                let query = format!(
                    "op=LISTSTATUS&listSize=4000&listAfter={}",
                    encode_value(&after)
                );
                let page = lake.json(Method::GET, &path, &query).await?;
                let statuses = &page["FileStatuses"];
                items.extend(
                    statuses["FileStatus"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
                after = statuses["continuationToken"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if after.is_empty() {
                    break;
                }
            }
            print_json(&Value::Array(items))
        }
        F::Mkdir { account, path } => {
            let lake = Lake::connect(&client, &account).await?;
            require_true(&lake.json(Method::PUT, &path, "op=MKDIRS").await?, "MKDIRS")
        }
        F::Upload {
            account,
            source_path,
            destination_path,
            overwrite,
        } => {
            let lake = Lake::connect(&client, &account).await?;
            upload(&lake, &source_path, &destination_path, overwrite).await
        }
        F::Download {
            account,
            source_path,
            destination_path,
        } => {
            let lake = Lake::connect(&client, &account).await?;
            download(&lake, &source_path, &destination_path).await
        }
        F::Delete {
            account,
            path,
            recurse,
        } => {
            let lake = Lake::connect(&client, &account).await?;
            let answer = lake
                .json(
                    Method::DELETE,
                    &path,
                    &format!("op=DELETE&recursive={recurse}"),
                )
                .await?;
            require_true(&answer, "DELETE")
        }
        F::Move {
            account,
            source_path,
            destination_path,
        } => {
            let lake = Lake::connect(&client, &account).await?;
            let query = format!("op=RENAME&destination={}", encode_value(&destination_path));
            require_true(
                &lake.json(Method::PUT, &source_path, &query).await?,
                "RENAME",
            )
        }
        F::Access { command } => access(&client, command).await,
    }
}

async fn access(client: &Client, command: AccessCommand) -> anyhow::Result<()> {
    use AccessCommand as A;
    let (account, path, query) = match command {
        A::Show { account, path } => {
            let lake = Lake::connect(client, &account).await?;
            let status = lake.json(Method::GET, &path, "op=MSGETACLSTATUS").await?;
            return print_json(&status["AclStatus"]);
        }
        A::SetEntry {
            account,
            path,
            acl_spec,
        } => (
            account,
            path,
            format!("op=MODIFYACLENTRIES&aclspec={}", encode_value(&acl_spec)),
        ),
        A::RemoveEntry {
            account,
            path,
            acl_spec,
        } => (
            account,
            path,
            format!("op=REMOVEACLENTRIES&aclspec={}", encode_value(&acl_spec)),
        ),
        A::SetOwner {
            account,
            path,
            owner,
            group,
        } => {
            if owner.is_none() && group.is_none() {
                bail!("give --owner, --group or both");
            }
            let mut query = "op=SETOWNER".to_owned();
            if let Some(owner) = owner {
                query.push_str(&format!("&owner={}", encode_value(&owner)));
            }
            if let Some(group) = group {
                query.push_str(&format!("&group={}", encode_value(&group)));
            }
            (account, path, query)
        }
        A::SetPermission {
            account,
            path,
            permission,
        } => (
            account,
            path,
            format!("op=SETPERMISSION&permission={}", encode_value(&permission)),
        ),
    };
    let lake = Lake::connect(client, &account).await?;
    lake.json(Method::PUT, &path, &query).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_values_are_encoded_for_webhdfs() {
        assert_eq!(
            encode_path("/Test Folder/a+b.txt"),
            "Test%20Folder/a%2Bb.txt"
        );
        assert_eq!(encode_path("/"), "");
        assert_eq!(
            encode_value("user:x:r-x,default:user:x:rwx"),
            "user%3Ax%3Ar-x%2Cdefault%3Auser%3Ax%3Arwx"
        );
    }
}
