//! Role assignments (`Microsoft.Authorization/roleAssignments`, spec 2022-04-01): create,
//! get, delete and list at any scope, with ARM's rules for names, duplicates and principals.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_authz::{Authorized, AuthzError, RoleAssignmentId, RoleDefinitionId};
use azlite_store::{Deletion, RoleAssignmentRecord, WriteBatch};
use azlite_types::{ObjectId, ResourceId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::subscriptions::subscription_for;
use crate::wire::{Query, body, json, timestamp};
use crate::{Arm, ArmError, Caller, to_assignment};

const READ: &str = "Microsoft.Authorization/roleAssignments/read";
const WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
const DELETE: &str = "Microsoft.Authorization/roleAssignments/delete";

#[derive(Debug, Deserialize)]
struct PutAssignment {
    properties: PutProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutProperties {
    role_definition_id: String,
    principal_id: String,
    principal_type: Option<String>,
    description: Option<String>,
    condition: Option<String>,
}

/// The wire form of an assignment. The role definition id is given in the subscription
/// form when the scope is inside a subscription, as ARM does.
pub(crate) fn assignment_json(r: &RoleAssignmentRecord) -> Value {
    let definition = RoleDefinitionId::from_uuid(r.role_definition_id);
    let role_definition_id = match r.scope.subscription_id() {
        Some(s) => definition.subscription_scoped_id(s),
        None => definition.tenant_scoped_id(),
    };
    json!({
        "id": RoleAssignmentId::from_uuid(r.id).resource_id_at(&r.scope),
        "name": r.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": role_definition_id,
            "principalId": r.principal_id,
            "principalType": r.principal_type,
            "scope": r.scope,
            "condition": null,
            "conditionVersion": null,
            "createdOn": timestamp(r.created_at),
            "updatedOn": timestamp(r.updated_at),
            "createdBy": r.created_by,
            "updatedBy": r.created_by,
            "delegatedManagedIdentityResourceId": null,
            "description": r.description,
        },
    })
}

/// What `$filter` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filter {
    at_scope: bool,
    principal: Option<ObjectId>,
}

fn parse_filter(filter: Option<&str>) -> Result<Filter, ArmError> {
    let mut out = Filter::default();
    let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(out);
    };
    let invalid = || {
        ArmError::bad_request(
            "InvalidFilterInQueryString",
            format!("The filter '{filter}' is not supported."),
        )
    };
    for clause in filter.split(" and ").map(str::trim) {
        if clause.eq_ignore_ascii_case("atScope()") {
            out.at_scope = true;
        } else if let Some(rest) = strip_prefix_ci(clause, "principalId eq '")
            .or_else(|| strip_prefix_ci(clause, "assignedTo('"))
        {
            let id = rest.trim_end_matches(')').trim_end_matches('\'');
            out.principal = Some(id.parse().map_err(|_| invalid())?);
        } else {
            return Err(invalid());
        }
    }
    Ok(out)
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &text[prefix.len()..])
}

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments[?$filter=…]`: assignments
/// at, above and below the scope (`atScope()`: at and above only).
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    scope: &ResourceId,
    query: &Query,
) -> Result<Response, ArmError> {
    let _authorized = arm.authorize(caller, scope, READ)?;
    let filter = parse_filter(query.filter.as_deref())?;
    let records = match filter.principal {
        Some(principal) => {
            arm.store
                .list_role_assignments_for_principal(principal)
                .await?
        }
        None => arm.store.list_role_assignments().await?,
    };
    let value: Vec<Value> = records
        .iter()
        .filter(|r| r.scope.contains(scope) || (!filter.at_scope && scope.contains(&r.scope)))
        .map(assignment_json)
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// `GET|PUT|DELETE {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    scope: &ResourceId,
    name: &str,
    request: &[u8],
) -> Result<Response, ArmError> {
    let action = match *method {
        Method::PUT => WRITE,
        Method::DELETE => DELETE,
        _ => READ,
    };
    // Checked before anything else, as for scopes that do not even parse: the id is
    // well-formed but no assignment can be made there (only read or deleted, for a row an
    // older azlite wrote).
    if *method == Method::PUT && !scope.is_rbac_scope() {
        return Err(invalid_scope(scope.as_str(), Some(name)));
    }
    let authorized = arm.authorize(caller, scope, action)?;
    let id: uuid::Uuid = name.parse().map_err(|_| {
        ArmError::bad_request(
            "InvalidRoleAssignmentId",
            format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
        )
    })?;
    let existing = arm
        .store
        .get_role_assignment(id)
        .await?
        .filter(|r| &r.scope == scope);
    match *method {
        Method::GET => existing
            .map(|r| json(StatusCode::OK, assignment_json(&r)))
            .ok_or_else(|| {
                ArmError::not_found(
                    "RoleAssignmentNotFound",
                    format!("The role assignment '{name}' is not found."),
                )
            }),
        Method::DELETE => {
            let Some(record) = existing else {
                return Ok(StatusCode::NO_CONTENT.into_response());
            };
            let _writes = arm.assignment_writes.lock().await;
            arm.store
                .apply(WriteBatch {
                    deletions: vec![Deletion::RoleAssignment(id)],
                    ..Default::default()
                })
                .await?;
            arm.write_index().remove(RoleAssignmentId::from_uuid(id));
            Ok(json(StatusCode::OK, assignment_json(&record)))
        }
        _ => create(arm, &authorized, caller, scope, id, request).await,
    }
}

