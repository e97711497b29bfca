//! `applications`: create, get, list (with `$filter`), delete, and `addPassword`.
//!
//! An application created here has no service principal until `POST /servicePrincipals`
//! makes one, as in Graph: until then its secrets obtain no token (the token service
//! authenticates service principals).

use axum::http::StatusCode;
use axum::response::Response;
use azlite_store::{Application, Deletion, PasswordCredential, StoreError, WriteBatch};
use azlite_types::{ClientId, ObjectId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credentials::{
    DEFAULT_SECRET_LIFETIME, KeyCredentialResource, PasswordCredentialResource, mint_password,
};
use crate::filter::{self, Clause, equals_ignoring_case, starts_with_ignoring_case};
use crate::policy::{DirectoryRead, DirectoryWrite};
use crate::wire::{self, Query, collection, entity, parse_timestamp, timestamp};
use crate::{Graph, GraphError};

/// `POST /applications`: the properties azlite stores. Others are accepted and ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApplicationRequest {
    display_name: Option<String>,
    #[serde(default)]
    identifier_uris: Vec<String>,
    api: Option<ApiRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiRequest {
    requested_access_token_version: Option<u8>,
}

/// `POST /applications/{id}/addPassword`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddPasswordRequest {
    password_credential: Option<PasswordCredentialRequest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordCredentialRequest {
    display_name: Option<String>,
    start_date_time: Option<String>,
    end_date_time: Option<String>,
}

/// An `application` resource, as Graph answers (the properties azlite has; the rest at
/// Graph's defaults for a new single-tenant app).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationResource {
    id: ObjectId,
    deleted_date_time: Option<String>,
    app_id: ClientId,
    created_date_time: String,
    display_name: String,
    description: Option<String>,
    identifier_uris: Vec<String>,
    publisher_domain: String,
    sign_in_audience: &'static str,
    tags: Vec<String>,
    api: ApiResource,
    key_credentials: Vec<KeyCredentialResource>,
    password_credentials: Vec<PasswordCredentialResource>,
    required_resource_access: Vec<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiResource {
    /// `null` is Graph's default and means v1 tokens.
    requested_access_token_version: Option<u8>,
}

/// An application's JSON, with its credentials (never their secrets).
pub(crate) async fn application_json(
    graph: &Graph,
    application: &Application,
) -> Result<Value, GraphError> {
    let publisher_domain = graph
        .store
        .get_tenant(application.tenant_id)
        .await?
        .map(|t| t.default_domain)
        .unwrap_or_default();
    let passwords = graph
        .store
        .list_password_credentials(application.app_id)
        .await?;
    let keys = graph.store.list_key_credentials(application.app_id).await?;
    let resource = ApplicationResource {
        id: application.object_id,
        deleted_date_time: None,
        app_id: application.app_id,
        created_date_time: timestamp(application.created_at),
        display_name: application.display_name.clone(),
        description: None,
        identifier_uris: application.identifier_uris.clone(),
        publisher_domain,
        sign_in_audience: "AzureADMyOrg",
        tags: Vec::new(),
        api: ApiResource {
            requested_access_token_version: (application.access_token_version == 2).then_some(2),
        },
        key_credentials: keys.iter().map(KeyCredentialResource::new).collect(),
        password_credentials: passwords
            .iter()
            .map(|p| PasswordCredentialResource::new(p, None))
            .collect(),
        required_resource_access: Vec::new(),
    };
    serde_json::to_value(resource).map_err(|e| GraphError::internal(&e))
}

/// The application `id` of the caller's tenant; another tenant's is not found.
async fn find(
    graph: &Graph,
    tenant: DirectoryRead,
    id: ObjectId,
) -> Result<Application, GraphError> {
    graph
        .store
        .get_application_by_object_id(id)
        .await?
        .filter(|a| a.tenant_id == tenant.tenant())
        .ok_or_else(|| GraphError::not_found(&id.to_string()))
}

/// Identifier URIs must be absolute URIs (`api://…`, `https://…`, `urn:…`).
fn valid_identifier_uri(uri: &str) -> bool {
    uri.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && !rest.chars().any(char::is_whitespace)
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// `POST /applications`.
pub(crate) async fn create_application(
    graph: &Graph,
    write: DirectoryWrite,
    body: &[u8],
) -> Result<Response, GraphError> {
    let request: CreateApplicationRequest = wire::body(body)?;
    let display_name = request
        .display_name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| GraphError::invalid_value("displayName", "Application"))?;
    if !request
        .identifier_uris
        .iter()
        .all(|u| valid_identifier_uri(u))
    {
        return Err(GraphError::invalid_value("identifierUris", "Application"));
    }
    let access_token_version = match request.api.and_then(|a| a.requested_access_token_version) {
        None | Some(1) => 1,
        Some(2) => 2,
        Some(_) => {
            return Err(GraphError::invalid_value(
                "api.requestedAccessTokenVersion",
                "Application",
            ));
        }
    };
    let application = Application {
        object_id: ObjectId::new_random(),
        app_id: ClientId::new_random(),
        tenant_id: write.tenant(),
        display_name,
        identifier_uris: request.identifier_uris,
        access_token_version,
        created_at: graph.clock.now(),
    };
    let batch = WriteBatch {
        applications: vec![application.clone()],
        ..WriteBatch::default()
    };
    graph.store.apply(batch).await.map_err(|e| match e {
        StoreError::Conflict(_) => GraphError::bad_request(
            "Another object with the same value for property identifierUris already exists.",
        ),
        other => other.into(),
    })?;
    tracing::info!(app_id = %application.app_id, object_id = %application.object_id, "Graph: created application");
    let json = application_json(graph, &application).await?;
    Ok(entity(StatusCode::CREATED, "applications/$entity", json))
}

/// `GET /applications/{id}`.
pub(crate) async fn get_application(
    graph: &Graph,
    read: DirectoryRead,
    id: ObjectId,
) -> Result<Response, GraphError> {
    let application = find(graph, read, id).await?;
    let json = application_json(graph, &application).await?;
    Ok(entity(StatusCode::OK, "applications/$entity", json))
}

/// What `GET /applications?$filter=` selects.
enum ApplicationFilter {
    AppId(String),
    DisplayName(String),
    DisplayNameStartsWith(String),
    IdentifierUri(String),
}

impl ApplicationFilter {
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
            Clause::AnyEquals { collection, value } if is(collection, "identifierUris") => {
                Self::IdentifierUri(value.clone())
            }
            other => return Err(other.unsupported("Application")),
        })
    }

    fn matches(&self, application: &Application) -> bool {
        match self {
            Self::AppId(id) => id
                .parse::<ClientId>()
                .is_ok_and(|id| id == application.app_id),
            Self::DisplayName(name) => equals_ignoring_case(&application.display_name, name),
            Self::DisplayNameStartsWith(prefix) => {
                starts_with_ignoring_case(&application.display_name, prefix)
            }
            Self::IdentifierUri(uri) => application
                .identifier_uris
                .iter()
                .any(|u| equals_ignoring_case(u, uri)),
        }
    }
}

