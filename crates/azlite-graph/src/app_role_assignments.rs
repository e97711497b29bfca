//! App role assignments: `servicePrincipals/{id}/appRoleAssignments` (the app roles `{id}`
//! holds) and `servicePrincipals/{id}/appRoleAssignedTo` (the app roles granted on the
//! resource `{id}`): list, grant (`POST`), get and revoke (`DELETE`), with Graph's
//! `appRoleAssignment` shape.
//!
//! A grant names the principal (`principalId`), the resource service principal
//! (`resourceId`) and one of the resource's app roles (`appRoleId`); the only resource
//! with app roles is Microsoft Graph's own principal ([`azlite_types::app_roles`]). The
//! token service puts the role values in the `roles` claim of tokens it issues afterwards;
//! tokens already issued keep what they carry until they expire, as in Entra.
//!
//! Principals are service principals (applications' and managed identities'): azlite's
//! directory has no groups, and its users get no app-only tokens.

use axum::http::StatusCode;
use axum::response::Response;
use azlite_store::{AppRoleAssignment, Deletion, ServicePrincipal, StoreError, WriteBatch};
use azlite_types::ObjectId;
use azlite_types::app_roles::app_roles_of;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::operation::{PrincipalKey, Side};
use crate::policy::{DirectoryRead, DirectoryWrite};
use crate::service_principals::find;
use crate::wire::{self, collection, entity, timestamp};
use crate::{Graph, GraphError};

/// `POST …/appRoleAssignments` and `…/appRoleAssignedTo`. Other properties are accepted
/// and ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GrantRequest {
    principal_id: Option<String>,
    resource_id: Option<String>,
    app_role_id: Option<String>,
}

/// The collection's name in paths and `@odata.context`.
fn collection_name(side: Side) -> &'static str {
    match side {
        Side::Principal => "appRoleAssignments",
        Side::Resource => "appRoleAssignedTo",
    }
}

/// Graph's key of a new assignment: the principal's object id in .NET byte order, then 16
/// random bytes, base64url (the form Graph's keys have: 43 characters that decode to the
/// principal's id first).
fn new_assignment_id(principal: ObjectId) -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(&principal.as_uuid().to_bytes_le());
    bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An assignment's JSON, with the display names of both principals.
fn assignment_json(
    assignment: &AppRoleAssignment,
    principal_name: Option<&str>,
    resource_name: Option<&str>,
) -> Value {
    json!({
        "id": assignment.id,
        "deletedDateTime": null,
        "appRoleId": assignment.app_role_id,
        "createdDateTime": timestamp(assignment.created_at),
        "principalDisplayName": principal_name,
        "principalId": assignment.principal_id,
        "principalType": assignment.principal_type,
        "resourceDisplayName": resource_name,
        "resourceId": assignment.resource_id,
    })
}

/// The display name of the service principal `id`, if it exists.
async fn display_name(graph: &Graph, id: ObjectId) -> Result<Option<String>, GraphError> {
    Ok(graph
        .store
        .get_service_principal(id)
        .await?
        .map(|p| p.display_name))
}

async fn render(graph: &Graph, assignment: &AppRoleAssignment) -> Result<Value, GraphError> {
    let principal = display_name(graph, assignment.principal_id).await?;
    let resource = display_name(graph, assignment.resource_id).await?;
    Ok(assignment_json(
        assignment,
        principal.as_deref(),
        resource.as_deref(),
    ))
}

/// The assignments on `side` of `principal`.
async fn assignments_of(
    graph: &Graph,
    side: Side,
    principal: &ServicePrincipal,
) -> Result<Vec<AppRoleAssignment>, GraphError> {
    Ok(match side {
        Side::Principal => {
            graph
                .store
                .list_app_role_assignments_for_principal(principal.object_id)
                .await?
        }
        Side::Resource => {
            graph
                .store
                .list_app_role_assignments_for_resource(principal.object_id)
                .await?
        }
    })
}

/// Whether `assignment` is on `side` of `principal`.
fn belongs(assignment: &AppRoleAssignment, side: Side, principal: &ServicePrincipal) -> bool {
    match side {
        Side::Principal => assignment.principal_id == principal.object_id,
        Side::Resource => assignment.resource_id == principal.object_id,
    }
}

/// `GET /servicePrincipals/{id}/appRoleAssignments` (or `appRoleAssignedTo`).
pub(crate) async fn list_app_role_assignments(
    graph: &Graph,
    read: DirectoryRead,
    side: Side,
    key: PrincipalKey,
) -> Result<Response, GraphError> {
    let principal = find(graph, read, key).await?;
    let mut value = Vec::new();
    for assignment in assignments_of(graph, side, &principal).await? {
        value.push(render(graph, &assignment).await?);
    }
    let context = format!(
        "servicePrincipals('{}')/{}",
        principal.object_id,
        collection_name(side)
    );
    Ok(collection(&context, value))
}

/// The assignment `id` on `side` of the principal `key` names.
async fn find_assignment(
    graph: &Graph,
    read: DirectoryRead,
    side: Side,
    key: PrincipalKey,
    id: &str,
) -> Result<(ServicePrincipal, AppRoleAssignment), GraphError> {
    let principal = find(graph, read, key).await?;
    let assignment = graph
        .store
        .get_app_role_assignment(id)
        .await?
        .filter(|a| belongs(a, side, &principal))
        .ok_or_else(|| GraphError::not_found(id))?;
    Ok((principal, assignment))
}

