//! ACL specs: the text form of entries, `[default:]user|group|mask|other:[id]:rwx`, as
//! WebHDFS's `aclSpec` parameter (comma-separated) and its `AclStatus.entries` carry them.
//!
//! Parsing is strict (reference §4.2): a type is one of the four words (any letter case), a
//! mask or other entry names nobody, permissions are three `rwx`/`-` characters. Identities
//! (Entra object ids) are compared in lower case, so they are folded to lower case here.
//! A removal spec (REMOVEACLENTRIES) names entries without permissions; a permission after
//! the name is tolerated and ignored there, as Hadoop's parser does.

use std::fmt;

use crate::{AclError, Perm};

/// Which ACL an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclScope {
    /// The access ACL: checked on every access to the item.
    Access,
    /// The default ACL (folders only): the template of new children.
    Default,
}

/// What an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclTag {
    /// `user::` (the owning user, `None`) or `user:<id>:` (a named user).
    User(Option<String>),
    /// `group::` (the owning group, `None`) or `group:<id>:` (a named group).
    Group(Option<String>),
    /// `mask::`: the upper bound of named users, the owning group and named groups.
    Mask,
    /// `other::`.
    Other,
}

/// Which entry: its scope and tag, without permissions (what a removal spec names).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryKey {
    /// Access or default.
    pub scope: AclScope,
    /// User, group, mask or other, with the name.
    pub tag: AclTag,
}

/// One entry with its permissions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AclEntry {
    /// Which entry.
    pub key: EntryKey,
    /// Its permissions.
    pub perm: Perm,
}

impl AclEntry {
    /// An access entry.
    pub fn access(tag: AclTag, perm: Perm) -> AclEntry {
        AclEntry {
            key: EntryKey {
                scope: AclScope::Access,
                tag,
            },
            perm,
        }
    }

    /// A default entry.
    pub fn default(tag: AclTag, perm: Perm) -> AclEntry {
        AclEntry {
            key: EntryKey {
                scope: AclScope::Default,
                tag,
            },
            perm,
        }
    }
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scope == AclScope::Default {
            f.write_str("default:")?;
        }
        match &self.tag {
            AclTag::User(name) => write!(f, "user:{}", name.as_deref().unwrap_or_default()),
            AclTag::Group(name) => write!(f, "group:{}", name.as_deref().unwrap_or_default()),
            AclTag::Mask => f.write_str("mask:"),
            AclTag::Other => f.write_str("other:"),
        }
    }
}

impl fmt::Display for AclEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.key, self.perm)
    }
}

/// Parses one entry's scope, tag and name from its leading fields; returns the key and the
/// fields left (the permission, if any).
fn parse_key(text: &str) -> Result<(EntryKey, Vec<&str>), AclError> {
    let invalid = || AclError::InvalidAclSpec(text.to_owned());
    let mut fields: Vec<&str> = text.split(':').collect();
    let scope = if fields
        .first()
        .is_some_and(|f| f.eq_ignore_ascii_case("default"))
    {
        fields.remove(0);
        AclScope::Default
    } else {
        AclScope::Access
    };
    if fields.len() < 2 {
        return Err(invalid());
    }
    let kind = fields.remove(0);
    let name = fields.remove(0).trim();
    let named = (!name.is_empty()).then(|| name.to_ascii_lowercase());
    if named
        .as_deref()
        .is_some_and(|n| n.contains(|c: char| c == ',' || c.is_whitespace() || c.is_control()))
    {
        return Err(invalid());
    }
    let tag = match kind.trim().to_ascii_lowercase().as_str() {
        "user" => AclTag::User(named),
        "group" => AclTag::Group(named),
        "mask" if named.is_none() => AclTag::Mask,
        "other" if named.is_none() => AclTag::Other,
        _ => return Err(invalid()),
    };
    Ok((EntryKey { scope, tag }, fields))
}

/// Parses one entry with its permission (`user:<id>:r-x`).
pub fn parse_entry(text: &str) -> Result<AclEntry, AclError> {
    let text = text.trim();
    let (key, rest) = parse_key(text)?;
    match rest.as_slice() {
        [perm] => Ok(AclEntry {
            key,
            perm: Perm::parse_symbolic(perm.trim())
                .map_err(|_| AclError::InvalidAclSpec(text.to_owned()))?,
        }),
        _ => Err(AclError::InvalidAclSpec(text.to_owned())),
    }
}

/// Parses a comma-separated spec of entries with permissions (SETACL, MODIFYACLENTRIES).
/// An empty spec, or one naming the same entry twice, is invalid.
pub fn parse_spec(text: &str) -> Result<Vec<AclEntry>, AclError> {
    let entries = text
        .split(',')
        .map(parse_entry)
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys: Vec<&EntryKey> = entries.iter().map(|e| &e.key).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(AclError::InvalidAclSpec(format!(
            "{text}: an entry is given twice"
        )));
    }
    Ok(entries)
}

/// Parses a comma-separated spec of entries to remove (REMOVEACLENTRIES): permissions may be
/// omitted, and are ignored when given.
pub fn parse_removal_spec(text: &str) -> Result<Vec<EntryKey>, AclError> {
    text.split(',')
        .map(|entry| {
            let entry = entry.trim();
            let (key, rest) = parse_key(entry)?;
            match rest.as_slice() {
                [] => Ok(key),
                [perm] if perm.is_empty() || Perm::parse_symbolic(perm.trim()).is_ok() => Ok(key),
                _ => Err(AclError::InvalidAclSpec(entry.to_owned())),
            }
        })
        .collect()
}

/// Prints entries as a spec: the inverse of [`parse_spec`].
pub fn print_spec(entries: &[AclEntry]) -> String {
    entries
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "bd0e76d8-ad45-4fe1-8941-04a7bf27f071";

    #[test]
    fn the_reference_examples_parse_and_print_back() {
        let text = format!(
            "user::rwx,user:{OID}:r-x,group::r-x,mask::rwx,other::---,default:user::rwx,default:group:{OID}:rwx"
        );
        let entries = parse_spec(&text).unwrap();
        assert_eq!(entries.len(), 7);
        assert_eq!(
            entries[1],
            AclEntry::access(AclTag::User(Some(OID.into())), Perm::RX)
        );
        assert_eq!(entries[6].key.scope, AclScope::Default);
        assert_eq!(print_spec(&entries), text);
    }

    #[test]
    fn names_fold_to_lower_case_and_words_in_any_case() {
        let e = parse_entry("Default:USER:ABC:rw-").unwrap();
        assert_eq!(
            e,
            AclEntry::default(AclTag::User(Some("abc".into())), Perm::R.or(Perm::W))
        );
    }

    #[test]
    fn malformed_specs_are_refused() {
        for bad in [
            "",
            "user",
            "user::",
            "user::rwxx",
            "mask:someone:rwx",
            "other:x:r--",
            "owner::rwx",
            "default:default:user::rwx",
            "user::rwx,user::r--",
            "user::rwx,",
            "user:a b:rwx",
            "user::rwx:extra",
        ] {
            assert!(parse_spec(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn removal_specs_name_entries_with_or_without_permissions() {
        let keys =
            parse_removal_spec(&format!("user:{OID},default:group:{OID}:rwx,mask")).unwrap_err();
        assert!(matches!(keys, AclError::InvalidAclSpec(_)));
        let keys =
            parse_removal_spec(&format!("user:{OID},default:group:{OID}:rwx,mask:")).unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[2].tag, AclTag::Mask);
    }
}
