//! The sandbox's init started (which starts the program), signals passed on to it, its exit
//! status passed back.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::os::unix::process::ExitStatusExt;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};

use crate::SandboxError;
use crate::init::Plan;

/// Starts the sandbox's init (this program again, as `azlite sandbox-init`: process 1 of the
/// new PID namespace) with `plan`, `command` and the environment `variables` (and no other),
/// and waits for it, passing on SIGTERM, SIGHUP and SIGQUIT, and SIGINT when it did not come
/// from a terminal. Returns the exit code for `azlite run`: init's, which is the program's
/// (or 128 + the signal that ended it, as shells report it).
pub(crate) async fn run(
    plan: &Plan,
    command: &[OsString],
    variables: &[(OsString, OsString)],
) -> Result<i32, SandboxError> {
    let plan = serde_json::to_string(plan).map_err(|e| SandboxError::Io {
        what: "cannot write the sandbox's plan".to_owned(),
        source: std::io::Error::other(e),
    })?;
    // `/proc/self/exe`: this very program, even if its file was replaced since.
    let mut init = tokio::process::Command::new("/proc/self/exe");
    init.arg0("azlite")
        .arg("sandbox-init")
        .arg(plan)
        .arg("--")
        .args(command)
        .env_clear()
        .envs(variables.iter().map(|(n, v)| (n, v)));
    let mut child = init.spawn().map_err(|source| SandboxError::Io {
        what: "cannot start the sandbox's init".to_owned(),
        source,
    })?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let io = |source| SandboxError::Io {
        what: "cannot handle signals".to_owned(),
        source,
    };
    let mut terminate = signal(SignalKind::terminate()).map_err(io)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(io)?;
    let mut quit = signal(SignalKind::quit()).map_err(io)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io)?;
    // Ctrl-C at a terminal reaches every process of the foreground group, the program
    // included: passing it on too would interrupt the program twice.
    let interactive = std::io::stdin().is_terminal();
    let status = loop {
        let passed = tokio::select! {
            status = child.wait() => break status,
            _ = terminate.recv() => Signal::SIGTERM,
            _ = hangup.recv() => Signal::SIGHUP,
            _ = quit.recv() => Signal::SIGQUIT,
            _ = interrupt.recv() => {
                if interactive {
                    continue;
                }
                Signal::SIGINT
            }
        };
        if let Some(pid) = pid {
            let _ = kill(pid, passed);
        }
    };
    let status = status.map_err(|source| SandboxError::Io {
        what: "cannot wait for the program".to_owned(),
        source,
    })?;
    Ok(status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1))
}
