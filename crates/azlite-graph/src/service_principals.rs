//! `servicePrincipals`: create (for an application of the tenant), get, list (with
//! `$filter`), delete. Managed identities are listed too, as Graph lists them, with
//! `servicePrincipalType` `ManagedIdentity` and their ARM id among `alternativeNames`; they
//! are created and deleted with their Azure resource, never through Graph.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use azlite_store::{
    Application, Deletion, ServicePrincipal, ServicePrincipalKind, StoreError, WriteBatch,
};
use azlite_types::app_roles::{MICROSOFT_GRAPH_APP_ID, MICROSOFT_SERVICES_TENANT_ID, app_roles_of};
use azlite_types::{ClientId, ObjectId, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::filter::{self, Clause, equals_ignoring_case, starts_with_ignoring_case};
use crate::operation::PrincipalKey;
use crate::policy::{DirectoryRead, DirectoryWrite};
use crate::wire::{self, Query, collection, entity, timestamp};
use crate::{Graph, GraphError};

/// The tenant that owns every managed identity's application, and Microsoft Graph's:
/// Microsoft's own (`appOwnerOrganizationId` in Graph).
const MANAGED_IDENTITY_OWNER_TENANT: &str = MICROSOFT_SERVICES_TENANT_ID;

/// The App ID URIs of a first-party API, among its principal's names.
fn first_party_names(app_id: ClientId) -> &'static [&'static str] {
    if app_id == MICROSOFT_GRAPH_APP_ID {
        &[
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
        ]
    } else {
        &[]
    }
}

/// Whether `principal` is a first-party API's (Microsoft Graph's): its application is
/// Microsoft's, and azlite serves its app roles.
pub(crate) fn is_first_party(principal: &ServicePrincipal) -> bool {
    principal.kind == ServicePrincipalKind::Application
        && !app_roles_of(principal.app_id).is_empty()
}

/// A principal's `servicePrincipalNames`: its app id, then its application's identifier
/// URIs (or a first-party API's App ID URIs).
fn names(principal: &ServicePrincipal, application: Option<&Application>) -> Vec<String> {
    let mut names = vec![principal.app_id.to_string()];
    if let Some(application) = application {
        names.extend(application.identifier_uris.iter().cloned());
    }
    names.extend(
        first_party_names(principal.app_id)
            .iter()
            .map(|n| (*n).to_owned()),
    );
    names
}

/// A principal's `appRoles`, as Graph lists them.
fn app_roles_json(principal: &ServicePrincipal) -> Vec<Value> {
    app_roles_of(principal.app_id)
        .iter()
        .map(|role| {
            json!({
                "allowedMemberTypes": ["Application"],
                "description": role.description,
                "displayName": role.display_name,
                "id": role.id,
                "isEnabled": true,
                "origin": "Application",
                "value": role.value,
            })
        })
        .collect()
}

/// `POST /servicePrincipals`. Other properties are accepted and ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateServicePrincipalRequest {
    app_id: Option<String>,
}

/// A `servicePrincipal` resource, as Graph answers (the properties azlite has; the rest at
/// Graph's defaults).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServicePrincipalResource {
    id: ObjectId,
    deleted_date_time: Option<String>,
    account_enabled: bool,
    alternative_names: Vec<String>,
    app_display_name: Option<String>,
    app_id: ClientId,
    app_owner_organization_id: String,
    app_role_assignment_required: bool,
    app_roles: Vec<Value>,
    created_date_time: String,
    display_name: String,
    service_principal_names: Vec<String>,
    service_principal_type: &'static str,
    sign_in_audience: &'static str,
    tags: Vec<String>,
    key_credentials: Vec<Value>,
    password_credentials: Vec<Value>,
}

