//! The composition root: configuration → store → clock → services → one TLS listener.
//!
//! Architecture Invariant: this is the only crate that names a concrete storage backend
//! ([`azlite_store::SqliteStore`]) and that knows how the services are wired together.
//!
//! Start-up is two steps so that tests and the binary share it: [`Cloud::open`] prepares
//! everything (store, keys, certificates, bootstrap objects), and [`Cloud::serve`] takes a
//! listener that is already bound (port 0 in tests) and a shutdown future.

mod admin;
pub mod config;
mod connection;
mod content;
mod content_sweep;
pub mod data_dir;
mod demo;
pub mod hosts;
pub mod sandbox;
mod serve;
mod startup;
pub mod tls;
mod vault_key;
mod vm_endpoints;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use azlite_arm::{Arm, ArmConfig, ArmOpenError};
use azlite_graph::{Graph, GraphConfig};
use azlite_store::{SqliteStore, Store, StoreError};
use azlite_sts::{Bootstrap, ResourceSuffixes, Sts, StsConfig, StsError};
use azlite_types::{Clock, OffsetClock};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use admin::PeerAddr;
pub use azlite_arm::{DEVELOPMENT_ACCOUNT, DEVELOPMENT_KEY};
pub use config::{Config, ConfigError, default_data_dir};
pub use connection::{ConnectionInfo, LocalEndpoints};
pub use content_sweep::SweepTiming;
pub use data_dir::DataDirError;
pub use demo::{Demo, DemoError};
pub use tls::{LocalCa, TlsError};
pub use vault_key::VaultKeyError;
pub use vm_endpoints::{VmEndpoints, VmEndpointsError, open_vm_endpoints};

