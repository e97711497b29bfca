//! The ACL state of one item (file or folder) and the changes WebHDFS makes to it: SETACL,
//! MODIFYACLENTRIES, REMOVEACLENTRIES, REMOVEDEFAULTACL, REMOVEACL, SETPERMISSION, SETOWNER.
//!
//! The rules follow Hadoop's `AclTransformation`, which ADLS follows (reference §4.6):
//! * An ACL with a named user or named group is *extended* and has a mask; the permission
//!   bits' group digit is then the mask's, and `chmod` changes the mask, not the owning
//!   group's entry (which comes back when the ACL is removed).
//! * A change that does not give the mask recomputes it as the union of the group class
//!   (named users, owning group, named groups).
//! * SETACL replaces the scopes its spec names and keeps the others; a default ACL is
//!   given its missing base entries from the access ACL.
//! * The base entries (`user::`, `group::`, `other::`) cannot be removed.

use std::collections::BTreeMap;

use crate::spec::{AclEntry, AclScope, AclTag, EntryKey};
use crate::{AclError, Mode, Perm};

/// The entries of one scope (access, or default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entries {
    /// `user::`: the owning user.
    pub user: Perm,
    /// `user:<id>:`.
    pub named_users: BTreeMap<String, Perm>,
    /// `group::`: the owning group.
    pub group: Perm,
    /// `group:<id>:`.
    pub named_groups: BTreeMap<String, Perm>,
    /// `mask::`, present exactly when there are named entries (and on a default ACL when
    /// given).
    pub mask: Option<Perm>,
    /// `other::`.
    pub other: Perm,
}

impl Entries {
    /// The minimal entries of a mode.
    pub fn from_mode(mode: Mode) -> Entries {
        Entries {
            user: mode.user,
            named_users: BTreeMap::new(),
            group: mode.group,
            named_groups: BTreeMap::new(),
            mask: None,
            other: mode.other,
        }
    }

    /// Whether there is a named entry.
    pub fn is_extended(&self) -> bool {
        !self.named_users.is_empty() || !self.named_groups.is_empty()
    }

    /// The union of the group class: what a recomputed mask is.
    pub fn group_class_union(&self) -> Perm {
        self.named_users
            .values()
            .chain(self.named_groups.values())
            .fold(self.group, |acc, p| acc.or(*p))
    }

    /// The entries, in the order Gen1 lists them: user, named users, group, named groups,
    /// mask, other.
    pub fn to_entries(&self, scope: AclScope) -> Vec<AclEntry> {
        let entry = |tag, perm| AclEntry {
            key: EntryKey { scope, tag },
            perm,
        };
        let mut out = vec![entry(AclTag::User(None), self.user)];
        out.extend(
            self.named_users
                .iter()
                .map(|(n, p)| entry(AclTag::User(Some(n.clone())), *p)),
        );
        out.push(entry(AclTag::Group(None), self.group));
        out.extend(
            self.named_groups
                .iter()
                .map(|(n, p)| entry(AclTag::Group(Some(n.clone())), *p)),
        );
        if let Some(mask) = self.mask {
            out.push(entry(AclTag::Mask, mask));
        }
        out.push(entry(AclTag::Other, self.other));
        out
    }

    fn set(&mut self, tag: &AclTag, perm: Perm) {
        match tag {
            AclTag::User(None) => self.user = perm,
            AclTag::User(Some(n)) => {
                self.named_users.insert(n.clone(), perm);
            }
            AclTag::Group(None) => self.group = perm,
            AclTag::Group(Some(n)) => {
                self.named_groups.insert(n.clone(), perm);
            }
            AclTag::Mask => self.mask = Some(perm),
            AclTag::Other => self.other = perm,
        }
    }

    /// Recomputes the mask unless `mask_given`; drops it when nothing is named (an access
    /// ACL without named entries is minimal).
    fn settle_mask(&mut self, mask_given: bool, keep_unnamed_mask: bool) {
        if !mask_given && (self.is_extended() || (keep_unnamed_mask && self.mask.is_some())) {
            self.mask = Some(self.group_class_union());
        }
        if !self.is_extended() && !keep_unnamed_mask {
            self.mask = None;
        }
    }
}

/// Everything the access check and `AclStatus` need of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    /// The owning user (an object id).
    pub owner: String,
    /// The owning group (an object id; Gen1's root has the zero GUID).
    pub group: String,
    /// The access ACL.
    pub access: Entries,
    /// The default ACL (folders only).
    pub default: Option<Entries>,
    /// The sticky bit.
    pub sticky: bool,
}