/// A service principal's JSON; `application` is its application object, when the tenant
/// has it (its identifier URIs are among the principal's names).
pub(crate) fn service_principal_json(
    principal: &ServicePrincipal,
    application: Option<&Application>,
) -> Value {
    let managed = principal.kind == ServicePrincipalKind::ManagedIdentity;
    let first_party = is_first_party(principal);
    let alternative_names = match &principal.managed_identity_resource_id {
        Some(resource) if managed => {
            // A user-assigned identity is an explicit resource; a system-assigned one lives
            // and dies with its VM.
            let explicit = resource
                .to_ascii_lowercase()
                .contains("/providers/microsoft.managedidentity/userassignedidentities/");
            vec![
                format!("isExplicit={}", if explicit { "True" } else { "False" }),
                resource.clone(),
            ]
        }
        _ => Vec::new(),
    };
    let resource = ServicePrincipalResource {
        id: principal.object_id,
        deleted_date_time: None,
        account_enabled: true,
        alternative_names,
        app_display_name: application
            .map(|a| a.display_name.clone())
            .or_else(|| first_party.then(|| principal.display_name.clone())),
        app_id: principal.app_id,
        app_owner_organization_id: if managed || first_party {
            MANAGED_IDENTITY_OWNER_TENANT.to_owned()
        } else {
            application
                .map_or(principal.tenant_id, |a| a.tenant_id)
                .to_string()
        },
        app_role_assignment_required: false,
        app_roles: app_roles_json(principal),
        created_date_time: timestamp(principal.created_at),
        display_name: principal.display_name.clone(),
        service_principal_names: names(principal, application),
        service_principal_type: if managed {
            "ManagedIdentity"
        } else {
            "Application"
        },
        sign_in_audience: if managed || first_party {
            "AzureADMultipleOrgs"
        } else {
            "AzureADMyOrg"
        },
        tags: Vec::new(),
        key_credentials: Vec::new(),
        password_credentials: Vec::new(),
    };
    // A struct of strings, GUIDs and vectors always serializes.
    serde_json::to_value(resource).unwrap_or_default()
}

/// The application object of `principal` in `tenant`, if there is one.
pub(crate) async fn application_of(
    graph: &Graph,
    tenant: TenantId,
    principal: &ServicePrincipal,
) -> Result<Option<Application>, GraphError> {
    if principal.kind == ServicePrincipalKind::ManagedIdentity {
        return Ok(None);
    }
    Ok(graph
        .store
        .get_application(principal.app_id)
        .await?
        .filter(|a| a.tenant_id == tenant))
}

/// The service principal `key` names in the caller's tenant; another tenant's is not found.
pub(crate) async fn find(
    graph: &Graph,
    read: DirectoryRead,
    key: PrincipalKey,
) -> Result<ServicePrincipal, GraphError> {
    let (found, shown) = match key {
        PrincipalKey::Id(id) => (graph.store.get_service_principal(id).await?, id.to_string()),
        PrincipalKey::AppId(app_id) => (
            graph
                .store
                .get_service_principal_by_app_id(read.tenant(), app_id)
                .await?,
            format!("appId='{app_id}'"),
        ),
    };
    found
        .filter(|p| p.tenant_id == read.tenant())
        .ok_or_else(|| GraphError::not_found(&shown))
}

/// `POST /servicePrincipals`: the principal of an application of the caller's tenant.
pub(crate) async fn create_service_principal(
    graph: &Graph,
    write: DirectoryWrite,
    body: &[u8],
) -> Result<Response, GraphError> {
    let request: CreateServicePrincipalRequest = wire::body(body)?;
    let app_id_text = request
        .app_id
        .ok_or_else(|| GraphError::invalid_value("appId", "ServicePrincipal"))?;
    let no_application = || {
        GraphError::bad_request(format!(
            "The appId '{app_id_text}' of the service principal does not reference a valid application object."
        ))
    };
    let app_id: ClientId = app_id_text.parse().map_err(|_| no_application())?;
    let application = graph
        .store
        .get_application(app_id)
        .await?
        .filter(|a| a.tenant_id == write.tenant())
        .ok_or_else(no_application)?;
    let in_use = || {
        GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        )
    };
    if graph
        .store
        .get_service_principal_by_app_id(write.tenant(), app_id)
        .await?
        .is_some()
    {
        return Err(in_use());
    }
    let principal = ServicePrincipal {
        object_id: ObjectId::new_random(),
        app_id,
        tenant_id: write.tenant(),
        display_name: application.display_name.clone(),
        kind: ServicePrincipalKind::Application,
        managed_identity_resource_id: None,
        created_at: graph.clock.now(),
    };
    let batch = WriteBatch {
        service_principals: vec![principal.clone()],
        ..WriteBatch::default()
    };
    graph.store.apply(batch).await.map_err(|e| match e {
        StoreError::Conflict(_) => in_use(),
        other => other.into(),
    })?;
    tracing::info!(app_id = %app_id, object_id = %principal.object_id, "Graph: created service principal");
    Ok(entity(
        StatusCode::CREATED,
        "servicePrincipals/$entity",
        service_principal_json(&principal, Some(&application)),
    ))
}

