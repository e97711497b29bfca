//! `Microsoft.Compute`: virtual machines ([`vms`]), as far as the managed-identity
//! tutorials need them.

pub(crate) mod vms;

use axum::http::Method;
use axum::response::Response;
use azlite_types::SubscriptionId;

use super::{InvalidPath, ProviderPath, Request, TrackedResource, is};
use crate::resources::Kind;
use crate::{Arm, ArmError};

/// The namespace, in ARM's casing.
pub(crate) const NAMESPACE: &str = "Microsoft.Compute";
/// Virtual machines, `(namespace, type)` in ARM's canonical casing.
pub(crate) const VIRTUAL_MACHINES: Kind = (NAMESPACE, "virtualMachines");

/// What a request asks of `Microsoft.Compute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Compute/virtualMachines`
    /// (`VirtualMachines_ListAll`, `VirtualMachines_List`)
    ListVirtualMachines(SubscriptionId, Option<String>),
    /// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Compute/virtualMachines/{name}`
    VirtualMachine(TrackedResource),
}

impl Operation {
    /// The methods ARM allows for the operation.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match self {
            Self::VirtualMachine(_) => {
                [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
            }
            Self::ListVirtualMachines(..) => method == Method::GET,
        }
    }
}

/// The segments after `Microsoft.Compute`.
pub(crate) fn parse(path: &ProviderPath<'_>) -> Option<Result<Operation, InvalidPath>> {
    let (subscription, group) = path.subscription_and_group()?;
    match (path.rest, group) {
        ([t], group) if is(t, VIRTUAL_MACHINES.1) => {
            Some(Ok(Operation::ListVirtualMachines(subscription, group)))
        }
        ([t, name], Some(group)) if is(t, VIRTUAL_MACHINES.1) => Some(
            TrackedResource::new(subscription, group, name, VIRTUAL_MACHINES)
                .map(Operation::VirtualMachine),
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
        body,
        ..
    } = request;
    match operation {
        Operation::ListVirtualMachines(s, group) => {
            vms::list(arm, caller, s, group.as_deref()).await
        }
        Operation::VirtualMachine(resource) => vms::one(arm, caller, method, &resource, body).await,
    }
}
