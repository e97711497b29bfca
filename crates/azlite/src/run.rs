//! `azlite run [--vm NAME] [--arc] -- COMMAND ...`: COMMAND sees a VM with a managed identity
//! (see `azlite_sandbox`).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

/// Options of `azlite run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The VM whose identity COMMAND gets: a name, GROUP/NAME or an ARM id (default: the
    /// demo VM). An instance of a scale set is named as Azure names it, SCALESET_INSTANCEID
    /// (GROUP/SCALESET_INSTANCEID), or by its ARM id
    /// (…/virtualMachineScaleSets/SCALESET/virtualMachines/INSTANCEID).
    #[arg(long, value_name = "VM")]
    vm: Option<String>,
    /// Make the sandbox an Azure Arc machine: IDENTITY_ENDPOINT and IMDS_ENDPOINT set, the
    /// challenge's key files in /var/opt/azcmagent/tokens.
    #[arg(long)]
    arc: bool,
    /// The program to run, and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// Arguments of the sandbox's init (`azlite sandbox-init PLAN -- COMMAND...`), which only
/// `azlite run` gives.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// What init does (JSON, from `azlite run`).
    #[arg(value_name = "PLAN")]
    plan: String,
    /// The program to run, and its arguments.
    #[arg(required = true, last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// Runs the sandbox's init; returns its exit code (see `azlite_sandbox::init`).
pub(crate) fn init(args: &InitArgs) -> i32 {
    azlite_sandbox::init(&args.plan, &args.command)
}

/// The exit code when the sandbox could not be made (as `env` and container runners use).
pub(crate) const SETUP_FAILED: i32 = 125;

/// Runs the sandbox; returns the exit code: COMMAND's, 128 + the signal that ended it, 125
/// when the sandbox could not be made, 126 or 127 when COMMAND could not be run or found.
/// Must be called before any thread is started.
pub(crate) fn run(data_dir: PathBuf, args: RunArgs) -> i32 {
    let options = azlite_sandbox::RunOptions {
        data_dir,
        vm: args.vm,
        arc: args.arc,
        command: args.command,
    };
    match azlite_sandbox::run(options) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("azlite run: {e}");
            match e {
                azlite_sandbox::SandboxError::Spawn { source, .. } => match source.kind() {
                    std::io::ErrorKind::NotFound => 127,
                    _ => 126,
                },
                _ => SETUP_FAILED,
            }
        }
    }
}
