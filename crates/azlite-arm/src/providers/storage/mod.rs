//! `Microsoft.Storage`: storage accounts ([`accounts`], model in [`account_model`]), their
//! access keys ([`keys`]: `listKeys`, `regenerateKey`), SAS tokens signed with them
//! ([`sas`]: `listServiceSas`, `listAccountSas`), and the subscription's name check.
//!
//! The access keys live in the store ([`azlite_store::StorageAccountKeyStore`]), written in
//! the same batch as the account and deleted with it; the Blob data plane reads them there
//! on every Shared Key or SAS verification, so a regenerated key invalidates the old
//! signatures at once.
//!
//! Blob containers through ARM (`blobServices/default/containers/{name}`, and
//! `blobServices/default` read) are in [`blob_containers`]: they are the Blob metadata
//! store's containers, the ones the data plane serves. The development account of
//! Azurite's drop-in mode is made in [`development`].

pub(crate) mod account_model;
pub(crate) mod accounts;
pub(crate) mod blob_containers;
pub(crate) mod blob_service;
pub(crate) mod development;
pub(crate) mod keys;
pub(crate) mod sas;

use axum::http::Method;
use axum::response::Response;
use azlite_types::SubscriptionId;

use super::{InvalidPath, ProviderPath, Request, TrackedResource, is};
use crate::resources::Kind;
use crate::{Arm, ArmError};

/// The namespace, in ARM's casing.
pub(crate) const NAMESPACE: &str = "Microsoft.Storage";
/// Storage accounts, `(namespace, type)` in ARM's canonical casing.
pub(crate) const STORAGE_ACCOUNTS: Kind = (NAMESPACE, "storageAccounts");

/// What a request asks of `Microsoft.Storage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Storage/storageAccounts`
    /// (`StorageAccounts_List`, `StorageAccounts_ListByResourceGroup`)
    ListAccounts(SubscriptionId, Option<String>),
    /// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Storage/storageAccounts/{name}`
    /// (`StorageAccounts_GetProperties`, `_Create`, `_Update`, `_Delete`)
    Account(TrackedResource),
    /// `POST …/storageAccounts/{name}/listKeys` (`StorageAccounts_ListKeys`)
    ListKeys(TrackedResource),
    /// `POST …/storageAccounts/{name}/regenerateKey` (`StorageAccounts_RegenerateKey`)
    RegenerateKey(TrackedResource),
    /// `POST …/storageAccounts/{name}/ListServiceSas` (`StorageAccounts_ListServiceSAS`)
    ListServiceSas(TrackedResource),
    /// `POST …/storageAccounts/{name}/ListAccountSas` (`StorageAccounts_ListAccountSAS`)
    ListAccountSas(TrackedResource),
    /// `GET|PUT …/storageAccounts/{name}/blobServices/default`
    /// (`BlobServices_GetServiceProperties`, `_SetServiceProperties`)
    BlobService(TrackedResource),
    /// `GET …/storageAccounts/{name}/blobServices/default/containers` (`BlobContainers_List`)
    ListContainers(TrackedResource),
    /// `GET|PUT|PATCH|DELETE …/blobServices/default/containers/{container}`
    /// (`BlobContainers_Get`, `_Create`, `_Update`, `_Delete`)
    Container(TrackedResource, String),
    /// `POST /subscriptions/{s}/providers/Microsoft.Storage/checkNameAvailability`
    /// (`StorageAccounts_CheckNameAvailability`)
    CheckNameAvailability(SubscriptionId),
}

impl Operation {
    /// The methods ARM allows for the operation.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match self {
            Self::Account(_) | Self::Container(..) => {
                [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
            }
            Self::BlobService(_) => [Method::GET, Method::PUT].contains(method),
            Self::ListContainers(_) => method == Method::GET,
            Self::ListKeys(_)
            | Self::RegenerateKey(_)
            | Self::ListServiceSas(_)
            | Self::ListAccountSas(_)
            | Self::CheckNameAvailability(_) => method == Method::POST,
            Self::ListAccounts(..) => method == Method::GET,
        }
    }
}

/// The segments after `Microsoft.Storage`. Action names match in any casing (the tutorials
/// write `listServiceSas`, the spec `ListServiceSas`); a trailing slash is no segment.
pub(crate) fn parse(path: &ProviderPath<'_>) -> Option<Result<Operation, InvalidPath>> {
    let (subscription, group) = path.subscription_and_group()?;
    let account = |group: String, name: &str| {
        TrackedResource::new(subscription, group, name, STORAGE_ACCOUNTS)
    };
    match (path.rest, group) {
        ([c], None) if is(c, "checkNameAvailability") => {
            Some(Ok(Operation::CheckNameAvailability(subscription)))
        }
        ([t], group) if is(t, STORAGE_ACCOUNTS.1) => {
            Some(Ok(Operation::ListAccounts(subscription, group)))
        }
        ([t, name], Some(group)) if is(t, STORAGE_ACCOUNTS.1) => {
            Some(account(group, name).map(Operation::Account))
        }
        ([t, name, action], Some(group)) if is(t, STORAGE_ACCOUNTS.1) => {
            let make: fn(TrackedResource) -> Operation = if is(action, "listKeys") {
                Operation::ListKeys
            } else if is(action, "regenerateKey") {
                Operation::RegenerateKey
            } else if is(action, "ListServiceSas") {
                Operation::ListServiceSas
            } else if is(action, "ListAccountSas") {
                Operation::ListAccountSas
            } else {
                return None;
            };
            Some(account(group, name).map(make))
        }
        ([t, name, service, default], Some(group))
            if is(t, STORAGE_ACCOUNTS.1)
                && is(service, "blobServices")
                && is(default, "default") =>
        {
            Some(account(group, name).map(Operation::BlobService))
        }
        ([t, name, service, default, containers], Some(group))
            if is(t, STORAGE_ACCOUNTS.1)
                && is(service, "blobServices")
                && is(default, "default")
                && is(containers, "containers") =>
        {
            Some(account(group, name).map(Operation::ListContainers))
        }
        ([t, name, service, default, containers, container], Some(group))
            if is(t, STORAGE_ACCOUNTS.1)
                && is(service, "blobServices")
                && is(default, "default")
                && is(containers, "containers") =>
        {
            let container = (*container).to_owned();
            Some(account(group, name).map(|a| Operation::Container(a, container)))
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
        Operation::ListKeys(resource) => keys::list_keys(arm, caller, &resource).await,
        Operation::RegenerateKey(resource) => {
            keys::regenerate_key(arm, caller, &resource, body).await
        }
        Operation::ListServiceSas(resource) => {
            sas::list_service_sas_token(arm, caller, &resource, body).await
        }
        Operation::ListAccountSas(resource) => {
            sas::list_account_sas_token(arm, caller, &resource, body).await
        }
        Operation::BlobService(resource) => {
            blob_service::service(arm, caller, method, &resource, body).await
        }
        Operation::ListContainers(resource) => {
            blob_containers::list(arm, &request, &resource).await
        }
        Operation::Container(resource, container) => {
            blob_containers::one(arm, caller, method, &resource, &container, body).await
        }
        Operation::CheckNameAvailability(s) => {
            accounts::check_name_availability(arm, caller, s, body).await
        }
    }
}
