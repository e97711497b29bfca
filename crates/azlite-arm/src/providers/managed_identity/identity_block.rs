//! The `identity` block of a resource (`VirtualMachineIdentity` in the compute spec,
//! reference §2.4): what a request asks for, how it merges with what the resource has, and
//! the stored form (the wire shape, kept in the resource body under `identity`, so the
//! generic `…/resources` list shows it as is).
//!
//! Requests are read leniently where the tutorials are loose (reference §2.4, §5.10):
//! `type` is matched case-insensitively, split on commas and trimmed, so
//! `systemassigned,userassigned` is `SystemAssigned, UserAssigned`; property names are
//! matched case-insensitively, as ARM's .NET deserializer does; `userAssignedIdentities` keys
//! are resource ids compared case-insensitively (a key with `resourcegroups` names the same
//! identity as one with `resourceGroups`); the 2017-12-01 `identityIds` list is accepted too.
//!
//! The merge rules are the ones the VM REST tutorial (DOC-VMREST) relies on:
//! - `userAssignedIdentities` is a change set: `{}` attaches an identity, `null` detaches
//!   it, identities it does not name stay attached;
//! - `identityIds` is the whole set of user-assigned identities;
//! - a type without `UserAssigned` detaches them all, and naming one with such a type is an
//!   error; a type with `UserAssigned` must leave at least one attached;
//! - a type without `SystemAssigned` removes the system identity (its principal is deleted
//!   by the caller of [`plan`]).

use azlite_types::{ClientId, ObjectId, ResourceId, TenantId};
use serde_json::{Map, Value, json};

use super::USER_ASSIGNED_IDENTITIES;
use crate::ArmError;

/// Which identities a resource has: the `type` of the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct IdentityType {
    /// `SystemAssigned`.
    pub(crate) system: bool,
    /// `UserAssigned`.
    pub(crate) user: bool,
}

impl IdentityType {
    /// Parses `SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned` or `None`, in
    /// any casing, with or without spaces around the comma.
    pub(crate) fn parse(text: &str) -> Result<Self, ArmError> {
        let mut out = Self::default();
        let mut none = false;
        for token in text.split(',').map(str::trim) {
            if token.eq_ignore_ascii_case("SystemAssigned") {
                out.system = true;
            } else if token.eq_ignore_ascii_case("UserAssigned") {
                out.user = true;
            } else if token.eq_ignore_ascii_case("None") {
                none = true;
            } else {
                return Err(invalid_type(text));
            }
        }
        if none && (out.system || out.user) {
            return Err(invalid_type(text));
        }
        Ok(out)
    }

    /// The form ARM answers with.
    pub(crate) fn canonical(self) -> &'static str {
        match (self.system, self.user) {
            (true, true) => "SystemAssigned, UserAssigned",
            (true, false) => "SystemAssigned",
            (false, true) => "UserAssigned",
            (false, false) => "None",
        }
    }
}

fn invalid_type(text: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidParameter",
        format!(
            "The value '{text}' of parameter 'identity.type' is invalid. Allowed values are 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned' and 'None'."
        ),
    )
}

fn invalid_content(why: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{why}'."),
    )
}

/// A member of a JSON object, its name matched case-insensitively.
fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// What a request says about user-assigned identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserAssignedChange {
    /// Nothing: the attached ones stay (while the type keeps `UserAssigned`).
    Unchanged,
    /// The `userAssignedIdentities` map, in request order: `true` attaches, `false`
    /// (a `null` value) detaches.
    Merge(Vec<(ResourceId, bool)>),
    /// The old `identityIds` list: exactly these.
    Replace(Vec<ResourceId>),
}

/// The identity block of a request. Unverified: the identities it names may not exist, and
/// the caller may not be allowed to attach them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnverifiedIdentity {
    /// The requested type.
    pub(crate) kind: IdentityType,
    /// The requested user-assigned identities.
    pub(crate) user_assigned: UserAssignedChange,
}

