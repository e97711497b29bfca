//! Operation strings and the wildcard patterns of role definitions (reference §3.2).
//!
//! An operation is `{Company}.{Provider}/{type}[/{child}…]/{verb}`, e.g.
//! `Microsoft.Resources/subscriptions/resourceGroups/read`. A role lists patterns over those
//! strings where `*` matches any run of characters, `/` included, and where matching ignores
//! ASCII case (built-ins mix `listKeys`/`listkeys`, `*/Write`/`write`).
//!
//! One rule goes beyond a plain glob: a `*` that sits between two `/` may also match nothing
//! *with the two slashes merged*, so `…/userAssignedIdentities/*/assign/action` grants
//! `…/userAssignedIdentities/assign/action`, as DOC-BUILTIN documents for Managed Identity
//! Operator. (Whether real ARM does this for every `/*/` is UNCONFIRMED, reference §6.)
//!
//! A pattern is compiled once: lower-cased and split on `*` into literal parts. Matching
//! is then a prefix test, a left-to-right search for each middle part and a suffix test,
//! linear in the length of the operation; no backtracking is needed (see
//! [`ActionPattern::matches`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::AuthzError;

/// Which set of a role's permissions an operation is checked against (reference §3.3.5):
/// control-plane operations only against `actions`, data-plane ones only against
/// `dataActions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ActionKind {
    /// An ARM (control-plane) operation, granted by `actions` minus `notActions`.
    Control,
    /// A data-plane operation (blob read, secret get, …), granted by `dataActions` minus
    /// `notDataActions`.
    Data,
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The names of the role definition fields that grant each kind.
        f.pad(match self {
            Self::Control => "action",
            Self::Data => "dataAction",
        })
    }
}

/// A concrete operation a request performs, e.g. `Microsoft.Compute/virtualMachines/write`,
/// with its kind. Lower-cased once at construction so that checking it against many patterns
/// costs no further allocation.
///
/// Operation names come from service code, not from clients, so construction does not fail:
/// a `*` in a concrete operation is an ordinary character.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Action {
    kind: ActionKind,
    text: Box<str>,
    folded: Box<str>,
}

impl Action {
    /// A control-plane operation.
    pub fn control(operation: &str) -> Self {
        Self::new(ActionKind::Control, operation)
    }

    /// A data-plane operation.
    pub fn data(operation: &str) -> Self {
        Self::new(ActionKind::Data, operation)
    }

    /// An operation of the given kind.
    pub fn new(kind: ActionKind, operation: &str) -> Self {
        Self {
            kind,
            text: operation.into(),
            folded: operation.to_ascii_lowercase().into(),
        }
    }

    /// Whether this is a control-plane or a data-plane operation.
    pub fn kind(&self) -> ActionKind {
        self.kind
    }

    /// The operation as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn folded(&self) -> &str {
        &self.folded
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Action({} {})", self.kind, self.text)
    }
}

/// A compiled entry of `actions`, `notActions`, `dataActions` or `notDataActions`.
#[derive(Clone)]
pub struct ActionPattern {
    text: Box<str>,
    /// Lower-cased literal runs between the stars; one more than there are stars.
    parts: Box<[Box<str>]>,
    /// Per star: it sits between `/` and `/`, so it may also match nothing with the two
    /// slashes merged into one.
    merges_slashes: Box<[bool]>,
}

