//! `azlite imds --vm NAME`: the on-VM endpoints of another VM, served by a second process
//! from the same data directory (SQLite in WAL mode takes several processes). Tokens are
//! signed with the signing key that is active when the process starts.

use std::sync::Arc;

use axum::Router;
use azlite_store::{SqliteStore, Store};
use azlite_sts::{Sts, StsConfig};
use azlite_types::{Clock, OffsetClock};

use crate::{Config, StartError, admin};

/// Why another VM's endpoints cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum VmEndpointsError {
    /// The data directory holds no azlite store yet.
    #[error("there is no azlite store in {0}: start `azlite up` once first")]
    NoStore(std::path::PathBuf),
    /// No VM has that name (in that group).
    #[error("no virtual machine named '{0}' in the default subscription")]
    NoSuchVm(String),
    /// Several groups hold a VM of that name.
    #[error("several virtual machines are named '{0}': give --resource-group")]
    Ambiguous(String),
    /// Opening the store or the token service failed.
    #[error(transparent)]
    Start(#[from] StartError),
}

/// The endpoints of one VM, ready to serve.
#[derive(Debug)]
pub struct VmEndpoints {
    /// The router (IMDS, extension / Cloud Shell, App Service paths).
    pub router: Router,
    /// The VM's ARM id.
    pub vm_id: String,
    /// The App Service secret (`IDENTITY_HEADER`).
    pub identity_header: String,
}

/// Prepares the endpoints of the VM `name` (in `group`, if given) of the default subscription.
pub async fn open_vm_endpoints(
    config: &Config,
    name: &str,
    group: Option<&str>,
) -> Result<VmEndpoints, VmEndpointsError> {
    let path = config.data_dir.join("azlite.db");
    if !path.exists() {
        return Err(VmEndpointsError::NoStore(config.data_dir.clone()));
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.map_err(StartError::from)?);
    let offset = store
        .get_setting(admin::CLOCK_OFFSET_SETTING)
        .await
        .map_err(StartError::from)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let clock: Arc<dyn Clock> = Arc::new(OffsetClock::new(offset));
    let vm = find_vm(store.as_ref(), name, group).await?;
    let sts_config = StsConfig {
        app_token_lifetime: config.tokens.app_lifetime_seconds,
        ..StsConfig::default()
    };
    let sts = Arc::new(
        Sts::open(store.clone(), clock.clone(), sts_config)
            .await
            .map_err(StartError::from)?,
    );
    let tokens: Arc<dyn azlite_token::ManagedIdentityTokens> = sts;
    let source = Arc::new(azlite_imds::StoreVmIdentities::new(store));
    let imds = Arc::new(azlite_imds::Imds::new(
        azlite_imds::ImdsConfig::new(vm.clone()),
        source,
        tokens,
        clock,
    ));
    let identity_header = imds.config().identity_header.clone();
    Ok(VmEndpoints {
        router: imds.router(),
        vm_id: vm.to_string(),
        identity_header,
    })
}

/// The VM `name` (in `group`, if given) of the default subscription.
pub(crate) async fn find_vm(
    store: &dyn Store,
    name: &str,
    group: Option<&str>,
) -> Result<azlite_types::ResourceId, VmEndpointsError> {
    let subscription = store
        .list_subscriptions()
        .await
        .map_err(StartError::from)?
        .into_iter()
        .next()
        .ok_or_else(|| VmEndpointsError::NoSuchVm(name.to_owned()))?;
    let vms: Vec<_> = store
        .list_resources(
            subscription.id,
            group,
            Some("Microsoft.Compute/virtualMachines"),
        )
        .await
        .map_err(StartError::from)?
        .into_iter()
        .filter(|r| r.name.eq_ignore_ascii_case(name))
        .collect();
    match vms.as_slice() {
        [] => Err(VmEndpointsError::NoSuchVm(name.to_owned())),
        [one] => Ok(one.id.clone()),
        _ => Err(VmEndpointsError::Ambiguous(name.to_owned())),
    }
}
