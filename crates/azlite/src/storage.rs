//! `azlite storage …`, as `az storage …`: storage accounts and their keys
//! ([`crate::storage_account`]). Containers and blobs join here as siblings of `account`.

use std::path::Path;

use clap::Subcommand;

use crate::storage_account::{self, AccountCommand};

/// Storage commands.
#[derive(Debug, Subcommand)]
pub(crate) enum StorageCommand {
    /// Storage accounts and their keys (as `az storage account`).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
}

pub(crate) async fn run(data_dir: &Path, command: StorageCommand) -> anyhow::Result<()> {
    match command {
        StorageCommand::Account { command } => storage_account::run(data_dir, command).await,
    }
}
