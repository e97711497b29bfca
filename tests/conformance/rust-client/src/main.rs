//! A small client of the real Azure SDK for Rust (`azure_identity`, `azure_core`,
//! `azure_security_keyvault_secrets`, `azure_storage_blob`), driven by the conformance suite (`test_rust_sdk.py`)
//! under `azlite run`, where 169.254.169.254:80 is a VM's IMDS and Azure's host names reach
//! azlite with its CA trusted. Every command authenticates with `ManagedIdentityCredential`
//! (IMDS at the crate's fixed address; `--client-id` picks a user-assigned identity).
//!
//!   azlite-rust-client arm-group --subscription S --group G   GET the group, print its JSON
//!   azlite-rust-client kv-set --vault-url URL --name N --value V   set a secret, print its JSON
//!   azlite-rust-client kv-get --vault-url URL --name N   print the secret's value
//!   azlite-rust-client token --resource R   print the token's claims (signature unchecked)
//!   azlite-rust-client blob-round-trip --container-url URL --blob B --data D   create the
//!       container, upload D as blob B, download it; print what came back as JSON
//!
//! Any failure: the error (and an azure_core error's kind) on stderr, exit code 1; a bad
//! command line: exit code 2.
//! Never run it outside a loopback-only network namespace: the crate talks to 169.254.169.254.

use azure_core::{
    base64,
    credentials::TokenCredential,
    http::{Method, Request, RequestContent, Url, headers::HeaderName, new_http_client},
};
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use azure_security_keyvault_secrets::{SecretClient, models::SetSecretParameters};
use azure_storage_blob::BlobContainerClient;
use std::{collections::HashMap, process::ExitCode, sync::Arc};

type Error = Box<dyn std::error::Error>;

const USAGE: &str = "usage: azlite-rust-client [--client-id ID] COMMAND
  arm-group --subscription S --group G
  kv-set --vault-url URL --name N --value V
  kv-get --vault-url URL --name N
  token --resource R
  blob-round-trip --container-url URL --blob B --data D";

#[tokio::main]
async fn main() -> ExitCode {
    let Some(args) = Args::parse(std::env::args().skip(1)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("azlite-rust-client: {error}");
            if let Some(error) = error.downcast_ref::<azure_core::Error>() {
                // e.g. `HttpResponse(NotFound, "SecretNotFound")`: the status and error code.
                eprintln!("azlite-rust-client: kind {}", error.kind());
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(mut args: Args) -> Result<(), Error> {
    let credential = credential(args.take("client-id"))?;
    match args.command.as_str() {
        "arm-group" => {
            let (subscription, group) = (args.need("subscription")?, args.need("group")?);
            let url = format!(
                "https://management.azure.com/subscriptions/{subscription}/resourceGroups/{group}?api-version=2021-04-01"
            );
            let token = credential
                .get_token(&["https://management.azure.com/.default"], None)
                .await?;
            let mut request = Request::new(Url::parse(&url)?, Method::Get);
            let bearer = format!("Bearer {}", token.token.secret());
            request.insert_header(HeaderName::from_static("authorization"), bearer);
            let response = new_http_client(None).execute_request(&request).await?;
            let status = response.status();
            let body = response.into_body().collect_string().await?;
            if !status.is_success() {
                return Err(format!("GET {url}: HTTP {}: {body}", u16::from(status)).into());
            }
            let group: serde_json::Value = serde_json::from_str(&body)?;
            println!("{}", serde_json::to_string_pretty(&group)?);
        }
        "kv-set" => {
            let client = SecretClient::new(&args.need("vault-url")?, credential, None)?;
            let parameters = SetSecretParameters {
                value: Some(args.need("value")?),
                ..Default::default()
            };
            let secret = client
                .set_secret(&args.need("name")?, parameters.try_into()?, None)
                .await?
                .into_model()?;
            println!("{}", serde_json::to_string_pretty(&secret)?);
        }
        "kv-get" => {
            let client = SecretClient::new(&args.need("vault-url")?, credential, None)?;
            let secret = client
                .get_secret(&args.need("name")?, None)
                .await?
                .into_model()?;
            println!("{}", secret.value.ok_or("the secret has no value")?);
        }
        "token" => {
            let resource = args.need("resource")?;
            let scope = format!("{}/.default", resource.trim_end_matches('/'));
            let token = credential.get_token(&[&scope], None).await?;
            let payload = token
                .token
                .secret()
                .split('.')
                .nth(1)
                .ok_or("the token is not a JWT")?;
            let claims: serde_json::Value =
                serde_json::from_slice(&base64::decode_url_safe(payload)?)?;
            println!("{}", serde_json::to_string_pretty(&claims)?);
        }
        "blob-round-trip" => {
            let container = BlobContainerClient::new(
                Url::parse(&args.need("container-url")?)?,
                Some(credential),
                None,
            )?;
            container.create(None).await?;
            let blob = container.blob_client(&args.need("blob")?);
            let data = args.need("data")?;
            blob.upload(RequestContent::from(data.into_bytes()), None)
                .await?;
            let downloaded = blob.download(None).await?;
            let body = downloaded.body.collect().await?;
            let result = serde_json::json!({
                "downloaded": String::from_utf8(body.to_vec())?,
                "exists": container.exists().await?,
            });
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
        other => return Err(format!("unknown command {other:?}\n{USAGE}").into()),
    }
    Ok(())
}

fn credential(client_id: Option<String>) -> Result<Arc<dyn TokenCredential>, Error> {
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id: client_id.map(UserAssignedId::ClientId),
        ..Default::default()
    };
    Ok(ManagedIdentityCredential::new(Some(options))?)
}

/// `COMMAND --name value ...`, options anywhere after the program name.
struct Args {
    command: String,
    options: HashMap<String, String>,
}

impl Args {
    fn parse(mut raw: impl Iterator<Item = String>) -> Option<Self> {
        let (mut command, mut options) = (None, HashMap::new());
        while let Some(arg) = raw.next() {
            match arg.strip_prefix("--") {
                Some(name) => {
                    options.insert(name.to_owned(), raw.next()?);
                }
                None if command.is_none() => command = Some(arg),
                None => return None,
            }
        }
        Some(Self {
            command: command?,
            options,
        })
    }

    fn take(&mut self, name: &str) -> Option<String> {
        self.options.remove(name)
    }

    fn need(&mut self, name: &str) -> Result<String, Error> {
        self.take(name)
            .ok_or_else(|| format!("missing --{name}\n{USAGE}").into())
    }
}
