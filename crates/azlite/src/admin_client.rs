//! A small HTTPS client for a running azlite: finds it through `connection.json`, trusts its
//! CA, and authenticates as the owner through the STS like any client would.

use std::path::Path;

use anyhow::Context;
use azlite_server::ConnectionInfo;
use serde_json::Value;

/// An authenticated client of a running azlite.
pub(crate) struct AdminClient {
    http: reqwest::Client,
    info: ConnectionInfo,
    token: String,
}

impl AdminClient {
    /// Connects as the owner.
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
        let response = http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                info.https, info.tenant_id
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &info.client_id),
                ("client_secret", &info.client_secret),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .await
            .with_context(|| format!("cannot reach azlite at {}: is it running?", info.https))?;
        let status = response.status();
        let body: Value = response.json().await?;
        let token = body["access_token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| {
                format!(
                    "the owner could not get a token ({status}): {}",
                    body["error_description"]
                )
            })?;
        Ok(Self { http, info, token })
    }

    /// Sends a request to an admin route and returns the JSON answer, or the error message.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}/azlite/admin/{path}", self.info.https))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            anyhow::bail!(
                "{status}: {}",
                body["error"]["message"].as_str().unwrap_or("no details")
            );
        }
        Ok(body)
    }
}
