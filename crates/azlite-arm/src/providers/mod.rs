//! The resource providers azlite serves, one module folder each: [`managed_identity`]
//! (user-assigned identities, any resource's system identity, the `identity` block),
//! [`compute`] (virtual machines), [`key_vault`] (vaults, their access policies, deleted
//! vaults), [`storage`] (storage accounts and their keys), [`data_lake_store`] (Data Lake
//! Store Gen1 accounts).
//!
//! Each provider parses its own part of a path (`…/providers/{namespace}/…`, the segments
//! after the namespace) into its own operation enum, says which methods each operation
//! allows, and dispatches it. This module finds the provider by namespace and hands it a
//! [`ProviderPath`]; core ARM ([`crate::operation`]) knows only that the path belongs to a
//! provider. Adding a provider is a folder and one line in each of [`parse`],
//! [`Operation::allows`] and [`dispatch`].

pub(crate) mod compute;
pub(crate) mod data_lake_store;
pub(crate) mod key_vault;
pub(crate) mod managed_identity;
pub(crate) mod storage;

use axum::http::{HeaderMap, Method};
use axum::response::Response;
use azlite_types::{ResourceId, SubscriptionId};

use crate::resources::Kind;
use crate::wire::Query;
use crate::{Arm, ArmError, Caller};

/// What a request asks of a resource provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `Microsoft.ManagedIdentity`.
    ManagedIdentity(managed_identity::Operation),
    /// `Microsoft.Compute`.
    Compute(compute::Operation),
    /// `Microsoft.KeyVault`.
    KeyVault(key_vault::Operation),
    /// `Microsoft.Storage`.
    Storage(storage::Operation),
    /// `Microsoft.DataLakeStore`.
    DataLakeStore(data_lake_store::Operation),
}

impl Operation {
    /// The methods ARM allows for the operation; anything else is 405.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match self {
            Self::ManagedIdentity(op) => op.allows(method),
            Self::Compute(op) => op.allows(method),
            Self::KeyVault(op) => op.allows(method),
            Self::Storage(op) => op.allows(method),
            Self::DataLakeStore(op) => op.allows(method),
        }
    }
}

/// A request path split at its last `providers` segment:
/// `{prefix}/providers/{namespace}/{rest…}`, segments percent-decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProviderPath<'a> {
    /// The segments before `providers`: a subscription, a group, or a whole resource id
    /// (for extension resources such as the system identity).
    pub(crate) prefix: &'a [&'a str],
    /// The namespace as sent.
    pub(crate) namespace: &'a str,
    /// The segments after the namespace.
    pub(crate) rest: &'a [&'a str],
}

/// A path that is ARM's shape but cannot name a resource (a percent-encoded `/` in a
/// name): ARM's `InvalidResourceType` 404, [`crate::operation::Operation::Invalid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidPath;

impl ProviderPath<'_> {
    /// `(subscription, group)` when the prefix is `subscriptions/{s}` or
    /// `subscriptions/{s}/resourcegroups/{g}`, the places tracked resources and their lists
    /// live.
    pub(crate) fn subscription_and_group(&self) -> Option<(SubscriptionId, Option<String>)> {
        match self.prefix {
            [t, id] if is(t, "subscriptions") => Some((id.parse().ok()?, None)),
            [t, id, g, name] if is(t, "subscriptions") && is(g, "resourcegroups") => {
                Some((id.parse().ok()?, Some((*name).to_owned())))
            }
            _ => None,
        }
    }

    /// The prefix as a resource id (the scope of an extension resource); `None` at the
    /// root or when it is not an id.
    pub(crate) fn scope(&self) -> Option<ResourceId> {
        if self.prefix.is_empty() {
            return None;
        }
        format!("/{}", self.prefix.join("/")).parse().ok()
    }
}

