//! Entra's error body, built once for every STS endpoint.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::StsError;
use crate::grant::entra_timestamp;

/// Renders `error` the way Entra does, with `oauth_error` overriding the OAuth `error` field
/// where an endpoint uses another one (`invalid_tenant` on discovery documents).
pub fn entra_error_response(
    error: &StsError,
    oauth_error: Option<&str>,
    now: i64,
    correlation_id: &str,
) -> Response {
    if let StsError::Internal(source) = error {
        tracing::error!(error = %source, chain = ?source, "token service failure");
    }
    let trace_id = uuid::Uuid::new_v4().to_string();
    let timestamp = entra_timestamp(now);
    let code = error.code();
    let body = json!({
        "error": oauth_error.unwrap_or_else(|| error.oauth_error()),
        "error_description": format!(
            "AADSTS{code}: {error}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        // RFC 6749 §5.2: a 401 for client authentication carries a challenge.
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"azlite\""),
        );
    }
    (status, headers, Json(body)).into_response()
}
