//! `azlite`: Azure's managed identities, RBAC and resource services on one machine.
//!
//! Architecture Invariant: only this crate parses command lines. Commands that act on a
//! running azlite talk to it over HTTPS like any other client, with the owner credentials
//! from `connection.json`.

mod ad;
mod ad_graph_roles;
mod blob_client;
mod ca;
mod client;
mod clock;
mod dls;
mod dls_account;
mod dls_fs;
mod group;
mod identity;
mod imds;
mod keys;
mod keyvault;
mod keyvault_secret;
mod progress;
mod role;
mod run;
mod storage;
mod storage_account;
mod storage_blob;
mod storage_container;
mod up;
mod vm;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Azure managed identities, RBAC and resource services, locally.
#[derive(Debug, Parser)]
#[command(name = "azlite", version, about)]
struct Cli {
    /// Data directory (store, CA, connection.json). Default: $XDG_DATA_HOME/azlite, else
    /// ~/.local/share/azlite.
    #[arg(long, global = true, env = "AZLITE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start azlite in the foreground.
    Up(up::UpArgs),
    /// Run a program in a sandbox where it sees a VM with a managed identity: IMDS on
    /// 169.254.169.254, Azure's host names served by azlite, azlite's CA trusted, and no
    /// network but loopback.
    Run(run::RunArgs),
    /// The sandbox's init (process 1 of `azlite run`'s PID namespace), started by `azlite
    /// run` itself.
    #[command(name = "sandbox-init", hide = true)]
    SandboxInit(run::InitArgs),
    /// Print the path of the local CA certificate (creating the CA if needed).
    Ca,
    /// Manage the token-signing keys of a running azlite.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Show or move the clock of a running azlite.
    Clock {
        #[command(subcommand)]
        command: clock::ClockCommand,
    },
    /// Serve another VM's managed-identity endpoints (IMDS and friends) in the foreground.
    Imds(imds::ImdsArgs),
    /// Resource groups (as `az group`).
    Group {
        #[command(subcommand)]
        command: group::GroupCommand,
    },
    /// Role assignments and definitions (as `az role`).
    Role {
        #[command(subcommand)]
        command: role::RoleCommand,
    },
    /// User-assigned managed identities (as `az identity`).
    Identity {
        #[command(subcommand)]
        command: identity::IdentityCommand,
    },
    /// Applications and service principals in Microsoft Graph (as `az ad`).
    Ad {
        #[command(subcommand)]
        command: ad::AdCommand,
    },
    /// Virtual machines and their managed identities (as `az vm`).
    Vm {
        #[command(subcommand)]
        command: vm::VmCommand,
    },
    /// Key vaults and their access policies (as `az keyvault`).
    Keyvault {
        #[command(subcommand)]
        command: keyvault::KeyvaultCommand,
    },
    /// Storage accounts and their keys (as `az storage`).
    Storage {
        #[command(subcommand)]
        command: storage::StorageCommand,
    },
    /// Data Lake Store Gen1: accounts and file systems (as `az dls`).
    Dls {
        #[command(subcommand)]
        command: dls::DlsCommand,
    },
}

impl Cli {
    fn data_dir(&self) -> anyhow::Result<PathBuf> {
        self.data_dir
            .clone()
            .or_else(azlite_server::default_data_dir)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no data directory: set --data-dir, AZLITE_DATA_DIR, XDG_DATA_HOME or HOME"
                )
            })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::SandboxInit(args) = &cli.command {
        // Before any thread exists, and without a data directory: it needs none.
        return ExitCode::from(u8::try_from(run::init(args)).unwrap_or(1));
    }
    let data_dir = cli.data_dir();
    let command = cli.command;
    if let Command::Run(args) = command {
        // Before any thread exists: the sandbox may enter a user namespace.
        let code = match data_dir {
            Ok(data_dir) => run::run(data_dir, args),
            Err(e) => {
                eprintln!("azlite run: {e:#}");
                run::SETUP_FAILED
            }
        };
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let result = data_dir.and_then(|data_dir| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            match command {
                Command::Up(args) => up::run(data_dir, args).await,
                Command::Run(_) | Command::SandboxInit(_) => {
                    unreachable!("handled before the runtime starts")
                }
                Command::Ca => ca::run(&data_dir),
                Command::Keys { command } => keys::run(&data_dir, command).await,
                Command::Clock { command } => clock::run(&data_dir, command).await,
                Command::Imds(args) => imds::run(&data_dir, args).await,
                Command::Group { command } => group::run(&data_dir, command).await,
                Command::Role { command } => role::run(&data_dir, command).await,
                Command::Identity { command } => identity::run(&data_dir, command).await,
                Command::Vm { command } => vm::run(&data_dir, command).await,
                Command::Ad { command } => ad::run(&data_dir, command).await,
                Command::Keyvault { command } => keyvault::run(&data_dir, command).await,
                Command::Storage { command } => storage::run(&data_dir, command).await,
                Command::Dls { command } => dls::run(&data_dir, command).await,
            }
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("azlite: {e:#}");
            ExitCode::FAILURE
        }
    }
}
