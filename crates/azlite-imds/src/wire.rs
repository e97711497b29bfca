//! Successful answers. IMDS answers every value as a JSON string, numbers included
//! (reference §1.2: the Rust SDK fails on a JSON number for `expires_on`, MSAL needs
//! `expires_in`, azure-identity does `int(expires_on)`). App Service answers a subset, and
//! its 2017-09-01 API a date string for `expires_on` (reference §2.3).

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_token::ManagedIdentityToken;
use azlite_types::UnixTime;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

/// What real IMDS sends in `Server`; MSAL.NET's probe looks for `IMDS/` (reference §1.2).
pub(crate) const IMDS_SERVER: &str = "IMDS/150.870.65.1854";

/// A token handed to a caller.
#[derive(Debug, Clone)]
pub(crate) struct Served {
    /// The token, possibly from the cache.
    pub(crate) token: Arc<ManagedIdentityToken>,
    /// When it is served: `expires_in` counts from here.
    pub(crate) now: UnixTime,
    /// The selector to echo (`object_id`, `msi_res_id`, `mi_res_id`) as sent.
    pub(crate) echo: Option<(&'static str, String)>,
}

impl Served {
    fn expires_in(&self) -> String {
        (self.token.expires_on - self.now).max(0).to_string()
    }
}

/// `200` with a JSON body, as IMDS types it.
pub(crate) fn json_ok(body: Value) -> Response {
    let mut response = (StatusCode::OK, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// IMDS's token answer (reference §1.2), field order as in its samples.
pub(crate) fn imds_token(served: &Served) -> Response {
    let t = &served.token;
    let expires_in = served.expires_in();
    let mut body = Map::new();
    body.insert("access_token".into(), json!(t.access_token));
    body.insert("client_id".into(), json!(t.client_id.to_string()));
    body.insert("expires_in".into(), json!(expires_in));
    body.insert("expires_on".into(), json!(t.expires_on.to_string()));
    body.insert("ext_expires_in".into(), json!(expires_in));
    body.insert("not_before".into(), json!(t.not_before.to_string()));
    body.insert("resource".into(), json!(t.resource));
    body.insert("token_type".into(), json!("Bearer"));
    if let Some((name, value)) = &served.echo {
        body.insert((*name).into(), json!(value));
    }
    json_ok(Value::Object(body))
}

/// App Service 2019-08-01 (APPSVC-doc sample, plus `expires_in`, which every parser
/// tolerates and some want).
pub(crate) fn app_service_token(served: &Served) -> Response {
    let t = &served.token;
    json_ok(json!({
        "access_token": t.access_token,
        "expires_on": t.expires_on.to_string(),
        "resource": t.resource,
        "token_type": "Bearer",
        "client_id": t.client_id.to_string(),
        "expires_in": served.expires_in(),
    }))
}

/// App Service 2017-09-01: `expires_on` as `MM/dd/yyyy hh:mm:ss AM +00:00` (APPSVC-2017),
/// which azure-identity's `_parse_app_service_expires_on` reads.
pub(crate) fn app_service_2017_token(served: &Served) -> Response {
    let t = &served.token;
    json_ok(json!({
        "access_token": t.access_token,
        "expires_on": app_service_date(t.expires_on),
        "resource": t.resource,
        "token_type": "Bearer",
    }))
}

/// A Unix time as the 2017 App Service API prints it, in UTC.
pub(crate) fn app_service_date(t: UnixTime) -> String {
    let format = format_description!(
        "[month]/[day]/[year] [hour repr:12]:[minute]:[second] [period] +00:00"
    );
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2017_date_has_a_twelve_hour_clock() {
        // 2017-09-14 12:00:00 UTC and 13:05:09 UTC.
        assert_eq!(
            app_service_date(1_505_390_400),
            "09/14/2017 12:00:00 PM +00:00"
        );
        assert_eq!(
            app_service_date(1_505_394_309),
            "09/14/2017 01:05:09 PM +00:00"
        );
        assert_eq!(
            app_service_date(1_505_347_200),
            "09/14/2017 12:00:00 AM +00:00"
        );
    }
}
