//! `Microsoft.ManagedIdentity`: user-assigned identities ([`identities`]), the
//! system-assigned identity of any resource (`{resource}/providers/
//! Microsoft.ManagedIdentity/identities/default`), and the `identity` block other
//! providers' resources carry ([`identity_block`]).

pub(crate) mod identities;
pub(crate) mod identity_block;

use axum::http::Method;
use axum::response::Response;
use azlite_types::{ResourceId, SubscriptionId};

use super::{InvalidPath, ProviderPath, Request, TrackedResource, is};
use crate::resources::Kind;
use crate::{Arm, ArmError};

/// The namespace, in ARM's casing.
pub(crate) const NAMESPACE: &str = "Microsoft.ManagedIdentity";
/// User-assigned identities, `(namespace, type)` in ARM's canonical casing.
pub(crate) const USER_ASSIGNED_IDENTITIES: Kind = (NAMESPACE, "userAssignedIdentities");

/// What a request asks of `Microsoft.ManagedIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.ManagedIdentity/userAssignedIdentities`
    /// (`UserAssignedIdentities_ListBySubscription`, `…_ListByResourceGroup`)
    ListUserAssignedIdentities(SubscriptionId, Option<String>),
    /// `GET|PUT|PATCH|DELETE …/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`
    UserAssignedIdentity(TrackedResource),
    /// `GET {resource id}/providers/Microsoft.ManagedIdentity/identities/default`
    /// (`SystemAssignedIdentities_GetByScope`)
    GetSystemAssignedIdentity(ResourceId),
}

impl Operation {
    /// The methods ARM allows for the operation.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match self {
            Self::UserAssignedIdentity(_) => {
                [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
            }
            Self::ListUserAssignedIdentities(..) | Self::GetSystemAssignedIdentity(_) => {
                method == Method::GET
            }
        }
    }
}

/// The segments after `Microsoft.ManagedIdentity`.
pub(crate) fn parse(path: &ProviderPath<'_>) -> Option<Result<Operation, InvalidPath>> {
    if let [t, name] = path.rest
        && is(t, "identities")
        && is(name, "default")
    {
        return path
            .scope()
            .map(|scope| Ok(Operation::GetSystemAssignedIdentity(scope)));
    }
    let (subscription, group) = path.subscription_and_group()?;
    match (path.rest, group) {
        ([t], group) if is(t, USER_ASSIGNED_IDENTITIES.1) => Some(Ok(
            Operation::ListUserAssignedIdentities(subscription, group),
        )),
        ([t, name], Some(group)) if is(t, USER_ASSIGNED_IDENTITIES.1) => Some(
            TrackedResource::new(subscription, group, name, USER_ASSIGNED_IDENTITIES)
                .map(Operation::UserAssignedIdentity),
        ),
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
        query,
        body,
        ..
    } = request;
    match operation {
        Operation::ListUserAssignedIdentities(s, group) => {
            identities::list(arm, caller, s, group.as_deref(), query).await
        }
        Operation::UserAssignedIdentity(resource) => {
            identities::one(arm, caller, method, &resource, body, query).await
        }
        Operation::GetSystemAssignedIdentity(scope) => {
            identities::get_system_assigned(arm, caller, &scope).await
        }
    }
}
