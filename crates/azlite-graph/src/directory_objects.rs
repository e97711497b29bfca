//! `POST /directoryObjects/getByIds`: what `az role assignment create|list` asks to learn a
//! principal's type and name (reference arm-rbac-protocol.md §4.5).
//!
//! Each id is looked up among the tenant's service principals, users and applications;
//! ids that name nothing (or another tenant's object, or a type not asked for) are left
//! out, as Graph leaves them out. The answer keeps the order of the request.

use axum::response::Response;
use azlite_types::ObjectId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::applications::application_json;
use crate::policy::DirectoryRead;
use crate::service_principals::{application_of, service_principal_json};
use crate::wire::{self, collection};
use crate::{Graph, GraphError};

/// The most ids one request may carry, as in Graph.
const MAX_IDS: usize = 1000;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetByIdsRequest {
    ids: Option<Vec<String>>,
    #[serde(default)]
    types: Vec<String>,
}

/// The object types a request may name. azlite's directory holds only the first three;
/// asking for the others is valid and finds nothing.
const KNOWN_TYPES: [&str; 8] = [
    "servicePrincipal",
    "user",
    "application",
    "group",
    "device",
    "orgContact",
    "directoryRole",
    "directoryObjectPartnerReference",
];

/// Which types the caller asked for (all when it named none).
struct Types(Vec<&'static str>);

impl Types {
    fn parse(requested: &[String]) -> Result<Self, GraphError> {
        if requested.is_empty() {
            return Ok(Self(KNOWN_TYPES.to_vec()));
        }
        requested
            .iter()
            .map(|t| {
                // Graph accepts `user` as well as `microsoft.graph.user`.
                let bare = t.strip_prefix("microsoft.graph.").unwrap_or(t);
                KNOWN_TYPES
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(bare))
                    .copied()
                    .ok_or_else(|| GraphError::invalid_value("types", "DirectoryObject"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn wants(&self, kind: &str) -> bool {
        self.0.contains(&kind)
    }
}

fn typed(kind: &str, mut value: Value) -> Value {
    let mut out = json!({ "@odata.type": format!("#microsoft.graph.{kind}") });
    if let (Some(out), Some(fields)) = (out.as_object_mut(), value.as_object_mut()) {
        out.append(fields);
    }
    out
}

/// The object `id` of the caller's tenant, as Graph shows it with its `@odata.type`.
async fn lookup(
    graph: &Graph,
    read: DirectoryRead,
    types: &Types,
    id: ObjectId,
) -> Result<Option<Value>, GraphError> {
    let tenant = read.tenant();
    if types.wants("servicePrincipal")
        && let Some(principal) = graph
            .store
            .get_service_principal(id)
            .await?
            .filter(|p| p.tenant_id == tenant)
    {
        let application = application_of(graph, tenant, &principal).await?;
        let json = service_principal_json(&principal, application.as_ref());
        return Ok(Some(typed("servicePrincipal", json)));
    }
    if types.wants("user")
        && let Some(user) = graph
            .store
            .get_user(id)
            .await?
            .filter(|u| u.tenant_id == tenant)
    {
        return Ok(Some(typed(
            "user",
            json!({
                "id": user.object_id,
                "accountEnabled": true,
                "displayName": user.display_name,
                "mail": null,
                "userPrincipalName": user.user_principal_name,
                "userType": "Member",
            }),
        )));
    }
    if types.wants("application")
        && let Some(application) = graph
            .store
            .get_application_by_object_id(id)
            .await?
            .filter(|a| a.tenant_id == tenant)
    {
        let json = application_json(graph, &application).await?;
        return Ok(Some(typed("application", json)));
    }
    Ok(None)
}

/// `POST /directoryObjects/getByIds`.
pub(crate) async fn get_by_ids(
    graph: &Graph,
    read: DirectoryRead,
    body: &[u8],
) -> Result<Response, GraphError> {
    let request: GetByIdsRequest = wire::body(body)?;
    let ids = request
        .ids
        .ok_or_else(|| GraphError::invalid_value("ids", "DirectoryObject"))?;
    if ids.len() > MAX_IDS {
        return Err(GraphError::bad_request(format!(
            "Too many ids: at most {MAX_IDS} may be requested at once."
        )));
    }
    let types = Types::parse(&request.types)?;
    let mut parsed: Vec<ObjectId> = Vec::with_capacity(ids.len());
    for text in &ids {
        let id: ObjectId = text
            .parse()
            .map_err(|_| GraphError::bad_request(format!("Invalid object identifier '{text}'.")))?;
        if !parsed.contains(&id) {
            parsed.push(id);
        }
    }
    let mut value = Vec::new();
    for id in parsed {
        if let Some(object) = lookup(graph, read, &types, id).await? {
            value.push(object);
        }
    }
    Ok(collection("directoryObjects", value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_matched_without_case_and_with_or_without_the_namespace() {
        let types =
            Types::parse(&["User".into(), "microsoft.graph.servicePrincipal".into()]).unwrap();
        assert!(types.wants("user"));
        assert!(types.wants("servicePrincipal"));
        assert!(!types.wants("application"));
        assert!(Types::parse(&[]).unwrap().wants("application"));
        let err = Types::parse(&["spaceship".into()]).err().unwrap();
        assert_eq!(err.code, "Request_BadRequest");
    }
}
