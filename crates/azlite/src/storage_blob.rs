//! `azlite storage blob upload|download|list|delete`, as `az storage blob …`: block blobs
//! over HTTPS ([`crate::blob_client`]). Files are streamed: an upload larger than one block
//! goes as Put Block (4 MiB each, one in memory at a time) then Put Block List; a download is
//! written as it arrives. A progress bar shows on large transfers when stderr is a terminal.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::blob_client::{
    AuthMode, BlobClient, BlobRequest, header_json, path_of, xml_elements, xml_text,
};
use crate::client::print_json;
use crate::progress::Progress;

/// The size of one block of a large upload.
const BLOCK_SIZE: usize = 4 * 1024 * 1024;
/// Files up to this size go in a single Put Blob.
const SINGLE_PUT_MAX: u64 = BLOCK_SIZE as u64;

/// Blob commands.
#[derive(Debug, Subcommand)]
pub(crate) enum BlobCommand {
    /// Upload a file as a block blob.
    Upload {
        /// Name of the storage account.
        #[arg(long)]
        account_name: String,
        /// Name of the container.
        #[arg(short = 'c', long)]
        container_name: String,
        /// Name of the blob (the file's name when omitted).
        #[arg(short = 'n', long)]
        name: Option<String>,
        /// The file to upload.
        #[arg(short = 'f', long)]
        file: PathBuf,
        /// Replace the blob if it exists (without it, an existing blob is an error).
        #[arg(long)]
        overwrite: bool,
        /// `key` (Shared Key with the account key) or `login` (the owner's token).
        #[arg(long, value_enum, default_value_t)]
        auth_mode: AuthMode,
    },
    /// Download a blob to a file.
    Download {
        /// Name of the storage account.
        #[arg(long)]
        account_name: String,
        /// Name of the container.
        #[arg(short = 'c', long)]
        container_name: String,
        /// Name of the blob.
        #[arg(short = 'n', long)]
        name: String,
        /// The file to write.
        #[arg(short = 'f', long)]
        file: PathBuf,
        /// `key` (Shared Key with the account key) or `login` (the owner's token).
        #[arg(long, value_enum, default_value_t)]
        auth_mode: AuthMode,
    },
    /// List the blobs of a container.
    List {
        /// Name of the storage account.
        #[arg(long)]
        account_name: String,
        /// Name of the container.
        #[arg(short = 'c', long)]
        container_name: String,
        /// Only blobs whose names start with this.
        #[arg(long)]
        prefix: Option<String>,
        /// `key` (Shared Key with the account key) or `login` (the owner's token).
        #[arg(long, value_enum, default_value_t)]
        auth_mode: AuthMode,
    },
    /// Delete a blob.
    Delete {
        /// Name of the storage account.
        #[arg(long)]
        account_name: String,
        /// Name of the container.
        #[arg(short = 'c', long)]
        container_name: String,
        /// Name of the blob.
        #[arg(short = 'n', long)]
        name: String,
        /// `key` (Shared Key with the account key) or `login` (the owner's token).
        #[arg(long, value_enum, default_value_t)]
        auth_mode: AuthMode,
    },
}

pub(crate) async fn run(data_dir: &Path, command: BlobCommand) -> anyhow::Result<()> {
    match command {
        BlobCommand::Upload {
            account_name,
            container_name,
            name,
            file,
            overwrite,
            auth_mode,
        } => {
            let name = match name {
                Some(name) => name,
                None => file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(str::to_owned)
                    .context("give the blob's name with -n/--name")?,
            };
            let client = BlobClient::connect(data_dir, &account_name, auth_mode).await?;
            let path = path_of(&container_name, Some(&name))?;
            print_json(&upload(&client, &path, &file, overwrite).await?)
        }
        BlobCommand::Download {
            account_name,
            container_name,
            name,
            file,
            auth_mode,
        } => {
            let client = BlobClient::connect(data_dir, &account_name, auth_mode).await?;
            let path = path_of(&container_name, Some(&name))?;
            print_json(&download(&client, &path, &file).await?)
        }
        BlobCommand::List {
            account_name,
            container_name,
            prefix,
            auth_mode,
        } => {
            let client = BlobClient::connect(data_dir, &account_name, auth_mode).await?;
            let path = path_of(&container_name, None)?;
            let mut out = Vec::new();
            let mut marker = String::new();
            loop {
                let mut request = BlobRequest::new(Method::GET, &path)
                    .query("restype", "container")
                    .query("comp", "list");
                if !marker.is_empty() {
                    request = request.query("marker", marker.clone());
                }
                if let Some(prefix) = &prefix {
                    request = request.query("prefix", prefix.clone());
                }
                let xml = client.send(request, None).await?.text().await?;
                out.extend(xml_elements(&xml, "Blob").into_iter().map(blob_json));
                marker = xml_text(&xml, "NextMarker").unwrap_or_default();
                if marker.is_empty() {
                    break;
                }
            }
            print_json(&Value::Array(out))
        }
        BlobCommand::Delete {
            account_name,
            container_name,
            name,
            auth_mode,
        } => {
            let client = BlobClient::connect(data_dir, &account_name, auth_mode).await?;
            let path = path_of(&container_name, Some(&name))?;
            client
                .send(BlobRequest::new(Method::DELETE, &path), None)
                .await?;
            Ok(())
        }
    }
}

