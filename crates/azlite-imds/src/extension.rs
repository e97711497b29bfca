//! `/oauth2/token`: the managed-identity VM extension's endpoint (deprecated, on
//! `localhost:50342`, reference §2.1), and Cloud Shell's, which reuses the address (§2.2).
//!
//! The extension took `GET ?resource=` (current docs) and `POST` with a form body (the
//! first tutorials' `curl --data`); Cloud Shell clients (azure-identity through
//! `MSI_ENDPOINT`, MSAL and `az` hard-coded to `http://localhost:50342/oauth2/token`) send
//! exactly that form POST. So one endpoint serves both, with IMDS's answer (which all of
//! them parse) and IMDS's selectors; GET errors in IMDS's shape, POST errors in Cloud
//! Shell's `{"error":{"code","message"}}`, which MSAL reads (MSAL-CS). No `api-version`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;

use crate::error::ImdsError;
use crate::request::{Params, TokenQuery, check_headers};
use crate::selection::Rules;
use crate::{Imds, wire};

/// The `/oauth2/token` route.
pub(crate) fn routes() -> Router<Arc<Imds>> {
    Router::new().route(
        "/oauth2/token",
        get(get_extension_token)
            .post(post_cloud_shell_token)
            .fallback(method_not_allowed),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ImdsError::MethodNotAllowed {
        path: uri.path().to_owned(),
        method: method.to_string(),
        allow: "GET, POST",
    }
    .to_imds_response()
}

async fn extension_token(
    imds: &Imds,
    headers: &HeaderMap,
    params: Params<'_>,
) -> Result<wire::Served, ImdsError> {
    let _admitted = imds.admit()?;
    check_headers(headers)?;
    let query = TokenQuery::parse_imds(&params)?;
    imds.token(&query, Rules::Imds).await
}

/// `GET /oauth2/token?resource=…` with `Metadata: true`.
async fn get_extension_token(
    State(imds): State<Arc<Imds>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match extension_token(&imds, &headers, Params::from_query(query.as_deref())).await {
        Ok(served) => wire::imds_token(&served),
        Err(e) => e.to_imds_response(),
    }
}

/// `POST /oauth2/token` with the form `resource=…` (query parameters as a fallback) and
/// `Metadata: true`.
async fn post_cloud_shell_token(
    State(imds): State<Arc<Imds>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = Params::from_urlencoded(&body).or(Params::from_query(query.as_deref()));
    match extension_token(&imds, &headers, params).await {
        Ok(served) => wire::imds_token(&served),
        Err(e) => e.to_cloud_shell_response(),
    }
}
