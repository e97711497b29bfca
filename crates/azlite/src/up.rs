//! `azlite up`: start everything in the foreground.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use azlite_server::{Cloud, Config, ConnectionInfo, LocalEndpoints};
use clap::Args;
use tokio::net::{TcpListener, UnixListener};

/// Options of `azlite up`.
#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Address of the HTTPS listener (port 0 picks a free port).
    #[arg(long, env = "AZLITE_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Address of the demo VM's IMDS (plain HTTP, as on a VM; port 0 picks a free port).
    #[arg(
        long,
        env = "AZLITE_IMDS_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:50343"
    )]
    imds_listen: SocketAddr,
    /// Address of the demo VM's extension and Cloud Shell endpoint (`/oauth2/token`).
    #[arg(
        long,
        env = "AZLITE_EXTENSION_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:50342"
    )]
    extension_listen: SocketAddr,
    /// Make the demo VM an Azure Arc machine too, writing the one-time key files of its
    /// challenge into DIR (clients insist on /var/opt/azcmagent/tokens).
    #[arg(long, env = "AZLITE_ARC_KEY_DIR", value_name = "DIR")]
    arc_key_dir: Option<PathBuf>,
    /// Address of the demo VM's Azure Arc endpoint (with --arc-key-dir).
    #[arg(
        long,
        env = "AZLITE_ARC_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:40342"
    )]
    arc_listen: SocketAddr,
    /// Azurite's drop-in: serve the development account `devstoreaccount1` (Azurite's
    /// well-known key) path-style over plain HTTP on ADDR, e.g. 127.0.0.1:10000, for
    /// `UseDevelopmentStorage=true` and Azurite's connection strings.
    #[arg(long, env = "AZLITE_BLOB_LISTEN", value_name = "ADDR")]
    blob_listen: Option<SocketAddr>,
    /// A TOML configuration file (see `azlite-server/src/config.rs`).
    #[arg(long, env = "AZLITE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(crate) async fn run(data_dir: PathBuf, args: UpArgs) -> anyhow::Result<()> {
    init_tracing();
    let started = Instant::now();
    // Before anything a client can see: a SIGTERM that follows `connection.json` at once
    // must stop azlite gracefully, not kill it.
    let shutdown = Shutdown::install()?;
    let mut config = match &args.config {
        Some(file) => Config::from_file(&data_dir, file)?,
        None => Config::with_data_dir(&data_dir),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(blob_listen) = args.blob_listen {
        config.blob_listen = Some(blob_listen);
    }
    if let Some(dir) = &args.arc_key_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        config.arc_key_directory = Some(dir.clone());
    }
    let listen = config.listen;
    let blob_listen = config.blob_listen;
    let cloud = Cloud::open(config)
        .await
        .context("azlite could not start")?;
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!("cannot listen on {listen} (is another azlite running? try --listen 127.0.0.1:0)")
    })?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut local = None;
    let mut endpoints = Vec::new();
    if let Some(router) = cloud.imds_router() {
        let imds = bind(args.imds_listen, "--imds-listen").await?;
        let extension = bind(args.extension_listen, "--extension-listen").await?;
        let (imds_addr, extension_addr) = (imds.local_addr()?, extension.local_addr()?);
        let mut listeners = vec![(router.clone(), imds), (router.clone(), extension)];
        let mut arc_addr = None;
        if let Some(arc_router) = cloud.arc_router() {
            let arc = bind(args.arc_listen, "--arc-listen").await?;
            arc_addr = Some(arc.local_addr()?);
            listeners.push((arc_router, arc));
        }
        local = Some(LocalEndpoints {
            imds: imds_addr,
            extension: extension_addr,
            arc: arc_addr,
        });
        for (router, listener) in listeners {
            let mut stopped = stopped.clone();
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            let server = azlite_server::serve_vm_endpoints(router, listener, shutdown);
            endpoints.push(tokio::spawn(server));
        }
    }
    let mut development_blob = None;
    if let Some(addr) = blob_listen {
        let listener = bind(addr, "--blob-listen").await?;
        development_blob = Some(listener.local_addr()?);
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let router = cloud.development_blob_router();
        endpoints.push(tokio::spawn(azlite_server::serve_plain_http(
            router, listener, shutdown,
        )));
    }
    let sandbox_socket = azlite_server::sandbox::socket_path(&data_dir);
    let sandbox = bind_sandbox_socket(&sandbox_socket)?;
    {
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let hub = cloud.sandbox_hub();
        endpoints.push(tokio::spawn(async move {
            azlite_server::sandbox::serve_sandbox(hub, sandbox, shutdown).await;
            Ok::<(), std::io::Error>(())
        }));
    }
    // Serving first, then `connection.json` (two fsyncs): a client that reads the file finds
    // a listener that answers, and the first answer does not wait for the disk.
    let info = cloud.connection_info(addr, local);
    let connection_dir = cloud.config().data_dir.clone();
    let content_swept = cloud.content_swept();
    let serving = tokio::spawn(cloud.serve(listener, async move {
        shutdown.wait().await;
        let _ = stop.send(true);
    }));
    // `connection.json` says azlite is fully started: after the content sweep too.
    content_swept.await;
    info.write(&connection_dir).with_context(|| {
        format!(
            "cannot write {}",
            ConnectionInfo::path(&connection_dir).display()
        )
    })?;
    let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(%addr, ready_ms = format!("{ready_ms:.1}"), "azlite is ready");
    print_ready(&data_dir, &info);
    if let Some(addr) = development_blob {
        print_development_blob(addr);
    }
    let _ = serving.await;
    for endpoint in endpoints {
        let _ = endpoint.await;
    }
    let _ = std::fs::remove_file(&sandbox_socket);
    tracing::info!("azlite stopped");
    Ok(())
}