/// Why azlite could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be made private (0700, its private files 0600).
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The store could not be opened.
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    /// The token service could not start.
    #[error("cannot start the token service")]
    Sts(#[from] StsError),
    /// ARM could not start.
    #[error("cannot start the resource manager")]
    Arm(#[from] ArmOpenError),
    /// The demo VM could not be made.
    #[error(transparent)]
    Demo(#[from] DemoError),
    /// The key that seals Key Vault's secret values could not be loaded or made.
    #[error(transparent)]
    VaultKey(#[from] VaultKeyError),
    /// The CA or the server certificate failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The development storage account of `blob_listen` could not be made.
    #[error("cannot create the development storage account: {0}")]
    DevelopmentAccount(azlite_arm::ArmError),
    /// The content directory (file and blob bytes) could not be opened or swept.
    #[error("cannot open the content directory")]
    Content(#[from] azlite_content::ContentError),
    /// `connection.json` could not be written.
    #[error("cannot write {path}")]
    ConnectionFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A prepared azlite: everything but the listener.
pub struct Cloud {
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<OffsetClock>,
    sts: Arc<Sts>,
    arm: Arc<Arm>,
    graph: Arc<Graph>,
    keyvault: Arc<azlite_keyvault::KeyVault>,
    datalake: Arc<azlite_datalake::DataLake>,
    blob: Arc<azlite_blob::Blob>,
    /// Every service's extents (the sweep removes those nothing references).
    content: Arc<dyn azlite_content::ExtentStore>,
    imds: Option<Arc<azlite_imds::Imds>>,
    demo: Option<Demo>,
    bootstrap: Arc<Bootstrap>,
    owner_secret: String,
    ca: LocalCa,
    acceptor: TlsAcceptor,
    content_swept: tokio::sync::watch::Receiver<bool>,
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cloud")
            .field("config", &self.config)
            .field("ca", &self.ca)
            .finish()
    }
}

impl Cloud {
    /// Opens the data directory (creating what a first start needs) and prepares every
    /// service.
    pub async fn open(config: Config) -> Result<Self, StartError> {
        let mut steps = startup::Steps::start();
        let dir = config.data_dir.clone();
        data_dir::prepare(&dir)?;
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.join(data_dir::DATABASE_FILE)).await?);
        // SQLite made the WAL and shared-memory files with the database's mode; the store key
        // was made 0600. Checked, not assumed.
        data_dir::prepare_after_open(&dir)?;
        steps.done("store open (migrations, store key)");
        let offset = store
            .get_setting(admin::CLOCK_OFFSET_SETTING)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let clock = Arc::new(OffsetClock::new(offset));
        let sts_config = StsConfig {
            app_token_lifetime: config.tokens.app_lifetime_seconds,
            resource_suffixes: ResourceSuffixes {
                storage: vec![config.names.blob_suffix.clone()],
            },
            ..StsConfig::default()
        };
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let sts = Arc::new(Sts::open(store.clone(), dyn_clock.clone(), sts_config).await?);
        steps.done("signing keys");
        let bootstrap = azlite_sts::bootstrap(store.as_ref(), clock.now()).await?;
        let owner_secret = owner_secret(&dir, &store, &bootstrap, clock.now()).await?;
        steps.done("bootstrap objects");
        let arm_config = ArmConfig {
            login_host: config.names.login.first().cloned().unwrap_or_default(),
            management_host: config.names.management.first().cloned().unwrap_or_default(),
            graph_host: config.names.graph.first().cloned().unwrap_or_default(),
            storage_suffix: config
                .names
                .blob_suffix
                .strip_prefix("blob.")
                .unwrap_or(&config.names.blob_suffix)
                .to_owned(),
            vault_suffix: config.names.vault_suffix.clone(),
            datalake_suffix: config.names.datalake_suffix.clone(),
        };
        let keys: Arc<dyn azlite_token::KeySource> = sts.clone();
        let owners = [(bootstrap.owner.object_id, bootstrap.subscription.id)];
        // The owner administers the directory through Graph, as it owns the subscription.
        let graph = Arc::new(Graph::new(
            store.clone(),
            keys.clone(),
            dyn_clock.clone(),
            GraphConfig {
                administrators: [bootstrap.owner.object_id].into(),
            },
        ));
        let arm =
            Arc::new(Arm::open(store.clone(), keys, dyn_clock.clone(), arm_config, &owners).await?);
        steps.done("role assignment index");
        let keyvault = Arc::new(azlite_keyvault::KeyVault::new(
            store.clone(),
            sts.clone(),
            dyn_clock.clone(),
            arm.clone(),
            vault_key::load_or_create(&dir)?,
            azlite_keyvault::KeyVaultConfig {
                vault_suffix: config.names.vault_suffix.clone(),
                // Clients reach vaults by Azure's host names, so they reach the STS by
                // Entra's: the challenge names the first login host.
                authority: format!(
                    "https://{}",
                    config
                        .names
                        .login
                        .first()
                        .map_or("login.microsoftonline.com", |h| h)
                ),
            },
        ));
        steps.done("key vault key");
        let (content, content_swept) = content::open(&dir, store.clone())?;
        steps.done("content directory");
        let datalake = Arc::new(azlite_datalake::DataLake::new(
            store.clone(),
            sts.clone(),
            dyn_clock.clone(),
            arm.clone(),
            azlite_datalake::Extents::new(content.clone()),
        ));
        let blob = Arc::new(
            azlite_blob::Blob::new(
                store.clone(),
                content.clone(),
                sts.clone(),
                dyn_clock.clone(),
                arm.clone(),
                azlite_blob::BlobConfig {
                    blob_suffix: config.names.blob_suffix.clone(),
                    authority: format!(
                        "https://{}",
                        config
                            .names
                            .login
                            .first()
                            .map_or("login.microsoftonline.com", |h| h)
                    ),
                },
            )
            .with_user_delegation_secret(&vault_key::load_or_create_secret(
                &dir,
                vault_key::USER_DELEGATION_KEY_FILE,
            )?),
        );
        if config.blob_listen.is_some() {
            arm.ensure_development_account(bootstrap.subscription.id)
                .await
                .map_err(StartError::DevelopmentAccount)?;
        }
        steps.done("blob");
        let demo = if config.demo {
            let arm_router = arm.clone().router();
            demo::ensure_demo(store.as_ref(), &sts, arm_router, &bootstrap, &owner_secret).await?
        } else {
            None
        };
        let imds = match &demo {
            Some(demo) => {
                let vm: azlite_types::ResourceId =
                    demo.vm_id
                        .parse()
                        .map_err(|e: azlite_types::ResourceIdError| {
                            StartError::Demo(DemoError::invalid_vm_id(e.to_string()))
                        })?;
                let tokens: Arc<dyn azlite_token::ManagedIdentityTokens> = sts.clone();
                let source = Arc::new(azlite_imds::StoreVmIdentities::new(store.clone()));
                let clock = dyn_clock.clone();
                let mut imds_config = azlite_imds::ImdsConfig::new(vm);
                imds_config.arc_key_directory = config.arc_key_directory.clone();
                Some(Arc::new(azlite_imds::Imds::new(
                    imds_config,
                    source,
                    tokens,
                    clock,
                )))
            }
            None => None,
        };
        steps.done("demo VM");
        let ca = LocalCa::load_or_create(&dir)?;
        steps.done("local CA");
        let acceptor = TlsAcceptor::from(ca.server_config(&config.certificate_names())?);
        steps.done("server certificate");
        Ok(Self {
            config,
            store,
            clock,
            sts,
            arm,
            graph,
            keyvault,
            datalake,
            blob,
            content,
            imds,
            demo,
            bootstrap: Arc::new(bootstrap),
            owner_secret,
            ca,
            acceptor,
            content_swept,
        })
    }

    /// Resolves once the start-up sweep of the content directory (expired uncommitted
    /// blocks, files of puts a crash cut short, extents nothing references) has finished. It
    /// runs in the background from [`Cloud::open`] on; content writes wait for it, so it never
    /// races one. `azlite up` waits for it before writing `connection.json`.
    pub fn content_swept(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut swept = self.content_swept.clone();
        async move {
            let _ = swept.wait_for(|done| *done).await;
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The token service.
    pub fn sts(&self) -> &Arc<Sts> {
        &self.sts
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock every service uses.
    pub fn clock(&self) -> &Arc<OffsetClock> {
        &self.clock
    }

    /// The default tenant, subscription and owner.
    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    /// The local CA.
    pub fn ca(&self) -> &LocalCa {
        &self.ca
    }

    /// The demo VM, if it exists.
    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// The on-VM endpoints of the demo VM (IMDS, the VM extension, Cloud Shell, App Service),
    /// served over plain HTTP on their own listeners, as on a VM.
    pub fn imds_router(&self) -> Option<Router> {
        self.imds.clone().map(azlite_imds::Imds::router)
    }

    /// The demo VM's Azure Arc endpoint (its own listener: Arc uses IMDS's path with another
    /// protocol), when `arc_key_directory` is configured.
    pub fn arc_router(&self) -> Option<Router> {
        self.imds.clone().and_then(azlite_imds::Imds::arc_router)
    }

    /// What clients need to reach this azlite on `addr` (and its on-VM endpoints).
    pub fn connection_info(
        &self,
        addr: SocketAddr,
        local: Option<LocalEndpoints>,
    ) -> ConnectionInfo {
        let https = format!("https://{addr}");
        let identity_header = self
            .imds
            .as_ref()
            .map(|i| i.config().identity_header.clone());
        ConnectionInfo {
            authority: format!("{https}/{}", self.bootstrap.tenant.id),
            https,
            ca_certificate: self.ca.certificate_path().to_owned(),
            tenant_id: self.bootstrap.tenant.id.to_string(),
            subscription_id: self.bootstrap.subscription.id.to_string(),
            client_id: self.bootstrap.owner_app.app_id.to_string(),
            client_secret: self.owner_secret.clone(),
            imds: local.map(|l| format!("http://{}", l.imds)),
            extension: local.map(|l| format!("http://{}", l.extension)),
            arc: local.and_then(|l| l.arc).map(|a| format!("http://{a}")),
            identity_header: local.and(identity_header),
            demo: self.demo.clone(),
        }
    }

    /// Writes `connection.json` for a listener on `addr`.
    pub fn write_connection_file(
        &self,
        addr: SocketAddr,
        local: Option<LocalEndpoints>,
    ) -> Result<ConnectionInfo, StartError> {
        let info = self.connection_info(addr, local);
        info.write(&self.config.data_dir)
            .map_err(|source| StartError::ConnectionFile {
                path: ConnectionInfo::path(&self.config.data_dir),
                source,
            })?;
        Ok(info)
    }

    /// The router of the whole listener.
    pub fn router(&self) -> Router {
        let services = hosts::Services {
            names: Arc::new(self.config.names.clone()),
            sts: azlite_sts::http::router(self.sts.clone()),
            arm: self.arm.clone(),
            graph: self.graph.clone().router(),
            keyvault: self.keyvault.clone(),
            datalake: self.datalake.clone().router(),
            blob: self.blob.clone().router(),
            blob_service: self.blob.clone(),
            admin: Router::new().nest(
                "/azlite/admin",
                admin::router(self.sts.clone(), self.clock.clone(), self.bootstrap.clone()),
            ),
        };
        Router::new().fallback(hosts::dispatch).with_state(services)
    }

    /// The router of Azurite's drop-in listener (`blob_listen`, plain HTTP): the development
    /// account only, path-style.
    pub fn development_blob_router(&self) -> Router {
        self.blob
            .clone()
            .single_account_router(azlite_arm::DEVELOPMENT_ACCOUNT)
    }

    /// What the sandbox socket serves (`azlite run`): every VM's on-VM endpoints, and the
    /// listener's services over TLS. Serve it with [`sandbox::serve_sandbox`].
    pub fn sandbox_hub(&self) -> sandbox::SandboxHub {
        sandbox::SandboxHub::new(
            self.store.clone(),
            self.sts.clone(),
            self.clock.clone(),
            self.acceptor.clone(),
            self.router(),
            self.config.names.clone(),
            sandbox::arc_key_directory(&self.config.data_dir),
        )
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let app = self.router();
        let expiry = self.blob.spawn_uncommitted_block_expiry();
        let sweep = content_sweep::spawn(
            self.store.clone(),
            self.content.clone(),
            self.arm.content_freed(),
            self.config.content_sweep,
        );
        serve::serve_tls(listener, self.acceptor.clone(), app, shutdown).await;
        expiry.abort();
        sweep.abort();
    }
}

/// Serves on-VM endpoints or Azurite's drop-in (plain HTTP) on `listener` until `shutdown`
/// resolves; each request carries its peer's address as axum's `ConnectInfo`.
pub async fn serve_plain_http(
    router: Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves a VM's on-VM endpoints (IMDS, the extension, App Service, Arc) over plain HTTP on
/// `listener` until `shutdown` resolves. As on a VM, they do not ask who connects, so
/// requests carry no `ConnectInfo` (an allocation per request fewer on IMDS's hot path).
pub async fn serve_vm_endpoints(
    router: Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The owner's secret: new on the first start; afterwards the one in `connection.json`. If
/// that file is gone (or names another owner), a new secret is added: secrets are stored
/// only as hashes.
async fn owner_secret(
    dir: &Path,
    store: &Arc<dyn Store>,
    bootstrap: &Bootstrap,
    now: i64,
) -> Result<String, StartError> {
    if let Some(secret) = &bootstrap.new_owner_secret {
        return Ok(secret.clone());
    }
    let owner = bootstrap.owner_app.app_id.to_string();
    if let Ok(info) = ConnectionInfo::read(dir)
        && info.client_id == owner
    {
        return Ok(info.client_secret);
    }
    tracing::warn!("connection.json is missing or stale: adding a new client secret for the owner");
    Ok(azlite_sts::add_client_secret(store.as_ref(), bootstrap.owner_app.app_id, now).await?)
}