/// `GET /servicePrincipals/{id}`.
pub(crate) async fn get_service_principal(
    graph: &Graph,
    read: DirectoryRead,
    key: PrincipalKey,
) -> Result<Response, GraphError> {
    let principal = find(graph, read, key).await?;
    let application = application_of(graph, read.tenant(), &principal).await?;
    Ok(entity(
        StatusCode::OK,
        "servicePrincipals/$entity",
        service_principal_json(&principal, application.as_ref()),
    ))
}

/// What `GET /servicePrincipals?$filter=` selects.
enum ServicePrincipalFilter {
    AppId(String),
    DisplayName(String),
    DisplayNameStartsWith(String),
    /// `servicePrincipalNames/any(c:c eq '…')`: the app id or one of its identifier URIs.
    Name(String),
}

impl ServicePrincipalFilter {
    fn parse(text: &str) -> Result<Self, GraphError> {
        let clause = filter::parse(text)?;
        let is = |name: &str, expected: &str| name.eq_ignore_ascii_case(expected);
        Ok(match &clause {
            Clause::Equals { property, value } if is(property, "appId") => {
                Self::AppId(value.clone())
            }
            Clause::Equals { property, value } if is(property, "displayName") => {
                Self::DisplayName(value.clone())
            }
            Clause::StartsWith { property, value } if is(property, "displayName") => {
                Self::DisplayNameStartsWith(value.clone())
            }
            Clause::AnyEquals { collection, value } if is(collection, "servicePrincipalNames") => {
                Self::Name(value.clone())
            }
            other => return Err(other.unsupported("ServicePrincipal")),
        })
    }

    fn matches(&self, principal: &ServicePrincipal, application: Option<&Application>) -> bool {
        let is_app_id = |text: &str| {
            text.parse::<ClientId>()
                .is_ok_and(|id| id == principal.app_id)
        };
        match self {
            Self::AppId(id) => is_app_id(id),
            Self::DisplayName(name) => equals_ignoring_case(&principal.display_name, name),
            Self::DisplayNameStartsWith(prefix) => {
                starts_with_ignoring_case(&principal.display_name, prefix)
            }
            Self::Name(name) => names(principal, application)
                .iter()
                .any(|n| equals_ignoring_case(n, name)),
        }
    }
}

/// `GET /servicePrincipals[?$filter=…]`.
pub(crate) async fn list_service_principals(
    graph: &Graph,
    read: DirectoryRead,
    query: &Query,
) -> Result<Response, GraphError> {
    let filter = query
        .filter
        .as_deref()
        .map(ServicePrincipalFilter::parse)
        .transpose()?;
    let applications: HashMap<ClientId, Application> = graph
        .store
        .list_applications(read.tenant())
        .await?
        .into_iter()
        .map(|a| (a.app_id, a))
        .collect();
    let value: Vec<Value> = graph
        .store
        .list_service_principals(read.tenant())
        .await?
        .iter()
        .filter_map(|principal| {
            let application = (principal.kind == ServicePrincipalKind::Application)
                .then(|| applications.get(&principal.app_id))
                .flatten();
            filter
                .as_ref()
                .is_none_or(|f| f.matches(principal, application))
                .then(|| service_principal_json(principal, application))
        })
        .collect();
    Ok(collection("servicePrincipals", value))
}

