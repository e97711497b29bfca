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

/// The `oid` claim of a token azlite issued (read, not verified: the test holds the token).
pub fn oid(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims");
    claims["oid"].as_str().expect("an oid").to_owned()
}

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
    /// The store, for tests that write what no API makes yet (or look inside).
    pub store: Arc<dyn azlite_store::Store>,
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
        Self::start_with(data_dir, |_| {}).await
    }

    /// Starts azlite on `data_dir` with the test defaults changed by `configure`.
    pub async fn start_with(
        data_dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let mut config = Config::with_data_dir(data_dir.path());
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        // Tests make what they need; the demo VM would be one more group in every list.
        config.demo = false;
        configure(&mut config);
        let cloud = Cloud::open(config).await?;
        let listener = tokio::net::TcpListener::bind(cloud.config().listen).await?;
        let addr = listener.local_addr()?;
        // As `azlite up`: started once the content directory is swept too.
        cloud.content_swept().await;
        let info = cloud.write_connection_file(addr, None)?;
        let sts = cloud.sts().clone();
        let store = cloud.store().clone();
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
            store,
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

    /// A v1 token for the owner service principal, for `resource` (as sent: the audience is
    /// the resource exactly, trailing slash and all).
    pub async fn owner_v1_token(&self, resource: &str) -> anyhow::Result<String> {
        let response = self
            .http
            .post(self.url(&format!("/{}/oauth2/token", self.info.tenant_id)))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.info.client_id.as_str()),
                ("client_secret", self.info.client_secret.as_str()),
                ("resource", resource),
            ])
            .send()
            .await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await?;
        anyhow::ensure!(status == 200, "owner v1 token refused: {body}");
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("no access_token")
    }
}

/// A service principal made for a test, with a token for ARM.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Its app (client) id.
    pub app_id: String,
    /// Its object (principal) id.
    pub object_id: String,
    /// A token for ARM.
    pub token: String,
}

/// The scope of an ARM token.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

impl TestCloud {
    /// A token for ARM, as the owner.
    pub async fn owner_arm_token(&self) -> String {
        self.owner_token(ARM_SCOPE)
            .await
            .expect("the owner gets a token")
    }

    /// Calls ARM by path with `token`; returns the status and the JSON body (null if none).
    pub async fn arm(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        api_version: &str,
    ) -> (u16, Value) {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = self.url(&format!("{path}{separator}api-version={api_version}"));
        let method = method.parse().expect("an HTTP method");
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("azlite answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Registers an application with a secret (through the admin route) and gets it a token
    /// for ARM.
    pub async fn new_principal(&self, name: &str) -> Principal {
        let owner = self.owner_arm_token().await;
        let app: Value = self
            .http
            .post(self.url("/azlite/admin/applications"))
            .bearer_auth(&owner)
            .json(&serde_json::json!({ "displayName": name, "password": true }))
            .send()
            .await
            .expect("azlite answers")
            .json()
            .await
            .expect("JSON");
        let app_id = app["appId"].as_str().expect("an appId").to_owned();
        let secret = app["password"].as_str().expect("a password");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", app_id.as_str()),
            ("client_secret", secret),
            ("scope", ARM_SCOPE),
        ];
        let (status, body) = self
            .token_request(&self.info.tenant_id, &form)
            .await
            .expect("the STS answers");
        assert_eq!(status, 200, "{body}");
        Principal {
            app_id,
            object_id: app["servicePrincipalObjectId"]
                .as_str()
                .expect("an object id")
                .to_owned(),
            token: body["access_token"].as_str().expect("a token").to_owned(),
        }
    }

    /// Gives `principal` the role with GUID `role` at `scope`, as the owner; panics unless
    /// ARM answers 201.
    pub async fn assign_role(&self, scope: &str, role: &str, principal: &str) {
        let body = serde_json::json!({ "properties": {
            "roleDefinitionId": format!(
                "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                self.info.subscription_id
            ),
            "principalId": principal,
        }});
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
            uuid::Uuid::new_v4()
        );
        let owner = self.owner_arm_token().await;
        let (status, answer) = self
            .arm(&owner, "PUT", &path, Some(body), "2022-04-01")
            .await;
        assert_eq!(status, 201, "{answer}");
    }

    /// The owner's object id.
    pub async fn owner_object_id(&self) -> String {
        oid(&self.owner_arm_token().await)
    }

    /// A client that trusts the local CA, never uses a proxy, follows no redirect, and
    /// reaches `host` (e.g. `acct.blob.core.windows.net`) at this server.
    pub fn client_for(&self, host: &str) -> reqwest::Client {
        let ca = std::fs::read(&self.info.ca_certificate).expect("the CA certificate");
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("a PEM certificate")])
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(host, self.addr)
            .build()
            .expect("a client")
    }

    /// Makes (as the owner) the resource group `group` of the default subscription, unless
    /// it exists, and a StorageV2 Standard_LRS account `name` in it; answers the account's
    /// id path. Panics unless ARM takes both.
    pub async fn storage_account(&self, group: &str, name: &str) -> String {
        let owner = self.owner_arm_token().await;
        let group = self.group_path(group);
        let body = serde_json::json!({ "location": "eastus" });
        let (status, answer) = self
            .arm(&owner, "PUT", &group, Some(body), "2021-04-01")
            .await;
        assert!(status == 200 || status == 201, "{answer}");
        let path = format!("{group}/providers/Microsoft.Storage/storageAccounts/{name}");
        let body = serde_json::json!({
            "location": "eastus", "sku": { "name": "Standard_LRS" }, "kind": "StorageV2",
        });
        let (status, answer) = self
            .arm(&owner, "PUT", &path, Some(body), "2023-05-01")
            .await;
        assert_eq!(status, 200, "{answer}");
        path
    }

    /// The id path of a resource group of the default subscription.
    pub fn group_path(&self, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{name}",
            self.info.subscription_id
        )
    }
}

impl Drop for TestCloud {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
