//! Access policies of a Key Vault (SPEC-KV `AccessPolicyEntry`, reference §2.6): verifying
//! the entries a client sends, and the `accessPolicies/{add|replace|remove}` merges.

use azlite_types::{ObjectId, TenantId};
use serde::Deserialize;

use super::vault_model::{AccessPolicyEntry, Permissions, bad_request, parse_guid};
use crate::ArmError;

/// `permissions` as sent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UnverifiedPermissions {
    keys: Option<Vec<String>>,
    secrets: Option<Vec<String>>,
    certificates: Option<Vec<String>>,
    storage: Option<Vec<String>>,
}

/// An access policy entry as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnverifiedAccessPolicy {
    tenant_id: Option<String>,
    object_id: Option<String>,
    application_id: Option<String>,
    permissions: Option<UnverifiedPermissions>,
}

/// The most access policies a vault holds (SPEC-KV `VaultProperties.accessPolicies`).
const MAX_ACCESS_POLICIES: usize = 1024;

/// The permission values of each list (SPEC-KV `KeyPermissions`, `SecretPermissions`,
/// `CertificatePermissions`, `StoragePermissions`), compared case-insensitively.
const KEY_PERMISSIONS: &[&str] = &[
    "all",
    "encrypt",
    "decrypt",
    "wrapKey",
    "unwrapKey",
    "sign",
    "verify",
    "get",
    "list",
    "create",
    "update",
    "import",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
    "release",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
];
const SECRET_PERMISSIONS: &[&str] = &[
    "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];
const CERTIFICATE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "create",
    "import",
    "update",
    "managecontacts",
    "getissuers",
    "listissuers",
    "setissuers",
    "deleteissuers",
    "manageissuers",
    "recover",
    "purge",
    "backup",
    "restore",
];
const STORAGE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "set",
    "update",
    "regeneratekey",
    "recover",
    "purge",
    "backup",
    "restore",
    "setsas",
    "listsas",
    "getsas",
    "deletesas",
];

/// Checks one permission list against its allowed values; keeps it as sent.
fn verify_permission_list(
    values: Option<Vec<String>>,
    allowed: &[&str],
    at: &str,
) -> Result<Vec<String>, ArmError> {
    let values = values.unwrap_or_default();
    for (i, value) in values.iter().enumerate() {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) {
            return Err(bad_request(format!(
                "Invalid value found at {at}[{i}]: '{value}'. Allowed values are {}.",
                allowed.join(", ")
            )));
        }
    }
    Ok(values)
}

/// Verifies access policy entries: `tenantId` and `objectId` required GUIDs, `applicationId`
/// an optional GUID, `permissions` required with known values.
pub(crate) fn verify_access_policies(
    entries: Vec<UnverifiedAccessPolicy>,
    at: &str,
) -> Result<Vec<AccessPolicyEntry>, ArmError> {
    if entries.len() > MAX_ACCESS_POLICIES {
        return Err(bad_request(format!(
            "A vault holds at most {MAX_ACCESS_POLICIES} access policies; {at} has {}.",
            entries.len()
        )));
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let at = format!("{at}[{i}]");
            let tenant: TenantId =
                parse_guid(entry.tenant_id.as_deref(), &format!("{at}.tenantId"))?;
            let object: ObjectId =
                parse_guid(entry.object_id.as_deref(), &format!("{at}.objectId"))?;
            let application = match entry.application_id.as_deref() {
                None | Some("") => None,
                Some(id) => {
                    let id: uuid::Uuid = parse_guid(Some(id), &format!("{at}.applicationId"))?;
                    Some(id.hyphenated().to_string())
                }
            };
            let permissions = entry.permissions.ok_or_else(|| {
                bad_request(format!("The parameter {at}.permissions is required."))
            })?;
            let p = format!("{at}.permissions");
            Ok(AccessPolicyEntry {
                tenant_id: tenant.to_string(),
                object_id: object.to_string(),
                application_id: application,
                permissions: Permissions {
                    keys: verify_permission_list(
                        permissions.keys,
                        KEY_PERMISSIONS,
                        &format!("{p}.keys"),
                    )?,
                    secrets: verify_permission_list(
                        permissions.secrets,
                        SECRET_PERMISSIONS,
                        &format!("{p}.secrets"),
                    )?,
                    certificates: verify_permission_list(
                        permissions.certificates,
                        CERTIFICATE_PERMISSIONS,
                        &format!("{p}.certificates"),
                    )?,
                    storage: verify_permission_list(
                        permissions.storage,
                        STORAGE_PERMISSIONS,
                        &format!("{p}.storage"),
                    )?,
                },
            })
        })
        .collect()
}

