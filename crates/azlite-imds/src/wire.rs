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
use serde_json::{Value, json};
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

/// IMDS's token answer (reference §1.2), field order as in its samples. Written straight
/// into the body's bytes (every value a JSON string): this is the hottest answer azlite
/// gives, and a `serde_json::Value` tree would cost an allocation per field.
pub(crate) fn imds_token(served: &Served) -> Response {
    let t = &served.token;
    let expires_in = served.expires_in();
    let mut body = Vec::with_capacity(t.access_token.len() + t.resource.len() + 320);
    let mut fields = JsonFields::new(&mut body);
    fields.string("access_token", &t.access_token);
    fields.display("client_id", &t.client_id);
    fields.string("expires_in", &expires_in);
    fields.display("expires_on", &t.expires_on);
    fields.string("ext_expires_in", &expires_in);
    fields.display("not_before", &t.not_before);
    fields.string("resource", &t.resource);
    fields.string("token_type", "Bearer");
    if let Some((name, value)) = &served.echo {
        fields.string(name, value);
    }
    fields.end();
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A JSON object of string members, written as it goes.
struct JsonFields<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> JsonFields<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    fn name(&mut self, name: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, name);
        self.out.push(b':');
    }

    /// `"name":"value"`, escaped as JSON requires.
    fn string(&mut self, name: &str, value: &str) {
        self.name(name);
        let _ = serde_json::to_writer(&mut *self.out, value);
    }

    /// `"name":"<value as displayed>"`, for values whose text needs no escaping (numbers,
    /// GUIDs).
    fn display(&mut self, name: &str, value: &impl std::fmt::Display) {
        use std::io::Write;
        self.name(name);
        let _ = write!(self.out, "\"{value}\"");
    }

    fn end(self) {
        self.out.push(b'}');
    }
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
    use azlite_types::ClientId;
    use serde_json::Map;

    use super::*;

    #[tokio::test]
    async fn the_token_answer_is_imds_json_in_its_order_with_strings_escaped() {
        let client_id = ClientId::new_random();
        let served = Served {
            token: Arc::new(ManagedIdentityToken {
                access_token: "a.b.c".into(),
                expires_on: 1_000_100,
                not_before: 1_000_000,
                resource: "https://x.example/\"q\"".into(),
                client_id,
            }),
            now: 1_000_040,
            echo: Some(("msi_res_id", "/subscriptions/s/x".into())),
        };
        let response = imds_token(&served);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let parsed: Map<String, Value> = serde_json::from_slice(&body).unwrap();
        let expected = json!({
            "access_token": "a.b.c",
            "client_id": client_id.to_string(),
            "expires_in": "60",
            "expires_on": "1000100",
            "ext_expires_in": "60",
            "not_before": "1000000",
            "resource": "https://x.example/\"q\"",
            "token_type": "Bearer",
            "msi_res_id": "/subscriptions/s/x",
        });
        assert_eq!(Value::Object(parsed.clone()), expected);
        let order: Vec<&str> = parsed.keys().map(String::as_str).collect();
        let wanted: Vec<&str> = expected
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(order, wanted);
    }

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