async fn create(
    arm: &Arm,
    _authorized: &Authorized<'_>,
    caller: &Caller,
    scope: &ResourceId,
    id: uuid::Uuid,
    request: &[u8],
) -> Result<Response, ArmError> {
    let put: PutAssignment = body(request)?;
    let p = put.properties;
    if p.condition.as_deref().is_some_and(|c| !c.trim().is_empty()) {
        return Err(ArmError::bad_request(
            "InvalidRoleAssignmentCondition",
            "Role assignment conditions (ABAC) are not supported by azlite; an assignment whose condition would be ignored would grant more than it says.",
        ));
    }
    let definition: RoleDefinitionId = p
        .role_definition_id
        .parse()
        .map_err(|_| role_missing(&p.role_definition_id))?;
    if arm.read_index().roles().get(definition).is_none() {
        return Err(role_missing(&definition.as_uuid().to_string()));
    }
    let principal: ObjectId = p.principal_id.parse().map_err(|_| {
        ArmError::bad_request(
            "InvalidPrincipalId",
            format!("The principal ID '{}' is not valid.", p.principal_id),
        )
    })?;
    let directory_type = if arm.store.get_service_principal(principal).await?.is_some() {
        "ServicePrincipal"
    } else if arm.store.get_user(principal).await?.is_some() {
        "User"
    } else {
        return Err(ArmError::bad_request(
            "PrincipalNotFound",
            format!(
                "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype",
                principal.as_uuid().simple(),
                caller.tenant_id
            ),
        ));
    };
    // The directory knows what the principal is; a request that says otherwise is refused.
    let principal_type = match p.principal_type.as_deref() {
        None => directory_type.to_owned(),
        Some(given) if given.eq_ignore_ascii_case(directory_type) => directory_type.to_owned(),
        Some(given) => {
            return Err(ArmError::bad_request(
                "UnmatchedPrincipalType",
                format!(
                    "The PrincipalId '{}' has type '{directory_type}' , which is different from specified PrincipalType '{given}'.",
                    principal.as_uuid().simple()
                ),
            ));
        }
    };
    check_scope_exists(arm, caller, scope).await?;

    let _writes = arm.assignment_writes.lock().await;
    if let Some(existing) = arm.store.get_role_assignment(id).await? {
        let same = existing.scope == *scope
            && existing.principal_id == principal
            && existing.role_definition_id == *definition.as_uuid();
        if same {
            return Ok(json(StatusCode::OK, assignment_json(&existing)));
        }
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        ));
    }
    let duplicate = arm
        .read_index()
        .assignments_of(principal)
        .any(|a| a.scope == *scope && a.role_definition_id == definition);
    if duplicate {
        return Err(exists());
    }
    let now = arm.clock.now();
    let record = RoleAssignmentRecord {
        id,
        scope: scope.clone(),
        principal_id: principal,
        principal_type,
        role_definition_id: *definition.as_uuid(),
        description: p.description,
        created_at: now,
        updated_at: now,
        created_by: Some(caller.object_id),
    };
    // Everything the index would refuse is refused before the store is written: a row the
    // index cannot hold would grant nothing now and be skipped at every start.
    let assignment = to_assignment(&record);
    match arm.read_index().check_insert(&assignment) {
        Ok(_) => {}
        Err(AuthzError::NotAssignableAtScope { .. }) => {
            return Err(ArmError::bad_request(
                "InvalidRoleAssignment",
                format!(
                    "The role definition '{}' is not assignable at scope '{scope}'.",
                    definition.as_uuid()
                ),
            ));
        }
        Err(AuthzError::InvalidScope(_)) => {
            return Err(invalid_scope(scope.as_str(), Some(&id.to_string())));
        }
        Err(AuthzError::AssignmentExists { .. }) => return Err(exists()),
        Err(AuthzError::RoleDefinitionNotFound(id)) => {
            return Err(role_missing(&id.as_uuid().to_string()));
        }
        Err(other) => return Err(ArmError::internal(&other)),
    }
    arm.store
        .apply(WriteBatch {
            role_assignments: vec![record.clone()],
            ..Default::default()
        })
        .await?;
    arm.insert_committed(assignment);
    Ok(json(StatusCode::CREATED, assignment_json(&record)))
}

