//! Typed configuration: defaults, then an optional TOML file, then what the command line or
//! the environment says (the binary applies those). Unknown keys are rejected so a typo
//! never passes silently.
//!
//! ```toml
//! listen = "127.0.0.1:8443"
//! demo = true
//! blob-listen = "127.0.0.1:10000"   # optional: Azurite's drop-in listener
//! [names]
//! login = ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"]
//! management = ["management.azure.com", "management.core.windows.net"]
//! graph = ["graph.microsoft.com"]
//! vault-suffix = "vault.azure.net"
//! blob-suffix = "blob.core.windows.net"
//! datalake-suffix = "azuredatalakestore.net"
//! [tokens]
//! app-lifetime-seconds = 3599
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `azlite up` needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Where the store, the CA and `connection.json` live. Not read from the file (the file
    /// lives in it); set by `--data-dir` / `AZLITE_DATA_DIR`.
    #[serde(skip)]
    pub data_dir: PathBuf,
    /// The HTTPS listener (port 0 picks a free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Host names azlite answers to.
    #[serde(default)]
    pub names: HostNames,
    /// Token settings.
    #[serde(default)]
    pub tokens: TokenSettings,
    /// Create the demo group and VM (with its on-VM endpoints) on the first start.
    #[serde(default = "default_demo")]
    pub demo: bool,
    /// Make the demo VM an Azure Arc machine too: the directory where its Arc endpoint
    /// writes the one-time key files its 401 challenge names (clients insist on
    /// `/var/opt/azcmagent/tokens`). Off when absent.
    #[serde(default)]
    pub arc_key_directory: Option<PathBuf>,
    /// Azurite's drop-in: a plain-HTTP listener serving the development account
    /// `devstoreaccount1` path-style (e.g. `127.0.0.1:10000`). Off when absent; when set,
    /// the account is made at start (`azlite_arm::DEVELOPMENT_ACCOUNT`).
    #[serde(default)]
    pub blob_listen: Option<SocketAddr>,
    /// When unreferenced content is removed while azlite runs. Not read from the file:
    /// the defaults, which tests shorten.
    #[serde(skip)]
    pub content_sweep: crate::SweepTiming,
}

/// The host names (and suffixes) of the services, as Azure names them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HostNames {
    /// Entra's authority hosts.
    #[serde(default = "default_login")]
    pub login: Vec<String>,
    /// ARM's hosts.
    #[serde(default = "default_management")]
    pub management: Vec<String>,
    /// Microsoft Graph's hosts.
    #[serde(default = "default_graph")]
    pub graph: Vec<String>,
    /// Key Vault: `<vault>.<suffix>`.
    #[serde(default = "default_vault")]
    pub vault_suffix: String,
    /// Blob Storage: `<account>.<suffix>`.
    #[serde(default = "default_blob")]
    pub blob_suffix: String,
    /// Data Lake Store Gen1: `<store>.<suffix>`.
    #[serde(default = "default_datalake")]
    pub datalake_suffix: String,
}

/// Token lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TokenSettings {
    /// Lifetime of tokens issued to applications, in seconds.
    #[serde(default = "default_app_lifetime")]
    pub app_lifetime_seconds: i64,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8443))
}
fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}
fn default_login() -> Vec<String> {
    strings(&[
        "login.microsoftonline.com",
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
    ])
}
fn default_management() -> Vec<String> {
    strings(&["management.azure.com", "management.core.windows.net"])
}
fn default_graph() -> Vec<String> {
    strings(&["graph.microsoft.com"])
}
fn default_vault() -> String {
    "vault.azure.net".to_owned()
}
fn default_blob() -> String {
    "blob.core.windows.net".to_owned()
}
fn default_datalake() -> String {
    "azuredatalakestore.net".to_owned()
}
fn default_demo() -> bool {
    true
}
fn default_app_lifetime() -> i64 {
    3599
}

impl Default for HostNames {
    fn default() -> Self {
        Self {
            login: default_login(),
            management: default_management(),
            graph: default_graph(),
            vault_suffix: default_vault(),
            blob_suffix: default_blob(),
            datalake_suffix: default_datalake(),
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            app_lifetime_seconds: default_app_lifetime(),
        }
    }
}

/// The configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema (unknown keys included).
    #[error("invalid configuration in {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's explanation.
        message: String,
    },
}

impl Config {
    /// The defaults, with the given data directory.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen: default_listen(),
            names: HostNames::default(),
            tokens: TokenSettings::default(),
            demo: default_demo(),
            arc_key_directory: None,
            blob_listen: None,
            content_sweep: crate::SweepTiming::default(),
        }
    }

    /// Reads `file` (TOML) over the defaults.
    pub fn from_file(data_dir: impl Into<PathBuf>, file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            path: file.to_owned(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: file.to_owned(),
            message: e.to_string(),
        })?;
        config.data_dir = data_dir.into();
        Ok(config)
    }

    /// The names the TLS certificate must cover.
    pub fn certificate_names(&self) -> Vec<String> {
        let n = &self.names;
        let mut names: Vec<String> = n
            .login
            .iter()
            .chain(&n.management)
            .chain(&n.graph)
            .cloned()
            .collect();
        for suffix in [&n.vault_suffix, &n.blob_suffix, &n.datalake_suffix] {
            names.push(format!("*.{suffix}"));
        }
        names.extend(strings(&["localhost", "127.0.0.1", "::1"]));
        let ip = self.listen.ip();
        if !ip.is_loopback() && !ip.is_unspecified() {
            names.push(ip.to_string());
        }
        names
    }
}

/// The default data directory: `$XDG_DATA_HOME/azlite`, else `~/.local/share/azlite`.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("azlite"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/azlite"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("azlite.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlisten_port = 1\n").unwrap();
        let err = Config::from_file(dir.path(), &file).unwrap_err();
        assert!(err.to_string().contains("listen_port"), "{err}");
    }

    #[test]
    fn file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("azlite.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:0\"\n[names]\nvault-suffix = \"vault.local\"\n",
        )
        .unwrap();
        let config = Config::from_file(dir.path(), &file).unwrap();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.names.vault_suffix, "vault.local");
        assert_eq!(config.names.blob_suffix, "blob.core.windows.net");
        assert!(
            config
                .certificate_names()
                .contains(&"*.vault.local".to_owned())
        );
    }
}
