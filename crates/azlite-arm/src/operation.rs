//! Every ARM request is parsed once into an [`Operation`], named after ARM's own operations,
//! before anything else happens. Path segments are matched case-insensitively, as ARM does
//! (`resourcegroups` and `resourceGroups` are the same), and names keep the casing sent.

use std::borrow::Cow;

use axum::http::Method;
use azlite_types::{ResourceId, SubscriptionId};

use crate::providers::{self, is};

/// What an ARM request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /tenants`
    ListTenants,
    /// `GET /subscriptions`
    ListSubscriptions,
    /// `GET /subscriptions/{s}`
    GetSubscription(SubscriptionId),
    /// `GET /subscriptions/{s}/providers`
    ListProviders(SubscriptionId),
    /// `GET /subscriptions/{s}/providers/{namespace}`
    GetProvider(SubscriptionId, String),
    /// `POST /subscriptions/{s}/providers/{namespace}/register`
    RegisterProvider(SubscriptionId, String),
    /// `GET /subscriptions/{s}/resourcegroups`
    ListResourceGroups(SubscriptionId),
    /// `GET|PUT|PATCH|DELETE|HEAD /subscriptions/{s}/resourcegroups/{name}`
    ResourceGroup(SubscriptionId, String),
    /// `GET /subscriptions/{s}/resources` or `…/resourcegroups/{name}/resources`
    ListResources(SubscriptionId, Option<String>),
    /// `GET {scope}/providers/Microsoft.Authorization/roleAssignments`
    ListRoleAssignments(ResourceId),
    /// `GET|PUT|DELETE {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`
    RoleAssignment(ResourceId, String),
    /// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions`
    ListRoleDefinitions(ResourceId),
    /// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}`
    RoleDefinition(ResourceId, String),
    /// `GET {scope}/providers/Microsoft.Authorization/permissions`
    ListPermissions(ResourceId),
    /// `{scope}/providers/Microsoft.Authorization/…` where `{scope}` is not an RBAC scope
    /// (an empty segment, an encoded `/`, `/subscriptions/{s}/resourceGroups` alone, a bare
    /// provider namespace…): the scope as sent, and the role assignment's name for a
    /// `roleAssignments/{name}` path. Answered 400 before anything is read or written.
    InvalidScope {
        /// The scope text as sent (decoded segments joined with `/`).
        scope: String,
        /// The role assignment name, for `…/roleAssignments/{name}`.
        assignment: Option<String>,
    },
    /// A resource provider's own operation (`…/providers/{namespace}/…` of a provider
    /// azlite serves), parsed by that provider.
    Provider(providers::Operation),
    /// A well-formed ARM path for a resource type azlite does not serve (yet).
    UnsupportedType(String),
    /// Not an ARM path at all.
    Invalid,
}

fn decode(segment: &str) -> Cow<'_, str> {
    if !segment.contains(['%', '+']) {
        return Cow::Borrowed(segment);
    }
    // Path segments are percent-encoded; `+` is a literal plus in a path.
    let escaped = segment.replace('+', "%2B");
    Cow::Owned(
        form_urlencoded::parse(format!("s={escaped}").as_bytes())
            .next()
            .map_or_else(|| segment.to_owned(), |(_, v)| v.into_owned()),
    )
}

