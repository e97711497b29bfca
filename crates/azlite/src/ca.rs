//! `azlite ca`.

use std::path::Path;

/// Prints the CA certificate's path.
pub(crate) fn run(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let ca = azlite_server::LocalCa::load_or_create(data_dir)?;
    println!("{}", ca.certificate_path().display());
    Ok(())
}
