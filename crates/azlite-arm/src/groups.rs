//! Resource groups (`Microsoft.Resources/resourceGroups`, spec 2016-09-01 and later).

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_authz::Authorized;
use azlite_store::{Deletion, ResourceGroup, WriteBatch};
use azlite_types::{ResourceId, SubscriptionId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::resources::owned_principals;
use crate::subscriptions::subscription_for;
use crate::wire::{Query, body, json, json_of};
use crate::{Arm, ArmError, Caller};

pub(crate) const READ: &str = "Microsoft.Resources/subscriptions/resourceGroups/read";
const WRITE: &str = "Microsoft.Resources/subscriptions/resourceGroups/write";
const DELETE: &str = "Microsoft.Resources/subscriptions/resourceGroups/delete";

/// The body of a PUT (`ResourceGroup` in the spec).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutResourceGroup {
    location: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    managed_by: Option<String>,
}

/// The body of a PATCH (`ResourceGroupPatchable`): only what is sent changes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchResourceGroup {
    tags: Option<BTreeMap<String, String>>,
    managed_by: Option<String>,
}

/// A resource group as ARM answers it, serialized straight into the response's bytes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupJson<'a> {
    id: String,
    name: &'a str,
    #[serde(rename = "type")]
    resource_type: &'static str,
    location: &'a str,
    tags: &'a BTreeMap<String, String>,
    properties: GroupProperties,
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_by: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupProperties {
    provisioning_state: &'static str,
}

fn group_json(g: &ResourceGroup) -> GroupJson<'_> {
    GroupJson {
        id: format!(
            "/subscriptions/{}/resourceGroups/{}",
            g.subscription_id, g.name
        ),
        name: &g.name,
        resource_type: "Microsoft.Resources/resourceGroups",
        location: &g.location,
        tags: &g.tags,
        properties: GroupProperties {
            provisioning_state: "Succeeded",
        },
        managed_by: g.managed_by.as_deref(),
    }
}

/// 404 `ResourceGroupNotFound`.
pub(crate) fn not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

/// Resource group names: 1–90 characters of letters, digits, `-_().`, not ending in `.`
/// (ARM's naming rules; Unicode letters and digits are allowed).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 90
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_().".contains(c))
}

/// `GET /subscriptions/{s}/resourcegroups`: the groups the caller can read.
pub(crate) async fn list_resource_groups(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    query: &Query,
) -> Result<Response, ArmError> {
    let tag = parse_tag_filter(query.filter.as_deref())?;
    subscription_for(arm, caller, s).await?;
    let groups = arm.store.list_resource_groups(s).await?;
    let visible: Vec<&ResourceGroup> = groups
        .iter()
        .filter(|g| arm.can(caller, &ResourceId::resource_group(s, &g.name), READ))
        .collect();
    if visible.is_empty() {
        // Nothing visible: without the right at the subscription ARM says so rather than
        // answering with an empty list (a caller with Reader on one group sees that group).
        let _authorized = arm.authorize(caller, &ResourceId::subscription(s), READ)?;
    }
    let value: Vec<GroupJson<'_>> = visible
        .into_iter()
        .filter(|g| tag.as_ref().is_none_or(|t| t.matches(&g.tags)))
        .take(query.top.unwrap_or(usize::MAX))
        .map(group_json)
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// `$filter=tagName eq 'k' [and tagValue eq 'v']`, the filter `ResourceGroups_List` takes.
#[derive(Debug, PartialEq, Eq)]
struct TagFilter {
    name: String,
    value: Option<String>,
}

impl TagFilter {
    /// Tag names compare case-insensitively, values exactly, as ARM's tags do.
    fn matches(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case(&self.name) && self.value.as_ref().is_none_or(|want| want == v)
        })
    }
}

fn parse_tag_filter(filter: Option<&str>) -> Result<Option<TagFilter>, ArmError> {
    let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    // Keywords compare case-insensitively: az sends `tagname eq '…' and tagvalue eq '…'`.
    let strip = |text: &'_ str, word: &str| -> Option<usize> {
        let head = text.get(..word.len())?;
        head.eq_ignore_ascii_case(word).then_some(word.len())
    };
    let quoted = |clause: &str, key: &str| -> Option<String> {
        let clause = clause.trim();
        let rest = clause[strip(clause, key)?..].trim_start();
        let rest = rest[strip(rest, "eq")?..].trim();
        rest.strip_prefix('\'')?
            .strip_suffix('\'')
            .map(|v| v.replace("''", "'"))
    };
    let lowered = filter.to_ascii_lowercase();
    let mut clauses = match lowered.find(" and ") {
        Some(at) => vec![&filter[..at], &filter[at + 5..]],
        None => vec![filter],
    }
    .into_iter();
    let name = clauses.next().and_then(|c| quoted(c, "tagName"));
    let value = clauses.next().map(|c| quoted(c, "tagValue"));
    match (name, value) {
        (Some(name), None) => Ok(Some(TagFilter { name, value: None })),
        (Some(name), Some(Some(value))) => Ok(Some(TagFilter {
            name,
            value: Some(value),
        })),
        _ => Err(ArmError::bad_request(
            "InvalidFilterInQueryString",
            format!(
                "The filter '{filter}' is not supported. Use tagName eq '{{name}}' [and tagValue eq '{{value}}']."
            ),
        )),
    }
}