impl UnverifiedIdentity {
    /// Parses the value of a request's `identity` member.
    pub(crate) fn parse(value: &Value) -> Result<Self, ArmError> {
        let Value::Object(block) = value else {
            return Err(invalid_content("'identity' must be an object"));
        };
        let kind = match member(block, "type") {
            Some(Value::String(text)) => IdentityType::parse(text)?,
            Some(other) => return Err(invalid_type(&other.to_string())),
            None => {
                return Err(invalid_content(
                    "Required property 'type' not found in JSON. Path 'identity'",
                ));
            }
        };
        let map = member(block, "userAssignedIdentities").filter(|v| !v.is_null());
        let list = member(block, "identityIds").filter(|v| !v.is_null());
        let user_assigned = match (map, list) {
            (None, None) => UserAssignedChange::Unchanged,
            (Some(_), Some(_)) => {
                return Err(ArmError::bad_request(
                    "InvalidParameter",
                    "The properties 'identityIds' and 'userAssignedIdentities' cannot both be given; 'identityIds' is deprecated, use 'userAssignedIdentities'.",
                ));
            }
            (Some(Value::Object(map)), None) => {
                let mut changes = Vec::with_capacity(map.len());
                for (key, value) in map {
                    let attach = match value {
                        Value::Null => false,
                        Value::Object(_) => true,
                        _ => {
                            return Err(invalid_content(
                                "the values of 'identity.userAssignedIdentities' must be objects or null",
                            ));
                        }
                    };
                    changes.push((
                        user_assigned_identity_id(key, "identity.userAssignedIdentities")?,
                        attach,
                    ));
                }
                UserAssignedChange::Merge(changes)
            }
            (None, Some(Value::Array(ids))) => {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let Value::String(text) = id else {
                        return Err(invalid_content(
                            "'identity.identityIds' must be a list of strings",
                        ));
                    };
                    out.push(user_assigned_identity_id(text, "identity.identityIds")?);
                }
                UserAssignedChange::Replace(out)
            }
            _ => {
                return Err(invalid_content(
                    "'identity.userAssignedIdentities' must be an object and 'identity.identityIds' a list",
                ));
            }
        };
        Ok(Self {
            kind,
            user_assigned,
        })
    }
}

/// Parses the id of a user-assigned identity as a request names it. A string that is not a
/// resource id at all gets ARM's `LinkedInvalidPropertyId` (ARM checks linked ids before
/// the resource provider sees the request); an id of another type, Compute's
/// `InvalidParameter`.
pub(crate) fn user_assigned_identity_id(text: &str, path: &str) -> Result<ResourceId, ArmError> {
    let id: ResourceId = text.parse().map_err(|_| {
        ArmError::bad_request(
            "LinkedInvalidPropertyId",
            format!(
                "Property id '{text}' at path '{path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or '/providers/{{resourceProviderNamespace}}/'."
            ),
        )
    })?;
    let (namespace, resource_type) = USER_ASSIGNED_IDENTITIES;
    let expected = format!("{namespace}/{resource_type}");
    let is_identity = text.split('/').filter(|s| !s.is_empty()).count() == 8
        && id.resource_group_name().is_some()
        && id
            .resource_type()
            .is_some_and(|t| t.eq_ignore_ascii_case(&expected));
    if !is_identity {
        return Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The value '{text}' at path '{path}' is not the id of a user-assigned identity ('{expected}')."
            ),
        ));
    }
    Ok(id)
}

/// A resource's system-assigned identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SystemIdentity {
    /// Its service principal's object id.
    pub(crate) principal_id: ObjectId,
    /// Its tenant.
    pub(crate) tenant_id: TenantId,
}

/// A user-assigned identity attached to a resource, with the ids it had when attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttachedIdentity {
    /// The identity's id, as first attached.
    pub(crate) id: ResourceId,
    /// Its service principal's object id.
    pub(crate) principal_id: ObjectId,
    /// Its client (app) id.
    pub(crate) client_id: ClientId,
}

/// A resource's identities, as stored and shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResourceIdentity {
    /// The system-assigned identity, if on.
    pub(crate) system: Option<SystemIdentity>,
    /// The user-assigned identities, in the order attached.
    pub(crate) user: Vec<AttachedIdentity>,
}

impl ResourceIdentity {
    /// The type these identities make.
    pub(crate) fn kind(&self) -> IdentityType {
        IdentityType {
            system: self.system.is_some(),
            user: !self.user.is_empty(),
        }
    }

