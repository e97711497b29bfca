//! An account as the data plane sees it: the ARM resource `Microsoft.DataLakeStore/accounts`
//! with the host's name (names are global), and the tenant of its subscription.

use azlite_store::Store;
use azlite_types::{ResourceId, TenantId};

use crate::error::DataLakeError;

/// The ARM resource type of an account.
pub const ACCOUNT_TYPE: &str = "Microsoft.DataLakeStore/accounts";

/// What the data plane needs of an account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its ARM id: the key of its tree and the scope of superuser checks.
    pub id: ResourceId,
    /// The tenant whose tokens it accepts.
    pub tenant_id: TenantId,
}

/// Finds the account named `name`.
pub async fn find(store: &dyn Store, name: &str) -> Result<Account, DataLakeError> {
    let found = store
        .find_resources_by_name(ACCOUNT_TYPE, name)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "finding a Data Lake account");
            DataLakeError::internal()
        })?;
    let Some(resource) = found.into_iter().next() else {
        return Err(DataLakeError::no_account(name));
    };
    let subscription = store
        .get_subscription(resource.subscription_id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading an account's subscription");
            DataLakeError::internal()
        })?
        .ok_or_else(|| DataLakeError::no_account(name))?;
    Ok(Account {
        id: resource.id,
        tenant_id: subscription.tenant_id,
    })
}
