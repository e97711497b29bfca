//! Identifiers of role definitions and role assignments.
//!
//! Both are GUIDs (their ARM `name`, DOC-NAMES), but clients send role definition ids in a
//! subscription form and a tenant form (reference §3.1) and role assignment ids with their
//! scope in front. Parsing keeps only the GUID, so that two spellings of one role compare
//! equal: "Compare role definition IDs by the trailing GUID".

use std::fmt;
use std::str::FromStr;

use azlite_types::{Scope, SubscriptionId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::AuthzError;

/// The provider path in front of both kinds of id.
const AUTHORIZATION_PROVIDER: &str = "/providers/Microsoft.Authorization/";

/// The GUID after `{…}/providers/Microsoft.Authorization/{collection}/`, or a bare GUID.
/// GUIDs are accepted in the hyphenated 36-character form only, as `azlite-types` does.
fn parse_guid(text: &str, collection: &str) -> Option<Uuid> {
    let guid = match text.rfind('/') {
        None => text,
        Some(slash) => {
            let (head, guid) = (&text[..slash], &text[slash + 1..]);
            let prefix_len = head
                .len()
                .checked_sub(AUTHORIZATION_PROVIDER.len() + collection.len())?;
            let tail = head.get(prefix_len..)?;
            let expected_tail = format!("{AUTHORIZATION_PROVIDER}{collection}");
            if !tail.eq_ignore_ascii_case(&expected_tail) {
                return None;
            }
            guid
        }
    };
    if guid.len() != 36 {
        return None;
    }
    Uuid::parse_str(guid).ok()
}

macro_rules! authorization_id {
    ($(#[$doc:meta])* $name:ident, $collection:literal, $error:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a GUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// A fresh random (v4) id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// The GUID, which is also the ARM `name`.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = AuthzError;

            /// Accepts the bare GUID or any id ending in
            #[doc = concat!("`/providers/Microsoft.Authorization/", $collection, "/{guid}`.")]
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_guid(s, $collection).map(Self).ok_or_else(|| AuthzError::$error(s.to_owned()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

authorization_id!(
    /// A role definition: a built-in role's fixed GUID (identical in every cloud) or a custom
    /// role's.
    RoleDefinitionId,
    "roleDefinitions",
    InvalidRoleDefinitionId
);

authorization_id!(
    /// A role assignment's GUID, its ARM `name`.
    RoleAssignmentId,
    "roleAssignments",
    InvalidRoleAssignmentId
);

impl RoleDefinitionId {
    /// `/providers/Microsoft.Authorization/roleDefinitions/{guid}`, the form ARM answers with.
    pub fn tenant_scoped_id(&self) -> String {
        format!("{AUTHORIZATION_PROVIDER}roleDefinitions/{self}")
    }

    /// `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`, the form
    /// the CLI sends.
    pub fn subscription_scoped_id(&self, subscription: SubscriptionId) -> String {
        format!("/subscriptions/{subscription}{AUTHORIZATION_PROVIDER}roleDefinitions/{self}")
    }
}

impl RoleAssignmentId {
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`, the assignment's
    /// ARM id (reference §3.4).
    pub fn resource_id_at(&self, scope: &Scope) -> String {
        let scope = scope.as_str().trim_end_matches('/');
        format!("{scope}{AUTHORIZATION_PROVIDER}roleAssignments/{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

    #[test]
    fn role_definition_ids_compare_by_trailing_guid() {
        let bare: RoleDefinitionId = READER.parse().unwrap();
        let tenant: RoleDefinitionId =
            format!("/providers/Microsoft.Authorization/roleDefinitions/{READER}")
                .parse()
                .unwrap();
        let sub: RoleDefinitionId = format!(
            "/subscriptions/00000000-0000-0000-0000-000000000001/providers/microsoft.authorization/\
             ROLEDEFINITIONS/{}",
            READER.to_uppercase()
        )
        .parse()
        .unwrap();
        assert_eq!(bare, tenant);
        assert_eq!(bare, sub);
        assert_eq!(
            tenant.tenant_scoped_id(),
            format!("/providers/Microsoft.Authorization/roleDefinitions/{READER}")
        );
    }

    #[test]
    fn rejects_other_collections_and_malformed_guids() {
        let assignment = format!("/providers/Microsoft.Authorization/roleAssignments/{READER}");
        assert!(assignment.parse::<RoleDefinitionId>().is_err());
        assert!(assignment.parse::<RoleAssignmentId>().is_ok());
        assert!("Reader".parse::<RoleDefinitionId>().is_err());
        assert!(
            "acdd72a733854 8efbd42f606fba81ae7"
                .parse::<RoleDefinitionId>()
                .is_err()
        );
        assert!(
            "/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
                .parse::<RoleDefinitionId>()
                .is_err()
        );
    }

    #[test]
    fn assignment_resource_ids_put_the_scope_first() {
        let id: RoleAssignmentId = READER.parse().unwrap();
        let root = Scope::root();
        assert_eq!(
            id.resource_id_at(&root),
            format!("/providers/Microsoft.Authorization/roleAssignments/{READER}")
        );
    }

    #[test]
    fn serde_uses_the_bare_guid_and_accepts_full_ids() {
        let id: RoleDefinitionId = READER.parse().unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{READER}\""));
        let full = format!("\"/providers/Microsoft.Authorization/roleDefinitions/{READER}\"");
        assert_eq!(serde_json::from_str::<RoleDefinitionId>(&full).unwrap(), id);
    }
}
