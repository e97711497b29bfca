//! `Resources_List` and `Resources_ListByResourceGroup`:
//! `GET /subscriptions/{s}[/resourcegroups/{g}]/resources`, with `$filter`
//! ([`crate::resource_filter`]), `$top`, `$skiptoken` paging through `nextLink`, and
//! `$expand=createdTime,changedTime,provisioningState`. A caller sees the resources it may
//! read, and only those.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use azlite_store::Resource;
use azlite_types::{ResourceId, SubscriptionId, UnixTime};
use serde_json::{Value, json};

use crate::resource_filter::{Candidate, ResourceFilter};
use crate::subscriptions::subscription_for;
use crate::wire::{Query, json, timestamp};
use crate::{Arm, ArmError, Caller};

/// ARM's page size when `$top` does not set one.
const PAGE_SIZE: usize = 1000;

/// The extra properties `$expand` may ask for.
#[derive(Debug, Default, Clone, Copy)]
struct Expand {
    created_time: bool,
    changed_time: bool,
    provisioning_state: bool,
}

impl Expand {
    /// The comma-separated list; names ARM does not list are left out, as ARM adds only
    /// what it knows.
    fn parse(text: Option<&str>) -> Self {
        let mut out = Self::default();
        for name in text.unwrap_or_default().split(',').map(str::trim) {
            if name.eq_ignore_ascii_case("createdTime") {
                out.created_time = true;
            } else if name.eq_ignore_ascii_case("changedTime") {
                out.changed_time = true;
            } else if name.eq_ignore_ascii_case("provisioningState") {
                out.provisioning_state = true;
            }
        }
        out
    }
}

/// Where a page ends: the last resource's creation time and its id, folded. The next page
/// starts after it, so a resource deleted between two pages shifts nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PageKey {
    created_at: UnixTime,
    folded_id: String,
}

impl PageKey {
    fn of(resource: &Resource) -> Self {
        Self {
            created_at: resource.created_at,
            folded_id: resource.id.as_str().to_ascii_lowercase(),
        }
    }

    /// `{created}.{hex of the folded id}`: opaque to clients, URL-safe.
    fn to_token(&self) -> String {
        let hex: String = self.folded_id.bytes().map(|b| format!("{b:02x}")).collect();
        format!("{}.{hex}", self.created_at)
    }

    fn from_token(token: &str) -> Option<Self> {
        let (created, hex) = token.split_once('.')?;
        if hex.len() % 2 != 0 || !hex.is_ascii() {
            return None;
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Self {
            created_at: created.parse().ok()?,
            folded_id: String::from_utf8(bytes).ok()?,
        })
    }
}

fn invalid_skip_token(token: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidSkipToken",
        format!("The skip token '{token}' is invalid."),
    )
}

/// The filter of the request: none for an absent or empty `$filter`.
fn parse_filter(query: &Query) -> Result<Option<ResourceFilter>, ArmError> {
    match query.filter.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => ResourceFilter::parse(text)
            .map(Some)
            .map_err(|e| ArmError::bad_request("InvalidFilterInQueryString", e.to_string())),
    }
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/resources`.
pub(crate) async fn list_resources(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
    query: &Query,
    request: (&str, &HeaderMap),
) -> Result<Response, ArmError> {
    let filter = parse_filter(query)?;
    let after = query
        .skip_token
        .as_deref()
        .map(|t| PageKey::from_token(t).ok_or_else(|| invalid_skip_token(t)))
        .transpose()?;
    let expand = Expand::parse(query.expand.as_deref());
    let page_size = query.top.filter(|&n| n > 0).unwrap_or(PAGE_SIZE);
    subscription_for(arm, caller, s).await?;
    if let Some(name) = group {
        let _authorized = arm.authorize(
            caller,
            &ResourceId::resource_group(s, name),
            crate::groups::READ,
        )?;
        arm.store
            .get_resource_group(s, name)
            .await?
            .ok_or_else(|| crate::groups::not_found(name))?;
    }
    let required_type = filter.as_ref().and_then(ResourceFilter::required_type);
    let mut resources: Vec<Resource> = arm
        .store
        .list_resources(s, group, required_type)
        .await?
        .into_iter()
        .filter(|r| !crate::providers::key_vault::deleted_vaults::is_deleted_vault(r))
        .filter(|r| filter.as_ref().is_none_or(|f| f.matches(&candidate(r))))
        .filter(|r| after.as_ref().is_none_or(|key| PageKey::of(r) > *key))
        .filter(|r| arm.can(caller, &r.id, &format!("{}/read", r.resource_type)))
        .collect();
    resources.sort_by_key(PageKey::of);
    let more = resources.len() > page_size;
    resources.truncate(page_size);
    let hide_tags = filter.as_ref().is_some_and(ResourceFilter::hides_tags);
    let value: Vec<Value> = resources
        .iter()
        .map(|r| resource_json(r, expand, hide_tags))
        .collect();
    let mut body = json!({ "value": value });
    if more && let Some(last) = resources.last() {
        body["nextLink"] = json!(next_link(request, query, &PageKey::of(last).to_token()));
    }
    Ok(json(StatusCode::OK, body))
}

fn candidate(r: &Resource) -> Candidate<'_> {
    Candidate {
        name: &r.name,
        resource_type: &r.resource_type,
        resource_group: &r.resource_group,
        location: &r.location,
        tags: &r.tags,
    }
}

/// The absolute URL of the next page: this request with `$skiptoken` set.
fn next_link((path, headers): (&str, &HeaderMap), query: &Query, token: &str) -> String {
    query.next_link(crate::wire::host(headers), path, token)
}

/// A resource as `GenericResourceExpanded`.
fn resource_json(r: &Resource, expand: Expand, hide_tags: bool) -> Value {
    let mut value = json!({
        "id": r.id,
        "name": r.name,
        "type": r.resource_type,
        "location": r.location,
    });
    if !hide_tags {
        value["tags"] = json!(r.tags);
    }
    for key in ["identity", "sku", "kind", "managedBy"] {
        if let Some(v) = r.body.get(key) {
            value[key] = v.clone();
        }
    }
    if expand.created_time {
        value["createdTime"] = json!(timestamp(r.created_at));
    }
    if expand.changed_time {
        value["changedTime"] = json!(timestamp(r.updated_at));
    }
    if expand.provisioning_state {
        value["provisioningState"] = r
            .body
            .pointer("/properties/provisioningState")
            .cloned()
            .unwrap_or_else(|| json!("Succeeded"));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_round_trip_and_refuse_garbage() {
        let key = PageKey {
            created_at: 1_700_000_000,
            folded_id: "/subscriptions/x/resourcegroups/rg/providers/a.b/c/ü".into(),
        };
        assert_eq!(PageKey::from_token(&key.to_token()), Some(key));
        for bad in ["", "1", "x.00", "1.0", "1.zz", "1.ff", "1.é0"] {
            assert_eq!(PageKey::from_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn next_links_repeat_the_query_with_the_token() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::HOST,
            "management.azure.com".parse().unwrap(),
        );
        let query = Query::parse(Some(
            "api-version=2024-11-01&%24top=2&%24filter=name%20eq%20%27a%27&%24skiptoken=old",
        ));
        let link = next_link(("/subscriptions/s/resources", &headers), &query, "1.2f");
        assert_eq!(
            link,
            "https://management.azure.com/subscriptions/s/resources?api-version=2024-11-01&%24top=2&%24filter=name+eq+%27a%27&%24skiptoken=1.2f"
        );
    }
}