/// `DELETE /servicePrincipals/{id}`: the principal with the app role assignments it holds
/// and those granted on it; its application, if any, stays (with its credentials, which
/// obtain no token without a principal).
pub(crate) async fn delete_service_principal(
    graph: &Graph,
    write: DirectoryWrite,
    key: PrincipalKey,
) -> Result<Response, GraphError> {
    let principal = find(graph, write.read(), key).await?;
    let id = principal.object_id;
    if principal.kind == ServicePrincipalKind::ManagedIdentity {
        return Err(GraphError::bad_request(format!(
            "The service principal '{id}' belongs to a managed identity: delete or change its Azure resource instead."
        )));
    }
    if is_first_party(&principal) {
        return Err(GraphError::bad_request(format!(
            "The service principal '{id}' is Microsoft's first-party {} and cannot be deleted.",
            principal.display_name
        )));
    }
    if graph.is_administrator(principal.object_id) {
        return Err(GraphError::bad_request(format!(
            "The service principal '{id}' is azlite's directory administrator and cannot be deleted."
        )));
    }
    let batch = WriteBatch {
        deletions: vec![Deletion::ServicePrincipal(id)],
        ..WriteBatch::default()
    };
    graph.store.apply(batch).await?;
    tracing::info!(app_id = %principal.app_id, object_id = %id, "Graph: deleted service principal");
    Ok(wire::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(kind: ServicePrincipalKind, resource: Option<&str>) -> ServicePrincipal {
        ServicePrincipal {
            object_id: ObjectId::new_random(),
            app_id: ClientId::new_random(),
            tenant_id: TenantId::new_random(),
            display_name: "Web API".into(),
            kind,
            managed_identity_resource_id: resource.map(str::to_owned),
            created_at: 0,
        }
    }

    #[test]
    fn names_include_the_app_id_and_the_identifier_uris() {
        let sp = principal(ServicePrincipalKind::Application, None);
        let app = Application {
            object_id: ObjectId::new_random(),
            app_id: sp.app_id,
            tenant_id: sp.tenant_id,
            display_name: "Web API".into(),
            identifier_uris: vec!["api://web".into()],
            access_token_version: 1,
            created_at: 0,
        };
        let json = service_principal_json(&sp, Some(&app));
        assert_eq!(
            json["servicePrincipalNames"],
            serde_json::json!([sp.app_id.to_string(), "api://web"])
        );
        assert_eq!(json["servicePrincipalType"], "Application");
        assert_eq!(json["appOwnerOrganizationId"], sp.tenant_id.to_string());
        assert_eq!(json["accountEnabled"], true);
        let matches = |f: &str| {
            ServicePrincipalFilter::parse(f)
                .unwrap()
                .matches(&sp, Some(&app))
        };
        assert!(matches("servicePrincipalNames/any(c:c eq 'API://WEB')"));
        assert!(matches(&format!(
            "servicePrincipalNames/any(c:c eq '{}')",
            sp.app_id
        )));
        assert!(!matches("servicePrincipalNames/any(c:c eq 'api://other')"));
        assert!(matches("displayName eq 'web api'"));
        assert!(matches("startswith(displayName,'Web')"));
    }

    #[test]
    fn managed_identities_show_their_resource() {
        let vm = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1";
        let json = service_principal_json(
            &principal(ServicePrincipalKind::ManagedIdentity, Some(vm)),
            None,
        );
        assert_eq!(json["servicePrincipalType"], "ManagedIdentity");
        assert_eq!(
            json["alternativeNames"],
            serde_json::json!(["isExplicit=False", vm])
        );
        let uai = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
        let json = service_principal_json(
            &principal(ServicePrincipalKind::ManagedIdentity, Some(uai)),
            None,
        );
        assert_eq!(json["alternativeNames"][0], "isExplicit=True");
        assert_eq!(
            json["appOwnerOrganizationId"],
            MANAGED_IDENTITY_OWNER_TENANT
        );
    }
}
