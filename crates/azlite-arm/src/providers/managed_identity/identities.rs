//! User-assigned managed identities (`Microsoft.ManagedIdentity/userAssignedIdentities`,
//! SPEC-MSI 2023-01-31, reference §2.3), and the system-assigned identity of any resource
//! (`{resource}/providers/Microsoft.ManagedIdentity/identities/default`).
//!
//! An identity is two objects written in one batch: the ARM resource and its service
//! principal (kind `ManagedIdentity`), so the principal can be given roles the moment the
//! PUT returns: no `PrincipalNotFound` window, which the CLI would sit out for three minutes
//! (reference §4.7). Deleting the identity deletes both; role assignments granted *to* the
//! principal stay, as in Azure. Every answer is synchronous (reference §1.7).

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_authz::Authorized;
use azlite_store::{Resource, WriteBatch};
use azlite_types::{ClientId, ObjectId, ResourceId, SubscriptionId, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::USER_ASSIGNED_IDENTITIES as KIND;
use super::identity_block::ResourceIdentity;
use crate::providers::TrackedResource;
use crate::resources::{self, Preamble};
use crate::subscriptions::subscription_for;
use crate::wire::{Query, body, json};
use crate::{Arm, ArmError, Caller};

/// The action that reads a system-assigned identity.
const READ_SYSTEM_IDENTITY: &str = "Microsoft.ManagedIdentity/identities/read";

/// The body of a PUT (`Identity`): `properties` (isolation scope and the like in previews)
/// is accepted and ignored.
#[derive(Debug, Deserialize)]
struct PutIdentity {
    location: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

/// The body of a PATCH (`IdentityUpdate`): only the tags change.
#[derive(Debug, Deserialize)]
struct PatchIdentity {
    tags: Option<BTreeMap<String, String>>,
}

/// The stored model, under `properties` in the resource body: the ids of the identity's
/// service principal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityProperties {
    tenant_id: TenantId,
    principal_id: ObjectId,
    client_id: ClientId,
}

impl IdentityProperties {
    fn of(resource: &Resource) -> Result<Self, ArmError> {
        let properties = resource.body.get("properties").cloned().unwrap_or_default();
        serde_json::from_value(properties).map_err(|e| ArmError::internal(&e))
    }
}

/// The principal (object) id and client id of a stored user-assigned identity.
pub(crate) fn principal_of(resource: &Resource) -> Result<(ObjectId, ClientId), ArmError> {
    let p = IdentityProperties::of(resource)?;
    Ok((p.principal_id, p.client_id))
}

/// The credentials URL the 2015-08-31-preview API returns (`clientSecretUrl`): the MSI data
/// plane's, which azlite does not serve; clients only display it.
fn client_secret_url(
    location: &str,
    id: &ResourceId,
    tenant: TenantId,
    principal: ObjectId,
    client: ClientId,
) -> String {
    let region: String = location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    format!(
        "https://control-{region}.identity.azure.net{id}/credentials?tid={tenant}&oid={principal}&aid={client}"
    )
}

/// Whether the request's api-version is the old preview that also returns `clientSecretUrl`.
fn wants_secret_url(query: &Query) -> bool {
    query
        .api_version()
        .is_some_and(|v| v.eq_ignore_ascii_case("2015-08-31-preview"))
}

/// The wire form of an identity (reference §2.3).
fn identity_json(resource: &Resource, query: &Query) -> Result<Value, ArmError> {
    let p = IdentityProperties::of(resource)?;
    let mut properties = json!({
        "tenantId": p.tenant_id,
        "principalId": p.principal_id,
        "clientId": p.client_id,
    });
    if wants_secret_url(query) {
        properties["clientSecretUrl"] = json!(client_secret_url(
            &resource.location,
            &resource.id,
            p.tenant_id,
            p.principal_id,
            p.client_id
        ));
    }
    Ok(json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.resource_type,
        "location": resource.location,
        "tags": resource.tags,
        "properties": properties,
    }))
}

/// Identity names: 3–128 characters of letters, digits, hyphens and underscores, starting
/// with a letter or a digit (DOC-NAMES).
fn valid_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `GET /subscriptions/{s}[/resourcegroups/{g}]/providers/Microsoft.ManagedIdentity/userAssignedIdentities`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    s: SubscriptionId,
    group: Option<&str>,
    query: &Query,
) -> Result<Response, ArmError> {
    resources::list_of_kind(arm, caller, s, group, KIND, |r| identity_json(r, query)).await
}

/// `GET|PUT|PATCH|DELETE …/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    resource: &TrackedResource,
    request: &[u8],
    query: &Query,
) -> Result<Response, ArmError> {
    let Preamble {
        authorized,
        subscription,
    } = resources::preamble_for(arm, caller, method, KIND, resource).await?;
    if *method == Method::GET {
        let existing = arm.store.get_resource(&resource.id).await?;
        let found = existing.ok_or_else(|| resources::not_found(KIND, resource))?;
        return Ok(json(StatusCode::OK, identity_json(&found, query)?));
    }
    let _writes = arm.resource_writes.lock().await;
    let existing = arm.store.get_resource(&resource.id).await?;
    match *method {
        Method::PUT => {
            let context = PutContext {
                resource,
                tenant: subscription.tenant_id,
                existing,
            };
            put(arm, &authorized, context, request, query).await
        }
        Method::PATCH => {
            let mut found = existing.ok_or_else(|| resources::not_found(KIND, resource))?;
            patch(arm, &authorized, &mut found, request).await?;
            Ok(json(StatusCode::OK, identity_json(&found, query)?))
        }
        _ => match existing {
            Some(found) => {
                resources::delete_with_principals(arm, &authorized, &found).await?;
                Ok(StatusCode::OK.into_response())
            }
            None => Ok(StatusCode::NO_CONTENT.into_response()),
        },
    }
}

