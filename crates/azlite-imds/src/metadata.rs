//! IMDS proper, under `/metadata` (reference §1; IMDS-doc; IMDS-swagger operations
//! `Identity_GetToken`, `Identity_GetInfo`, `Instances_GetMetadata`, and the unversioned
//! versions list). GET only; every JSON primitive a string.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::ImdsError;
use crate::request::{
    API_VERSIONS, IDENTITY_SINCE, INSTANCE_SINCE, Params, TokenQuery, check_api_version,
    check_headers,
};
use crate::selection::Rules;
use crate::source::VmInstance;
use crate::{Imds, wire};

/// The `/metadata` routes.
pub(crate) fn routes() -> Router<Arc<Imds>> {
    Router::new()
        .route(
            "/metadata/identity/oauth2/token",
            get(get_identity_token).fallback(method_not_allowed),
        )
        .route(
            "/metadata/identity/info",
            get(get_identity_info).fallback(method_not_allowed),
        )
        .route(
            "/metadata/versions",
            get(list_versions).fallback(method_not_allowed),
        )
        .route(
            "/metadata/instance",
            get(get_instance_metadata).fallback(method_not_allowed),
        )
        .route(
            "/metadata/instance/{*filter}",
            get(get_instance_metadata_filtered).fallback(method_not_allowed),
        )
}

/// 405 in IMDS's shape.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ImdsError::MethodNotAllowed {
        path: uri.path().to_owned(),
        method: method.to_string(),
        allow: "GET",
    }
    .to_imds_response()
}

/// The headers, then the query's parameters without duplicates, then `api-version`.
fn versioned_params<'a>(
    headers: &HeaderMap,
    query: Option<&'a str>,
    since: &str,
) -> Result<Params<'a>, ImdsError> {
    check_headers(headers)?;
    let params = Params::from_query(query);
    if let Some(name) = params.duplicate() {
        return Err(ImdsError::DuplicateParameter(name.to_owned()));
    }
    check_api_version(&params, since)?;
    Ok(params)
}

/// `GET /metadata/identity/oauth2/token`. The request is taken whole and its headers and
/// query borrowed (axum's `HeaderMap` and `RawQuery` extractors copy them): this is the
/// hottest route of the on-VM endpoints.
async fn get_identity_token(State(imds): State<Arc<Imds>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let result = async {
        let _admitted = imds.admit()?;
        let params = versioned_params(&parts.headers, parts.uri.query(), IDENTITY_SINCE)?;
        let query = TokenQuery::parse_imds(&params)?;
        imds.token(&query, Rules::Imds).await
    }
    .await;
    match result {
        Ok(served) => wire::imds_token(&served),
        Err(e) => e.to_imds_response(),
    }
}

/// `GET /metadata/identity/info`: the tenant of the VM's identities (IMDS-swagger
/// `IdentityInfoResponse`).
async fn get_identity_info(
    State(imds): State<Arc<Imds>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        versioned_params(&headers, query.as_deref(), IDENTITY_SINCE)?;
        let vm = instance(&imds).await?;
        let tenant = vm.tenant_id.ok_or(ImdsError::VmNotFound)?;
        Ok::<_, ImdsError>(json!({ "tenantId": tenant.to_string() }))
    }
    .await;
    match result {
        Ok(body) => wire::json_ok(body),
        Err(e) => e.to_imds_response(),
    }
}

/// `GET /metadata/versions`: unversioned, oldest first as in IMDS-doc's sample.
async fn list_versions(headers: HeaderMap) -> Response {
    match check_headers(&headers) {
        Ok(()) => {
            let versions: Vec<&str> = API_VERSIONS.iter().rev().copied().collect();
            wire::json_ok(json!({ "apiVersions": versions }))
        }
        Err(e) => e.to_imds_response(),
    }
}

async fn instance(imds: &Imds) -> Result<VmInstance, ImdsError> {
    imds.source
        .instance(&imds.config.vm)
        .await?
        .ok_or(ImdsError::VmNotFound)
}

/// `GET /metadata/instance`.
async fn get_instance_metadata(
    State(imds): State<Arc<Imds>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    instance_metadata(&imds, &headers, query.as_deref(), "").await
}

/// `GET /metadata/instance/{path}`: IMDS's route filtering (IMDS-doc "Route parameters").
async fn get_instance_metadata_filtered(
    State(imds): State<Arc<Imds>>,
    Path(filter): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    instance_metadata(&imds, &headers, query.as_deref(), &filter).await
}

async fn instance_metadata(
    imds: &Imds,
    headers: &HeaderMap,
    query: Option<&str>,
    filter: &str,
) -> Response {
    let result = async {
        let params = versioned_params(headers, query, INSTANCE_SINCE)?;
        let document = instance_document(&instance(imds).await?);
        let node = filter_node(&document, filter).ok_or(ImdsError::MetadataNotFound)?;
        let text = params
            .get("format")
            .is_some_and(|f| f.eq_ignore_ascii_case("text"));
        Ok::<_, ImdsError>((node.clone(), text))
    }
    .await;
    match result {
        Ok((Value::String(leaf), true)) => {
            let mut response = (StatusCode::OK, leaf).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
        Ok((Value::String(_), false)) => ImdsError::LeafNeedsTextFormat.to_imds_response(),
        Ok((node, _)) => wire::json_ok(node),
        Err(e) => e.to_imds_response(),
    }
}

/// Walks `filter` (`compute/name`, `network/interface/0`) down `document`.
fn filter_node<'a>(document: &'a Value, filter: &str) -> Option<&'a Value> {
    filter
        .split('/')
        .filter(|s| !s.is_empty())
        .try_fold(document, |node, key| match node {
            Value::Object(map) => map.get(key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// The instance document: the `compute` members a VM in azlite has, all strings (IMDS-doc:
/// "missing or inapplicable values are always included but will be set to an empty
/// string"); no network interfaces.
fn instance_document(vm: &VmInstance) -> Value {
    let tags: Vec<String> = vm.tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    let tags_list: Vec<Value> = vm
        .tags
        .iter()
        .map(|(k, v)| json!({ "name": k, "value": v }))
        .collect();
    json!({
        "compute": {
            "azEnvironment": "AzurePublicCloud",
            "location": vm.location,
            "name": vm.name,
            "osType": vm.os_type,
            "provider": "Microsoft.Compute",
            "resourceGroupName": vm.resource_group,
            "resourceId": vm.resource_id.as_str(),
            "subscriptionId": vm.subscription_id,
            "tags": tags.join(";"),
            "tagsList": tags_list,
            "vmId": vm.vm_id,
            "vmScaleSetName": vm.vm_scale_set_name,
            "vmSize": vm.vm_size,
            "zone": vm.zone,
        },
        "network": { "interface": [] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_walk_objects_and_arrays() {
        let doc = json!({"compute": {"name": "vm1"}, "network": {"interface": [{"mac": "00"}]}});
        assert_eq!(filter_node(&doc, ""), Some(&doc));
        assert_eq!(filter_node(&doc, "compute/name"), Some(&json!("vm1")));
        assert_eq!(
            filter_node(&doc, "network/interface/0/mac/"),
            Some(&json!("00"))
        );
        assert_eq!(filter_node(&doc, "network/interface/1"), None);
        assert_eq!(filter_node(&doc, "compute/name/x"), None);
    }
}