/// `GET /servicePrincipals/{id}/appRoleAssignments/{assignment}`.
pub(crate) async fn get_app_role_assignment(
    graph: &Graph,
    read: DirectoryRead,
    side: Side,
    key: PrincipalKey,
    id: &str,
) -> Result<Response, GraphError> {
    let (principal, assignment) = find_assignment(graph, read, side, key, id).await?;
    let context = format!(
        "servicePrincipals('{}')/{}/$entity",
        principal.object_id,
        collection_name(side)
    );
    Ok(entity(
        StatusCode::OK,
        &context,
        render(graph, &assignment).await?,
    ))
}

/// `DELETE /servicePrincipals/{id}/appRoleAssignments/{assignment}`: revokes the role.
pub(crate) async fn delete_app_role_assignment(
    graph: &Graph,
    write: DirectoryWrite,
    side: Side,
    key: PrincipalKey,
    id: &str,
) -> Result<Response, GraphError> {
    let (_, assignment) = find_assignment(graph, write.read(), side, key, id).await?;
    let batch = WriteBatch {
        deletions: vec![Deletion::AppRoleAssignment(assignment.id.clone())],
        ..WriteBatch::default()
    };
    graph.store.apply(batch).await?;
    tracing::info!(id = %assignment.id, principal = %assignment.principal_id, role = %assignment.app_role_id, "Graph: revoked app role");
    Ok(wire::no_content())
}

/// A required GUID property of the request.
fn required_guid(value: Option<&String>, property: &str) -> Result<Uuid, GraphError> {
    value
        .and_then(|v| Uuid::parse_str(v).ok().filter(|_| v.len() == 36))
        .ok_or_else(|| GraphError::invalid_value(property, "AppRoleAssignment"))
}

/// `POST /servicePrincipals/{id}/appRoleAssignments` (or `appRoleAssignedTo`): grants
/// `principalId` the app role `appRoleId` of `resourceId`. The path's principal must be
/// the body's principal (or, for `appRoleAssignedTo`, its resource).
pub(crate) async fn create_app_role_assignment(
    graph: &Graph,
    write: DirectoryWrite,
    side: Side,
    key: PrincipalKey,
    body: &[u8],
) -> Result<Response, GraphError> {
    let request: GrantRequest = wire::body(body)?;
    let principal_id =
        ObjectId::from_uuid(required_guid(request.principal_id.as_ref(), "principalId")?);
    let resource_id =
        ObjectId::from_uuid(required_guid(request.resource_id.as_ref(), "resourceId")?);
    let app_role_id = required_guid(request.app_role_id.as_ref(), "appRoleId")?;
    let in_path = find(graph, write.read(), key).await?;
    let (expected, property) = match side {
        Side::Principal => (principal_id, "principalId"),
        Side::Resource => (resource_id, "resourceId"),
    };
    if in_path.object_id != expected {
        return Err(GraphError::bad_request(format!(
            "The {property} in the request body must be the service principal of the request URL ('{}').",
            in_path.object_id
        )));
    }
    let principal = find(graph, write.read(), PrincipalKey::Id(principal_id)).await?;
    let resource = find(graph, write.read(), PrincipalKey::Id(resource_id)).await?;
    if !app_roles_of(resource.app_id)
        .iter()
        .any(|role| role.id == app_role_id)
    {
        return Err(GraphError::bad_request(format!(
            "Permission being assigned was not found on application '{}'.",
            resource.app_id
        )));
    }
    let exists =
        || GraphError::bad_request("Permission being assigned already exists on the object.");
    let held = graph
        .store
        .list_app_role_assignments_for_principal(principal.object_id)
        .await?;
    if held
        .iter()
        .any(|a| a.resource_id == resource.object_id && a.app_role_id == app_role_id)
    {
        return Err(exists());
    }
    let assignment = AppRoleAssignment {
        id: new_assignment_id(principal.object_id),
        tenant_id: write.tenant(),
        principal_id: principal.object_id,
        principal_type: "ServicePrincipal".to_owned(),
        resource_id: resource.object_id,
        app_role_id,
        created_at: graph.clock.now(),
    };
    let batch = WriteBatch {
        app_role_assignments: vec![assignment.clone()],
        ..WriteBatch::default()
    };
    graph.store.apply(batch).await.map_err(|e| match e {
        StoreError::Conflict(_) => exists(),
        other => other.into(),
    })?;
    tracing::info!(id = %assignment.id, principal = %principal.object_id, role = %app_role_id, "Graph: granted app role");
    let context = format!(
        "servicePrincipals('{}')/{}/$entity",
        in_path.object_id,
        collection_name(side)
    );
    Ok(entity(
        StatusCode::CREATED,
        &context,
        assignment_json(
            &assignment,
            Some(&principal.display_name),
            Some(&resource.display_name),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_ids_start_with_the_principal() {
        let principal = ObjectId::new_random();
        let id = new_assignment_id(principal);
        assert_eq!(id.len(), 43);
        let bytes = URL_SAFE_NO_PAD.decode(&id).unwrap();
        assert_eq!(
            Uuid::from_bytes_le(bytes[..16].try_into().unwrap()),
            *principal.as_uuid()
        );
        assert_ne!(id, new_assignment_id(principal));
    }
}
