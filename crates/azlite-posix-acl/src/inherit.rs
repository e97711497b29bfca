//! What a new file or folder starts with (reference §4.6): the creator owns it, the
//! parent's owning group owns it as group, its access ACL is the parent's default ACL (or,
//! without one, the requested mode), restricted by the requested mode and by Gen1's fixed
//! umask `007`; a new folder's default ACL is the parent's, verbatim. Nothing is inherited
//! afterwards.

use crate::{Acl, Entries, Mode, Perm};

/// Gen1's umask: other's bits are always cleared on new items.
pub const GEN1_UMASK: Mode = Mode::from_bits(0o007);

/// The mode a new item is asked for when the request gives none: `777` (so `770` after the
/// umask, what recorded Gen1 traffic shows for new files and folders).
pub const DEFAULT_CREATE_MODE: Mode = Mode::from_bits(0o777);

/// The ACL of a new child of `parent`, created by `creator` with `requested` mode (or
/// [`DEFAULT_CREATE_MODE`]) under `umask`.
pub fn new_child(
    parent: &Acl,
    creator: &str,
    is_dir: bool,
    requested: Option<Mode>,
    umask: Mode,
) -> Acl {
    let mode = requested.unwrap_or(DEFAULT_CREATE_MODE);
    let allowed = |perm: Perm, asked: Perm, cleared: Perm| perm.and(asked).without(cleared);
    let access = match &parent.default {
        Some(default) => {
            let mut access = default.clone();
            access.user = allowed(access.user, mode.user, umask.user);
            match &mut access.mask {
                Some(mask) => *mask = allowed(*mask, mode.group, umask.group),
                None => access.group = allowed(access.group, mode.group, umask.group),
            }
            access.other = allowed(access.other, mode.other, umask.other);
            if !access.is_extended() {
                // A default mask without named entries bounds the owning group of the
                // child, then has nothing left to bound.
                if let Some(mask) = access.mask.take() {
                    access.group = access.group.and(mask);
                }
            }
            access
        }
        None => Entries::from_mode(Mode {
            user: mode.user.without(umask.user),
            group: mode.group.without(umask.group),
            other: mode.other.without(umask.other),
            sticky: false,
        }),
    };
    Acl {
        owner: creator.to_owned(),
        group: parent.group.clone(),
        access,
        default: if is_dir { parent.default.clone() } else { None },
        sticky: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_spec;

    const VM: &str = "aaaaaaaa-0000-0000-0000-000000000001";

    #[test]
    fn without_a_default_acl_new_items_are_770() {
        let root = Acl::new("owner", "zero", Mode::from_bits(0o770));
        let child = new_child(&root, VM, false, None, GEN1_UMASK);
        assert_eq!(child.mode().to_string(), "770");
        assert_eq!(child.owner, VM);
        assert_eq!(child.group, "zero");
        assert!(child.default.is_none());
    }

    #[test]
    fn the_default_acl_becomes_the_childs_access_acl_with_the_umask() {
        let mut folder = Acl::new("owner", "zero", Mode::from_bits(0o770));
        folder
            .modify_acl_entries(
                &parse_spec(&format!("default:user:{VM}:rwx,default:other::rwx")).unwrap(),
                true,
            )
            .unwrap();
        let file = new_child(&folder, "someone", false, None, GEN1_UMASK);
        assert_eq!(file.access.named_users.get(VM), Some(&Perm::RWX));
        assert_eq!(file.access.other, Perm::NONE);
        assert!(file.default.is_none());
        let sub = new_child(
            &folder,
            "someone",
            true,
            Some(Mode::from_bits(0o750)),
            GEN1_UMASK,
        );
        assert_eq!(sub.access.mask, Some(Perm::RX));
        assert_eq!(sub.default, folder.default);
    }
}