impl Acl {
    /// An item with a minimal ACL of `mode`.
    pub fn new(owner: impl Into<String>, group: impl Into<String>, mode: Mode) -> Acl {
        Acl {
            owner: owner.into(),
            group: group.into(),
            access: Entries::from_mode(mode),
            default: None,
            sticky: mode.sticky,
        }
    }

    /// The permission bits: owner, mask (or owning group), other, sticky.
    pub fn mode(&self) -> Mode {
        Mode {
            user: self.access.user,
            group: self.access.mask.unwrap_or(self.access.group),
            other: self.access.other,
            sticky: self.sticky,
        }
    }

    /// WebHDFS's `aclBit`: the item has named entries or a default ACL.
    pub fn acl_bit(&self) -> bool {
        self.access.is_extended() || self.default.is_some()
    }

    /// Every entry, access then default, base entries included (Gen1's `AclStatus`
    /// lists them all).
    pub fn entries(&self) -> Vec<AclEntry> {
        let mut out = self.access.to_entries(AclScope::Access);
        if let Some(default) = &self.default {
            out.extend(default.to_entries(AclScope::Default));
        }
        out
    }

    /// SETPERMISSION: owner, mask (or owning group) and other bits, and the sticky bit.
    pub fn set_mode(&mut self, mode: Mode) {
        self.access.user = mode.user;
        match &mut self.access.mask {
            Some(mask) => *mask = mode.group,
            None => self.access.group = mode.group,
        }
        self.access.other = mode.other;
        self.sticky = mode.sticky;
    }

    /// SETACL: replaces the scopes `spec` names (a scope it does not name is kept).
    /// `is_dir` false refuses default entries.
    pub fn set_acl(&mut self, spec: &[AclEntry], is_dir: bool) -> Result<(), AclError> {
        refuse_default_on_file(spec.iter().map(|e| &e.key), is_dir)?;
        let mut next = self.clone();
        for scope in [AclScope::Access, AclScope::Default] {
            let given: Vec<&AclEntry> = spec.iter().filter(|e| e.key.scope == scope).collect();
            if given.is_empty() {
                continue;
            }
            let has = |tag: &AclTag| given.iter().any(|e| &e.key.tag == tag);
            let base = [AclTag::User(None), AclTag::Group(None), AclTag::Other];
            let mut entries = match scope {
                AclScope::Access if !base.iter().all(has) => {
                    return Err(AclError::MissingBaseEntries);
                }
                // A default ACL takes its missing base entries from the access ACL.
                _ => Entries {
                    named_users: BTreeMap::new(),
                    named_groups: BTreeMap::new(),
                    mask: None,
                    ..next.access.clone()
                },
            };
            for entry in &given {
                entries.set(&entry.key.tag, entry.perm);
            }
            entries.settle_mask(has(&AclTag::Mask), scope == AclScope::Default);
            match scope {
                AclScope::Access => next.access = entries,
                AclScope::Default => next.default = Some(entries),
            }
        }
        *self = next;
        Ok(())
    }

    /// MODIFYACLENTRIES: adds or changes the entries of `spec`, keeps the rest.
    pub fn modify_acl_entries(&mut self, spec: &[AclEntry], is_dir: bool) -> Result<(), AclError> {
        refuse_default_on_file(spec.iter().map(|e| &e.key), is_dir)?;
        for scope in [AclScope::Access, AclScope::Default] {
            let given: Vec<&AclEntry> = spec.iter().filter(|e| e.key.scope == scope).collect();
            if given.is_empty() {
                continue;
            }
            let access = self.access.clone();
            let entries = match scope {
                AclScope::Access => &mut self.access,
                AclScope::Default => self.default.get_or_insert_with(|| Entries {
                    named_users: BTreeMap::new(),
                    named_groups: BTreeMap::new(),
                    mask: None,
                    ..access
                }),
            };
            for entry in &given {
                entries.set(&entry.key.tag, entry.perm);
            }
            let mask_given = given.iter().any(|e| e.key.tag == AclTag::Mask);
            entries.settle_mask(mask_given, scope == AclScope::Default);
        }
        Ok(())
    }

