//! Which of the VM's identities a request means (reference §1.1, §1.3, §2.3).
//!
//! A request names at most one user-assigned identity, by client id, object (principal) id
//! or ARM id; with none named, the system-assigned identity answers. Selectors match
//! user-assigned identities only, as the reference documents them. Quirks kept on purpose:
//!
//! - IMDS: a VM with exactly one user-assigned identity and no system-assigned one answers a
//!   request that names none with that identity (MSAL's "Known issue", reference §1.3);
//! - App Service 2017-09-01: an unknown `clientid` falls back to the system-assigned
//!   identity (reference §2.3).

use azlite_types::{ClientId, ObjectId, ResourceId};

use crate::error::ImdsError;
use crate::source::AssignedIdentities;

/// The identity a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selector {
    /// None: the default identity.
    Default,
    /// `client_id` (`clientid` on App Service 2017).
    ClientId(ClientId),
    /// `object_id` (`principal_id` on App Service).
    ObjectId(ObjectId),
    /// `msi_res_id` / `mi_res_id`.
    ResourceId(ResourceId),
    /// A value that is not an id of its kind: it can match nothing.
    Unmatchable,
}

/// The kind of selector a query parameter carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SelectorKind {
    /// A client id.
    Client,
    /// A principal (object) id.
    Principal,
    /// An ARM id.
    ArmId,
}

impl Selector {
    /// Parses a selector's value; a malformed value becomes [`Selector::Unmatchable`], so the
    /// request gets "Identity not found" as for an id that is well formed but unknown.
    pub(crate) fn parse(kind: SelectorKind, value: &str) -> Self {
        let parsed = match kind {
            SelectorKind::Client => value.parse().ok().map(Self::ClientId),
            SelectorKind::Principal => value.parse().ok().map(Self::ObjectId),
            SelectorKind::ArmId => value.parse().ok().map(Self::ResourceId),
        };
        parsed.unwrap_or(Self::Unmatchable)
    }
}

/// The protocol's selection rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// IMDS, the VM extension, Cloud Shell, Arc: the single-UAI quirk.
    Imds,
    /// App Service 2019-08-01: no quirk, unknown selectors refused.
    AppService,
    /// App Service 2017-09-01: an unknown selector falls back to the system identity.
    AppService2017,
}

/// The principal that answers `selector` on a VM with `identities`.
pub(crate) fn select(
    identities: &AssignedIdentities,
    selector: &Selector,
    rules: Rules,
) -> Result<ObjectId, ImdsError> {
    let users = &identities.user_assigned;
    let found = match selector {
        Selector::Default => {
            return match (identities.system, users.as_slice(), rules) {
                (Some(system), _, _) => Ok(system),
                (None, [only], Rules::Imds) => Ok(only.principal_id),
                (None, [_, _, ..], Rules::Imds) => Err(ImdsError::MultipleUserAssignedIdentities),
                (None, _, _) => Err(ImdsError::IdentityNotFound),
            };
        }
        Selector::ClientId(id) => users.iter().find(|u| u.client_id == *id),
        Selector::ObjectId(id) => users.iter().find(|u| u.principal_id == *id),
        Selector::ResourceId(id) => users.iter().find(|u| u.resource_id == *id),
        Selector::Unmatchable => None,
    };
    match (found, rules) {
        (Some(identity), _) => Ok(identity.principal_id),
        (None, Rules::AppService2017) => select(identities, &Selector::Default, rules),
        (None, _) => Err(ImdsError::IdentityNotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::UserAssignedIdentity;

    fn uai(name: &str) -> UserAssignedIdentity {
        UserAssignedIdentity {
            resource_id: format!("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}").parse().unwrap(),
            principal_id: ObjectId::new_random(),
            client_id: ClientId::new_random(),
        }
    }

    fn vm(system: bool, users: usize) -> AssignedIdentities {
        AssignedIdentities {
            system: system.then(ObjectId::new_random),
            user_assigned: (0..users).map(|i| uai(&format!("id{i}"))).collect(),
        }
    }

    fn not_found(r: Result<ObjectId, ImdsError>) -> bool {
        matches!(r, Err(ImdsError::IdentityNotFound))
    }

    #[test]
    fn no_selector_picks_the_system_identity() {
        let ids = vm(true, 2);
        assert_eq!(
            select(&ids, &Selector::Default, Rules::Imds).unwrap(),
            ids.system.unwrap()
        );
        assert!(not_found(select(
            &vm(false, 0),
            &Selector::Default,
            Rules::Imds
        )));
    }

    #[test]
    fn a_single_user_assigned_identity_answers_for_the_system_one_on_imds_only() {
        let ids = vm(false, 1);
        let only = ids.user_assigned[0].principal_id;
        assert_eq!(select(&ids, &Selector::Default, Rules::Imds).unwrap(), only);
        assert!(not_found(select(
            &ids,
            &Selector::Default,
            Rules::AppService
        )));
        assert!(matches!(
            select(&vm(false, 2), &Selector::Default, Rules::Imds),
            Err(ImdsError::MultipleUserAssignedIdentities)
        ));
    }

    #[test]
    fn selectors_match_user_assigned_identities() {
        let ids = vm(true, 3);
        let second = &ids.user_assigned[1];
        let upper = second.resource_id.as_str().to_ascii_uppercase();
        for selector in [
            Selector::ClientId(second.client_id),
            Selector::ObjectId(second.principal_id),
            Selector::parse(SelectorKind::ArmId, &upper),
        ] {
            assert_eq!(
                select(&ids, &selector, Rules::Imds).unwrap(),
                second.principal_id
            );
        }
        let system = ids.system.unwrap();
        for selector in [
            Selector::ObjectId(system),
            Selector::ClientId(ClientId::new_random()),
            Selector::parse(SelectorKind::Client, "not-a-guid"),
            Selector::parse(SelectorKind::ArmId, "nope"),
        ] {
            assert!(
                not_found(select(&ids, &selector, Rules::Imds)),
                "{selector:?}"
            );
            assert!(not_found(select(&ids, &selector, Rules::AppService)));
        }
    }

    #[test]
    fn app_service_2017_falls_back_to_the_system_identity() {
        let ids = vm(true, 1);
        let unknown = Selector::ClientId(ClientId::new_random());
        assert_eq!(
            select(&ids, &unknown, Rules::AppService2017).unwrap(),
            ids.system.unwrap()
        );
        assert!(not_found(select(
            &vm(false, 1),
            &unknown,
            Rules::AppService2017
        )));
    }
}
