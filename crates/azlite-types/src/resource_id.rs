//! ARM resource ids and RBAC scopes.
//!
//! ARM compares ids case-insensitively but answers with the casing a resource was created
//! with, so a [`ResourceId`] keeps the original text and compares through a lower-cased copy.
//! Grammar (from ARM's resource id format):
//!
//! ```text
//! /subscriptions/{sub}
//! /subscriptions/{sub}/resourceGroups/{group}
//! /subscriptions/{sub}/resourceGroups/{group}/providers/{Namespace}/{type}/{name}[/{type}/{name}]...
//! ```
//!
//! plus provider-level ids (`/subscriptions/{sub}/providers/{Namespace}/...`) and extension
//! resources, which repeat `/providers/{Namespace}/{type}/{name}` after a parent id.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SubscriptionId;

/// Why a string is not a resource id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceIdError {
    /// Ids start with `/`.
    #[error("the resource id '{0}' must start with '/'")]
    NotAbsolute(String),
    /// An empty segment, as in `//` or a trailing `/`.
    #[error("the resource id '{0}' has an empty segment")]
    EmptySegment(String),
    /// The first segment must be `subscriptions` (or `providers` for tenant-level ids).
    #[error("the resource id '{0}' must start with '/subscriptions/' or '/providers/'")]
    UnknownRoot(String),
    /// `/subscriptions/{x}` where x is not a GUID.
    #[error("the subscription id in '{0}' is not a valid GUID")]
    InvalidSubscription(String),
    /// A `providers/{Namespace}` section without `{type}/{name}` pairs.
    #[error("the resource id '{0}' has a resource type without a name")]
    Incomplete(String),
}

/// A parsed ARM resource id (or the root scope `/`).
#[derive(Clone)]
pub struct ResourceId {
    text: String,
    folded: String,
}

impl ResourceId {
    /// The root scope `/`, above every subscription.
    pub fn root() -> Self {
        Self {
            text: "/".to_owned(),
            folded: "/".to_owned(),
        }
    }

    /// The id of a subscription.
    pub fn subscription(id: SubscriptionId) -> Self {
        let text = format!("/subscriptions/{id}");
        Self {
            folded: text.to_ascii_lowercase(),
            text,
        }
    }

    /// The id of a resource group.
    pub fn resource_group(subscription: SubscriptionId, group: &str) -> Self {
        let text = format!("/subscriptions/{subscription}/resourceGroups/{group}");
        Self {
            folded: text.to_ascii_lowercase(),
            text,
        }
    }