/// `GET /applications[?$filter=…]`.
pub(crate) async fn list_applications(
    graph: &Graph,
    read: DirectoryRead,
    query: &Query,
) -> Result<Response, GraphError> {
    let filter = query
        .filter
        .as_deref()
        .map(ApplicationFilter::parse)
        .transpose()?;
    let mut value = Vec::new();
    for application in graph.store.list_applications(read.tenant()).await? {
        if filter.as_ref().is_none_or(|f| f.matches(&application)) {
            value.push(application_json(graph, &application).await?);
        }
    }
    Ok(collection("applications", value))
}

/// `DELETE /applications/{id}`: the application with its service principal and
/// credentials, in one transaction. Role assignments stay, as in Azure.
pub(crate) async fn delete_application(
    graph: &Graph,
    write: DirectoryWrite,
    id: ObjectId,
) -> Result<Response, GraphError> {
    let application = find(graph, write.read(), id).await?;
    let principal = graph
        .store
        .get_service_principal_by_app_id(application.tenant_id, application.app_id)
        .await?;
    if principal.is_some_and(|p| graph.is_administrator(p.object_id)) {
        return Err(GraphError::bad_request(format!(
            "The application '{id}' is azlite's directory administrator and cannot be deleted."
        )));
    }
    let batch = WriteBatch {
        deletions: vec![Deletion::Application(application.object_id)],
        ..WriteBatch::default()
    };
    graph.store.apply(batch).await?;
    tracing::info!(app_id = %application.app_id, object_id = %id, "Graph: deleted application");
    Ok(wire::no_content())
}