/// What a PUT works on besides its body.
struct PutContext<'a> {
    resource: &'a TrackedResource,
    tenant: TenantId,
    existing: Option<Resource>,
}

/// Creates the identity with its service principal (201), or rewrites its tags (200): the
/// principal of an existing identity never changes.
async fn put(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    context: PutContext<'_>,
    request: &[u8],
    query: &Query,
) -> Result<Response, ArmError> {
    let PutContext {
        resource,
        tenant,
        existing,
    } = context;
    if !valid_name(&resource.name) {
        return Err(resources::invalid_name(
            KIND,
            &resource.name,
            "The name must be 3 to 128 characters long, contain only letters, digits, hyphens and underscores, and start with a letter or a digit.",
        ));
    }
    let put: PutIdentity = body(request)?;
    let location = resources::put_location(put.location, existing.as_ref(), resource)?;
    let tags = put.tags.unwrap_or_default();
    let mut batch = WriteBatch::default();
    let properties = match &existing {
        Some(old) => IdentityProperties::of(old)?,
        None => {
            let principal = resources::new_principal(arm, tenant, &resource.name, &resource.id);
            let properties = IdentityProperties {
                tenant_id: principal.tenant_id,
                principal_id: principal.object_id,
                client_id: principal.app_id,
            };
            batch.service_principals.push(principal);
            properties
        }
    };
    let body = json!({ "properties": properties });
    let stored = resources::stored(arm, resource, KIND, location, tags, body);
    batch.resources.push(stored.clone());
    arm.store.apply(batch).await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json(status, identity_json(&stored, query)?))
}

/// Replaces the tags when the body has them.
async fn patch(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    found: &mut Resource,
    request: &[u8],
) -> Result<(), ArmError> {
    let patch: PatchIdentity = body(request)?;
    if let Some(tags) = patch.tags {
        found.tags = tags;
    }
    found.updated_at = arm.clock.now();
    arm.store
        .apply(WriteBatch {
            resources: vec![found.clone()],
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// `GET {resource}/providers/Microsoft.ManagedIdentity/identities/default`: the system
/// identity of a resource (reference §2.3), 404 when the resource has none.
pub(crate) async fn get_system_assigned(
    arm: &Arm,
    caller: &Caller,
    scope: &ResourceId,
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, scope, READ_SYSTEM_IDENTITY)?;
    if let Some(s) = scope.subscription_id() {
        subscription_for(arm, caller, s).await?;
    }
    let missing = || {
        ArmError::not_found(
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.ManagedIdentity/identities/default' under resource '{scope}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    };
    let resource = arm.store.get_resource(scope).await?.ok_or_else(missing)?;
    let system = ResourceIdentity::from_body(&resource.body)?
        .system
        .ok_or_else(missing)?;
    let principal = arm
        .store
        .get_service_principal(system.principal_id)
        .await?
        .ok_or_else(missing)?;
    let id = format!(
        "{}/providers/Microsoft.ManagedIdentity/identities/default",
        resource.id
    );
    Ok(json(
        StatusCode::OK,
        json!({
            "id": id,
            "name": "default",
            "type": "Microsoft.ManagedIdentity/identities",
            "location": resource.location,
            "tags": {},
            "properties": {
                "tenantId": system.tenant_id,
                "principalId": system.principal_id,
                "clientId": principal.app_id,
                "clientSecretUrl": client_secret_url(
                    &resource.location,
                    &resource.id,
                    system.tenant_id,
                    system.principal_id,
                    principal.app_id,
                ),
            },
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_names_follow_the_msi_rules() {
        assert!(valid_name("id1"));
        assert!(valid_name("my_identity-2"));
        assert!(valid_name("9lives"));
        assert!(valid_name(&"a".repeat(128)));
        assert!(!valid_name(&"a".repeat(129)));
        assert!(!valid_name("ab"));
        assert!(!valid_name("-leading"));
        assert!(!valid_name("_leading"));
        assert!(!valid_name("has.dot"));
        assert!(!valid_name("has space"));
        assert!(!valid_name("grüne"));
    }

    #[test]
    fn the_old_preview_gets_a_client_secret_url() {
        let id: ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1".parse().unwrap();
        let url = client_secret_url(
            "East US",
            &id,
            TenantId::new_random(),
            ObjectId::new_random(),
            ClientId::new_random(),
        );
        assert!(url.starts_with("https://control-eastus.identity.azure.net/subscriptions/"));
        assert!(url.contains("/credentials?tid="));
        assert!(wants_secret_url(&Query::parse(Some(
            "api-version=2015-08-31-PREVIEW"
        ))));
        assert!(!wants_secret_url(&Query::parse(Some(
            "api-version=2023-01-31"
        ))));
    }
}