    /// REMOVEACLENTRIES: removes the named entries (and masks) of `keys`. Base entries
    /// cannot be removed.
    pub fn remove_acl_entries(&mut self, keys: &[EntryKey]) -> Result<(), AclError> {
        if keys.iter().any(|k| {
            matches!(
                k.tag,
                AclTag::User(None) | AclTag::Group(None) | AclTag::Other
            )
        }) {
            return Err(AclError::MissingBaseEntries);
        }
        for scope in [AclScope::Access, AclScope::Default] {
            let given: Vec<&EntryKey> = keys.iter().filter(|k| k.scope == scope).collect();
            let Some(entries) = (match scope {
                AclScope::Access => Some(&mut self.access),
                AclScope::Default => self.default.as_mut(),
            }) else {
                continue;
            };
            if given.is_empty() {
                continue;
            }
            for key in &given {
                match &key.tag {
                    AclTag::User(Some(n)) => {
                        entries.named_users.remove(n);
                    }
                    AclTag::Group(Some(n)) => {
                        entries.named_groups.remove(n);
                    }
                    AclTag::Mask => entries.mask = None,
                    _ => {}
                }
            }
            entries.settle_mask(false, scope == AclScope::Default);
        }
        Ok(())
    }

    /// REMOVEDEFAULTACL.
    pub fn remove_default_acl(&mut self) {
        self.default = None;
    }

    /// REMOVEACL: only the base entries stay; the owning group's entry is again the group
    /// digit of the permission bits.
    pub fn remove_acl(&mut self) {
        self.access.named_users.clear();
        self.access.named_groups.clear();
        self.access.mask = None;
        self.default = None;
    }
}

fn refuse_default_on_file<'a>(
    mut keys: impl Iterator<Item = &'a EntryKey>,
    is_dir: bool,
) -> Result<(), AclError> {
    if !is_dir && keys.any(|k| k.scope == AclScope::Default) {
        return Err(AclError::DefaultAclOnFile);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{parse_removal_spec, parse_spec, print_spec};

    const A: &str = "aaaaaaaa-0000-0000-0000-000000000001";

    fn root() -> Acl {
        Acl::new(
            "owner",
            "00000000-0000-0000-0000-000000000000",
            Mode::from_bits(0o770),
        )
    }

    #[test]
    fn a_named_entry_brings_a_mask_and_chmod_changes_the_mask() {
        let mut acl = root();
        acl.modify_acl_entries(&parse_spec(&format!("user:{A}:r-x")).unwrap(), true)
            .unwrap();
        assert_eq!(acl.access.mask, Some(Perm::RWX));
        assert!(acl.acl_bit());
        acl.set_mode(Mode::from_bits(0o750));
        assert_eq!(acl.access.mask, Some(Perm::RX));
        assert_eq!(acl.access.group, Perm::RWX);
        assert_eq!(acl.mode().to_string(), "750");
        acl.remove_acl();
        assert_eq!(acl.mode().to_string(), "770");
        assert!(!acl.acl_bit());
    }

    #[test]
    fn the_tutorials_grants_list_as_gen1_lists_them() {
        let mut acl = root();
        acl.modify_acl_entries(
            &parse_spec(&format!("user:{A}:rwx,default:user:{A}:rwx")).unwrap(),
            true,
        )
        .unwrap();
        assert_eq!(
            print_spec(&acl.entries()),
            format!(
                "user::rwx,user:{A}:rwx,group::rwx,mask::rwx,other::---,\
                 default:user::rwx,default:user:{A}:rwx,default:group::rwx,default:mask::rwx,default:other::---"
            )
        );
    }

    #[test]
    fn set_acl_needs_the_base_entries_and_keeps_an_unnamed_scope() {
        let mut acl = root();
        acl.modify_acl_entries(&parse_spec("default:other::r--").unwrap(), true)
            .unwrap();
        assert!(matches!(
            acl.set_acl(&parse_spec("user::rwx").unwrap(), true),
            Err(AclError::MissingBaseEntries)
        ));
        acl.set_acl(
            &parse_spec("user::r-x,group::---,other::---").unwrap(),
            true,
        )
        .unwrap();
        assert_eq!(acl.mode().to_string(), "500");
        assert_eq!(acl.default.as_ref().unwrap().other, Perm::R);
    }

    #[test]
    fn files_have_no_default_acl_and_base_entries_stay() {
        let mut acl = root();
        assert!(matches!(
            acl.modify_acl_entries(&parse_spec("default:user::rwx").unwrap(), false),
            Err(AclError::DefaultAclOnFile)
        ));
        assert!(
            acl.remove_acl_entries(&parse_removal_spec("user:").unwrap())
                .is_err()
        );
        acl.modify_acl_entries(&parse_spec(&format!("group:{A}:r--")).unwrap(), false)
            .unwrap();
        acl.remove_acl_entries(&parse_removal_spec(&format!("group:{A}")).unwrap())
            .unwrap();
        assert_eq!(acl.access.mask, None);
        assert!(!acl.acl_bit());
    }
}
