//! The sandbox socket: how `azlite run` reaches this server.
//!
//! A sandbox is a network namespace with nothing but loopback. Inside it, `azlite run`
//! listens where a VM's programs look (169.254.169.254:80, 127.0.0.1:50342, port 443 of
//! Azure's host names) and carries every connection it accepts to this server over a Unix
//! socket in the data directory. The first line of each connection says which VM is
//! calling and which endpoint was dialled, as an Azure host knows which VM a packet to
//! 169.254.169.254 came from; what follows is the client's bytes, untouched (TLS included).
//! So one server serves any number of sandboxes and VMs without a listener per VM.
//!
//! The socket is the server's (mode 0600 in a 0700 data directory): whoever can open it may
//! speak for any VM, as the host of a VM may.
//!
//! ```text
//! AZLITE-SANDBOX/1 hello <vm>\n              → "ok <HelloReply as JSON>\n" or "error <message>\n"
//! AZLITE-SANDBOX/1 connect <endpoint> <vm ARM id>\n<the client's bytes>
//! ```
//!
//! `<vm>` in `hello` is a name, `group/name` or an ARM id; `<endpoint>` is `imds`,
//! `extension`, `arc` or `https`.

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

use crate::config::HostNames;
use crate::serve;
use crate::vm_endpoints::{VmEndpointsError, find_vm};

/// The first word of every header line.
pub const MAGIC: &str = "AZLITE-SANDBOX/1";
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

/// The endpoint a sandboxed program dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// IMDS: 169.254.169.254:80.
    Imds,
    /// The VM extension / Cloud Shell endpoint: 127.0.0.1:50342.
    Extension,
    /// Azure Arc's HIMDS: 127.0.0.1:40342.
    Arc,
    /// Port 443 of one of Azure's host names: TLS to the main listener's services.
    Https,
}

impl Endpoint {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Imds => "imds",
            Self::Extension => "extension",
            Self::Arc => "arc",
            Self::Https => "https",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        [Self::Imds, Self::Extension, Self::Arc, Self::Https]
            .into_iter()
            .find(|e| e.as_str() == word)
    }
}

/// A header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// Resolve a VM (by name, `group/name` or id); the server answers one line.
    Hello {
        /// The VM as the user named it.
        vm: String,
    },
    /// Carry a connection to `endpoint` of the VM `vm` (an ARM id).
    Connect {
        /// What the program dialled.
        endpoint: Endpoint,
        /// The calling VM's ARM id, as `hello` answered it.
        vm: String,
    },
}

impl Header {
    /// The line, newline included.
    pub fn encode(&self) -> String {
        match self {
            Self::Hello { vm } => format!("{MAGIC} hello {vm}\n"),
            Self::Connect { endpoint, vm } => {
                format!("{MAGIC} connect {} {vm}\n", endpoint.as_str())
            }
        }
    }

    /// Parses a line (without its newline).
    pub fn parse(line: &str) -> Option<Self> {
        let mut words = line.split(' ');
        if words.next()? != MAGIC {
            return None;
        }
        let header = match (words.next()?, words.next()?, words.next()) {
            ("hello", vm, None) if !vm.is_empty() => Self::Hello { vm: vm.to_owned() },
            ("connect", endpoint, Some(vm)) if !vm.is_empty() => Self::Connect {
                endpoint: Endpoint::parse(endpoint)?,
                vm: vm.to_owned(),
            },
            _ => return None,
        };
        words.next().is_none().then_some(header)
    }
}

