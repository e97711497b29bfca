//! `azlite dls …`, as `az dls …`: Data Lake Store Gen1 accounts ([`crate::dls_account`])
//! and their file systems ([`crate::dls_fs`]).

use std::path::Path;

use clap::Subcommand;

use crate::dls_account::{self, AccountCommand};
use crate::dls_fs::{self, FsCommand};

/// Data Lake Store commands.
#[derive(Debug, Subcommand)]
pub(crate) enum DlsCommand {
    /// Data Lake Store accounts (as `az dls account`).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// The file system of an account (as `az dls fs`).
    Fs {
        #[command(subcommand)]
        command: FsCommand,
    },
}

pub(crate) async fn run(data_dir: &Path, command: DlsCommand) -> anyhow::Result<()> {
    match command {
        DlsCommand::Account { command } => dls_account::run(data_dir, command).await,
        DlsCommand::Fs { command } => dls_fs::run(data_dir, command).await,
    }
}
