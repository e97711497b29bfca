//! `azlite clock show|advance`.

use std::path::Path;

use clap::Subcommand;
use serde_json::json;

use crate::client::Client;

/// Clock commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ClockCommand {
    /// Print azlite's current time and its offset from the system clock.
    Show,
    /// Move azlite's clock forward, e.g. to expire tokens.
    Advance {
        /// Seconds to move forward.
        seconds: u32,
    },
}

pub(crate) async fn run(data_dir: &Path, command: ClockCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    let answer = match command {
        ClockCommand::Show => client.admin(reqwest::Method::GET, "clock", None).await?,
        ClockCommand::Advance { seconds } => {
            let body = json!({ "advanceSeconds": seconds });
            client
                .admin(reqwest::Method::POST, "clock", Some(&body))
                .await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
