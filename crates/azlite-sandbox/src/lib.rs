//! `azlite run`: runs a program, unmodified, where it sees a VM with a managed identity.
//!
//! The program runs in a network namespace that holds only a loopback interface, so nothing
//! it does can leave the machine. There:
//! - 169.254.169.254:80 is the VM's IMDS and 127.0.0.1:50342 its extension endpoint (with
//!   `--arc`, 127.0.0.1:40342 is Azure Arc's, `IDENTITY_ENDPOINT` and `IMDS_ENDPOINT` are
//!   set and `/var/opt/azcmagent/tokens` holds the challenge's key files);
//! - Azure's host names that azlite serves resolve to 127.0.0.1 (`/etc/hosts` for the fixed
//!   names, a resolver on 127.0.0.1:53 for `<vault>.vault.azure.net` and the like), where
//!   port 443 is azlite's TLS listener; other names do not resolve;
//! - azlite's CA is in the system bundle (bind-mounted in a private mount namespace) and in
//!   `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE` and `NODE_EXTRA_CA_CERTS`.
//!
//! - the data directory is hidden, the program has a PID namespace of its own, no
//!   capability and `no_new_privs` (under `sudo`, it is the invoking user), and no credential
//!   of the host is in its environment.
//!
//! Every connection is carried to the running server over its sandbox socket, in the session
//! this process opened for the VM (`azlite_server::sandbox`): its secret stays in this
//! process, the forwarder, which stays outside the program's PID and mount namespaces. The
//! sandbox's init (`init`, a fresh `exec` of azlite) makes the program's view and drops its
//! privileges; the program's exit status and signals pass through both.
//!
//! Architecture Invariant: this crate is a client of a running server: it uses
//! `azlite-server` only for `connection.json` and the socket's protocol.

mod dns;
mod environment;
mod files;
mod forward;
mod init;
mod namespace;
mod network;
mod privileges;
mod process;

pub use init::init;

use std::ffi::OsString;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use azlite_server::ConnectionInfo;
use azlite_server::sandbox::{self as protocol, Endpoint};
use nix::errno::Errno;
use tokio::net::{TcpListener, UdpSocket};

/// What `azlite run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The data directory of the running azlite.
    pub data_dir: PathBuf,
    /// The VM (name, `group/name` or ARM id); `None`: the demo VM.
    pub vm: Option<String>,
    /// Make the sandbox an Azure Arc machine.
    pub arc: bool,
    /// The program and its arguments.
    pub command: Vec<OsString>,
}

/// Why the sandbox could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No azlite answers on the data directory's sandbox socket.
    #[error(
        "no azlite is running with data directory {} ({}: {source}): start `azlite up` first",
        .socket.parent().map(|p| p.display().to_string()).unwrap_or_default(),
        .socket.display()
    )]
    NotRunning {
        /// The socket tried.
        socket: PathBuf,
        /// What connecting said.
        source: std::io::Error,
    },
    /// No VM was named and there is no demo VM.
    #[error("no --vm given and this azlite has no demo VM: name one with --vm NAME")]
    NoVmGiven,
    /// The server knows no such VM.
    #[error("{0}")]
    NoVm(String),
    /// The server answered something else than the protocol says.
    #[error("the server's sandbox socket answered oddly: {0}")]
    Protocol(String),
    /// The namespaces could not be made.
    #[error("cannot create the sandbox's namespaces ({errno}){}", sentence(.advice))]
    Unshare {
        /// Whether azlite runs as root.
        as_root: bool,
        /// What `unshare` said.
        errno: Errno,
        /// What to do about it.
        advice: String,
    },
    /// A mount failed.
    #[error("cannot {what} in the sandbox: {errno}")]
    Mount {
        /// What was being mounted.
        what: String,
        /// What `mount` said.
        errno: Errno,
    },
    /// The loopback interface could not be set up.
    #[error("cannot set up the sandbox's loopback interface: {0}")]
    Network(String),
    /// A listener inside the sandbox could not be opened.
    #[error("cannot listen on {addr} in the sandbox: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What `bind` said.
        source: std::io::Error,
    },
    /// The program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// What `exec` said.
        source: std::io::Error,
    },
    /// The program's privileges could not be dropped.
    #[error("cannot drop the program's privileges: {0}")]
    Privileges(String),
    /// Some other file-system or system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