/// Uploads `file` to `path`: one Put Blob when it fits a block, else Put Block per 4 MiB
/// and Put Block List. Without `overwrite` the write carries `If-None-Match: *`.
async fn upload(
    client: &BlobClient,
    path: &str,
    file: &Path,
    overwrite: bool,
) -> anyhow::Result<Value> {
    let mut reader = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let size = reader.metadata().await?.len();
    let mut progress = Progress::new("Uploading", size);
    if size <= SINGLE_PUT_MAX {
        let mut body = Vec::with_capacity(size as usize);
        reader.read_to_end(&mut body).await?;
        if body.len() as u64 != size {
            bail!("{} changed size while being read", file.display());
        }
        let request = condition(
            BlobRequest::new(Method::PUT, path).header("x-ms-blob-type", "BlockBlob"),
            overwrite,
        );
        let response = client.send(request, Some(body)).await?;
        progress.add(size);
        progress.finish();
        return Ok(upload_json(&response));
    }
    let mut ids = Vec::new();
    let mut sent = 0u64;
    loop {
        let block = read_block(&mut reader).await?;
        if block.is_empty() {
            break;
        }
        let length = block.len() as u64;
        let id = STANDARD.encode(format!("{:08}", ids.len()));
        let request = BlobRequest::new(Method::PUT, path)
            .query("comp", "block")
            .query("blockid", id.clone());
        client.send(request, Some(block)).await?;
        ids.push(id);
        sent += length;
        progress.add(length);
    }
    if sent != size {
        bail!("{} changed size while being read", file.display());
    }
    let mut list = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for id in &ids {
        list.push_str("<Latest>");
        list.push_str(id);
        list.push_str("</Latest>");
    }
    list.push_str("</BlockList>");
    let request = condition(
        BlobRequest::new(Method::PUT, path)
            .query("comp", "blocklist")
            .header("Content-Type", "application/xml"),
        overwrite,
    );
    let response = client.send(request, Some(list.into_bytes())).await?;
    progress.finish();
    Ok(upload_json(&response))
}

/// `request`, with `If-None-Match: *` unless `overwrite`.
fn condition(request: BlobRequest<'_>, overwrite: bool) -> BlobRequest<'_> {
    if overwrite {
        request
    } else {
        request.header("If-None-Match", "*")
    }
}

/// Reads up to one block from `reader` (less only at the end of the file).
async fn read_block(reader: &mut tokio::fs::File) -> anyhow::Result<Vec<u8>> {
    let mut block = vec![0u8; BLOCK_SIZE];
    let mut filled = 0;
    while filled < BLOCK_SIZE {
        let n = reader.read(&mut block[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    block.truncate(filled);
    Ok(block)
}

/// What az prints after an upload.
fn upload_json(response: &reqwest::Response) -> Value {
    json!({
        "etag": header_json(response, "etag"),
        "lastModified": header_json(response, "last-modified"),
        "request_server_encrypted": response
            .headers()
            .get("x-ms-request-server-encrypted")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true"),
        "version": header_json(response, "x-ms-version"),
    })
}

/// Downloads `path` into `file`, written as it arrives.
async fn download(client: &BlobClient, path: &str, file: &Path) -> anyhow::Result<Value> {
    let mut response = client
        .send(BlobRequest::new(Method::GET, path), None)
        .await?;
    let total = response.content_length().unwrap_or(0);
    let mut out = tokio::fs::File::create(file)
        .await
        .with_context(|| format!("cannot create {}", file.display()))?;
    let mut progress = Progress::new("Downloading", total);
    let mut written = 0u64;
    while let Some(chunk) = response.chunk().await? {
        out.write_all(&chunk).await?;
        written += chunk.len() as u64;
        progress.add(chunk.len() as u64);
    }
    out.flush().await?;
    progress.finish();
    if response.content_length().is_some() && written != total {
        bail!("the download ended after {written} of {total} bytes");
    }
    Ok(json!({
        "container": Value::Null,
        "content": "",
        "name": path.rsplit('/').next(),
        "properties": {
            "contentLength": written,
            "etag": header_json(&response, "etag"),
            "lastModified": header_json(&response, "last-modified"),
            "contentSettings": {
                "contentType": header_json(&response, "content-type"),
                "contentMd5": header_json(&response, "content-md5"),
            },
        },
    }))
}

/// One `<Blob>` of List Blobs as az prints it.
fn blob_json(xml: &str) -> Value {
    let text = |tag: &str| xml_text(xml, tag).map_or(Value::Null, Value::String);
    let length = xml_text(xml, "Content-Length")
        .and_then(|l| l.parse::<u64>().ok())
        .map_or(Value::Null, Value::from);
    json!({
        "name": text("Name"),
        "properties": {
            "blobType": text("BlobType"),
            "contentLength": length,
            "contentSettings": {
                "contentType": text("Content-Type"),
                "contentMd5": text("Content-MD5"),
            },
            "creationTime": text("Creation-Time"),
            "etag": text("Etag"),
            "lastModified": text("Last-Modified"),
        },
    })
}