/// `POST /applications/{id}/addPassword`: a new client secret, shown once.
pub(crate) async fn add_password(
    graph: &Graph,
    write: DirectoryWrite,
    id: ObjectId,
    body: &[u8],
) -> Result<Response, GraphError> {
    let request: AddPasswordRequest = wire::body(body)?;
    let application = find(graph, write.read(), id).await?;
    let request = request.password_credential.unwrap_or_default();
    let now = graph.clock.now();
    let time = |value: Option<&str>, property: &str| {
        value
            .map(|v| {
                parse_timestamp(v)
                    .ok_or_else(|| GraphError::invalid_value(property, "PasswordCredential"))
            })
            .transpose()
    };
    let start = time(request.start_date_time.as_deref(), "startDateTime")?.unwrap_or(now);
    let end = time(request.end_date_time.as_deref(), "endDateTime")?
        .unwrap_or(start + DEFAULT_SECRET_LIFETIME);
    if end <= start {
        return Err(GraphError::invalid_value(
            "endDateTime",
            "PasswordCredential",
        ));
    }
    let (credential, secret) = mint_password(
        application.app_id,
        request.display_name.unwrap_or_default(),
        start,
        end,
    );
    let batch = WriteBatch {
        password_credentials: vec![credential.clone()],
        ..WriteBatch::default()
    };
    graph.store.apply(batch).await?;
    tracing::info!(app_id = %application.app_id, key_id = %credential.key_id, "Graph: added a password");
    password_answer(&credential, secret)
}

fn password_answer(
    credential: &PasswordCredential,
    secret: String,
) -> Result<Response, GraphError> {
    let json = serde_json::to_value(PasswordCredentialResource::new(credential, Some(secret)))
        .map_err(|e| GraphError::internal(&e))?;
    Ok(entity(
        StatusCode::OK,
        "microsoft.graph.passwordCredential",
        json,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_uris_must_be_absolute() {
        for ok in ["api://my-api", "https://contoso.example/api", "urn:x:y"] {
            assert!(valid_identifier_uri(ok), "{ok}");
        }
        for bad in ["", "my-api", "api:", "1x://a", "api://a b", "://a"] {
            assert!(!valid_identifier_uri(bad), "{bad}");
        }
    }

    #[test]
    fn application_filters_select_what_graph_selects() {
        let app = Application {
            object_id: ObjectId::new_random(),
            app_id: ClientId::new_random(),
            tenant_id: azlite_types::TenantId::new_random(),
            display_name: "My App".into(),
            identifier_uris: vec!["api://My-App".into()],
            access_token_version: 1,
            created_at: 0,
        };
        let matches = |f: &str| ApplicationFilter::parse(f).unwrap().matches(&app);
        assert!(matches(&format!("appId eq '{}'", app.app_id)));
        assert!(matches(&format!(
            "appId eq '{}'",
            app.app_id.to_string().to_uppercase()
        )));
        assert!(!matches("appId eq 'not-a-guid'"));
        assert!(matches("displayName eq 'my app'"));
        assert!(!matches("displayName eq 'my'"));
        assert!(matches("startswith(displayName,'my')"));
        assert!(matches("identifierUris/any(x:x eq 'api://my-app')"));
        let err = ApplicationFilter::parse("servicePrincipalNames/any(c:c eq 'x')")
            .err()
            .unwrap();
        assert_eq!(err.code, "Request_UnsupportedQuery");
    }
}
