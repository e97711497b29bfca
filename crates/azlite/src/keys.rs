//! `azlite keys rotate`.

use std::path::Path;

use clap::Subcommand;

use crate::client::Client;

/// Signing-key commands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new signing key; the old one stays published until its tokens expire.
    Rotate,
}

pub(crate) async fn run(data_dir: &Path, command: KeysCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        KeysCommand::Rotate => {
            let answer = client
                .admin(reqwest::Method::POST, "keys/rotate", None)
                .await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
    }
    Ok(())
}
