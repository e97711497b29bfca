//! The access check (reference §4.6, Gen1's "access check algorithm"), and what each kind
//! of operation requires along a path.
//!
//! One deliberate choice: the mask limits named users, the owning group and named groups,
//! not `other`. Gen1's published pseudo-code also masks `other`, but its own prose, POSIX,
//! Hadoop and Gen2 do not; azlite follows the prose (docs/protocols/datalake.md says so).

use crate::{Acl, Perm};

/// Who is asking.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The caller's object id (lower case).
    pub id: &'a str,
    /// The groups the caller belongs to (object ids, lower case).
    pub groups: &'a [String],
    /// A superuser (the account's RBAC Owner): every check passes.
    pub superuser: bool,
}

/// Whether `caller` has every bit of `want` on an item with `acl`.
///
/// In order: a superuser may; the owner gets the owner's bits (never masked); a named user
/// gets its entry, masked; a member of the owning group or of named groups gets the union
/// of the matching entries, masked (and no more: a group member does not fall through to
/// `other`); everyone else gets `other`.
pub fn permitted(acl: &Acl, caller: &Caller<'_>, want: Perm) -> bool {
    if caller.superuser {
        return true;
    }
    let access = &acl.access;
    let mask = access.mask.unwrap_or(Perm::RWX);
    if acl.owner == caller.id {
        return access.user.contains(want);
    }
    if let Some(perm) = access.named_users.get(caller.id) {
        return perm.and(mask).contains(want);
    }
    let mut in_group_class = false;
    let mut granted = Perm::NONE;
    if caller.groups.contains(&acl.group) {
        in_group_class = true;
        granted = granted.or(access.group);
    }
    for (group, perm) in &access.named_groups {
        if caller.groups.iter().any(|g| g == group) {
            in_group_class = true;
            granted = granted.or(*perm);
        }
    }
    if in_group_class {
        return granted.and(mask).contains(want);
    }
    access.other.contains(want)
}

/// Whether `caller` may pass through every folder of `ancestors` (the execute bit on each,
/// root first).
pub fn traversable(ancestors: &[&Acl], caller: &Caller<'_>) -> bool {
    ancestors.iter().all(|a| permitted(a, caller, Perm::X))
}

/// With the sticky bit on `parent`, only the child's owner (or a superuser) may delete or
/// rename `child` (Gen1's rule, reference §4.6).
pub fn sticky_allows(parent: &Acl, child: &Acl, caller: &Caller<'_>) -> bool {
    !parent.sticky || caller.superuser || child.owner == caller.id
}

/// Whether `caller` may change the permissions or ACL of an item: its owner or a
/// superuser.
pub fn may_change_acl(acl: &Acl, caller: &Caller<'_>) -> bool {
    caller.superuser || acl.owner == caller.id
}

/// Whether `caller` may set `owner` and `group` on an item: only a superuser changes the
/// owner; the owner may change the group to one it belongs to.
pub fn may_change_owner(
    acl: &Acl,
    caller: &Caller<'_>,
    owner: Option<&str>,
    group: Option<&str>,
) -> bool {
    if caller.superuser {
        return true;
    }
    let owner_unchanged = owner.is_none_or(|o| o == acl.owner);
    let group_ok = group.is_none_or(|g| g == acl.group || caller.groups.iter().any(|c| c == g));
    owner_unchanged && acl.owner == caller.id && group_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;
    use crate::spec::parse_spec;

    const VM: &str = "aaaaaaaa-0000-0000-0000-000000000001";
    const G: &str = "gggggggg-0000-0000-0000-000000000001";

    fn caller<'a>(id: &'a str, groups: &'a [String]) -> Caller<'a> {
        Caller {
            id,
            groups,
            superuser: false,
        }
    }

    #[test]
    fn the_reference_order_owner_named_user_groups_other() {
        let mut acl = Acl::new("owner", "grp", Mode::from_bits(0o751));
        assert!(permitted(&acl, &caller("owner", &[]), Perm::RWX));
        assert!(permitted(&acl, &caller("x", &[]), Perm::X));
        assert!(!permitted(&acl, &caller("x", &[]), Perm::R));
        let groups = ["grp".to_owned()];
        assert!(permitted(&acl, &caller("x", &groups), Perm::RX));
        acl.modify_acl_entries(
            &parse_spec(&format!("user:{VM}:rwx,mask::r--")).unwrap(),
            true,
        )
        .unwrap();
        // The mask bounds the named user...
        assert!(permitted(&acl, &caller(VM, &[]), Perm::R));
        assert!(!permitted(&acl, &caller(VM, &[]), Perm::W));
        // ...and the owning group, but never the owner.
        assert!(!permitted(&acl, &caller("x", &groups), Perm::X));
        assert!(permitted(&acl, &caller("owner", &[]), Perm::RWX));
        // A group member does not fall through to other's --x.
        assert!(!permitted(&acl, &caller("x", &groups), Perm::X));
        let superuser = Caller {
            superuser: true,
            ..caller("x", &[])
        };
        assert!(permitted(&acl, &superuser, Perm::RWX));
    }

    #[test]
    fn named_groups_add_up() {
        let mut acl = Acl::new("owner", "grp", Mode::from_bits(0o700));
        acl.modify_acl_entries(
            &parse_spec(&format!("group:{G}:r--,group::-w-")).unwrap(),
            true,
        )
        .unwrap();
        let groups = ["grp".to_owned(), G.to_owned()];
        assert!(permitted(&acl, &caller("x", &groups), Perm::R.or(Perm::W)));
    }

    #[test]
    fn sticky_and_ownership_rules() {
        let mut parent = Acl::new("p", "g", Mode::from_bits(0o1777));
        let child = Acl::new("c", "g", Mode::from_bits(0o770));
        assert!(!sticky_allows(&parent, &child, &caller("p", &[])));
        assert!(sticky_allows(&parent, &child, &caller("c", &[])));
        parent.sticky = false;
        assert!(sticky_allows(&parent, &child, &caller("p", &[])));
        assert!(may_change_acl(&child, &caller("c", &[])));
        assert!(!may_change_acl(&child, &caller("p", &[])));
        assert!(!may_change_owner(
            &child,
            &caller("c", &[]),
            Some("p"),
            None
        ));
        let groups = ["h".to_owned()];
        assert!(may_change_owner(
            &child,
            &caller("c", &groups),
            None,
            Some("h")
        ));
        assert!(!may_change_owner(
            &child,
            &caller("c", &[]),
            None,
            Some("h")
        ));
    }
}
