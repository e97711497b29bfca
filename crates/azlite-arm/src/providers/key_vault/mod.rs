//! `Microsoft.KeyVault`: vaults ([`vaults`]) with their model ([`vault_model`]) and access
//! policies ([`vault_policies`]), soft-deleted vaults ([`deleted_vaults`]), and the
//! subscription's name check.

pub(crate) mod deleted_vaults;
pub(crate) mod vault_model;
pub(crate) mod vault_policies;
pub(crate) mod vaults;

use axum::http::Method;
use axum::response::Response;
use azlite_types::SubscriptionId;

use super::{InvalidPath, ProviderPath, Request, TrackedResource, is};
use crate::resources::Kind;
use crate::{Arm, ArmError};
use vault_model::AccessPolicyUpdateKind;

/// The namespace, in ARM's casing.
pub(crate) const NAMESPACE: &str = "Microsoft.KeyVault";
/// Key vaults, `(namespace, type)` in ARM's canonical casing.
pub(crate) const KEY_VAULTS: Kind = (NAMESPACE, "vaults");

/// What a request asks of `Microsoft.KeyVault`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.KeyVault/vaults`
    /// (`Vaults_ListBySubscription`, `Vaults_ListByResourceGroup`)
    ListVaults(SubscriptionId, Option<String>),
    /// `GET|PUT|PATCH|DELETE …/providers/Microsoft.KeyVault/vaults/{name}`
    Vault(TrackedResource),
    /// `PUT …/providers/Microsoft.KeyVault/vaults/{name}/accessPolicies/{operationKind}`
    /// (`Vaults_UpdateAccessPolicy`)
    VaultAccessPolicy(TrackedResource, AccessPolicyUpdateKind),
    /// `POST /subscriptions/{s}/providers/Microsoft.KeyVault/checkNameAvailability`
    /// (`Vaults_CheckNameAvailability`)
    CheckVaultNameAvailability(SubscriptionId),
    /// `GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults` (`Vaults_ListDeleted`)
    ListDeletedVaults(SubscriptionId),
    /// `GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedManagedHSMs`
    /// (`ManagedHsms_ListDeleted`, which `az keyvault list-deleted` also calls)
    ListDeletedManagedHsms(SubscriptionId),
    /// `GET /subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/deletedVaults/{name}`
    /// (`Vaults_GetDeleted`): the subscription, location and name
    DeletedVault(SubscriptionId, String, String),
    /// `POST …/locations/{l}/deletedVaults/{name}/purge` (`Vaults_PurgeDeleted`)
    PurgeDeletedVault(SubscriptionId, String, String),
}

impl Operation {
    /// The methods ARM allows for the operation.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match self {
            Self::Vault(_) => {
                [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
            }
            Self::VaultAccessPolicy(..) => method == Method::PUT,
            Self::CheckVaultNameAvailability(_) | Self::PurgeDeletedVault(..) => {
                method == Method::POST
            }
            Self::ListVaults(..)
            | Self::ListDeletedVaults(_)
            | Self::ListDeletedManagedHsms(_)
            | Self::DeletedVault(..) => method == Method::GET,
        }
    }
}

/// The segments after `Microsoft.KeyVault`.
pub(crate) fn parse(path: &ProviderPath<'_>) -> Option<Result<Operation, InvalidPath>> {
    let (subscription, group) = path.subscription_and_group()?;
    let vault =
        |group: String, name: &str| TrackedResource::new(subscription, group, name, KEY_VAULTS);
    match (path.rest, group) {
        ([c], None) if is(c, "checkNameAvailability") => {
            Some(Ok(Operation::CheckVaultNameAvailability(subscription)))
        }
        ([t], group) if is(t, KEY_VAULTS.1) => Some(Ok(Operation::ListVaults(subscription, group))),
        ([t], None) if is(t, "deletedVaults") => {
            Some(Ok(Operation::ListDeletedVaults(subscription)))
        }
        ([t], None) if is(t, "deletedManagedHSMs") => {
            Some(Ok(Operation::ListDeletedManagedHsms(subscription)))
        }
        ([l, location, t, name], None) if is(l, "locations") && is(t, "deletedVaults") => Some(Ok(
            Operation::DeletedVault(subscription, (*location).to_owned(), (*name).to_owned()),
        )),
        ([l, location, t, name, p], None)
            if is(l, "locations") && is(t, "deletedVaults") && is(p, "purge") =>
        {
            Some(Ok(Operation::PurgeDeletedVault(
                subscription,
                (*location).to_owned(),
                (*name).to_owned(),
            )))
        }
        ([t, name], Some(group)) if is(t, KEY_VAULTS.1) => {
            Some(vault(group, name).map(Operation::Vault))
        }
        ([t, name, a, kind], Some(group)) if is(t, KEY_VAULTS.1) && is(a, "accessPolicies") => {
            let kind = AccessPolicyUpdateKind::parse(kind)?;
            Some(vault(group, name).map(|r| Operation::VaultAccessPolicy(r, kind)))
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
        Operation::ListVaults(s, group) => vaults::list(arm, caller, s, group.as_deref()).await,
        Operation::Vault(resource) => vaults::one(arm, caller, method, &resource, body).await,
        Operation::VaultAccessPolicy(resource, kind) => {
            vaults::update_access_policy(arm, caller, &resource, kind, body).await
        }
        Operation::CheckVaultNameAvailability(s) => {
            vaults::check_name_availability(arm, caller, s, body).await
        }
        Operation::ListDeletedVaults(s) => deleted_vaults::list(arm, caller, s).await,
        Operation::ListDeletedManagedHsms(s) => deleted_vaults::list_hsms(arm, caller, s).await,
        Operation::DeletedVault(s, location, name) => {
            deleted_vaults::get(arm, caller, s, &location, &name).await
        }
        Operation::PurgeDeletedVault(s, location, name) => {
            deleted_vaults::purge(arm, caller, s, &location, &name).await
        }
    }
}