async fn bind(addr: SocketAddr, flag: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (another azlite? choose another with {flag} 127.0.0.1:0)")
    })
}

/// The socket `azlite run` reaches this server by, private to its user. A socket left by an
/// azlite that was killed is replaced; one that answers belongs to a running azlite.
fn bind_sandbox_socket(path: &Path) -> anyhow::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;

    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        anyhow::bail!(
            "another azlite is serving this data directory ({} answers)",
            path.display()
        );
    }
    let _ = std::fs::remove_file(path);
    let listener =
        UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    Ok(listener)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

fn print_ready(data_dir: &Path, info: &ConnectionInfo) {
    let ca = info.ca_certificate.display();
    println!(
        "azlite is ready.

  HTTPS listener   {https}
  Entra authority  {authority}  (v1: /oauth2/token, v2: /oauth2/v2.0/token)
  OpenID metadata  {authority}/v2.0/.well-known/openid-configuration
  CA certificate   {ca}
  Connection file  {conn}

The owner service principal (Owner of subscription {sub}):

  export AZURE_TENANT_ID={tenant}
  export AZURE_CLIENT_ID={client}
  export AZURE_CLIENT_SECRET={secret}
  export SSL_CERT_FILE={ca} REQUESTS_CA_BUNDLE={ca} CURL_CA_BUNDLE={ca}

MSAL and azure-identity clients pointed at {https} need instance discovery turned off
(disable_instance_discovery=True), or they ask login.microsoftonline.com about it.
{vm}Stop with Ctrl-C.",
        https = info.https,
        authority = info.authority,
        conn = ConnectionInfo::path(data_dir).display(),
        sub = info.subscription_id,
        tenant = info.tenant_id,
        client = info.client_id,
        secret = info.client_secret,
        vm = demo_text(info),
    );
}

/// How to reach the demo VM's managed identity: the endpoints, and the environment variables
/// that point the SDKs at them.
fn demo_text(info: &ConnectionInfo) -> String {
    let (Some(demo), Some(imds), Some(extension)) = (&info.demo, &info.imds, &info.extension)
    else {
        return String::new();
    };
    format!(
        "
The demo VM {vm} (group {group}) has a system-assigned identity {principal} with Reader on
its group. Its endpoints, and the variables that point SDKs at them:

  IMDS             {imds}/metadata/identity/oauth2/token  (header Metadata: true)
  VM extension     {extension}/oauth2/token

  export AZURE_POD_IDENTITY_AUTHORITY_HOST={imds}        # azure-identity, MSAL: IMDS
  export IDENTITY_ENDPOINT={imds}/msi/token IDENTITY_HEADER={header}   # App Service
  export MSI_ENDPOINT={extension}/oauth2/token                # Cloud Shell
{arc}
",
        vm = demo.vm,
        group = demo.resource_group,
        principal = demo.principal_id,
        header = info.identity_header.as_deref().unwrap_or_default(),
        arc = info.arc.as_ref().map_or_else(String::new, |arc| format!(
            "  export IDENTITY_ENDPOINT={arc}/metadata/identity/oauth2/token IMDS_ENDPOINT={arc}   # Azure Arc\n"
        )),
    )
}

/// How to reach Azurite's drop-in listener.
fn print_development_blob(addr: SocketAddr) {
    println!(
        "Azurite drop-in (Blob, plain HTTP) on http://{addr}/{account}, for
UseDevelopmentStorage=true (when on 127.0.0.1:10000) or the connection string:

  DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};BlobEndpoint=http://{addr}/{account};
",
        account = azlite_server::DEVELOPMENT_ACCOUNT,
        key = azlite_server::DEVELOPMENT_KEY,
    );
}

/// SIGINT and SIGTERM, listened for from start-up on (tokio registers a handler only when
/// asked; until then the default action, death, applies).
struct Shutdown {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        tracing::info!("stopping");
    }
}
