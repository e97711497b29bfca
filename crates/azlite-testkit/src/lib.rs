//! Start a whole azlite in-process for tests: a temporary data directory, a listener on an
//! ephemeral loopback port, and an HTTPS client that trusts azlite's CA.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let cloud = azlite_testkit::TestCloud::start().await?;
//! let token = cloud.owner_token("https://management.azure.com/.default").await?;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use azlite_server::{Cloud, Config, ConnectionInfo};
use serde_json::Value;
use tokio::sync::oneshot;

/// A running azlite and a client for it. Dropping it stops the server.
pub struct TestCloud {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// What `connection.json` says.
    pub info: ConnectionInfo,
    /// A client that trusts the local CA and never uses a proxy.
    pub http: reqwest::Client,
    /// The token service, for tests that need to look inside.
    pub sts: Arc<azlite_sts::Sts>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    data_dir: tempfile::TempDir,
}

impl TestCloud {
    /// Starts azlite on a fresh data directory.
    pub async fn start() -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir()?;
        Self::start_in(data_dir).await
    }

    /// Starts azlite on an existing data directory (to test restarts).
    pub async fn start_in(data_dir: tempfile::TempDir) -> anyhow::Result<Self> {
        let mut config = Config::with_data_dir(data_dir.path());
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        // Tests make what they need; the demo VM would be one more group in every list.
        config.demo = false;
        let cloud = Cloud::open(config).await?;
        let listener = tokio::net::TcpListener::bind(cloud.config().listen).await?;
        let addr = listener.local_addr()?;
        let info = cloud.write_connection_file(addr, None)?;
        let sts = cloud.sts().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(cloud.serve(listener, async {
            let _ = stopped.await;
        }));
        let ca = std::fs::read(&info.ca_certificate)?;
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .no_proxy()
            .build()?;
        Ok(Self {
            addr,
            info,
            http,
            sts,
            stop: Some(stop),
            server: Some(server),
            data_dir,
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// `https://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.info.https)
    }

    /// Stops the server and hands back its data directory, for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown().await;
        let placeholder = tempfile::tempdir().expect("a temporary directory");
        std::mem::replace(&mut self.data_dir, placeholder)
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Posts a v2 client-credentials request; returns status and JSON body.
    pub async fn token_request(
        &self,
        tenant: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .post(self.url(&format!("/{tenant}/oauth2/v2.0/token")))
            .form(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// A token for the owner service principal, for `scope`.
    pub async fn owner_token(&self, scope: &str) -> anyhow::Result<String> {
        let (status, body) = self
            .token_request(
                &self.info.tenant_id,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.info.client_id),
                    ("client_secret", &self.info.client_secret),
                    ("scope", scope),
                ],
            )
            .await?;
        anyhow::ensure!(status == 200, "owner token refused: {body}");
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("no access_token")
    }
}

impl Drop for TestCloud {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
