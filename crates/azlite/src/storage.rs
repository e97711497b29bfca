//! `azlite storage …`, as `az storage …`: storage accounts and their keys
//! ([`crate::storage_account`]), containers ([`crate::storage_container`]) and blobs
//! ([`crate::storage_blob`]).

use std::path::Path;

use clap::Subcommand;

use crate::storage_account::{self, AccountCommand};
use crate::storage_blob::{self, BlobCommand};
use crate::storage_container::{self, ContainerCommand};

/// Storage commands.
#[derive(Debug, Subcommand)]
pub(crate) enum StorageCommand {
    /// Storage accounts and their keys (as `az storage account`).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Blob containers (as `az storage container`).
    Container {
        #[command(subcommand)]
        command: ContainerCommand,
    },
    /// Block blobs (as `az storage blob`).
    Blob {
        #[command(subcommand)]
        command: BlobCommand,
    },
}

pub(crate) async fn run(data_dir: &Path, command: StorageCommand) -> anyhow::Result<()> {
    match command {
        StorageCommand::Account { command } => storage_account::run(data_dir, command).await,
        StorageCommand::Container { command } => storage_container::run(data_dir, command).await,
        StorageCommand::Blob { command } => storage_blob::run(data_dir, command).await,
    }
}
