//! The CLI's Blob data-plane client: HTTPS to `https://<account>.blob.core.windows.net` (the
//! name resolved to azlite's listener, azlite's CA trusted), authenticated as `az storage`
//! does with `--auth-mode key` (the account key fetched through ARM `listKeys` as the owner,
//! every request signed with Shared Key) or `--auth-mode login` (the owner's token for
//! `https://storage.azure.com`, which, as in Azure, needs a Storage Blob Data role).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, bail};
use azlite_storage_auth::AccountKey;
use azlite_storage_auth::shared_key::{self, SharedKeyScheme, SignedRequest};
use clap::ValueEnum;
use reqwest::{Method, Response};
use serde_json::Value;

use crate::client::Client;

/// The `x-ms-version` the CLI sends (what az 2.6x sends).
pub(crate) const X_MS_VERSION: &str = "2021-08-06";
/// The token scope of Azure Storage.
const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// The blob endpoints' host suffix.
const BLOB_SUFFIX: &str = "blob.core.windows.net";

/// How the CLI authenticates to the Blob service (az's `--auth-mode`).
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub(crate) enum AuthMode {
    /// Shared Key with the account's key1, fetched through ARM `listKeys` as the owner.
    #[default]
    Key,
    /// The owner's Microsoft Entra token; needs a Storage Blob Data role on the account.
    Login,
}

/// How requests are authenticated.
enum Credential {
    Key(AccountKey),
    Bearer(String),
}

/// A connection to one account's Blob service.
pub(crate) struct BlobClient {
    http: reqwest::Client,
    base: String,
    account: String,
    credential: Credential,
    mode: AuthMode,
}

/// A request to send: method, percent-encoded path, decoded query pairs, extra headers.
pub(crate) struct BlobRequest<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) query: Vec<(&'a str, String)>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl<'a> BlobRequest<'a> {
    /// A request without query or headers.
    pub(crate) fn new(method: Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a query parameter (decoded value).
    pub(crate) fn query(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl BlobClient {
    /// Connects to `account`'s Blob service as the owner, with `mode`'s credential.
    pub(crate) async fn connect(
        data_dir: &Path,
        account: &str,
        mode: AuthMode,
    ) -> anyhow::Result<Self> {
        let client = Client::connect(data_dir).await?;
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
        let account = account.to_ascii_lowercase();
        let host = format!("{account}.{BLOB_SUFFIX}");
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .no_proxy()
            .resolve(&host, addr)
            .build()?;
        let credential = match mode {
            AuthMode::Key => {
                let path = crate::storage_account::account_path(&client, &account, None).await?;
                let answer = client
                    .arm(Method::POST, &format!("{path}/listKeys"), None)
                    .await?;
                let key = answer["keys"][0]["value"]
                    .as_str()
                    .and_then(AccountKey::from_base64)
                    .context("listKeys answered no usable key1")?;
                Credential::Key(key)
            }
            AuthMode::Login => Credential::Bearer(client.owner_token(STORAGE_SCOPE).await?),
        };
        Ok(Self {
            http,
            base: format!("https://{host}:{}", addr.port()),
            account,
            credential,
            mode,
        })
    }

    /// Sends `request` with `body` (at most one block, so bounded); the answer when it is a
    /// success, else an error naming Azure's error code and message.
    pub(crate) async fn send(
        &self,
        request: BlobRequest<'_>,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Response> {
        let date = azlite_storage_auth::format_rfc1123(time::OffsetDateTime::now_utc());
        let mut headers: Vec<(&str, String)> = vec![
            ("x-ms-date", date),
            ("x-ms-version", X_MS_VERSION.to_owned()),
        ];
        headers.extend(request.headers.iter().map(|(n, v)| (*n, v.clone())));
        let length = body.as_ref().map_or(0, Vec::len);
        let mut url = format!("{}{}", self.base, request.path);
        for (i, (name, value)) in request.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            url.push_str(&encode(value, false));
        }
        let authorization = match &self.credential {
            Credential::Bearer(token) => format!("Bearer {token}"),
            Credential::Key(key) => {
                let mut signed: Vec<(&str, &str)> =
                    headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                let length_text = length.to_string();
                if length > 0 {
                    signed.push(("Content-Length", &length_text));
                }
                let query: Vec<(String, String)> = request
                    .query
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), v.clone()))
                    .collect();
                let signed = SignedRequest {
                    method: request.method.as_str(),
                    account: &self.account,
                    path: request.path,
                    query: &query,
                    headers: &signed,
                };
                shared_key::sign(SharedKeyScheme::SharedKey, &signed, key)
            }
        };
        let mut builder = self
            .http
            .request(request.method.clone(), &url)
            .header("Authorization", authorization);
        for (name, value) in &headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let response = builder
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.error(response).await)
    }

    /// An error answer as an error naming Azure's code and message, with the hint that
    /// `--auth-mode login` needs a data role.
    async fn error(&self, response: Response) -> anyhow::Error {
        let status = response.status();
        let code = response
            .headers()
            .get("x-ms-error-code")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let code = code
            .or_else(|| xml_text(&text, "Code"))
            .unwrap_or_else(|| status.to_string());
        let message = xml_text(&text, "Message")
            .map(|m| m.lines().next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        let mut error = format!("({code}) {message}");
        if matches!(self.mode, AuthMode::Login) && code == "AuthorizationPermissionMismatch" {
            error.push_str(
                "\n--auth-mode login uses the owner's Microsoft Entra token, and, as in Azure, \
                 data access needs a data role even for the subscription's Owner: assign \
                 'Storage Blob Data Contributor' (or Reader/Owner) on the account, e.g. \
                 `azlite role assignment create --role \"Storage Blob Data Contributor\" \
                 --assignee <owner> --scope <account id>`, or use --auth-mode key.",
            );
        }
        anyhow::anyhow!(error)
    }
}