    /// The id exactly as it was written (or as the resource was created).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.text.split('/').filter(|s| !s.is_empty())
    }

    /// The subscription this id lives in, if any.
    pub fn subscription_id(&self) -> Option<SubscriptionId> {
        let mut segs = self.segments();
        match (segs.next(), segs.next()) {
            (Some(root), Some(sub)) if root.eq_ignore_ascii_case("subscriptions") => {
                sub.parse().ok()
            }
            _ => None,
        }
    }

    /// The resource group name, if the id is inside one.
    pub fn resource_group_name(&self) -> Option<&str> {
        let segs: Vec<&str> = self.segments().collect();
        match segs.as_slice() {
            [s, _, rg, name, ..]
                if s.eq_ignore_ascii_case("subscriptions")
                    && rg.eq_ignore_ascii_case("resourceGroups") =>
            {
                Some(name)
            }
            _ => None,
        }
    }

    /// The last name in the id (`vm1` for a VM, the group name for a group).
    pub fn name(&self) -> Option<&str> {
        if self.text == "/" {
            None
        } else {
            self.segments().last()
        }
    }

    /// The full resource type, e.g. `Microsoft.Compute/virtualMachines`, for provider ids.
    pub fn resource_type(&self) -> Option<String> {
        let segs: Vec<&str> = self.segments().collect();
        let p = segs
            .iter()
            .rposition(|s| s.eq_ignore_ascii_case("providers"))?;
        let namespace = segs.get(p + 1)?;
        let types: Vec<&str> = segs[p + 2..].iter().step_by(2).copied().collect();
        if types.is_empty() {
            return None;
        }
        Some(format!("{namespace}/{}", types.join("/")))
    }

    /// Whether `self` is `other` or one of its ancestors (case-insensitively). The root scope
    /// contains everything.
    pub fn contains(&self, other: &ResourceId) -> bool {
        if self.folded == "/" {
            return true;
        }
        other.folded == self.folded
            || (other.folded.starts_with(&self.folded)
                && other.folded.as_bytes().get(self.folded.len()) == Some(&b'/'))
    }

    /// `self` and every ancestor scope, from `self` up to the root, as RBAC evaluates them.
    /// A provider section is not itself a scope: `/subscriptions/s/resourceGroups/g/providers`
    /// is skipped, as are type-without-name prefixes.
    pub fn ancestors_and_self(&self) -> Vec<ResourceId> {
        let segs: Vec<&str> = self.segments().collect();
        let mut out = vec![self.clone()];
        let mut end = segs.len();
        while end > 0 {
            end -= 1;
            let prefix = &segs[..end];
            if prefix.is_empty() {
                out.push(Self::root());
                break;
            }
            if Self::is_scope_prefix(prefix) {
                let text = format!("/{}", prefix.join("/"));
                out.push(Self {
                    folded: text.to_ascii_lowercase(),
                    text,
                });
            }
        }
        out
    }

    /// Whether role assignments can be made (and RBAC evaluated) at this id: the root, a
    /// subscription, a resource group, or a resource, whether tracked, child, extension,
    /// subscription- or tenant-level (`{…}/providers/{Namespace}/{type}/{name}[/{type}/{name}]…`,
    /// repeated). Never a subscription child other than `resourceGroups` and `providers`
    /// (`/subscriptions/{s}/resourceGroups` alone, `/subscriptions/{s}/foo/bar`), a bare
    /// `providers/{Namespace}`, a type without its name, a namespace that is not ARM's
    /// (ASCII letters, digits and `.`), or a segment with a control character.
    ///
    /// Segments are read by position: `providers` starts a section only where a type is due.
    pub fn is_rbac_scope(&self) -> bool {
        if self.text == "/" {
            return true;
        }
        let segs: Vec<&str> = self.segments().collect();
        if segs.iter().any(|s| s.chars().any(char::is_control)) {
            return false;
        }
        let rest = match segs.as_slice() {
            [root, sub, rest @ ..] if root.eq_ignore_ascii_case("subscriptions") => {
                if sub.parse::<SubscriptionId>().is_err() {
                    return false;
                }
                match rest {
                    [] => return true,
                    [g, _group, rest @ ..] if g.eq_ignore_ascii_case("resourceGroups") => rest,
                    [p, ..] if p.eq_ignore_ascii_case("providers") => rest,
                    _ => return false,
                }
            }
            [p, ..] if p.eq_ignore_ascii_case("providers") => &segs[..],
            _ => return false,
        };
        Self::are_provider_sections(rest)
    }

    /// `segs` is empty or one or more `providers/{Namespace}/{type}/{name}[/{type}/{name}]…`.
    fn are_provider_sections(mut segs: &[&str]) -> bool {
        while let [p, namespace, rest @ ..] = segs {
            let valid_namespace = namespace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.');
            if !p.eq_ignore_ascii_case("providers") || !valid_namespace {
                return false;
            }
            // Whole `{type}/{name}` pairs, at least one, up to the next `providers` in a
            // type position.
            let mut pairs = 0;
            segs = rest;
            while let [t, _name, after @ ..] = segs {
                if t.eq_ignore_ascii_case("providers") {
                    break;
                }
                pairs += 1;
                segs = after;
            }
            if pairs == 0 {
                return false;
            }
            if let [t] = segs
                && !t.eq_ignore_ascii_case("providers")
            {
                return false;
            }
        }
        segs.is_empty()
    }

    fn is_scope_prefix(segs: &[&str]) -> bool {
        // Scopes are an even number of segments from the root, or the part after a
        // `providers/{Namespace}` pair is an even number of segments.
        match segs
            .iter()
            .rposition(|s| s.eq_ignore_ascii_case("providers"))
        {
            Some(p) => {
                let after = segs.len().saturating_sub(p + 2);
                after > 0 && after.is_multiple_of(2)
            }
            None => segs.len().is_multiple_of(2),
        }
    }
}

impl FromStr for ResourceId {
    type Err = ResourceIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "/" {
            return Ok(Self::root());
        }
        if !s.starts_with('/') {
            return Err(ResourceIdError::NotAbsolute(s.to_owned()));
        }
        let segs: Vec<&str> = s[1..].split('/').collect();
        if segs.iter().any(|seg| seg.is_empty()) {
            return Err(ResourceIdError::EmptySegment(s.to_owned()));
        }
        let first = segs[0];
        if first.eq_ignore_ascii_case("subscriptions") {
            match segs.get(1) {
                Some(sub) if sub.parse::<SubscriptionId>().is_ok() => {}
                _ => return Err(ResourceIdError::InvalidSubscription(s.to_owned())),
            }
        } else if !first.eq_ignore_ascii_case("providers") {
            return Err(ResourceIdError::UnknownRoot(s.to_owned()));
        }
        // Every `providers/{Namespace}` must be followed by whole `{type}/{name}` pairs
        // before the next `providers`.
        let mut i = 0;
        while i < segs.len() {
            if segs[i].eq_ignore_ascii_case("providers") {
                let start = i + 2;
                let next = segs[start.min(segs.len())..]
                    .iter()
                    .position(|seg| seg.eq_ignore_ascii_case("providers"))
                    .map_or(segs.len(), |p| start + p);
                // `/subscriptions/{s}/providers/{Namespace}` alone names a provider (a valid
                // id in ARM's providers API); otherwise the pairs must be complete.
                if start > segs.len() || (next > start && (next - start) % 2 != 0) {
                    return Err(ResourceIdError::Incomplete(s.to_owned()));
                }
                i = next;
            } else {
                i += 1;
            }
        }
        Ok(Self {
            text: s.to_owned(),
            folded: s.to_ascii_lowercase(),
        })
    }
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.folded == other.folded
    }
}

