//! The sandboxed program: started with the sandbox's environment, its signals passed on,
//! its exit status passed back.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::os::unix::process::ExitStatusExt;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};

use crate::SandboxError;

/// Runs `command` with the environment `variables` (and no other) and waits for it, passing on
/// SIGTERM, SIGHUP and SIGQUIT, and SIGINT when it did not come from a terminal. Returns the
/// exit code for `azlite run`: the program's, or 128 + the signal that ended it (as shells
/// report it).
pub(crate) async fn run(
    command: &[OsString],
    variables: &[(OsString, OsString)],
) -> Result<i32, SandboxError> {
    let Some((program, args)) = command.split_first() else {
        return Err(SandboxError::Spawn {
            program: String::new(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command given"),
        });
    };
    let mut child_command = tokio::process::Command::new(program);
    child_command
        .args(args)
        .env_clear()
        .envs(variables.iter().map(|(n, v)| (n, v)));
    let mut child = child_command
        .spawn()
        .map_err(|source| SandboxError::Spawn {
            program: program.to_string_lossy().into_owned(),
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