/// The percent-encoded form of a container or blob name (`/` kept when `keep_slash`).
pub(crate) fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The URL path of a container, or of a blob in it.
pub(crate) fn path_of(container: &str, blob: Option<&str>) -> anyhow::Result<String> {
    if container.is_empty() {
        bail!("the container name (-c/--container-name) is empty");
    }
    Ok(match blob {
        Some(blob) => format!("/{}/{}", encode(container, false), encode(blob, true)),
        None => format!("/{}", encode(container, false)),
    })
}

/// The text of the first `<tag>…</tag>` in `xml`, entities decoded.
pub(crate) fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(unescape(&xml[start..end]))
}

/// Every `<tag>…</tag>` element's inner text in `xml`, in order.
pub(crate) fn xml_elements<'x>(xml: &'x str, tag: &str) -> Vec<&'x str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

/// XML's five entities and numeric references, decoded.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find(';') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let entity = &after[..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..=i + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A header of `response` as a JSON string (null when absent).
pub(crate) fn header_json(response: &Response, name: &str) -> Value {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map_or(Value::Null, |v| Value::String(v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_names() {
        assert_eq!(encode("a b/c", true), "a%20b/c");
        assert_eq!(encode("a b/c", false), "a%20b%2Fc");
        assert_eq!(encode("é", true), "%C3%A9");
    }

    #[test]
    fn reads_xml() {
        let xml = "<R><Name>a&amp;b</Name><Blob><Name>x</Name></Blob><Blob><Name>y&#x41;</Name></Blob></R>";
        assert_eq!(xml_text(xml, "Name").as_deref(), Some("a&b"));
        let blobs = xml_elements(xml, "Blob");
        assert_eq!(blobs.len(), 2);
        assert_eq!(xml_text(blobs[1], "Name").as_deref(), Some("yA"));
        assert_eq!(xml_text(xml, "Missing"), None);
    }
}
