//! The sandbox socket: how `azlite run` reaches this server.
//!
//! A sandbox is a network namespace with nothing but loopback. Inside it, `azlite run`
//! listens where a VM's programs look (169.254.169.254:80, 127.0.0.1:50342, port 443 of
//! Azure's host names) and carries every connection it accepts to this server over a Unix
//! socket in the data directory. The first line of each connection names the sandbox's
//! session, which is bound to one VM, and the endpoint dialled, as an Azure host knows which
//! VM a packet to 169.254.169.254 came from; what follows is the client's bytes, untouched
//! (TLS included). So one server serves any number of sandboxes and VMs without a listener
//! per VM.
//!
//! ```text
//! AZLITE-SANDBOX/2 hello <vm>\n         → "ok <HelloReply as JSON>\n" or "error <message>\n";
//!                                         the session lasts while this connection is open
//! AZLITE-SANDBOX/2 connect <endpoint> <session>\n<the client's bytes>
//!                                       (an unknown session: "error <message>\n", closed)
//! ```
//!
//! `<vm>` in `hello` is a name, `group/name` or an ARM id; `<endpoint>` is `imds`,
//! `extension`, `arc` or `https`; `<session>` is the secret `hello` answered.
//!
//! The socket is the server's (mode 0600 in a 0700 data directory), and `azlite run` hides
//! the data directory from the program it runs. Whoever opens the socket may open a session
//! for any VM, as the host of a VM may; a program in a sandbox cannot, and it cannot learn
//! its sandbox's secret, which only the forwarder holds: so it speaks for its own VM only.
//! On-VM endpoints are made only for a VM a session was opened for (`hello` checks that it
//! exists), and kept for at most 256 VMs; at most [`MAX_SESSIONS`] sessions are open.

mod protocol;
mod sessions;

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use azlite_store::Store;
use azlite_token::ManagedIdentityTokens;
use azlite_types::{Clock, ResourceId};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_rustls::TlsAcceptor;

pub use protocol::{Endpoint, Header, HelloReply, MAGIC};
pub use sessions::MAX_SESSIONS;
use sessions::{SessionGuard, Sessions};

use crate::config::HostNames;
use crate::serve;
use crate::vm_endpoints::{VmEndpointsError, find_vm, vm_exists};

/// Where clients see the Arc key directory inside a sandbox (reference §2.4).
pub const ARC_CLIENT_KEY_DIRECTORY: &str = "/var/opt/azcmagent/tokens";
/// The longest header line accepted.
const MAX_HEADER: u64 = 2048;
/// How long a connection may take to send its header.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The socket's place in a data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox.sock")
}

/// Where the server writes the Arc key files of sandboxes; `azlite run --arc` mounts it at
/// [`ARC_CLIENT_KEY_DIRECTORY`].
pub fn arc_key_directory(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox-arc-tokens")
}

/// What the server needs to serve sandboxes.
#[derive(Clone)]
pub struct SandboxHub {
    inner: Arc<Hub>,
}

struct Hub {
    store: Arc<dyn Store>,
    tokens: Arc<dyn ManagedIdentityTokens>,
    clock: Arc<dyn Clock>,
    acceptor: TlsAcceptor,
    app: Router,
    names: HostNames,
    arc_key_directory: PathBuf,
    /// The running sandboxes, by secret.
    sessions: Sessions<Session>,
    /// The endpoints of the VMs sessions were opened for, by folded id: one token cache per
    /// VM, shared by its sessions and kept for the next ones, as a VM's host keeps it; at
    /// most [`MAX_VMS`], the least recently opened going first.
    vms: Mutex<HashMap<String, (Arc<azlite_imds::Imds>, u64)>>,
    /// How many sessions were opened: the age of an entry of `vms`.
    opened: std::sync::atomic::AtomicU64,
}

/// How many VMs' on-VM endpoints (and token caches) the hub keeps.
const MAX_VMS: usize = 256;

/// What a session serves: its VM's endpoints.
#[derive(Clone)]
struct Session {
    imds: Arc<azlite_imds::Imds>,
}

impl std::fmt::Debug for SandboxHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHub")
            .field("arc_key_directory", &self.inner.arc_key_directory)
            .finish_non_exhaustive()
    }
}

