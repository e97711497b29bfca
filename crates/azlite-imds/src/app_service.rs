//! `GET /msi/token`: App Service's (and Functions', Container Apps') identity endpoint,
//! what `IDENTITY_ENDPOINT` points at (reference §2.3). Any client can be pointed at it over
//! plain HTTP, which makes it the easy way in for the SDKs (§2.7).
//!
//! Two API versions:
//!
//! - `2019-08-01`: the secret in `X-IDENTITY-HEADER` (403 when missing or wrong);
//!   selectors `client_id`, `principal_id` (alias `object_id`), `mi_res_id` (and
//!   `msi_res_id`, which the Rust SDK sends); an unknown identity is 400; the answer has
//!   `expires_on` as a string of epoch seconds;
//! - `2017-09-01` (also Azure ML's `MSI_ENDPOINT` + `MSI_SECRET`): the secret in `Secret`
//!   (401 when missing or wrong); selector `clientid`; an unknown identity silently falls
//!   back to the system-assigned one; `expires_on` is a date string.
//!
//! Errors are `{"statusCode":…,"message":…}`, the members MSAL reads.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;

use crate::error::ImdsError;
use crate::request::{APP_SERVICE_2017_SELECTORS, APP_SERVICE_SELECTORS, Params, TokenQuery};
use crate::selection::Rules;
use crate::{Imds, wire};

/// The `/msi/token` route.
pub(crate) fn routes() -> Router<Arc<Imds>> {
    Router::new().route(
        "/msi/token",
        get(get_app_service_token).fallback(method_not_allowed),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ImdsError::MethodNotAllowed {
        path: uri.path().to_owned(),
        method: method.to_string(),
        allow: "GET",
    }
    .to_app_service_response()
}

/// The two API versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V2019,
    V2017,
}

/// Compares secrets in time independent of where they differ.
fn same_secret(sent: Option<&[u8]>, expected: &[u8]) -> bool {
    let Some(sent) = sent else {
        return false;
    };
    sent.len() == expected.len()
        && sent
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `GET /msi/token?resource=…&api-version=…`.
async fn get_app_service_token(
    State(imds): State<Arc<Imds>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let _admitted = imds.admit()?;
        let params = Params::from_query(query.as_deref());
        let version = match params.get("api-version") {
            Some("2019-08-01") => Version::V2019,
            Some("2017-09-01") => Version::V2017,
            _ => return Err(ImdsError::InvalidApiVersion),
        };
        let (header, refusal, selectors, rules) = match version {
            Version::V2019 => (
                "x-identity-header",
                ImdsError::WrongIdentityHeader,
                APP_SERVICE_SELECTORS,
                Rules::AppService,
            ),
            Version::V2017 => (
                "secret",
                ImdsError::WrongSecret,
                APP_SERVICE_2017_SELECTORS,
                Rules::AppService2017,
            ),
        };
        let sent = headers.get(header).map(|v| v.as_bytes());
        if !same_secret(sent, imds.config.identity_header.as_bytes()) {
            return Err(refusal);
        }
        let query = TokenQuery::parse(&params, selectors)?;
        Ok((version, imds.token(&query, rules).await?))
    }
    .await;
    match result {
        Ok((Version::V2019, served)) => wire::app_service_token(&served),
        Ok((Version::V2017, served)) => wire::app_service_2017_token(&served),
        Err(e) => e.to_app_service_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_must_match_exactly() {
        assert!(same_secret(Some(b"abc"), b"abc"));
        assert!(!same_secret(Some(b"abd"), b"abc"));
        assert!(!same_secret(Some(b"ab"), b"abc"));
        assert!(!same_secret(None, b"abc"));
    }
}
