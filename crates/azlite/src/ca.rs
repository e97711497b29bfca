//! `azlite ca`.

use std::path::Path;

/// Prints the CA certificate's path.
pub(crate) fn run(data_dir: &Path) -> anyhow::Result<()> {
    azlite_server::data_dir::private_dir(data_dir)?;
    let ca = azlite_server::LocalCa::load_or_create(data_dir)?;
    println!("{}", ca.certificate_path().display());
    Ok(())
}