    /// Reads the identities a stored resource body holds under `identity` (none when
    /// absent). Stored data that does not parse is corrupt, hence an internal error.
    pub(crate) fn from_body(body: &Value) -> Result<Self, ArmError> {
        let Some(block) = body.get("identity").filter(|v| !v.is_null()) else {
            return Ok(Self::default());
        };
        let guid = |value: Option<&Value>| -> Result<Option<uuid::Uuid>, ArmError> {
            value
                .filter(|v| !v.is_null())
                .map(|v| serde_json::from_value(v.clone()).map_err(|e| ArmError::internal(&e)))
                .transpose()
        };
        let system = match (
            guid(block.get("principalId"))?,
            guid(block.get("tenantId"))?,
        ) {
            (Some(principal), Some(tenant)) => Some(SystemIdentity {
                principal_id: ObjectId::from_uuid(principal),
                tenant_id: TenantId::from_uuid(tenant),
            }),
            _ => None,
        };
        let mut user = Vec::new();
        if let Some(Value::Object(map)) = block.get("userAssignedIdentities") {
            for (key, value) in map {
                let (Ok(id), Some(principal), Some(client)) = (
                    key.parse::<ResourceId>(),
                    guid(value.get("principalId"))?,
                    guid(value.get("clientId"))?,
                ) else {
                    return Err(corrupt(key));
                };
                user.push(AttachedIdentity {
                    id,
                    principal_id: ObjectId::from_uuid(principal),
                    client_id: ClientId::from_uuid(client),
                });
            }
        }
        Ok(Self { system, user })
    }

    /// The wire (and stored) block; `None` when the resource has no identity, which ARM
    /// shows by leaving `identity` out.
    pub(crate) fn to_json(&self) -> Option<Value> {
        let kind = self.kind();
        if kind == IdentityType::default() {
            return None;
        }
        let mut block = Map::new();
        block.insert("type".into(), json!(kind.canonical()));
        if let Some(system) = &self.system {
            block.insert("principalId".into(), json!(system.principal_id));
            block.insert("tenantId".into(), json!(system.tenant_id));
        }
        if !self.user.is_empty() {
            let map: Map<String, Value> = self
                .user
                .iter()
                .map(|a| {
                    (
                        a.id.as_str().to_owned(),
                        json!({ "principalId": a.principal_id, "clientId": a.client_id }),
                    )
                })
                .collect();
            block.insert("userAssignedIdentities".into(), Value::Object(map));
        }
        Some(Value::Object(block))
    }
}

fn corrupt(key: &str) -> ArmError {
    let error = std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("stored identity entry '{key}' is malformed"),
    );
    ArmError::internal(&error)
}

/// What a request does to a resource's identities, before the new identities are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdentityPlan {
    /// Whether the system identity is on afterwards.
    pub(crate) system: bool,
    /// The attached identities that stay, with their stored values.
    pub(crate) kept: Vec<AttachedIdentity>,
    /// Identities not attached before: the caller needs `assign/action` on each, and each
    /// must exist.
    pub(crate) added: Vec<ResourceId>,
}

/// Merges a request's identity block into the resource's current identities.
pub(crate) fn plan(
    current: &ResourceIdentity,
    request: &UnverifiedIdentity,
) -> Result<IdentityPlan, ArmError> {
    let mut kept = current.user.clone();
    let mut added: Vec<ResourceId> = Vec::new();
    let names_any = match &request.user_assigned {
        UserAssignedChange::Unchanged => false,
        UserAssignedChange::Merge(changes) => {
            for (id, attach) in changes {
                let present = kept.iter().any(|a| a.id == *id) || added.contains(id);
                if *attach && !present {
                    match current.user.iter().find(|a| a.id == *id) {
                        Some(stored) => kept.push(stored.clone()),
                        None => added.push(id.clone()),
                    }
                } else if !*attach {
                    kept.retain(|a| a.id != *id);
                    added.retain(|a| a != id);
                }
            }
            changes.iter().any(|(_, attach)| *attach)
        }
        UserAssignedChange::Replace(ids) => {
            kept.retain(|a| ids.contains(&a.id));
            for id in ids {
                if !kept.iter().any(|a| a.id == *id) && !added.contains(id) {
                    added.push(id.clone());
                }
            }
            !ids.is_empty()
        }
    };
    let kind = request.kind;
    if !kind.user {
        if names_any {
            return Err(ArmError::bad_request(
                "InvalidParameter",
                format!(
                    "User-assigned identities should not be provided if the identity type is '{}'.",
                    kind.canonical()
                ),
            ));
        }
        kept.clear();
        added.clear();
    } else if kept.is_empty() && added.is_empty() {
        return Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "At least one user-assigned identity must be given if the identity type is '{}'.",
                kind.canonical()
            ),
        ));
    }
    Ok(IdentityPlan {
        system: kind.system,
        kept,
        added,
    })
}

#[cfg(test)]
#[path = "identity_block_tests.rs"]
mod tests;