fn sentence(advice: &str) -> String {
    if advice.is_empty() {
        String::new()
    } else {
        format!(": {advice}")
    }
}

/// Where Arc's endpoint listens inside an Arc sandbox (reference §2.4).
const ARC_PORT: u16 = 40342;
/// The VM extension's port (reference §2.2).
const EXTENSION_PORT: u16 = 50342;

/// Runs `options.command` in a new sandbox and returns the exit code for `azlite run`: the
/// program's own, or 128 + the signal that ended it (125, 126, 127 when the sandbox's init
/// could not make the sandbox, run or find the program).
///
/// Call this before any other thread exists (before a tokio runtime is built): as an
/// ordinary user it enters a user namespace, which the kernel refuses to threaded processes.
pub fn run(options: RunOptions) -> Result<i32, SandboxError> {
    let socket = protocol::socket_path(&options.data_dir);
    let info = ConnectionInfo::read(&options.data_dir).ok();
    let vm = match (&options.vm, info.as_ref().and_then(|i| i.demo.as_ref())) {
        (Some(vm), _) => vm.clone(),
        (None, Some(demo)) => demo.vm_id.clone(),
        (None, None) if info.is_none() => {
            let source = std::io::Error::from(std::io::ErrorKind::NotFound);
            return Err(SandboxError::NotRunning { socket, source });
        }
        (None, None) => return Err(SandboxError::NoVmGiven),
    };
    // The session lasts while this connection is open: until this process ends.
    let (hello, _session) = forward::hello(&socket, &vm)?;
    let data_dir = std::fs::canonicalize(&options.data_dir).map_err(|source| SandboxError::Io {
        what: format!("cannot resolve {}", options.data_dir.display()),
        source,
    })?;
    let ca_path = info
        .as_ref()
        .map(|i| i.ca_certificate.clone())
        .unwrap_or_else(|| options.data_dir.join("ca.pem"));
    let ca_path = std::fs::canonicalize(&ca_path).unwrap_or(ca_path);
    let ca_pem = std::fs::read_to_string(&ca_path).map_err(|source| SandboxError::Io {
        what: format!("cannot read azlite's CA certificate {}", ca_path.display()),
        source,
    })?;
    drop(info);
    let arc_keys = protocol::arc_key_directory(&data_dir);
    if options.arc {
        // The key files are secrets of the server's user, as the agent's are root's.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&arc_keys)
            .map_err(|source| SandboxError::Io {
                what: format!("cannot create {}", arc_keys.display()),
                source,
            })?;
    }

    // The files mounted over the machine's: written to a directory of ours, which init
    // removes once they are mounted (a mount keeps its file), so nothing is left behind.
    let scratch = tempdir()?.keep();
    let result = run_in_namespaces(&options, &hello, &data_dir, &ca_path, &ca_pem, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// The rest of [`run`], once the scratch directory exists (removed whatever happens here).
fn run_in_namespaces(
    options: &RunOptions,
    hello: &protocol::HelloReply,
    data_dir: &Path,
    ca_path: &Path,
    ca_pem: &str,
    scratch: &Path,
) -> Result<i32, SandboxError> {
    let write = |name: &str, text: &str| -> Result<PathBuf, SandboxError> {
        let path = scratch.join(name);
        std::fs::write(&path, text).map_err(|source| SandboxError::Io {
            what: format!("cannot write {}", path.display()),
            source,
        })?;
        Ok(path)
    };
    let mut mounted = vec![
        (
            write("hosts", &files::hosts(&hello.hosts))?,
            "/etc/hosts".into(),
        ),
        (
            write("resolv.conf", &files::resolv_conf())?,
            "/etc/resolv.conf".into(),
        ),
    ];
    let system = files::read_system_bundle();
    let bundle_text = files::bundle(system.as_ref().map_or("", |(_, t)| t), ca_pem);
    let bundle = write("ca-bundle.crt", &bundle_text)?;
    let bundles: Vec<PathBuf> = files::SYSTEM_BUNDLES
        .iter()
        .map(PathBuf::from)
        .filter(|path| path.is_file())
        .collect();
    mounted.extend(bundles.iter().map(|path| (bundle.clone(), path.clone())));
    let stage = scratch.join("stage");
    std::fs::create_dir(&stage).map_err(|source| SandboxError::Io {
        what: format!("cannot create {}", stage.display()),
        source,
    })?;
    // Without a system bundle to mount over, the clients get azlite's CA alone: in the
    // sandbox nothing else is reachable anyway.
    let bundle_in_sandbox = bundles
        .first()
        .cloned()
        .unwrap_or_else(|| ca_path.to_owned());
    let plan = init::Plan {
        scratch: scratch.to_owned(),
        files: mounted,
        arc_keys: options.arc.then(|| protocol::arc_key_directory(data_dir)),
        data_dir: data_dir.to_owned(),
        ca: ca_path.to_owned(),
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        user: privileges::invoking_user(),
    };
    let environment = environment::build(
        std::env::vars_os(),
        &environment::Settings {
            bundle: bundle_in_sandbox,
            ca: ca_path.to_owned(),
            arc: options.arc,
            arc_port: ARC_PORT,
        },
    );
    let upstream = Arc::new(forward::Upstream {
        socket: protocol::socket_path(data_dir),
        session: hello.session.clone(),
    });

    namespace::enter()?;
    if !nix::unistd::Uid::effective().is_root() {
        privileges::pass_to_init()?;
    }
    // The forwarder holds the session's secret: no process may read its memory. (The
    // program cannot see it anyway: it is outside the program's PID namespace.)
    nix::sys::prctl::set_dumpable(false).map_err(|errno| SandboxError::Io {
        what: "cannot make the forwarder undumpable".to_owned(),
        source: errno.into(),
    })?;
    // One thread: after a new PID namespace the kernel lets this process start no thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| SandboxError::Io {
            what: "cannot start the forwarder".to_owned(),
            source,
        })?;
    let code = runtime.block_on(async {
        network::configure().await?;
        listen(&upstream, hello, options.arc).await?;
        process::run(&plan, &options.command, &environment).await
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

/// A directory of ours for the files mounted into the sandbox.
fn tempdir() -> Result<tempfile::TempDir, SandboxError> {
    tempfile::Builder::new()
        .prefix("azlite-run-")
        .tempdir()
        .map_err(|source| SandboxError::Io {
            what: "cannot create a temporary directory".to_owned(),
            source,
        })
}

/// Opens the sandbox's listeners and starts their forwarders and the resolver.
async fn listen(
    upstream: &Arc<forward::Upstream>,
    hello: &protocol::HelloReply,
    arc: bool,
) -> Result<(), SandboxError> {
    let v4 = |ip: Ipv4Addr, port| SocketAddr::from((ip, port));
    let mut listeners = vec![
        (v4(network::IMDS_ADDRESS, 80), Endpoint::Imds),
        (v4(Ipv4Addr::LOCALHOST, EXTENSION_PORT), Endpoint::Extension),
        (v4(Ipv4Addr::LOCALHOST, 443), Endpoint::Https),
    ];
    if arc {
        listeners.push((v4(Ipv4Addr::LOCALHOST, ARC_PORT), Endpoint::Arc));
    }
    // `localhost` may resolve to ::1 first: the endpoints named by `localhost` answer there
    // too, where the kernel has IPv6.
    let mut optional = vec![(
        SocketAddr::from((Ipv6Addr::LOCALHOST, EXTENSION_PORT)),
        Endpoint::Extension,
    )];
    if arc {
        optional.push((
            SocketAddr::from((Ipv6Addr::LOCALHOST, ARC_PORT)),
            Endpoint::Arc,
        ));
    }
    for (addr, endpoint) in listeners {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Listen { addr, source })?;
        tokio::spawn(forward::serve(listener, endpoint, upstream.clone()));
    }
    for (addr, endpoint) in optional {
        if let Ok(listener) = TcpListener::bind(addr).await {
            tokio::spawn(forward::serve(listener, endpoint, upstream.clone()));
        }
    }
    let addr = v4(Ipv4Addr::LOCALHOST, 53);
    let resolver = UdpSocket::bind(addr)
        .await
        .map_err(|source| SandboxError::Listen { addr, source })?;
    let zone = Arc::new(dns::Zone::new(&hello.hosts, &hello.suffixes));
    tokio::spawn(dns::serve(resolver, zone));
    Ok(())
}