/// The answer to `hello`: the VM, and the names the sandbox must resolve to the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HelloReply {
    /// The VM's ARM id.
    pub vm: String,
    /// Host names served on port 443 (Entra's, ARM's, Graph's).
    pub hosts: Vec<String>,
    /// Suffixes under which every one-label name is served (`<vault>.vault.azure.net`).
    pub suffixes: Vec<String>,
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
    /// The endpoints of each VM a sandbox called, by folded id: one token cache per VM.
    vms: Mutex<HashMap<String, Arc<azlite_imds::Imds>>>,
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
                vms: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The on-VM endpoints of `vm`, made on first use.
    fn imds(&self, vm: ResourceId) -> Arc<azlite_imds::Imds> {
        let hub = &self.inner;
        let key = vm.as_str().to_ascii_lowercase();
        let mut vms = hub.vms.lock().unwrap_or_else(PoisonError::into_inner);
        vms.entry(key)
            .or_insert_with(|| {
                let mut config = azlite_imds::ImdsConfig::new(vm);
                config.arc_key_directory = Some(hub.arc_key_directory.clone());
                config.arc_client_key_directory = Some(ARC_CLIENT_KEY_DIRECTORY.into());
                let source = Arc::new(azlite_imds::StoreVmIdentities::new(hub.store.clone()));
                Arc::new(azlite_imds::Imds::new(
                    config,
                    source,
                    hub.tokens.clone(),
                    hub.clock.clone(),
                ))
            })
            .clone()
    }

    /// Answers `hello`.
    async fn hello(&self, vm: &str) -> Result<HelloReply, VmEndpointsError> {
        let names = &self.inner.names;
        Ok(HelloReply {
            vm: self.find_vm(vm).await?.to_string(),
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
        })
    }

    /// The VM named `vm` (a name, `group/name` or an ARM id).
    async fn find_vm(&self, vm: &str) -> Result<ResourceId, VmEndpointsError> {
        let (group, name) = match vm.rsplit_once('/') {
            Some((group, name)) if !group.starts_with('/') => (Some(group), name),
            _ => (None, vm),
        };
        if vm.starts_with('/') {
            let id: ResourceId = vm
                .parse()
                .map_err(|_| VmEndpointsError::NoSuchVm(vm.to_owned()))?;
            let found = self
                .inner
                .store
                .get_resource(&id)
                .await
                .map_err(crate::StartError::from)?;
            return match found {
                Some(r) if r.resource_type.eq_ignore_ascii_case(VM_TYPE) => Ok(r.id),
                _ => Err(VmEndpointsError::NoSuchVm(vm.to_owned())),
            };
        }
        find_vm(self.inner.store.as_ref(), name, group).await
    }
}

const VM_TYPE: &str = "Microsoft.Compute/virtualMachines";

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
            let answer = match hub.hello(&vm).await {
                Ok(reply) => format!("ok {}\n", serde_json::to_string(&reply)?),
                Err(e) => format!("error {}\n", e.to_string().replace('\n', " ")),
            };
            reader.get_mut().write_all(answer.as_bytes()).await?;
            Ok(())
        }
        Header::Connect { endpoint, vm } => {
            // Sandboxed programs are on this machine: they are loopback callers.
            let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            if endpoint == Endpoint::Https {
                let inner = &hub.inner;
                let acceptor = inner.acceptor.clone();
                serve::serve_tls_stream(reader, peer, acceptor, inner.app.clone(), watcher).await;
                return Ok(());
            }
            let vm: ResourceId = vm.parse().map_err(|_| "not a VM id")?;
            let imds = hub.imds(vm);
            let router = match endpoint {
                Endpoint::Arc => imds.arc_router().ok_or("no Arc endpoint")?,
                _ => imds.router(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let vm = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v";
        for header in [
            Header::Hello {
                vm: "demo-vm".into(),
            },
            Header::Hello { vm: vm.into() },
            Header::Connect {
                endpoint: Endpoint::Imds,
                vm: vm.into(),
            },
            Header::Connect {
                endpoint: Endpoint::Https,
                vm: vm.into(),
            },
        ] {
            let line = header.encode();
            assert_eq!(Header::parse(line.trim_end()), Some(header), "{line}");
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        for line in [
            "",
            "GET / HTTP/1.1",
            "AZLITE-SANDBOX/2 hello vm",
            "AZLITE-SANDBOX/1 hello",
            "AZLITE-SANDBOX/1 hello a b",
            "AZLITE-SANDBOX/1 connect ftp /subscriptions/x",
            "AZLITE-SANDBOX/1 connect imds",
            "AZLITE-SANDBOX/1 connect imds  ",
            "AZLITE-SANDBOX/1 connect imds vm extra",
        ] {
            assert_eq!(Header::parse(line), None, "{line:?}");
        }
    }
}