impl SandboxHub {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        tokens: Arc<dyn ManagedIdentityTokens>,
        clock: Arc<dyn Clock>,
        acceptor: TlsAcceptor,
        app: Router,
        names: HostNames,
        arc_key_directory: PathBuf,
    ) -> Self {
        Self {
            inner: Arc::new(Hub {
                store,
                tokens,
                clock,
                acceptor,
                app,
                names,
                arc_key_directory,
                sessions: Sessions::new(MAX_SESSIONS),
                vms: Mutex::new(HashMap::new()),
                opened: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// The on-VM endpoints of `vm` (which exists): those kept for it, or new ones.
    fn imds(&self, vm: ResourceId) -> Arc<azlite_imds::Imds> {
        let hub = &self.inner;
        let key = vm.as_str().to_ascii_lowercase();
        let now = hub
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut vms = hub.vms.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((imds, used)) = vms.get_mut(&key) {
            *used = now;
            return imds.clone();
        }
        if vms.len() >= MAX_VMS {
            // The sessions of an evicted VM keep its endpoints; the next one gets new ones.
            let oldest = vms
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                vms.remove(&oldest);
            }
        }
        let mut config = azlite_imds::ImdsConfig::new(vm);
        config.arc_key_directory = Some(hub.arc_key_directory.clone());
        config.arc_client_key_directory = Some(ARC_CLIENT_KEY_DIRECTORY.into());
        let source = Arc::new(azlite_imds::StoreVmIdentities::new(hub.store.clone()));
        let imds = Arc::new(azlite_imds::Imds::new(
            config,
            source,
            hub.tokens.clone(),
            hub.clock.clone(),
        ));
        vms.insert(key, (imds.clone(), now));
        imds
    }

    /// Opens a session for the VM named `vm`: the answer to `hello`, and the guard that
    /// ends the session.
    async fn open_session(&self, vm: &str) -> Result<(HelloReply, SessionGuard<Session>), String> {
        let vm = self.find_vm(vm).await.map_err(|e| e.to_string())?;
        let imds = self.imds(vm.clone());
        let (session, guard) = self
            .inner
            .sessions
            .open(Session { imds })
            .map_err(|e| e.to_string())?;
        let names = &self.inner.names;
        let reply = HelloReply {
            vm: vm.to_string(),
            hosts: [&names.login, &names.management, &names.graph]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            suffixes: vec![
                names.vault_suffix.clone(),
                names.blob_suffix.clone(),
                names.datalake_suffix.clone(),
            ],
            session,
        };
        Ok((reply, guard))
    }

    /// The VM named `vm`: a name, `group/name` or an ARM id; for an instance of a scale set,
    /// `{scale set}_{instanceId}`, `group/{scale set}_{instanceId}` or the instance's ARM id
    /// (`…/virtualMachineScaleSets/{name}/virtualMachines/{instanceId}`).
    async fn find_vm(&self, vm: &str) -> Result<ResourceId, VmEndpointsError> {
        let store = &self.inner.store;
        if vm.starts_with('/') {
            let no_such = || VmEndpointsError::NoSuchVm(vm.to_owned());
            let id: ResourceId = vm.parse().map_err(|_| no_such())?;
            let source = azlite_imds::StoreVmIdentities::new(store.clone());
            if !vm_exists(&source, &id).await? {
                return Err(no_such());
            }
            // The stored casing, as ARM answers with it.
            return Ok(
                match store
                    .get_resource(&id)
                    .await
                    .map_err(crate::StartError::from)?
                {
                    Some(r) => r.id,
                    None => id,
                },
            );
        }
        let (group, name) = match vm.rsplit_once('/') {
            Some((group, name)) => (Some(group), name),
            None => (None, vm),
        };
        find_vm(store, name, group).await
    }
}

/// Serves sandboxes on `listener` until `shutdown` resolves.
pub async fn serve_sandbox(
    hub: SandboxHub,
    listener: UnixListener,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "sandbox accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let hub = hub.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(hub, stream, watcher).await {
                tracing::debug!(error = %e, "sandbox connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(serve::DRAIN_TIMEOUT, graceful.shutdown()).await;
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn serve_connection(
    hub: SandboxHub,
    stream: UnixStream,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), BoxError> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut limited = (&mut reader).take(MAX_HEADER);
    tokio::time::timeout(HEADER_TIMEOUT, limited.read_line(&mut line)).await??;
    let header = line
        .strip_suffix('\n')
        .and_then(Header::parse)
        .ok_or("not a sandbox header")?;
    match header {
        Header::Hello { vm } => {
            let (answer, guard) = match hub.open_session(&vm).await {
                Ok((reply, guard)) => (
                    format!("ok {}\n", serde_json::to_string(&reply)?),
                    Some(guard),
                ),
                Err(e) => (format!("error {}\n", e.replace('\n', " ")), None),
            };
            reader.get_mut().write_all(answer.as_bytes()).await?;
            if let Some(guard) = guard {
                // The session lasts while `azlite run` holds this connection: it ends when
                // the connection does, however `azlite run` ended.
                let mut sink = [0u8; 64];
                while matches!(reader.read(&mut sink).await, Ok(n) if n > 0) {}
                drop(guard);
            }
            Ok(())
        }
        Header::Connect { endpoint, session } => {
            let Some(session) = hub.inner.sessions.get(&session) else {
                let answer = "error no such sandbox session: it ended, or it never was\n";
                reader.get_mut().write_all(answer.as_bytes()).await?;
                return Ok(());
            };
            // Sandboxed programs are on this machine: they are loopback callers.
            let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            if endpoint == Endpoint::Https {
                let inner = &hub.inner;
                let acceptor = inner.acceptor.clone();
                serve::serve_tls_stream(reader, peer, acceptor, inner.app.clone(), watcher).await;
                return Ok(());
            }
            // A VM deleted since the session opened: its endpoints answer IMDS's "not found".
            let router = match endpoint {
                Endpoint::Arc => session.imds.arc_router().ok_or("no Arc endpoint")?,
                _ => session.imds.router(),
            };
            let service = hyper::service::service_fn(move |request| {
                tower::ServiceExt::oneshot(router.clone(), request)
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(reader), service);
            watcher.watch(connection).await?;
            Ok(())
        }
    }
}