impl Eq for ResourceId {}

impl Hash for ResourceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.folded.hash(state);
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResourceId({})", self.text)
    }
}

impl Serialize for ResourceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An RBAC scope: the root, a subscription, a group or a resource. Same grammar as
/// [`ResourceId`]; the alias says what the value is for.
pub type Scope = ResourceId;

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "00000000-0000-0000-0000-000000000001";

    fn id(s: &str) -> ResourceId {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn compares_case_insensitively_and_keeps_casing() {
        let a = id(&format!("/subscriptions/{SUB}/resourceGroups/MyGroup"));
        let b = id(&format!("/SUBSCRIPTIONS/{SUB}/resourcegroups/mygroup"));
        assert_eq!(a, b);
        assert_eq!(
            a.as_str(),
            format!("/subscriptions/{SUB}/resourceGroups/MyGroup")
        );
        assert_eq!(b.resource_group_name(), Some("mygroup"));
    }

    #[test]
    fn knows_its_parts() {
        let vm = id(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        ));
        assert_eq!(vm.subscription_id().unwrap().to_string(), SUB);
        assert_eq!(vm.resource_group_name(), Some("rg"));
        assert_eq!(vm.name(), Some("vm1"));
        assert_eq!(
            vm.resource_type().as_deref(),
            Some("Microsoft.Compute/virtualMachines")
        );
    }

    #[test]
    fn scope_containment_is_by_whole_segments() {
        let group = id(&format!("/subscriptions/{SUB}/resourceGroups/rg"));
        let other = id(&format!("/subscriptions/{SUB}/resourceGroups/rg2"));
        let vm = id(&format!(
            "/subscriptions/{SUB}/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1"
        ));
        assert!(group.contains(&vm));
        assert!(group.contains(&group));
        assert!(!group.contains(&other), "rg must not contain rg2");
        assert!(ResourceId::root().contains(&vm));
        assert!(!vm.contains(&group));
    }

    #[test]
    fn ancestors_skip_provider_prefixes() {
        let vm = id(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        ));
        let chain: Vec<String> = vm
            .ancestors_and_self()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            chain,
            vec![
                vm.to_string(),
                format!("/subscriptions/{SUB}/resourceGroups/rg"),
                format!("/subscriptions/{SUB}"),
                "/".to_owned(),
            ]
        );
    }

    #[test]
    fn rbac_scopes_are_whole_ids() {
        let valid = [
            "/".to_owned(),
            format!("/subscriptions/{SUB}"),
            format!("/subscriptions/{SUB}/resourceGroups/rg"),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/blobServices/default/containers/c"
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.ManagedIdentity/identities/default"
            ),
            format!("/subscriptions/{SUB}/providers/Microsoft.Capacity/reservations/r1"),
            "/providers/Microsoft.Management/managementGroups/mg1".to_owned(),
        ];
        for text in &valid {
            assert!(id(text).is_rbac_scope(), "{text} is a scope");
        }
        let invalid = [
            format!("/subscriptions/{SUB}/resourceGroups"),
            format!("/subscriptions/{SUB}/providers"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Compute"),
            format!("/subscriptions/{SUB}/resourceGroups/rg/providers"),
            format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute"),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions"
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.ManagedIdentity"
            ),
            format!("/subscriptions/{SUB}/resourceGroups/rg/foo/bar"),
            format!("/subscriptions/{SUB}/foo/bar"),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Micro$oft.Compute/virtualMachines/vm1"
            ),
            format!("/subscriptions/{SUB}/resourceGroups/r\u{7}g"),
            "/providers".to_owned(),
            "/providers/Microsoft.Management".to_owned(),
        ];
        for text in &invalid {
            if let Ok(parsed) = text.parse::<ResourceId>() {
                assert!(!parsed.is_rbac_scope(), "{text} is not a scope");
            }
        }
    }

    #[test]
    fn rejects_malformed_ids() {
        assert!(matches!(
            "subscriptions/x".parse::<ResourceId>(),
            Err(ResourceIdError::NotAbsolute(_))
        ));
        assert!(matches!(
            "/subscriptions/not-a-guid".parse::<ResourceId>(),
            Err(ResourceIdError::InvalidSubscription(_))
        ));
        assert!(matches!(
            format!("/subscriptions/{SUB}//x").parse::<ResourceId>(),
            Err(ResourceIdError::EmptySegment(_))
        ));
        assert!(matches!(
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"
            )
            .parse::<ResourceId>(),
            Err(ResourceIdError::Incomplete(_))
        ));
        assert!(matches!(
            "/tenants/x".parse::<ResourceId>(),
            Err(ResourceIdError::UnknownRoot(_))
        ));
    }
}
