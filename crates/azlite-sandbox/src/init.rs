//! The sandbox's init: process 1 of the program's PID namespace.
//!
//! `azlite run` (the forwarder) starts it as `azlite sandbox-init PLAN -- COMMAND...` once
//! the sandbox's network is listening. It is a fresh program (the forwarder's memory, which
//! holds the session's secret, is not copied into it), and it:
//! 1. enters a new mount namespace: `/etc/hosts`, `/etc/resolv.conf`, the CA bundle and (with
//!    `--arc`) the Arc key directory mounted; the data directory covered by a read-only tmpfs
//!    that holds only azlite's CA; a `/proc` of the new PID namespace, `/proc/sys` read-only;
//! 2. drops every privilege (`privileges`);
//! 3. starts COMMAND, passes on SIGTERM, SIGHUP, SIGQUIT (and SIGINT when stdin is not a
//!    terminal), reaps every orphan, and ends with COMMAND's status. Its end ends every
//!    process left in the namespace.
//!
//! Its plan holds paths only, no secret: a program can read init's command line.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::privileges::{self, User};
use crate::{SandboxError, namespace};

/// What init does, decided by the forwarder.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Plan {
    /// The forwarder's directory of files to mount: removed once they are.
    pub(crate) scratch: PathBuf,
    /// Files to mount: (the file, where the program sees it).
    pub(crate) files: Vec<(PathBuf, PathBuf)>,
    /// `--arc`: the server's Arc key directory, shown at the agent's place.
    pub(crate) arc_keys: Option<PathBuf>,
    /// The data directory (absolute, without symbolic links), hidden.
    pub(crate) data_dir: PathBuf,
    /// azlite's CA: kept visible when it is in the data directory.
    pub(crate) ca: PathBuf,
    /// The directory the program starts in.
    pub(crate) cwd: PathBuf,
    /// The user to become (root under `sudo`).
    pub(crate) user: Option<User>,
}

/// The exit status when the sandbox could not be made.
const SETUP_FAILED: i32 = 125;

/// Runs init with `plan` (JSON) and `command`; returns its exit code: COMMAND's, 128 + the
/// signal that ended it, 125 when the sandbox could not be made, 126 or 127 when COMMAND
/// could not be run or found.
pub fn init(plan: &str, command: &[OsString]) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("azlite run: cannot start the sandbox's init: {e}");
            return SETUP_FAILED;
        }
    };
    runtime.block_on(run(plan, command))
}

async fn run(plan: &str, command: &[OsString]) -> i32 {
    // First of all: process 1 drops every signal it has no handler for. (Handlers, not a
    // blocked mask, which the program would inherit.)
    let mut signals = match Signals::new() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("azlite run: cannot handle signals: {e}");
            return SETUP_FAILED;
        }
    };
    let plan: Plan = match serde_json::from_str(plan) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("azlite run: sandbox-init: bad plan: {e}");
            return SETUP_FAILED;
        }
    };
    if let Err(e) = prepare(&plan) {
        eprintln!("azlite run: {e}");
        let _ = std::fs::remove_dir_all(&plan.scratch);
        return SETUP_FAILED;
    }
    let Some((program, args)) = command.split_first() else {
        eprintln!("azlite run: no command given");
        return SETUP_FAILED;
    };
    let child = match std::process::Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("azlite run: cannot run {}: {e}", program.to_string_lossy());
            return if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
        }
    };
    let child = Pid::from_raw(child.id().try_into().unwrap_or(i32::MAX));
    signals.supervise(child).await
}

/// The signals init passes on, and SIGCHLD.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    child: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
            interrupt: signal(SignalKind::interrupt())?,
            child: signal(SignalKind::child())?,
        })
    }

    /// Waits for `child`, passing signals on and reaping every other process that ends
    /// (init inherits orphans); returns the exit code for `azlite run`.
    async fn supervise(&mut self, child: Pid) -> i32 {
        // Ctrl-C at a terminal reaches every process of the foreground group, the program
        // included: passing it on too would interrupt the program twice.
        let interactive = std::io::stdin().is_terminal();
        loop {
            // A child may have ended before the handler was there: look first.
            if let Some(code) = reap(child) {
                return code;
            }
            let passed = tokio::select! {
                _ = self.child.recv() => continue,
                _ = self.terminate.recv() => Signal::SIGTERM,
                _ = self.hangup.recv() => Signal::SIGHUP,
                _ = self.quit.recv() => Signal::SIGQUIT,
                _ = self.interrupt.recv() => {
                    if interactive {
                        continue;
                    }
                    Signal::SIGINT
                }
            };
            let _ = kill(child, passed);
        }
    }
}

/// The mounts, then the privileges dropped.
fn prepare(plan: &Plan) -> Result<(), SandboxError> {
    // If the forwarder ends, so does the sandbox (set again below: changing user clears it).
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    unshare(CloneFlags::CLONE_NEWNS).map_err(|errno| SandboxError::Mount {
        what: "create the mount namespace".to_owned(),
        errno,
    })?;
    namespace::make_private()?;
    for (file, target) in &plan.files {
        namespace::bind_file(file, target)?;
    }
    if let Some(keys) = &plan.arc_keys {
        let client_dir = Path::new(azlite_server::sandbox::ARC_CLIENT_KEY_DIRECTORY);
        namespace::bind_directory(keys, client_dir, &plan.scratch.join("stage"))?;
    }
    hide_data_dir(plan)?;
    namespace::mount_proc()?;
    let _ = std::fs::remove_dir_all(&plan.scratch);
    if std::env::set_current_dir(&plan.cwd).is_err() {
        eprintln!(
            "azlite run: {} is not in the sandbox: starting in /",
            plan.cwd.display()
        );
        std::env::set_current_dir("/").map_err(|source| SandboxError::Io {
            what: "cannot change to /".to_owned(),
            source,
        })?;
    }
    privileges::drop_all(plan.user.as_ref())?;
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    Ok(())
}

/// Covers the data directory (the store, its keys, `connection.json`, the sandbox socket)
/// with a read-only tmpfs that holds only azlite's CA, if it lives there.
fn hide_data_dir(plan: &Plan) -> Result<(), SandboxError> {
    let dir = &plan.data_dir;
    if dir.parent().is_none() {
        return Err(SandboxError::Io {
            what: "cannot hide the data directory /".to_owned(),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        });
    }
    let ca = match plan.ca.strip_prefix(dir) {
        Ok(relative) => Some((relative.to_owned(), read(&plan.ca)?)),
        Err(_) => None,
    };
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let mount_error = |errno: Errno| SandboxError::Mount {
        what: format!("hide {}", dir.display()),
        errno,
    };
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        flags,
        Some("mode=0755,size=1m"),
    )
    .map_err(mount_error)?;
    if let Some((relative, text)) = ca {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent)
                .map_err(|source| io_error(parent, source))?;
        }
        std::fs::write(&path, text).map_err(|source| io_error(&path, source))?;
    }
    mount(
        None::<&str>,
        dir,
        None::<&str>,
        flags | MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(mount_error)
}

fn read(path: &Path) -> Result<Vec<u8>, SandboxError> {
    std::fs::read(path).map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: std::io::Error) -> SandboxError {
    SandboxError::Io {
        what: path.display().to_string(),
        source,
    }
}

/// Reaps every process that ended; `child`'s exit code if it is one of them.
fn reap(child: Pid) -> Option<i32> {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => return Some(code),
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == child => {
                return Some(128 + signal as i32);
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}
