//! `Microsoft.Compute`: virtual machines ([`vms`]), scale sets ([`scale_sets`]) and their
//! instances ([`scale_set_vms`]), as far as the managed-identity tutorials need them; what
//! VMs and scale sets share is in [`machine`].

pub(crate) mod machine;
pub(crate) mod scale_set_vms;
pub(crate) mod scale_sets;
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
/// Virtual machine scale sets.
pub(crate) const VIRTUAL_MACHINE_SCALE_SETS: Kind = (NAMESPACE, "virtualMachineScaleSets");

/// What a request asks of `Microsoft.Compute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Compute/virtualMachines`
    /// (`VirtualMachines_ListAll`, `VirtualMachines_List`)
    ListVirtualMachines(SubscriptionId, Option<String>),
    /// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Compute/virtualMachines/{name}`
    VirtualMachine(TrackedResource),
    /// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.Compute/virtualMachineScaleSets`
    /// (`VirtualMachineScaleSets_ListAll`, `VirtualMachineScaleSets_List`)
    ListScaleSets(SubscriptionId, Option<String>),
    /// `GET|PUT|PATCH|DELETE …/providers/Microsoft.Compute/virtualMachineScaleSets/{name}`
    ScaleSet(TrackedResource),
    /// `GET …/virtualMachineScaleSets/{name}/virtualMachines` (`VirtualMachineScaleSetVMs_List`)
    ListScaleSetVms(TrackedResource),
    /// `GET …/virtualMachineScaleSets/{name}/virtualMachines/{instanceId}`
    /// (`VirtualMachineScaleSetVMs_Get`)
    ScaleSetVm(TrackedResource, String),
}

impl Operation {
    /// The methods ARM allows for the operation.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match self {
            Self::VirtualMachine(_) | Self::ScaleSet(_) => {
                [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
            }
            Self::ListVirtualMachines(..)
            | Self::ListScaleSets(..)
            | Self::ListScaleSetVms(_)
            | Self::ScaleSetVm(..) => method == Method::GET,
        }
    }
}

/// The segments after `Microsoft.Compute`.
pub(crate) fn parse(path: &ProviderPath<'_>) -> Option<Result<Operation, InvalidPath>> {
    let (subscription, group) = path.subscription_and_group()?;
    let scale_set =
        |group, name| TrackedResource::new(subscription, group, name, VIRTUAL_MACHINE_SCALE_SETS);
    match (path.rest, group) {
        ([t], group) if is(t, VIRTUAL_MACHINES.1) => {
            Some(Ok(Operation::ListVirtualMachines(subscription, group)))
        }
        ([t, name], Some(group)) if is(t, VIRTUAL_MACHINES.1) => Some(
            TrackedResource::new(subscription, group, name, VIRTUAL_MACHINES)
                .map(Operation::VirtualMachine),
        ),
        ([t], group) if is(t, VIRTUAL_MACHINE_SCALE_SETS.1) => {
            Some(Ok(Operation::ListScaleSets(subscription, group)))
        }
        ([t, name], Some(group)) if is(t, VIRTUAL_MACHINE_SCALE_SETS.1) => {
            Some(scale_set(group, name).map(Operation::ScaleSet))
        }
        ([t, name, v], Some(group))
            if is(t, VIRTUAL_MACHINE_SCALE_SETS.1) && is(v, VIRTUAL_MACHINES.1) =>
        {
            Some(scale_set(group, name).map(Operation::ListScaleSetVms))
        }
        ([t, name, v, instance], Some(group))
            if is(t, VIRTUAL_MACHINE_SCALE_SETS.1) && is(v, VIRTUAL_MACHINES.1) =>
        {
            if instance.contains('/') {
                return Some(Err(InvalidPath));
            }
            let instance = (*instance).to_owned();
            Some(scale_set(group, name).map(|s| Operation::ScaleSetVm(s, instance)))
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
        Operation::ListVirtualMachines(s, group) => {
            vms::list(arm, caller, s, group.as_deref()).await
        }
        Operation::VirtualMachine(resource) => vms::one(arm, caller, method, &resource, body).await,
        Operation::ListScaleSets(s, group) => {
            scale_sets::list(arm, caller, s, group.as_deref()).await
        }
        Operation::ScaleSet(resource) => {
            scale_sets::one(arm, caller, method, &resource, body).await
        }
        Operation::ListScaleSetVms(resource) => scale_set_vms::list(arm, caller, &resource).await,
        Operation::ScaleSetVm(resource, instance) => {
            scale_set_vms::one(arm, caller, &resource, &instance).await
        }
    }
}
