//! Permissions and ACLs: reading them, changing them (the item's owner or a superuser;
//! the owner only by a superuser), and CHECKACCESS.

use azlite_posix_acl::spec::print_spec;
use azlite_posix_acl::{Acl, AclEntry, AclError, EntryKey, Mode, Perm, check};

use super::{Entry, FileSystem, TreeError};

/// A change of an item's ACL.
#[derive(Debug, Clone)]
pub enum AclChange {
    /// SETPERMISSION.
    Permission(Mode),
    /// SETACL.
    Set(Vec<AclEntry>),
    /// MODIFYACLENTRIES.
    Modify(Vec<AclEntry>),
    /// REMOVEACLENTRIES.
    RemoveEntries(Vec<EntryKey>),
    /// REMOVEDEFAULTACL.
    RemoveDefault,
    /// REMOVEACL.
    RemoveAll,
}

fn invalid(e: AclError) -> TreeError {
    TreeError::InvalidArgument(e.to_string())
}

impl FileSystem<'_> {
    /// GETACLSTATUS / MSGETACLSTATUS: the ancestors traversable.
    pub async fn acl_status(&self, path: &str) -> Result<Entry, TreeError> {
        self.status(path).await
    }

    async fn store_acl(&self, entry: &Entry, acl: &Acl) -> Result<(), TreeError> {
        let found = self
            .store
            .dls_set_access(
                self.account,
                &entry.item.path,
                &acl.owner,
                &acl.group,
                &print_spec(&acl.entries()),
                acl.sticky,
            )
            .await?;
        if found {
            Ok(())
        } else {
            Err(TreeError::NotFound(entry.item.path.clone()))
        }
    }

    /// Changes the ACL of the item at `path`: its owner or a superuser.
    pub async fn change_acl(&self, path: &str, change: AclChange) -> Result<(), TreeError> {
        let resolved = self.resolve(path).await?;
        let entry = self.existing(&resolved)?;
        if !check::may_change_acl(&entry.acl, &self.caller) {
            return Err(TreeError::Forbidden);
        }
        let is_dir = entry.is_dir();
        let mut acl = entry.acl.clone();
        match change {
            AclChange::Permission(mode) => acl.set_mode(mode),
            AclChange::Set(spec) => acl.set_acl(&spec, is_dir).map_err(invalid)?,
            AclChange::Modify(spec) => acl.modify_acl_entries(&spec, is_dir).map_err(invalid)?,
            AclChange::RemoveEntries(keys) => acl.remove_acl_entries(&keys).map_err(invalid)?,
            AclChange::RemoveDefault => acl.remove_default_acl(),
            AclChange::RemoveAll => acl.remove_acl(),
        }
        self.store_acl(entry, &acl).await
    }

    /// SETOWNER: only a superuser changes the owner; the owner may change the group to one
    /// it belongs to. Identities are kept in lower case.
    pub async fn set_owner(
        &self,
        path: &str,
        owner: Option<&str>,
        group: Option<&str>,
    ) -> Result<(), TreeError> {
        let owner = owner.map(str::to_ascii_lowercase);
        let group = group.map(str::to_ascii_lowercase);
        let resolved = self.resolve(path).await?;
        let entry = self.existing(&resolved)?;
        if !check::may_change_owner(&entry.acl, &self.caller, owner.as_deref(), group.as_deref()) {
            return Err(TreeError::Forbidden);
        }
        let mut acl = entry.acl.clone();
        if let Some(owner) = owner {
            acl.owner = owner;
        }
        if let Some(group) = group {
            acl.group = group;
        }
        self.store_acl(entry, &acl).await
    }

    /// CHECKACCESS: whether the caller has `want` on the item (403 when not).
    pub async fn check_access(&self, path: &str, want: Perm) -> Result<(), TreeError> {
        let resolved = self.resolve(path).await?;
        let entry = self.existing(&resolved)?;
        if self.has(entry, want) {
            Ok(())
        } else {
            Err(TreeError::Forbidden)
        }
    }
}
