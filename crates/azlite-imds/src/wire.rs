//! Successful answers. IMDS answers every value as a JSON string, numbers included
//! (reference §1.2: the Rust SDK fails on a JSON number for `expires_on`, MSAL needs
//! `expires_in`, azure-identity does `int(expires_on)`). App Service answers a subset, and
//! its 2017-09-01 API a date string for `expires_on` (reference §2.3).

use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_token::ManagedIdentityToken;
use azlite_types::UnixTime;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

/// What real IMDS sends in `Server`; MSAL.NET's probe looks for `IMDS/` (reference §1.2).
pub(crate) const IMDS_SERVER: &str = "IMDS/150.870.65.1854";

/// A token from the STS, with the parts of IMDS's answer that do not change while it is
/// cached written once (every member but `expires_in` and `ext_expires_in`, which count
/// down), and the whole answer of the last second served, shared: a request in the same
/// second as the one before it sends those bytes again (no allocation, no copy); the first
/// of a second copies three slices and two numbers. No JSON escaping or formatting per
/// request either way.
#[derive(Debug)]
pub(crate) struct Issued {
    /// The token.
    pub(crate) token: ManagedIdentityToken,
    /// `{"access_token":"…","client_id":"…","expires_in":"` ‖ `","expires_on":"…",
    /// "ext_expires_in":"` ‖ `","not_before":"…","resource":"…","token_type":"Bearer"`.
    rendered: Box<[u8]>,
    /// Where the second and third parts of `rendered` start.
    splits: [usize; 2],
    /// The last whole answer without an echoed selector, with its `expires_in`.
    last: Mutex<Option<(i64, Bytes)>>,
}

impl Issued {
    /// Renders IMDS's answer for `token` (reference §1.2), field order as in its samples.
    pub(crate) fn new(token: ManagedIdentityToken) -> Self {
        let t = &token;
        let mut out = Vec::with_capacity(t.access_token.len() + t.resource.len() + 256);
        let mut fields = JsonFields::new(&mut out);
        fields.string("access_token", &t.access_token);
        fields.display("client_id", &t.client_id);
        fields.name("expires_in");
        fields.out.push(b'"');
        let first = fields.out.len();
        fields.out.push(b'"');
        fields.display("expires_on", &t.expires_on);
        fields.name("ext_expires_in");
        fields.out.push(b'"');
        let second = fields.out.len();
        fields.out.push(b'"');
        fields.display("not_before", &t.not_before);
        fields.string("resource", &t.resource);
        fields.string("token_type", "Bearer");
        Self {
            token,
            rendered: out.into_boxed_slice(),
            splits: [first, second],
            last: Mutex::new(None),
        }
    }

    /// IMDS's whole answer (no echoed selector) with `left` seconds left.
    fn imds_body(&self, left: i64) -> Bytes {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, body)) = &*last
            && *at == left
        {
            return body.clone();
        }
        let mut body = Vec::with_capacity(self.rendered.len() + 2 * 20 + 1);
        self.write_imds_body(left, &mut body);
        body.push(b'}');
        let body = Bytes::from(body);
        *last = Some((left, body.clone()));
        body
    }

    /// The bytes of IMDS's answer without its closing brace, `expires_in` being `left`.
    fn write_imds_body(&self, left: i64, out: &mut Vec<u8>) {
        let [first, second] = self.splits;
        out.extend_from_slice(&self.rendered[..first]);
        push_decimal(out, left);
        out.extend_from_slice(&self.rendered[first..second]);
        push_decimal(out, left);
        out.extend_from_slice(&self.rendered[second..]);
    }
}

/// Appends the decimal digits of `n` (not negative).
fn push_decimal(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A token handed to a caller.
#[derive(Debug, Clone)]
pub(crate) struct Served {
    /// The token, possibly from the cache.
    pub(crate) token: Arc<Issued>,
    /// When it is served: `expires_in` counts from here.
    pub(crate) now: UnixTime,
    /// The selector to echo (`object_id`, `msi_res_id`, `mi_res_id`) as sent.
    pub(crate) echo: Option<(&'static str, String)>,
}

impl Served {
    fn seconds_left(&self) -> i64 {
        (self.token.token.expires_on - self.now).max(0)
    }

    fn expires_in(&self) -> String {
        self.seconds_left().to_string()
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

/// IMDS's token answer (reference §1.2), field order as in its samples: the parts
/// [`Issued`] rendered, the seconds left, and the echoed selector, if any.
pub(crate) fn imds_token(served: &Served) -> Response {
    let left = served.seconds_left();
    let body = match &served.echo {
        None => served.token.imds_body(left),
        Some((name, value)) => {
            let mut body = Vec::with_capacity(
                served.token.rendered.len() + 2 * 20 + name.len() + 2 * value.len() + 9,
            );
            served.token.write_imds_body(left, &mut body);
            JsonFields::continuing(&mut body).string(name, value);
            body.push(b'}');
            Bytes::from(body)
        }
    };
    let mut response = Response::new(Body::from(body));
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

    /// Members after those already in `out` (which has no closing brace yet).
    fn continuing(out: &'a mut Vec<u8>) -> Self {
        Self { out, first: false }
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
}

/// App Service 2019-08-01 (APPSVC-doc sample, plus `expires_in`, which every parser
/// tolerates and some want).
pub(crate) fn app_service_token(served: &Served) -> Response {
    let t = &served.token.token;
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
    let t = &served.token.token;
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
            token: Arc::new(Issued::new(ManagedIdentityToken {
                access_token: "a.b.c".into(),
                expires_on: 1_000_100,
                not_before: 1_000_000,
                resource: "https://x.example/\"q\"".into(),
                client_id,
            })),
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

    async fn body_of(served: &Served) -> String {
        let body = axum::body::to_bytes(imds_token(served).into_body(), 1 << 16)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_rendered_answer_counts_down_and_equals_one_written_whole() {
        let client_id = ClientId::new_random();
        let issued = Arc::new(Issued::new(ManagedIdentityToken {
            access_token: "eyJ0.e\\u2028y.sig".into(),
            expires_on: 1_086_400,
            not_before: 1_000_000,
            resource: "https://vault.azure.net".into(),
            client_id,
        }));
        for (now, left) in [
            (1_000_001, "86399"),
            (1_086_390, "10"),
            (1_086_399, "1"),
            (1_086_400, "0"),
            (1_090_000, "0"),
        ] {
            let served = Served {
                token: issued.clone(),
                now,
                echo: None,
            };
            let whole = serde_json::to_string(&json!({
                "access_token": "eyJ0.e\\u2028y.sig",
                "client_id": client_id.to_string(),
                "expires_in": left,
                "expires_on": "1086400",
                "ext_expires_in": left,
                "not_before": "1000000",
                "resource": "https://vault.azure.net",
                "token_type": "Bearer",
            }))
            .unwrap();
            assert_eq!(body_of(&served).await, whole);
        }
    }

    #[test]
    fn decimals_are_written_without_formatting() {
        for n in [0, 7, 10, 99, 300, 86_399, 1_767_225_600, i64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
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
