//! OpenID discovery, the JWKS, and instance discovery.
//!
//! Shapes follow Entra's documents as captured in the Azure SDK test recordings (see
//! `shared/reference/identity-protocol.md` §3.5, §4.5). `common`, `organizations` and
//! `consumers` get the tenant-independent documents with a literal `{tenantid}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_token::JwkSet;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{base_url, correlation_id, entra_error_response};
use crate::{Sts, StsError};

/// The tenant a document is about: a concrete id, or the `{tenantid}` template.
async fn tenant_for_document(sts: &Sts, segment: &str) -> Result<String, StsError> {
    if matches!(
        segment.to_ascii_lowercase().as_str(),
        "common" | "organizations" | "consumers"
    ) {
        return Ok("{tenantid}".to_owned());
    }
    Ok(sts.resolve_tenant(segment).await?.id.to_string())
}

fn cached(body: Value) -> Response {
    // Entra serves discovery documents with a day of private caching.
    let headers = [(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    )];
    (headers, Json(body)).into_response()
}

async fn document(
    sts: Arc<Sts>,
    segment: String,
    headers: HeaderMap,
    build: impl FnOnce(&str, &str, &str) -> Value,
) -> Response {
    match tenant_for_document(&sts, &segment).await {
        Ok(tenant) => cached(build(&base_url(&headers), &segment, &tenant)),
        Err(e) => entra_error_response(
            &e,
            Some("invalid_tenant"),
            sts.clock().now(),
            &correlation_id(&headers),
        ),
    }
}

/// `GET /{tenant}/.well-known/openid-configuration` (v1).
pub(super) async fn openid_configuration_v1(
    State(sts): State<Arc<Sts>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Response {
    document(sts, segment, headers, |base, segment, tenant| {
        json!({
            "token_endpoint": format!("{base}/{segment}/oauth2/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/common/discovery/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            "issuer": format!("https://sts.windows.net/{tenant}/"),
            "microsoft_multi_refresh_token": true,
            "authorization_endpoint": format!("{base}/{segment}/oauth2/authorize"),
            "device_authorization_endpoint": format!("{base}/{segment}/oauth2/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/{segment}/oauth2/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
            "check_session_iframe": format!("{base}/{segment}/oauth2/checksession"),
            "userinfo_endpoint": format!("{base}/{segment}/openid/userinfo"),
            "kerberos_endpoint": format!("{base}/{segment}/kerberos"),
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })
    })
    .await
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub(super) async fn openid_configuration_v2(
    State(sts): State<Arc<Sts>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Response {
    document(sts, segment, headers, |base, segment, tenant| {
        json!({
            "token_endpoint": format!("{base}/{segment}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/{segment}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/{segment}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": format!("{base}/{segment}/kerberos"),
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })
    })
    .await
}

/// `GET /{tenant}/discovery/keys` (v1): the JWKS without per-key issuers.
pub(super) async fn keys_v1(State(sts): State<Arc<Sts>>, Path(_segment): Path<String>) -> Response {
    cached(json!(*sts.keys().jwks()))
}

/// `GET /{tenant}/discovery/v2.0/keys`: the JWKS with each key's `issuer`, as multi-tenant
/// validators check it.
pub(super) async fn keys_v2(
    State(sts): State<Arc<Sts>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Response {
    match tenant_for_document(&sts, &segment).await {
        Ok(tenant) => {
            let mut jwks: JwkSet = (*sts.keys().jwks()).clone();
            for key in &mut jwks.keys {
                key.issuer = Some(format!("https://login.microsoftonline.com/{tenant}/v2.0"));
            }
            cached(json!(jwks))
        }
        Err(e) => entra_error_response(
            &e,
            Some("invalid_tenant"),
            sts.clock().now(),
            &correlation_id(&headers),
        ),
    }
}

/// Query of instance discovery.
#[derive(Debug, Deserialize)]
pub(super) struct InstanceQuery {
    authorization_endpoint: Option<String>,
}

/// Entra's public-cloud authority aliases, as instance discovery lists them.
const PUBLIC_CLOUD: &[&str] = &[
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
];

/// `GET /common/discovery/instance?authorization_endpoint=…&api-version=1.1`.
///
/// Known: the public cloud's host names, and the host the client is talking to (azlite's
/// own listener), so MSAL with an authority at `https://127.0.0.1:8443/{tenant}` validates.
pub(super) async fn instance_discovery(
    State(sts): State<Arc<Sts>>,
    Path(_segment): Path<String>,
    Query(query): Query<InstanceQuery>,
    headers: HeaderMap,
) -> Response {
    let endpoint = query.authorization_endpoint.unwrap_or_default();
    let parsed = endpoint
        .strip_prefix("https://")
        .and_then(|rest| rest.split_once('/'));
    let own_host = base_url(&headers)
        .trim_start_matches("https://")
        .to_ascii_lowercase();
    let Some((host, path)) = parsed else {
        return invalid_instance(&sts, &headers);
    };
    let host = host.to_ascii_lowercase();
    let tenant = path.split('/').next().unwrap_or("common");
    let metadata = if PUBLIC_CLOUD.contains(&host.as_str()) {
        json!([{
            "preferred_network": "login.microsoftonline.com",
            "preferred_cache": "login.windows.net",
            "aliases": PUBLIC_CLOUD,
        }])
    } else if host == own_host {
        json!([{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }])
    } else {
        return invalid_instance(&sts, &headers);
    };
    let base = if host == own_host {
        format!("https://{host}")
    } else {
        "https://login.microsoftonline.com".to_owned()
    };
    cached(json!({
        "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": metadata,
    }))
}

fn invalid_instance(sts: &Sts, headers: &HeaderMap) -> Response {
    let now = sts.clock().now();
    let correlation = correlation_id(headers);
    let timestamp = crate::grant::entra_timestamp(now);
    let trace = uuid::Uuid::new_v4();
    let body = json!({
        "error": "invalid_instance",
        "error_description": format!("AADSTS50049: Unknown or invalid instance.\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"),
        "error_codes": [50049],
        "timestamp": timestamp,
        "trace_id": trace.to_string(),
        "correlation_id": correlation,
        "error_uri": "https://login.microsoftonline.com/error?code=50049",
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}