/// Parses a request path (without the query string).
///
/// For an authorization path, empty segments are kept, not dropped:
/// `/subscriptions/{s}/resourceGroups//providers/…` must not become the scope
/// `/subscriptions/{s}/resourceGroups`, so such a path is a 400 for the scope it breaks.
/// Every other path reads as ARM reads it, with empty segments skipped: az sends
/// `…/providers/Microsoft.ManagedIdentity//userAssignedIdentities/{name}` for
/// `az resource show --resource-type`, and Azure answers it. What such a path names is still
/// parsed into typed ids, so a skipped segment cannot turn into a different scope.
pub(crate) fn parse(path: &str) -> Operation {
    let trimmed = path.trim_start_matches('/');
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let segments: Vec<Cow<'_, str>> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').map(decode).collect()
    };
    let s: Vec<&str> = segments.iter().map(AsRef::as_ref).collect();
    if let Some(op) = parse_authorization(&s) {
        return op;
    }
    let s: Vec<&str> = s.into_iter().filter(|seg| !seg.is_empty()).collect();
    if let Some(op) = providers::parse(&s) {
        return op.map_or(Operation::Invalid, Operation::Provider);
    }
    let sub = |text: &str| text.parse::<SubscriptionId>().ok();
    match s.as_slice() {
        [t] if is(t, "tenants") => Operation::ListTenants,
        [t] if is(t, "subscriptions") => Operation::ListSubscriptions,
        [t, id] if is(t, "subscriptions") => {
            sub(id).map_or(Operation::Invalid, Operation::GetSubscription)
        }
        [t, id, p] if is(t, "subscriptions") && is(p, "providers") => {
            sub(id).map_or(Operation::Invalid, Operation::ListProviders)
        }
        [t, id, p, ns] if is(t, "subscriptions") && is(p, "providers") => sub(id)
            .map_or(Operation::Invalid, |id| {
                Operation::GetProvider(id, (*ns).to_owned())
            }),
        [t, id, p, ns, r] if is(t, "subscriptions") && is(p, "providers") && is(r, "register") => {
            sub(id).map_or(Operation::Invalid, |id| {
                Operation::RegisterProvider(id, (*ns).to_owned())
            })
        }
        [t, id, g] if is(t, "subscriptions") && is(g, "resourcegroups") => {
            sub(id).map_or(Operation::Invalid, Operation::ListResourceGroups)
        }
        [t, id, g, name] if is(t, "subscriptions") && is(g, "resourcegroups") => sub(id)
            .map_or(Operation::Invalid, |id| {
                Operation::ResourceGroup(id, (*name).to_owned())
            }),
        [t, id, r] if is(t, "subscriptions") && is(r, "resources") => {
            sub(id).map_or(Operation::Invalid, |id| Operation::ListResources(id, None))
        }
        [t, id, g, name, r]
            if is(t, "subscriptions") && is(g, "resourcegroups") && is(r, "resources") =>
        {
            sub(id).map_or(Operation::Invalid, |id| {
                Operation::ListResources(id, Some((*name).to_owned()))
            })
        }
        _ => match s.iter().rposition(|seg| is(seg, "providers")) {
            Some(p) if p + 2 < s.len() => {
                let types: Vec<&str> = s[p + 2..].iter().step_by(2).copied().collect();
                Operation::UnsupportedType(format!("{}/{}", s[p + 1], types.join("/")))
            }
            _ => Operation::Invalid,
        },
    }
}

/// `{scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions|permissions}[/{name}]`
fn parse_authorization(s: &[&str]) -> Option<Operation> {
    let p = s.iter().rposition(|seg| is(seg, "providers"))?;
    if !s
        .get(p + 1)
        .is_some_and(|ns| is(ns, "Microsoft.Authorization"))
    {
        return None;
    }
    let rest = &s[p + 2..];
    let scope_text = format!("/{}", s[..p].join("/"));
    // A decoded `/` inside a segment would change the scope's structure once joined.
    let scope = if p == 0 {
        Some(ResourceId::root())
    } else if s[..p].iter().any(|seg| seg.contains('/')) {
        None
    } else {
        scope_text.parse::<ResourceId>().ok()
    };
    let assignment = match rest {
        [t, name] if is(t, "roleAssignments") => Some((*name).to_owned()),
        _ => None,
    };
    // One role assignment by name keeps a well-formed id that is not an RBAC scope: its
    // PUT is refused there, but a GET or DELETE can still reach a row an older azlite wrote
    // at such a scope, which the index skipped.
    let Some(scope) = scope.filter(|s| s.is_rbac_scope() || assignment.is_some()) else {
        return Some(Operation::InvalidScope {
            scope: scope_text,
            assignment,
        });
    };
    if rest.iter().any(|seg| seg.is_empty() || seg.contains('/')) {
        return Some(Operation::Invalid);
    }
    Some(match rest {
        [t] if is(t, "roleAssignments") => Operation::ListRoleAssignments(scope),
        [t, name] if is(t, "roleAssignments") => {
            Operation::RoleAssignment(scope, (*name).to_owned())
        }
        [t] if is(t, "roleDefinitions") => Operation::ListRoleDefinitions(scope),
        [t, id] if is(t, "roleDefinitions") => Operation::RoleDefinition(scope, (*id).to_owned()),
        [t] if is(t, "permissions") => Operation::ListPermissions(scope),
        _ => Operation::UnsupportedType(format!(
            "Microsoft.Authorization/{}",
            rest.first().unwrap_or(&"")
        )),
    })
}

