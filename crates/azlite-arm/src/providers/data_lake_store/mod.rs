//! `Microsoft.DataLakeStore`: Data Lake Storage Gen1 accounts ([`accounts`], SPEC-DLS
//! 2016-11-01, reference §2.7) and the name check under a location.
//!
//! The Data Lake data plane finds an account by its global name
//! (`find_resources_by_name("Microsoft.DataLakeStore/accounts", name)`), the host
//! `{name}.{datalake suffix}`; deleting the account deletes what the store keeps under its
//! id in the same batch.

pub(crate) mod accounts;

use axum::http::Method;
use axum::response::Response;
use azlite_types::SubscriptionId;

use super::{InvalidPath, ProviderPath, Request, TrackedResource, is};
use crate::resources::Kind;
use crate::{Arm, ArmError};

/// The namespace, in ARM's casing.
pub(crate) const NAMESPACE: &str = "Microsoft.DataLakeStore";
/// Data Lake Store accounts, `(namespace, type)` in ARM's canonical casing.
pub(crate) const DATA_LAKE_STORE_ACCOUNTS: Kind = (NAMESPACE, "accounts");

/// What a request asks of `Microsoft.DataLakeStore`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.DataLakeStore/accounts`
    /// (`Accounts_List`, `Accounts_ListByResourceGroup`)
    ListAccounts(SubscriptionId, Option<String>),
    /// `GET|PUT|PATCH|DELETE …/providers/Microsoft.DataLakeStore/accounts/{name}`
    /// (`Accounts_Get`, `_Create`, `_Update`, `_Delete`)
    Account(TrackedResource),
    /// `POST /subscriptions/{s}/providers/Microsoft.DataLakeStore/locations/{location}/checkNameAvailability`
    /// (`Accounts_CheckNameAvailability`)
    CheckNameAvailability(SubscriptionId),
}

impl Operation {
    /// The methods ARM allows for the operation.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match self {
            Self::Account(_) => {
                [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
            }
            Self::CheckNameAvailability(_) => method == Method::POST,
            Self::ListAccounts(..) => method == Method::GET,
        }
    }
}

/// The segments after `Microsoft.DataLakeStore`.
pub(crate) fn parse(path: &ProviderPath<'_>) -> Option<Result<Operation, InvalidPath>> {
    let (subscription, group) = path.subscription_and_group()?;
    let kind = DATA_LAKE_STORE_ACCOUNTS;
    match (path.rest, group) {
        ([l, _location, c], None) if is(l, "locations") && is(c, "checkNameAvailability") => {
            Some(Ok(Operation::CheckNameAvailability(subscription)))
        }
        ([t], group) if is(t, kind.1) => Some(Ok(Operation::ListAccounts(subscription, group))),
        ([t, name], Some(group)) if is(t, kind.1) => {
            Some(TrackedResource::new(subscription, group, name, kind).map(Operation::Account))
        }
        _ => None,
    }
}

/// Runs an operation.
pub(crate) async fn dispatch(
    arm: &Arm,
    operation: Operation,
    request: Request<'_>,
) -> Result<Response, ArmError> {
    let Request {
        caller,
        method,
        body,
        ..
    } = request;
    match operation {
        Operation::ListAccounts(s, group) => accounts::list(arm, caller, s, group.as_deref()).await,
        Operation::Account(resource) => accounts::one(arm, caller, method, &resource, body).await,
        Operation::CheckNameAvailability(s) => {
            accounts::check_name_availability(arm, caller, s, body).await
        }
    }
}
