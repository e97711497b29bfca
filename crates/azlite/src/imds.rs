//! `azlite imds --vm NAME --listen ADDR`: serve another VM's on-VM endpoints (IMDS, the
//! extension / Cloud Shell path, App Service) from this data directory, in the foreground.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use azlite_server::Config;
use clap::Args;

/// Options of `azlite imds`.
#[derive(Debug, Args)]
pub(crate) struct ImdsArgs {
    /// Name of the VM (in the default subscription); an instance of a scale set is
    /// SCALESET_INSTANCEID, as Azure names it.
    #[arg(long)]
    vm: String,
    /// Its resource group, when several groups hold a VM of that name.
    #[arg(short = 'g', long)]
    resource_group: Option<String>,
    /// Address to serve on (plain HTTP, loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

pub(crate) async fn run(data_dir: &Path, args: ImdsArgs) -> anyhow::Result<()> {
    let config = Config::with_data_dir(data_dir);
    let endpoints =
        azlite_server::open_vm_endpoints(&config, &args.vm, args.resource_group.as_deref()).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "Serving the managed-identity endpoints of {vm}\n\n  IMDS  http://{addr}/metadata/identity/oauth2/token  (header Metadata: true)\n\n  export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://{addr}\n  export IDENTITY_ENDPOINT=http://{addr}/msi/token IDENTITY_HEADER={header}\n  export MSI_ENDPOINT=http://{addr}/oauth2/token\n\nStop with Ctrl-C.",
        vm = endpoints.vm_id,
        header = endpoints.identity_header,
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    azlite_server::serve_vm_endpoints(endpoints.router, listener, shutdown).await?;
    Ok(())
}