/// The methods ARM allows for an operation; anything else is 405.
pub(crate) fn allows(operation: &Operation, method: &Method) -> bool {
    use Operation as O;
    match operation {
        O::ResourceGroup(..) => [
            Method::GET,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
        ]
        .contains(method),
        O::RoleAssignment(..) => [Method::GET, Method::PUT, Method::DELETE].contains(method),
        O::Provider(op) => op.allows(method),
        O::RegisterProvider(..) => method == Method::POST,
        O::UnsupportedType(_) | O::Invalid | O::InvalidScope { .. } => true,
        _ => method == Method::GET,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::key_vault::vault_model::AccessPolicyUpdateKind;
    use crate::providers::{
        Operation as P, compute::Operation as C, key_vault::Operation as K,
        managed_identity::Operation as M,
    };

    fn compute(op: C) -> Operation {
        Operation::Provider(P::Compute(op))
    }

    fn key_vault(op: K) -> Operation {
        Operation::Provider(P::KeyVault(op))
    }

    fn managed_identity(op: M) -> Operation {
        Operation::Provider(P::ManagedIdentity(op))
    }

    const SUB: &str = "00000000-0000-0000-0000-000000000001";

    #[test]
    fn paths_parse_case_insensitively_and_keep_names() {
        let sub: SubscriptionId = SUB.parse().unwrap();
        assert_eq!(
            parse(&format!("/subscriptions/{SUB}/resourcegroups/MyRG")),
            Operation::ResourceGroup(sub, "MyRG".into())
        );
        assert_eq!(
            parse(&format!("/SUBSCRIPTIONS/{SUB}/resourceGroups/MyRG")),
            Operation::ResourceGroup(sub, "MyRG".into())
        );
        assert_eq!(
            parse(&format!("/subscriptions/{SUB}/resourceGroups")),
            Operation::ListResourceGroups(sub)
        );
        assert_eq!(parse("/subscriptions"), Operation::ListSubscriptions);
        assert_eq!(parse("/subscriptions/not-a-guid"), Operation::Invalid);
        assert_eq!(
            parse(&format!("/subscriptions/{SUB}/resourcegroups/my%20rg")),
            Operation::ResourceGroup(sub, "my rg".into())
        );
    }

    #[test]
    fn authorization_extension_paths_take_any_scope() {
        let group: ResourceId = format!("/subscriptions/{SUB}/resourceGroups/rg")
            .parse()
            .unwrap();
        let op = parse(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/abc"
        ));
        assert_eq!(op, Operation::RoleAssignment(group.clone(), "abc".into()));
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.authorization/roleassignments"
            )),
            Operation::ListRoleAssignments(group)
        );
        assert_eq!(
            parse(
                "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
            ),
            Operation::RoleDefinition(
                ResourceId::root(),
                "acdd72a7-3385-48ef-bd42-f606fba81ae7".into()
            )
        );
        let vm = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        );
        assert_eq!(
            parse(&format!(
                "{vm}/providers/Microsoft.Authorization/roleAssignments"
            )),
            Operation::ListRoleAssignments(vm.parse().unwrap())
        );
    }

    #[test]
    fn authorization_paths_with_a_broken_scope_are_invalid_scopes() {
        let g = "11111111-2222-3333-4444-555555555555";
        let invalid = |scope: &str| Operation::InvalidScope {
            scope: scope.to_owned(),
            assignment: Some(g.to_owned()),
        };
        // The empty segment is kept: the scope is not `/subscriptions/{SUB}/resourceGroups`.
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups//providers/Microsoft.Authorization/roleAssignments/{g}"
            )),
            invalid(&format!("/subscriptions/{SUB}/resourceGroups/"))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}//resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/{g}"
            )),
            invalid(&format!("/subscriptions/{SUB}//resourceGroups/rg"))
        );
        // An encoded `/` must not add segments to the scope once decoded.
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg%2Fproviders%2FMicrosoft.Compute/providers/Microsoft.Authorization/roleAssignments/{g}"
            )),
            invalid(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute"
            ))
        );
        for scope in [
            format!("/subscriptions/{SUB}/resourceGroups"),
            format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute"),
            format!("/subscriptions/{SUB}/resourceGroups/rg/foo/bar"),
        ] {
            // Lists, definitions and permissions at a well-formed id that is not a scope are
            // invalid scopes; one assignment by name keeps the id (its PUT is refused later,
            // its GET and DELETE can reach a row an older azlite wrote there).
            for (tail, assignment) in [
                ("roleAssignments", None),
                ("roleDefinitions", None),
                ("permissions", None),
            ] {
                assert_eq!(
                    parse(&format!("{scope}/providers/Microsoft.Authorization/{tail}")),
                    Operation::InvalidScope {
                        scope: scope.clone(),
                        assignment
                    },
                    "{scope}"
                );
            }
            assert_eq!(
                parse(&format!(
                    "{scope}/providers/Microsoft.Authorization/roleAssignments/{g}"
                )),
                Operation::RoleAssignment(scope.parse().unwrap(), g.to_owned()),
            );
        }
        // A trailing slash and leading slashes are harmless; outside authorization paths,
        // other empty segments are skipped, as ARM does (az sends some).
        let sub: SubscriptionId = SUB.parse().unwrap();
        assert_eq!(
            parse(&format!("/subscriptions/{SUB}/resourceGroups/rg/")),
            Operation::ResourceGroup(sub, "rg".into())
        );
        assert_eq!(
            parse(&format!("//subscriptions/{SUB}/resourceGroups/rg")),
            Operation::ResourceGroup(sub, "rg".into())
        );
        assert_eq!(
            parse(&format!("/subscriptions/{SUB}//resourceGroups/rg")),
            Operation::ResourceGroup(sub, "rg".into())
        );
        assert!(matches!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity//userAssignedIdentities/id1"
            )),
            Operation::Provider(_)
        ));
    }

    #[test]
    fn other_provider_paths_are_unsupported_types() {
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s1"
            )),
            Operation::UnsupportedType("Microsoft.Sql/servers".into())
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions/e1"
            )),
            Operation::UnsupportedType("Microsoft.Compute/virtualMachines/extensions".into())
        );
        assert_eq!(parse("/nonsense"), Operation::Invalid);
    }

    #[test]
    fn served_types_parse_with_any_casing() {
        let sub: SubscriptionId = SUB.parse().unwrap();
        let op = parse(&format!(
            "/subscriptions/{SUB}/resourcegroups/MyRG/providers/microsoft.compute/VIRTUALMACHINES/MyVm"
        ));
        let Operation::Provider(P::Compute(C::VirtualMachine(vm))) = op else {
            panic!("{op:?}")
        };
        assert_eq!((vm.group.as_str(), vm.name.as_str()), ("MyRG", "MyVm"));
        assert_eq!(
            vm.id.as_str(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/MyRG/providers/Microsoft.Compute/virtualMachines/MyVm"
            )
        );
        assert!(matches!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
            )),
            Operation::Provider(P::ManagedIdentity(M::UserAssignedIdentity(r))) if r.name == "id1"
        ));
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
            )),
            managed_identity(M::ListUserAssignedIdentities(sub, Some("rg".into())))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
            )),
            managed_identity(M::ListUserAssignedIdentities(sub, None))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"
            )),
            compute(C::ListVirtualMachines(sub, None))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a%2Fb"
            )),
            Operation::Invalid
        );
    }

    #[test]
    fn key_vault_paths_parse_with_any_casing() {
        let sub: SubscriptionId = SUB.parse().unwrap();
        let vault = format!(
            "/subscriptions/{SUB}/resourcegroups/RG/providers/microsoft.keyvault/VAULTS/Kv1"
        );
        let Operation::Provider(P::KeyVault(K::Vault(r))) = parse(&vault) else {
            panic!("{:?}", parse(&vault))
        };
        assert_eq!(
            r.id.as_str(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/Kv1"
            )
        );
        assert!(matches!(
            parse(&format!("{vault}/accessPolicies/ADD")),
            Operation::Provider(P::KeyVault(K::VaultAccessPolicy(r, AccessPolicyUpdateKind::Add))) if r.name == "Kv1"
        ));
        assert!(matches!(
            parse(&format!("{vault}/accessPolicies/merge")),
            Operation::UnsupportedType(_)
        ));
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults"
            )),
            key_vault(K::ListVaults(sub, None))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults"
            )),
            key_vault(K::ListVaults(sub, Some("rg".into())))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.KeyVault/checkNameAvailability"
            )),
            key_vault(K::CheckVaultNameAvailability(sub))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.KeyVault/deletedVaults"
            )),
            key_vault(K::ListDeletedVaults(sub))
        );
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/providers/microsoft.keyvault/Locations/eastus/DELETEDVAULTS/Kv1"
            )),
            key_vault(K::DeletedVault(sub, "eastus".into(), "Kv1".into()))
        );
        let purge = parse(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/kv1/purge"
        ));
        assert_eq!(
            purge,
            key_vault(K::PurgeDeletedVault(sub, "eastus".into(), "kv1".into()))
        );
        assert!(allows(&purge, &Method::POST) && !allows(&purge, &Method::GET));
        assert_eq!(
            parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.KeyVault/deletedManagedHSMs"
            )),
            key_vault(K::ListDeletedManagedHsms(sub))
        );
        assert!(matches!(
            parse(&format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/managedHSMs")),
            Operation::UnsupportedType(t) if t == "Microsoft.KeyVault/managedHSMs"
        ));
        assert!(allows(
            &key_vault(K::CheckVaultNameAvailability(sub)),
            &Method::POST
        ));
        assert!(!allows(
            &key_vault(K::CheckVaultNameAvailability(sub)),
            &Method::GET
        ));
    }

    #[test]
    fn the_system_identity_hangs_off_any_resource() {
        let vm = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        );
        assert_eq!(
            parse(&format!(
                "{vm}/providers/Microsoft.ManagedIdentity/identities/default"
            )),
            managed_identity(M::GetSystemAssignedIdentity(vm.parse().unwrap()))
        );
        assert!(matches!(
            parse("/providers/Microsoft.ManagedIdentity/identities/default"),
            Operation::UnsupportedType(_)
        ));
    }
}