impl ActionPattern {
    /// Compiles a pattern. Rejects the empty string and anything but printable ASCII without
    /// spaces, which no operation name contains.
    pub fn parse(pattern: &str) -> Result<Self, AuthzError> {
        let invalid = |reason: &'static str| AuthzError::InvalidActionPattern {
            pattern: pattern.to_owned(),
            reason,
        };
        if pattern.is_empty() {
            return Err(invalid("it is empty"));
        }
        if !pattern.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("only printable ASCII without spaces is allowed"));
        }
        let folded = pattern.to_ascii_lowercase();
        let parts: Box<[Box<str>]> = folded.split('*').map(Box::from).collect();
        let merges_slashes = parts
            .windows(2)
            .map(|pair| pair[0].ends_with('/') && pair[1].starts_with('/'))
            .collect();
        Ok(Self {
            text: pattern.into(),
            parts,
            merges_slashes,
        })
    }

    /// The pattern as written in the role definition.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern grants `operation` (case-insensitively).
    pub fn matches(&self, operation: &Action) -> bool {
        self.matches_folded(operation.folded())
    }

    /// Matching against an already lower-cased operation.
    ///
    /// Greedy leftmost placement of each middle part is enough: ending a part earlier never
    /// removes a placement for the parts after it, since every later start that was allowed
    /// stays allowed (with slash merging, a part may also start one byte early, on the `/`
    /// the previous part ended with, and that only adds options). So if any placement
    /// matches, the leftmost one does.
    pub(crate) fn matches_folded(&self, operation: &str) -> bool {
        let parts = &self.parts;
        let (first, last) = (&parts[0], &parts[parts.len() - 1]);
        if parts.len() == 1 {
            return operation == &**first;
        }
        if !operation.starts_with(&**first) {
            return false;
        }
        let mut end = first.len();
        for (star, part) in parts[1..parts.len() - 1].iter().enumerate() {
            // `end >= 1` whenever the star merges slashes: the part before it ends with `/`.
            if self.merges_slashes[star] && operation[end - 1..].starts_with(&**part) {
                end += part.len() - 1;
                continue;
            }
            match operation[end..].find(&**part) {
                Some(offset) => end += offset + part.len(),
                None => return false,
            }
        }
        let earliest = if self.merges_slashes[parts.len() - 2] {
            end - 1
        } else {
            end
        };
        operation.ends_with(&**last) && operation.len() - last.len() >= earliest
    }
}

impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActionPattern({})", self.text)
    }
}

impl std::str::FromStr for ActionPattern {
    type Err = AuthzError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(pattern: &str, operation: &str) -> bool {
        ActionPattern::parse(pattern)
            .unwrap()
            .matches(&Action::control(operation))
    }

    #[test]
    fn literal_patterns_match_whole_operations_in_any_case() {
        assert!(allows(
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "microsoft.storage/storageaccounts/listkeys/action"
        ));
        assert!(!allows(
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Storage/storageAccounts/readx"
        ));
        assert!(!allows(
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Storage/storageAccounts"
        ));
    }

    #[test]
    fn wildcards_from_the_built_in_roles() {
        assert!(allows("*", "Microsoft.Compute/virtualMachines/write"));
        assert!(allows(
            "*/read",
            "Microsoft.Resources/subscriptions/resourceGroups/read"
        ));
        assert!(!allows(
            "*/read",
            "Microsoft.Resources/subscriptions/resourceGroups/write"
        ));
        assert!(allows(
            "Microsoft.Compute/virtualMachines/*",
            "Microsoft.Compute/virtualMachines/extensions/write"
        ));
        assert!(!allows(
            "Microsoft.Compute/virtualMachines/*",
            "Microsoft.Compute/virtualMachineScaleSets/write"
        ));
        assert!(allows(
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/roleAssignments/write"
        ));
        assert!(allows(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/read"
        ));
        assert!(allows(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/read"
        ));
        assert!(!allows(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaultsx/read"
        ));
        assert!(allows(
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
        ));
        assert!(allows(
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            "Microsoft.ManagedIdentity/userAssignedIdentities/x/y/assign/action"
        ));
    }

    #[test]
    fn middle_parts_are_found_left_to_right_without_overlap() {
        assert!(allows("a*b*c", "abc"));
        assert!(allows("a*b*b", "abb"));
        assert!(allows("a*bb*b", "abbb"));
        assert!(
            !allows("ab*ba", "aba"),
            "the prefix and suffix must not share a byte"
        );
        assert!(allows("a/*/*/b", "a/b"));
        assert!(!allows("a/*/b", "ab"));
    }

    #[test]
    fn rejects_empty_and_non_printable_patterns() {
        assert!(ActionPattern::parse("").is_err());
        assert!(ActionPattern::parse("Microsoft.Compute/ virtualMachines/read").is_err());
        assert!(ActionPattern::parse("Microsoft.Compute/virtualMachinés/read").is_err());
    }
}
