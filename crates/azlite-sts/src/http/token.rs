//! `POST /{tenant}/oauth2/token` and `POST /{tenant}/oauth2/v2.0/token`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{correlation_id, entra_error_response};
use crate::grant::{Endpoint, TokenForm, TokenRequest, TokenResponse};
use crate::{Sts, StsError};

/// The v1 token endpoint: `resource=`, string-typed numbers.
pub(super) async fn token_v1(
    State(sts): State<Arc<Sts>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(sts, Endpoint::V1, tenant, headers, body).await
}

/// The v2 token endpoint: `scope=<resource>/.default`, numbers.
pub(super) async fn token_v2(
    State(sts): State<Arc<Sts>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(sts, Endpoint::V2, tenant, headers, body).await
}

/// Any other method on a token endpoint.
pub(super) async fn wrong_method(
    State(sts): State<Arc<Sts>>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let error = StsError::MethodNotAllowed(method.to_string());
    entra_error_response(&error, None, sts.clock().now(), &correlation_id(&headers))
}

async fn token(
    sts: Arc<Sts>,
    endpoint: Endpoint,
    tenant: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let correlation = correlation_id(&headers);
    let form = parse_form(&headers, &body);
    match sts
        .token(TokenRequest {
            endpoint,
            tenant,
            form,
        })
        .await
    {
        Ok(answer) => success(endpoint, &answer, &correlation, &headers),
        Err(error) => {
            tracing::debug!(%error, "token request refused");
            entra_error_response(&error, None, sts.clock().now(), &correlation)
        }
    }
}

/// Reads the form body (only when it is declared as a form, as Entra does), taking the first
/// value of a repeated field, then folds in HTTP Basic client authentication (RFC 6749
/// §2.3.1), whose parts are themselves form-encoded.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> TokenForm {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let mut form = TokenForm::default();
    if is_form {
        for (key, value) in form_urlencoded::parse(body) {
            let slot = match key.as_ref() {
                "grant_type" => &mut form.grant_type,
                "client_id" => &mut form.client_id,
                "client_secret" => &mut form.client_secret,
                "client_assertion_type" => &mut form.client_assertion_type,
                "client_assertion" => &mut form.client_assertion,
                "resource" => &mut form.resource,
                "scope" => &mut form.scope,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.into_owned());
        }
    }
    if let Some((id, secret)) = basic_credentials(headers) {
        form.client_id.get_or_insert(id);
        form.client_secret.get_or_insert(secret);
    }
    form
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

fn success(
    endpoint: Endpoint,
    answer: &TokenResponse,
    correlation: &str,
    request: &HeaderMap,
) -> Response {
    let t = &answer.token;
    let body = match endpoint {
        // v1 answers with strings, v2 with numbers: the Rust SDK parses v2 `expires_in` as an
        // integer and fails on a string; MSAL takes both.
        Endpoint::V1 => json!({
            "token_type": "Bearer",
            "expires_in": answer.expires_in.to_string(),
            "ext_expires_in": answer.expires_in.to_string(),
            "expires_on": t.expires_on.to_string(),
            "not_before": t.not_before.to_string(),
            "resource": answer.resource,
            "access_token": t.access_token,
        }),
        Endpoint::V2 => json!({
            "token_type": "Bearer",
            "expires_in": answer.expires_in,
            "ext_expires_in": answer.expires_in,
            "access_token": t.access_token,
        }),
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    let echo = request
        .get("return-client-request-id")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if echo && let Ok(v) = HeaderValue::from_str(correlation) {
        headers.insert("client-request-id", v);
    }
    (headers, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn form_takes_the_first_value_and_ignores_non_forms() {
        let h = headers(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )]);
        let form = parse_form(
            &h,
            b"grant_type=client_credentials&scope=a%2F.default&scope=b",
        );
        assert_eq!(form.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(form.scope.as_deref(), Some("a/.default"));
        let json = headers(&[("content-type", "application/json")]);
        assert!(
            parse_form(&json, b"grant_type=client_credentials")
                .grant_type
                .is_none()
        );
    }

    #[test]
    fn basic_authentication_is_form_decoded() {
        let encoded = STANDARD.encode("my%20app:p%2Bss+word");
        let h = headers(&[("authorization", &format!("Basic {encoded}"))]);
        let form = parse_form(&h, b"");
        assert_eq!(form.client_id.as_deref(), Some("my app"));
        assert_eq!(form.client_secret.as_deref(), Some("p+ss word"));
    }
}
