//! `DATA_DIR/connection.json`: how clients (the CLI, tests, scripts) find a running azlite
//! and its owner credentials. Written atomically with mode 0600 when the server is ready.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::demo::Demo;
use crate::tls::write_private;

/// Where the on-VM endpoints of the demo VM listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalEndpoints {
    /// IMDS (`/metadata/...`, also App Service's `/msi/token`).
    pub imds: std::net::SocketAddr,
    /// The VM extension and Cloud Shell endpoint (`/oauth2/token`).
    pub extension: std::net::SocketAddr,
    /// The Azure Arc endpoint, when the demo VM is also an Arc machine.
    pub arc: Option<std::net::SocketAddr>,
}

/// The contents of `connection.json`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// Base URL of the HTTPS listener, e.g. `https://127.0.0.1:8443`.
    pub https: String,
    /// The CA certificate to trust (PEM path).
    pub ca_certificate: PathBuf,
    /// The default tenant.
    pub tenant_id: String,
    /// The default subscription.
    pub subscription_id: String,
    /// The owner's client id.
    pub client_id: String,
    /// The owner's client secret.
    pub client_secret: String,
    /// The Entra authority for clients (`{https}/{tenantId}`).
    pub authority: String,
    /// The demo VM's IMDS base URL (`http://127.0.0.1:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imds: Option<String>,
    /// The demo VM's extension / Cloud Shell base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// The demo VM's Azure Arc endpoint base URL, when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arc: Option<String>,
    /// The App Service secret of the demo VM's endpoint (`IDENTITY_HEADER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_header: Option<String>,
    /// The demo resource group, VM and identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo: Option<Demo>,
}

impl std::fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("https", &self.https)
            .field("ca_certificate", &self.ca_certificate)
            .field("tenant_id", &self.tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl ConnectionInfo {
    /// The file's place in a data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("connection.json")
    }

    /// Reads the file, if it is there and well-formed.
    pub fn read(data_dir: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(Self::path(data_dir))?;
        serde_json::from_str(&text)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// Writes the file atomically, readable by its owner only.
    pub fn write(&self, data_dir: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        write_private(&Self::path(data_dir), text.as_bytes(), 0o600)
    }
}
