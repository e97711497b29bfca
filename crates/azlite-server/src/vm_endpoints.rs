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
    /// No VM, nor instance of a scale set, has that name (in that group).
    #[error("no virtual machine named '{0}' in the default subscription")]
    NoSuchVm(String),
    /// Several groups hold a VM of that name.
    #[error("several virtual machines are named '{0}': give --resource-group")]
    Ambiguous(String),
    /// Opening the store or the token service failed.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The VM (or scale set) could not be read.
    #[error(transparent)]
    Source(#[from] azlite_imds::SourceError),
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

/// Prepares the endpoints of the VM `name` (in `group`, if given) of the default subscription,
/// or of the scale set instance `name` names (`{scale set}_{instanceId}`).
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
    let vm = find_vm(&store, name, group).await?;
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

/// The VM `name` (in `group`, if given) of the default subscription; or the instance of a
/// scale set that `name` names as Azure names instances, `{scale set}_{instanceId}`.
pub(crate) async fn find_vm(
    store: &Arc<dyn Store>,
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
    let list = |resource_type: &'static str| {
        let id = subscription.id;
        async move {
            store
                .list_resources(id, group, Some(resource_type))
                .await
                .map_err(StartError::from)
        }
    };
    let mut found: Vec<azlite_types::ResourceId> = list(VM_TYPE)
        .await?
        .into_iter()
        .filter(|r| r.name.eq_ignore_ascii_case(name))
        .map(|r| r.id)
        .collect();
    if let Some((scale_set, instance)) = name.rsplit_once('_') {
        let source = azlite_imds::StoreVmIdentities::new(store.clone());
        for r in list(SCALE_SET_TYPE).await? {
            if !r.name.eq_ignore_ascii_case(scale_set) {
                continue;
            }
            let Ok(id) = format!("{}/virtualMachines/{instance}", r.id).parse() else {
                continue;
            };
            if vm_exists(&source, &id).await? {
                found.push(id);
            }
        }
    }
    match found.as_slice() {
        [] => Err(VmEndpointsError::NoSuchVm(name.to_owned())),
        [one] => Ok(one.clone()),
        _ => Err(VmEndpointsError::Ambiguous(name.to_owned())),
    }
}

/// The type of VMs.
pub(crate) const VM_TYPE: &str = "Microsoft.Compute/virtualMachines";
/// The type of scale sets.
const SCALE_SET_TYPE: &str = "Microsoft.Compute/virtualMachineScaleSets";
/// The type of a scale set's instances.
const SCALE_SET_VM_TYPE: &str = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines";

/// Whether `id` names a VM, or an instance of a scale set, that exists.
pub(crate) async fn vm_exists(
    source: &azlite_imds::StoreVmIdentities,
    id: &azlite_types::ResourceId,
) -> Result<bool, VmEndpointsError> {
    use azlite_imds::VmIdentities;
    let served = id.resource_type().is_some_and(|t| {
        t.eq_ignore_ascii_case(VM_TYPE) || t.eq_ignore_ascii_case(SCALE_SET_VM_TYPE)
    });
    if !served {
        return Ok(false);
    }
    Ok(source.instance(id).await?.is_some())
}
