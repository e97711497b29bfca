//! GUID-backed identifiers. Azure prints GUIDs lower-case and compares them case-insensitively;
//! parsing into [`uuid::Uuid`] gives both for free.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A string that should have been a GUID was not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {kind} (a GUID was expected)")]
pub struct IdParseError {
    /// Which identifier was being parsed, e.g. "tenant id".
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
}

macro_rules! guid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) identifier.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing GUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying GUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Hyphenated lower case, as Azure prints GUIDs.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                // Only the hyphenated 36-character form: Azure rejects the braced and simple
                // forms in ids that travel in URLs and claims.
                if s.len() != 36 {
                    return Err(IdParseError { kind: $kind, value: s.to_owned() });
                }
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| IdParseError { kind: $kind, value: s.to_owned() })
            }
        }
    };
}

guid_id!(
    /// A directory (Entra) tenant.
    TenantId,
    "tenant id"
);
guid_id!(
    /// The object id of a directory object: a service principal, a user, an application object.
    /// For a service principal this is the "principal id" ARM shows and the `oid` claim.
    ObjectId,
    "object id"
);
guid_id!(
    /// An application (client) id: `appid`/`azp` in tokens, `client_id` in token requests.
    ClientId,
    "client id"
);
guid_id!(
    /// An ARM subscription.
    SubscriptionId,
    "subscription id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_prints_lower_case() {
        let id: TenantId = "72F988BF-86F1-41AF-91AB-2D7CD011DB47".parse().unwrap();
        assert_eq!(id.to_string(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
        assert_eq!(id, "72f988bf-86f1-41af-91ab-2d7cd011db47".parse().unwrap());
    }

    #[test]
    fn rejects_non_hyphenated_forms() {
        assert!(
            "72f988bf86f141af91ab2d7cd011db47"
                .parse::<ClientId>()
                .is_err()
        );
        assert!(
            "{72f988bf-86f1-41af-91ab-2d7cd011db47}"
                .parse::<ClientId>()
                .is_err()
        );
        let err = "contoso".parse::<TenantId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "'contoso' is not a valid tenant id (a GUID was expected)"
        );
    }
}