/// `GET|HEAD|PUT|PATCH|DELETE /subscriptions/{s}/resourcegroups/{name}`.
pub(crate) async fn resource_group(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    s: SubscriptionId,
    name: &str,
    request: &[u8],
) -> Result<Response, ArmError> {
    let scope = ResourceId::resource_group(s, name);
    let action = match *method {
        Method::PUT | Method::PATCH => WRITE,
        Method::DELETE => DELETE,
        _ => READ,
    };
    let authorized = arm.authorize(caller, &scope, action)?;
    subscription_for(arm, caller, s).await?;
    let existing = arm.store.get_resource_group(s, name).await?;
    match *method {
        Method::HEAD => Ok(if existing.is_some() {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        }
        .into_response()),
        Method::GET => existing
            .map(|g| json_of(StatusCode::OK, &group_json(&g)))
            .ok_or_else(|| not_found(name)),
        Method::PUT => put(arm, &authorized, s, name, existing, request).await,
        Method::PATCH => {
            let mut group = existing.ok_or_else(|| not_found(name))?;
            let patch: PatchResourceGroup = body(request)?;
            if let Some(tags) = patch.tags {
                group.tags = tags;
            }
            if patch.managed_by.is_some() {
                group.managed_by = patch.managed_by;
            }
            group.updated_at = arm.clock.now();
            arm.store
                .apply(WriteBatch {
                    resource_groups: vec![group.clone()],
                    ..Default::default()
                })
                .await?;
            Ok(json_of(StatusCode::OK, &group_json(&group)))
        }
        _ => delete(arm, &authorized, s, name, existing).await,
    }
}

async fn put(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    s: SubscriptionId,
    name: &str,
    existing: Option<ResourceGroup>,
    request: &[u8],
) -> Result<Response, ArmError> {
    if !valid_name(name) {
        return Err(ArmError::bad_request(
            "InvalidResourceGroupName",
            format!(
                "The resource group name '{name}' is invalid. It can include alphanumeric, underscore, parentheses, hyphen, period (except at end), and Unicode characters that match the allowed characters."
            ),
        ));
    }
    let put: PutResourceGroup = body(request)?;
    let location = put
        .location
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| {
            ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            )
        })?;
    if let Some(old) = &existing
        && !normalize_location(&old.location).eq(&normalize_location(&location))
    {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "InvalidResourceGroupLocation",
            format!(
                "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                old.location
            ),
        ));
    }
    let now = arm.clock.now();
    let group = ResourceGroup {
        subscription_id: s,
        name: name.to_owned(),
        location: existing.as_ref().map_or(location, |g| g.location.clone()),
        tags: put.tags.unwrap_or_default(),
        managed_by: put.managed_by,
        created_at: existing.as_ref().map_or(now, |g| g.created_at),
        updated_at: now,
    };
    arm.store
        .apply(WriteBatch {
            resource_groups: vec![group.clone()],
            ..Default::default()
        })
        .await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_of(status, &group_json(&group)))
}

/// `eastus` and `East US` are the same location.
pub(crate) fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Deletes the group, everything in it, the service principals of the managed identities
/// in it (user-assigned identities and system-assigned ones) and the role assignments at or
/// below it, in one batch; answers 200 synchronously (the SDK's poller accepts a final 200
/// at once).
async fn delete(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    s: SubscriptionId,
    name: &str,
    existing: Option<ResourceGroup>,
) -> Result<Response, ArmError> {
    let group = existing.ok_or_else(|| not_found(name))?;
    let _resources = arm.resource_writes.lock().await;
    let _writes = arm.assignment_writes.lock().await;
    let mut deletions = vec![Deletion::ResourceGroup {
        subscription: s,
        name: group.name.clone(),
    }];
    for resource in arm.store.list_resources(s, Some(&group.name), None).await? {
        deletions.extend(
            owned_principals(&resource)?
                .into_iter()
                .map(Deletion::ServicePrincipal),
        );
    }
    arm.store
        .apply(WriteBatch {
            deletions,
            ..Default::default()
        })
        .await?;
    arm.forget_assignments_at_or_below(&ResourceId::resource_group(s, &group.name));
    arm.signal_content_freed();
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_follow_arms_rules() {
        assert!(valid_name("my-rg_1.(test)"));
        assert!(valid_name("grüne-gruppe"));
        assert!(!valid_name("ends-with-dot."));
        assert!(!valid_name("has space"));
        assert!(!valid_name("slash/no"));
        assert!(!valid_name(""));
        assert!(!valid_name(&"a".repeat(91)));
        assert!(valid_name(&"a".repeat(90)));
    }

    #[test]
    fn tag_filters_parse_as_arm_writes_them() {
        let f = |s| parse_tag_filter(Some(s));
        assert_eq!(
            f("tagName eq 'env'").unwrap(),
            Some(TagFilter {
                name: "env".into(),
                value: None
            })
        );
        assert_eq!(
            f("tagName eq 'env' and tagValue eq 'it''s'").unwrap(),
            Some(TagFilter {
                name: "env".into(),
                value: Some("it's".into())
            })
        );
        assert_eq!(
            f("tagname eq 'env' and tagvalue eq 'dev'").unwrap(),
            Some(TagFilter {
                name: "env".into(),
                value: Some("dev".into())
            })
        );
        assert_eq!(
            f("location eq 'eastus'").unwrap_err().code,
            "InvalidFilterInQueryString"
        );
        let tags = BTreeMap::from([("Env".to_owned(), "dev".to_owned())]);
        assert!(
            TagFilter {
                name: "env".into(),
                value: Some("dev".into())
            }
            .matches(&tags)
        );
        assert!(
            !TagFilter {
                name: "env".into(),
                value: Some("Dev".into())
            }
            .matches(&tags)
        );
    }

    #[test]
    fn locations_compare_without_case_or_spaces() {
        assert_eq!(normalize_location("East US"), normalize_location("eastus"));
    }
}
