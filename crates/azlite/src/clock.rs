//! `azlite clock show|advance`.

use std::path::Path;

use clap::Subcommand;
use serde_json::json;

use crate::admin_client::AdminClient;

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
    let client = AdminClient::connect(data_dir).await?;
    let answer = match command {
        ClockCommand::Show => client.call(reqwest::Method::GET, "clock", None).await?,
        ClockCommand::Advance { seconds } => {
            client
                .call(
                    reqwest::Method::POST,
                    "clock",
                    Some(json!({ "advanceSeconds": seconds })),
                )
                .await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