/// A tracked resource of a type azlite serves, addressed by its path (the type is the
/// operation's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrackedResource {
    /// The subscription in the path.
    pub(crate) subscription: SubscriptionId,
    /// The resource group name, as sent.
    pub(crate) group: String,
    /// The resource name, as sent.
    pub(crate) name: String,
    /// The id: ARM's casing for the fixed segments, the names as sent.
    pub(crate) id: ResourceId,
}

impl TrackedResource {
    /// `…/resourceGroups/{group}/providers/{namespace}/{type}/{name}`; a name or group with
    /// a (percent-encoded) `/` would change the id's structure and is an [`InvalidPath`].
    pub(crate) fn new(
        subscription: SubscriptionId,
        group: String,
        name: &str,
        (namespace, resource_type): Kind,
    ) -> Result<Self, InvalidPath> {
        if group.contains('/') || name.contains('/') {
            return Err(InvalidPath);
        }
        let id = format!(
            "/subscriptions/{subscription}/resourceGroups/{group}/providers/{namespace}/{resource_type}/{name}"
        )
        .parse()
        .map_err(|_| InvalidPath)?;
        Ok(Self {
            subscription,
            group,
            name: name.to_owned(),
            id,
        })
    }
}

/// Whether a path segment is `name`, in any casing (ARM matches fixed segments so).
pub(crate) fn is(segment: &str, name: &str) -> bool {
    segment.eq_ignore_ascii_case(name)
}

/// The provider operation a path names: `None` when no served provider claims it (ARM's
/// `NoRegisteredProviderFound`), `Err` when it is a served provider's shape but names no
/// resource.
pub(crate) fn parse(s: &[&str]) -> Option<Result<Operation, InvalidPath>> {
    let p = s.iter().rposition(|seg| is(seg, "providers"))?;
    let path = ProviderPath {
        prefix: &s[..p],
        namespace: s.get(p + 1)?,
        rest: &s[p + 2..],
    };
    let ns = path.namespace;
    if is(ns, managed_identity::NAMESPACE) {
        managed_identity::parse(&path).map(|r| r.map(Operation::ManagedIdentity))
    } else if is(ns, compute::NAMESPACE) {
        compute::parse(&path).map(|r| r.map(Operation::Compute))
    } else if is(ns, key_vault::NAMESPACE) {
        key_vault::parse(&path).map(|r| r.map(Operation::KeyVault))
    } else if is(ns, storage::NAMESPACE) {
        storage::parse(&path).map(|r| r.map(Operation::Storage))
    } else if is(ns, data_lake_store::NAMESPACE) {
        data_lake_store::parse(&path).map(|r| r.map(Operation::DataLakeStore))
    } else {
        None
    }
}

/// What a provider's handler gets besides the operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// The authenticated caller.
    pub(crate) caller: &'a Caller,
    /// The method (already checked against [`Operation::allows`]).
    pub(crate) method: &'a Method,
    /// The path, as sent.
    pub(crate) path: &'a str,
    /// The headers, as sent.
    pub(crate) headers: &'a HeaderMap,
    /// The query string.
    pub(crate) query: &'a Query,
    /// The body, as sent.
    pub(crate) body: &'a [u8],
}

impl Request<'_> {
    /// The `nextLink` of a paged list: this request again, with `$skiptoken` set.
    pub(crate) fn next_link(&self, token: &str) -> String {
        self.query
            .next_link(crate::wire::host(self.headers), self.path, token)
    }
}

/// Runs a provider operation.
pub(crate) async fn dispatch(
    arm: &Arm,
    operation: Operation,
    request: Request<'_>,
) -> Result<Response, ArmError> {
    match operation {
        Operation::ManagedIdentity(op) => managed_identity::dispatch(arm, op, request).await,
        Operation::Compute(op) => compute::dispatch(arm, op, request).await,
        Operation::KeyVault(op) => key_vault::dispatch(arm, op, request).await,
        Operation::Storage(op) => storage::dispatch(arm, op, request).await,
        Operation::DataLakeStore(op) => data_lake_store::dispatch(arm, op, request).await,
    }
}