fn exists() -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "RoleAssignmentExists",
        "The role assignment already exists.",
    )
}

/// A role-assignment path whose scope is not one (an empty segment, an encoded `/`, an odd
/// number of segments, a bare provider namespace): ARM's 400 for a create request that is
/// not valid (`InvalidCreateRoleAssignmentRequest`, as real ARM answers a scope mismatch), and
/// a 400 `InvalidRoleAssignmentScope` for reads and deletions, which real ARM's gateway
/// answers in ways not documented (docs/protocols/arm.md).
pub(crate) fn invalid_scope(scope: &str, name: Option<&str>) -> ArmError {
    match name {
        Some(name) => ArmError::bad_request(
            "InvalidCreateRoleAssignmentRequest",
            format!(
                "The request to create role assignment '{name}' is not valid. Role assignment scope '{scope}' is not a valid scope: it must be '/', a subscription, a resource group or a resource."
            ),
        ),
        None => ArmError::bad_request(
            "InvalidRoleAssignmentScope",
            format!(
                "The scope '{scope}' is not valid: it must be '/', a subscription, a resource group or a resource."
            ),
        ),
    }
}

fn role_missing(id: &str) -> ArmError {
    ArmError::bad_request(
        "RoleDefinitionDoesNotExist",
        format!("The specified role definition with ID '{id}' does not exist."),
    )
}

/// The subscription and resource group of a scope must exist.
async fn check_scope_exists(
    arm: &Arm,
    caller: &Caller,
    scope: &ResourceId,
) -> Result<(), ArmError> {
    if let Some(s) = scope.subscription_id() {
        subscription_for(arm, caller, s).await?;
        if let Some(group) = scope.resource_group_name()
            && arm.store.get_resource_group(s, group).await?.is_none()
        {
            return Err(ArmError::not_found(
                "ResourceGroupNotFound",
                format!("Resource group '{group}' could not be found."),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let id = "11111111-2222-3333-4444-555555555555";
        assert_eq!(parse_filter(None).unwrap(), Filter::default());
        assert!(parse_filter(Some("atScope()")).unwrap().at_scope);
        let f = parse_filter(Some(&format!("atScope() and principalId eq '{id}'"))).unwrap();
        assert!(f.at_scope);
        assert_eq!(f.principal.unwrap().to_string(), id);
        assert_eq!(
            parse_filter(Some(&format!("assignedTo('{id}')")))
                .unwrap()
                .principal
                .unwrap()
                .to_string(),
            id
        );
        assert_eq!(
            parse_filter(Some("roleName eq 'x'")).unwrap_err().code,
            "InvalidFilterInQueryString"
        );
    }
}