/// The three `accessPolicies/{operationKind}` operations (`AccessPolicyUpdateKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccessPolicyUpdateKind {
    /// Merge the given permissions into the entry of the same identity (or add the entry).
    Add,
    /// Replace the whole list.
    Replace,
    /// Take the given permissions away; entries left with none are dropped.
    Remove,
}

impl AccessPolicyUpdateKind {
    /// Parses the path segment, case-insensitively.
    pub(crate) fn parse(segment: &str) -> Option<Self> {
        [
            ("add", Self::Add),
            ("replace", Self::Replace),
            ("remove", Self::Remove),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(segment))
        .map(|(_, kind)| kind)
    }

    /// The path segment.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Replace => "replace",
            Self::Remove => "remove",
        }
    }
}

/// Two entries name the same identity: tenant, object and application (GUIDs are stored in
/// canonical form, so equality is enough).
fn same_identity(a: &AccessPolicyEntry, b: &AccessPolicyEntry) -> bool {
    a.tenant_id == b.tenant_id && a.object_id == b.object_id && a.application_id == b.application_id
}

fn lists(p: &mut Permissions) -> [&mut Vec<String>; 4] {
    [
        &mut p.keys,
        &mut p.secrets,
        &mut p.certificates,
        &mut p.storage,
    ]
}

fn union_into(target: &mut Vec<String>, added: &[String]) {
    for value in added {
        if !target.iter().any(|t| t.eq_ignore_ascii_case(value)) {
            target.push(value.clone());
        }
    }
}

/// Applies an `accessPolicies/{kind}` update to a vault's list.
///
/// `add` merges per identity (tenant, object, application): permissions not yet held are
/// appended, compared case-insensitively; an unknown identity gets a new entry. `remove`
/// takes the named permissions away (by name: removing `get` leaves `all` in place) and
/// drops entries left with no permission at all. `replace` sets the list.
pub(crate) fn update_access_policies(
    current: &mut Vec<AccessPolicyEntry>,
    kind: AccessPolicyUpdateKind,
    changes: Vec<AccessPolicyEntry>,
) -> Result<(), ArmError> {
    match kind {
        AccessPolicyUpdateKind::Replace => *current = changes,
        AccessPolicyUpdateKind::Add => {
            for change in changes {
                match current.iter_mut().find(|e| same_identity(e, &change)) {
                    Some(entry) => {
                        let mut change = change;
                        for (target, added) in lists(&mut entry.permissions)
                            .into_iter()
                            .zip(lists(&mut change.permissions))
                        {
                            union_into(target, added);
                        }
                    }
                    None => current.push(change),
                }
            }
        }
        AccessPolicyUpdateKind::Remove => {
            for mut change in changes {
                if let Some(entry) = current.iter_mut().find(|e| same_identity(e, &change)) {
                    for (target, removed) in lists(&mut entry.permissions)
                        .into_iter()
                        .zip(lists(&mut change.permissions))
                    {
                        target.retain(|t| !removed.iter().any(|r| r.eq_ignore_ascii_case(t)));
                    }
                }
            }
            current.retain(|e| {
                let p = &e.permissions;
                !(p.keys.is_empty()
                    && p.secrets.is_empty()
                    && p.certificates.is_empty()
                    && p.storage.is_empty())
            });
        }
    }
    if current.len() > MAX_ACCESS_POLICIES {
        return Err(bad_request(format!(
            "A vault holds at most {MAX_ACCESS_POLICIES} access policies."
        )));
    }
    Ok(())
}
