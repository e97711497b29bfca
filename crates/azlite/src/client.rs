//! An HTTPS client of a running azlite, authenticated as the owner: finds the server through
//! `connection.json`, trusts its CA, gets tokens from its STS like any client would, and
//! calls ARM (by path on the listener) or the admin routes.

use std::path::Path;

use anyhow::{Context, bail};
use azlite_server::ConnectionInfo;
use reqwest::Method;
use serde_json::Value;

/// The api-version the CLI sends to ARM (any date-style version is accepted).
const ARM_API_VERSION: &str = "2022-09-01";

/// An authenticated client of a running azlite.
pub(crate) struct Client {
    http: reqwest::Client,
    /// What `connection.json` says.
    pub(crate) info: ConnectionInfo,
    token: String,
}

impl Client {
    /// Connects as the owner, with a token for ARM.
    pub(crate) async fn connect(data_dir: &Path) -> anyhow::Result<Self> {
        let info = ConnectionInfo::read(data_dir).with_context(|| {
            format!(
                "cannot read {}: is azlite running (`azlite up`) with this data directory?",
                ConnectionInfo::path(data_dir).display()
            )
        })?;
        let ca = std::fs::read(&info.ca_certificate).with_context(|| {
            format!(
                "cannot read the CA certificate {}",
                info.ca_certificate.display()
            )
        })?;
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .no_proxy()
            .build()?;
        let mut client = Self {
            http,
            info,
            token: String::new(),
        };
        client.token = client
            .owner_token("https://management.azure.com/.default")
            .await?;
        Ok(client)
    }

    /// A token for the owner, for `scope`.
    pub(crate) async fn owner_token(&self, scope: &str) -> anyhow::Result<String> {
        let info = &self.info;
        let response = self
            .http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                info.https, info.tenant_id
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &info.client_id),
                ("client_secret", &info.client_secret),
                ("scope", scope),
            ])
            .send()
            .await
            .with_context(|| format!("cannot reach azlite at {}: is it running?", info.https))?;
        let status = response.status();
        let body: Value = response.json().await?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| {
                format!(
                    "the owner could not get a token ({status}): {}",
                    body["error_description"]
                )
            })
    }

    /// The default subscription's id path, `/subscriptions/{id}`.
    pub(crate) fn subscription(&self) -> String {
        format!("/subscriptions/{}", self.info.subscription_id)
    }

    /// A resource group's id path.
    pub(crate) fn group(&self, name: &str) -> String {
        format!("{}/resourceGroups/{name}", self.subscription())
    }

    /// Calls ARM at `path` (an id path, with or without a query) and returns the JSON
    /// answer; `Ok(None)` for 404 when `allow_missing`.
    pub(crate) async fn arm(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = format!(
            "{}{path}{separator}api-version={ARM_API_VERSION}",
            self.info.https
        );
        self.send(method, &url, &self.token, body).await
    }

    /// Calls an admin route.
    pub(crate) async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/azlite/admin/{path}", self.info.https);
        self.send(method, &url, &self.token, body).await
    }

    /// Sends a request with `token`; an error answer becomes an error naming its code.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        send_with(&self.http, method, url, token, body).await
    }
}

/// Sends a request with `token` on `http`; the JSON answer, or an error naming the code of
/// Azure's error body (ARM, Graph and Key Vault share its shape).
pub(crate) async fn send_with(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    let value: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if !status.is_success() {
        let error = &value["error"];
        match (error["code"].as_str(), error["message"].as_str()) {
            (Some(code), Some(message)) => bail!("({code}) {message}"),
            _ => bail!("{status}: {value}"),
        }
    }
    Ok(value)
}

/// Prints a JSON value the way az does (indented). A closed pipe (`| head`) is not an error.
pub(crate) fn print_json(value: &Value) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value)?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// `az`'s flattened form of a resource: `properties` merged into the top level, plus the
/// resource group taken from the id.
pub(crate) fn flatten(resource: &Value) -> Value {
    let mut out = resource.clone();
    if let Some(object) = out.as_object_mut()
        && let Some(Value::Object(properties)) = object.remove("properties")
    {
        for (key, value) in properties {
            object.entry(key).or_insert(value);
        }
    }
    with_resource_group(&out)
}

/// A resource as az prints the ones it does not flatten (`az keyvault show`): as ARM answered,
/// plus the resource group taken from the id.
pub(crate) fn with_resource_group(resource: &Value) -> Value {
    let mut out = resource.clone();
    if let Some(object) = out.as_object_mut() {
        let group = object.get("id").and_then(Value::as_str).and_then(|id| {
            let parts: Vec<&str> = id.split('/').collect();
            let i = parts
                .iter()
                .position(|p| p.eq_ignore_ascii_case("resourceGroups"))?;
            parts.get(i + 1).map(|g| (*g).to_owned())
        });
        if let Some(group) = group {
            object.insert("resourceGroup".to_owned(), Value::String(group));
        }
    }
    out
}

/// A list answer's `value`, each item [`flatten`]ed.
pub(crate) fn flatten_list(list: &Value) -> Value {
    Value::Array(
        list["value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(flatten)
            .collect(),
    )
}
