//! `azlite dls …`, as `az dls …`: Data Lake Store Gen1 accounts
//! ([`crate::dls_account`]). The file system joins here as a sibling of `account`.

use std::path::Path;

use clap::Subcommand;

use crate::dls_account::{self, AccountCommand};

/// Data Lake Store commands.
#[derive(Debug, Subcommand)]
pub(crate) enum DlsCommand {
    /// Data Lake Store accounts (as `az dls account`).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
}

pub(crate) async fn run(data_dir: &Path, command: DlsCommand) -> anyhow::Result<()> {
    match command {
        DlsCommand::Account { command } => dls_account::run(data_dir, command).await,
    }
}
