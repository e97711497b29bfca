//! Role definitions (built-in roles, listed at every scope) and the caller's effective
//! permissions.

use axum::http::StatusCode;
use axum::response::Response;
use azlite_authz::{CompiledRole, RoleDefinitionId, RoleType};
use azlite_types::ResourceId;
use serde_json::{Value, json};

use crate::wire::{Query, json};
use crate::{Arm, ArmError, Caller};

const READ: &str = "Microsoft.Authorization/roleDefinitions/read";

fn definition_json(role: &CompiledRole, scope: &ResourceId) -> Value {
    let d = role.definition();
    let id = match scope.subscription_id() {
        Some(s) => d.id.subscription_scoped_id(s),
        None => d.id.tenant_scoped_id(),
    };
    json!({
        "id": id,
        "name": d.id.as_uuid(),
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": d.name,
            "type": match d.role_type { RoleType::BuiltInRole => "BuiltInRole", RoleType::CustomRole => "CustomRole" },
            "description": d.description,
            "assignableScopes": d.assignable_scopes,
            "permissions": d.permissions,
            "createdOn": null,
            "updatedOn": null,
            "createdBy": null,
            "updatedBy": null,
        },
    })
}

/// Role definitions are readable by any principal with `roleDefinitions/read` at the scope;
/// at the root scope (built-ins only) by anyone in the tenant.
fn authorize_read(arm: &Arm, caller: &Caller, scope: &ResourceId) -> Result<(), ArmError> {
    if scope.as_str() != "/" {
        let _authorized = arm.authorize(caller, scope, READ)?;
    }
    Ok(())
}

/// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions[?$filter=roleName eq '…']`.
pub(crate) async fn list(
    arm: &Arm,
    caller: &Caller,
    scope: &ResourceId,
    query: &Query,
) -> Result<Response, ArmError> {
    authorize_read(arm, caller, scope)?;
    let filter = query.filter.as_deref().map(str::trim).unwrap_or_default();
    let wanted_name = filter
        .strip_prefix("roleName eq '")
        .map(|rest| rest.trim_end_matches('\''));
    let wanted_type = filter
        .strip_prefix("type eq '")
        .map(|rest| rest.trim_end_matches('\''));
    if !filter.is_empty() && wanted_name.is_none() && wanted_type.is_none() {
        return Err(ArmError::bad_request(
            "InvalidFilterInQueryString",
            format!("The filter '{filter}' is not supported."),
        ));
    }
    let index = arm.read_index();
    let value: Vec<Value> = index
        .roles()
        .iter()
        .filter(|r| wanted_name.is_none_or(|n| r.name().eq_ignore_ascii_case(n)))
        .filter(|r| {
            wanted_type.is_none_or(|t| {
                let is_builtin = matches!(r.definition().role_type, RoleType::BuiltInRole);
                t.eq_ignore_ascii_case(if is_builtin {
                    "BuiltInRole"
                } else {
                    "CustomRole"
                })
            })
        })
        .map(|r| definition_json(r, scope))
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}`.
pub(crate) async fn get(
    arm: &Arm,
    caller: &Caller,
    scope: &ResourceId,
    id: &str,
) -> Result<Response, ArmError> {
    authorize_read(arm, caller, scope)?;
    let not_found = || {
        ArmError::not_found(
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{id}' does not exist."),
        )
    };
    let definition: RoleDefinitionId = id.parse().map_err(|_| not_found())?;
    let index = arm.read_index();
    let role = index.roles().get(definition).ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, definition_json(role, scope)))
}

/// `GET {scope}/providers/Microsoft.Authorization/permissions`: what the caller may do there.
pub(crate) async fn permissions(
    arm: &Arm,
    caller: &Caller,
    scope: &ResourceId,
) -> Result<Response, ArmError> {
    let index = arm.read_index();
    let value: Vec<Value> = index
        .effective_permissions(caller.object_id, scope)
        .into_iter()
        .map(|p| json!(p))
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}
