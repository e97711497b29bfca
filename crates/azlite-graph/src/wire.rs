//! Small pieces of Graph's wire format: request ids, the query string, JSON bodies,
//! collections and timestamps.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_types::UnixTime;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::GraphError;

/// Where `@odata.context` points: Graph's own metadata document, whatever host was called.
pub(crate) const METADATA: &str = "https://graph.microsoft.com/v1.0/$metadata";

/// The ids Graph puts on every answer (headers, and `innerError` of an error).
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    /// `request-id`: new for every request.
    pub(crate) request_id: String,
    /// `client-request-id`: the client's, else the request id.
    pub(crate) client_request_id: String,
    /// When the request arrived (the injected clock).
    pub(crate) now: UnixTime,
}

impl RequestContext {
    pub(crate) fn new(headers: &HeaderMap, now: UnixTime) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map_or_else(|| request_id.clone(), str::to_owned);
        Self {
            request_id,
            client_request_id,
            now,
        }
    }

    /// `innerError.date`: `2024-05-17T20:31:29`, without a zone, as Graph writes it.
    pub(crate) fn date(&self) -> String {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        OffsetDateTime::from_unix_timestamp(self.now)
            .ok()
            .and_then(|d| d.format(&format).ok())
            .unwrap_or_default()
    }

    /// Puts the ids on an answer.
    pub(crate) fn stamp(&self, response: &mut Response) {
        let headers = response.headers_mut();
        for (name, value) in [
            ("request-id", &self.request_id),
            ("client-request-id", &self.client_request_id),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
    }
}

/// The query options azlite reads. Others (`$select`, `$top`, `$count`, ...) are accepted
/// and ignored: every list fits in one page.
#[derive(Debug, Default)]
pub(crate) struct Query {
    /// `$filter`, if any.
    pub(crate) filter: Option<String>,
}

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let mut out = Self::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            // OData system query options may be sent without the `$`.
            if key.eq_ignore_ascii_case("$filter") || key.eq_ignore_ascii_case("filter") {
                out.filter = Some(value.into_owned());
            }
        }
        out
    }
}

/// Parses a JSON request body into `T` (an empty body as `{}`), with Graph's error for
/// content that is not JSON of the right shape.
pub(crate) fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, GraphError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. ({e})"
            ),
        )
    })
}

/// A JSON answer with a status.
pub(crate) fn json_response(status: StatusCode, value: Value) -> Response {
    (status, Json(value)).into_response()
}

/// `204 No Content`, Graph's answer to a deletion.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// One entity with its `@odata.context` (`applications/$entity`, ...).
pub(crate) fn entity(status: StatusCode, context: &str, value: Value) -> Response {
    let mut out = json!({ "@odata.context": format!("{METADATA}#{context}") });
    if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), value) {
        out.extend(fields);
    }
    json_response(status, out)
}

/// A collection: `{"@odata.context": …#{context}, "value": [...]}`.
pub(crate) fn collection(context: &str, value: Vec<Value>) -> Response {
    json_response(
        StatusCode::OK,
        json!({ "@odata.context": format!("{METADATA}#{context}"), "value": value }),
    )
}

/// `2024-01-01T00:00:00Z`, as Graph writes `DateTimeOffset` values.
pub(crate) fn timestamp(t: UnixTime) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses a `DateTimeOffset` a client sent (RFC 3339, fractions allowed), to whole seconds.
pub(crate) fn parse_timestamp(text: &str) -> Option<UnixTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_graphs_formats() {
        assert_eq!(timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20.1234567Z"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_timestamp("2023-11-14T23:13:20+01:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_timestamp("2023-11-14"), None);
        let context = RequestContext::new(&HeaderMap::new(), 1_700_000_000);
        assert_eq!(context.date(), "2023-11-14T22:13:20");
        assert_eq!(context.client_request_id, context.request_id);
    }

    #[test]
    fn an_empty_body_is_an_empty_object_and_bad_json_is_refused() {
        let empty: serde_json::Map<String, Value> = body(b" ").unwrap();
        assert!(empty.is_empty());
        let err = body::<serde_json::Map<String, Value>>(b"{not json").unwrap_err();
        assert_eq!(
            (err.status, err.code),
            (StatusCode::BAD_REQUEST, "BadRequest")
        );
    }

    #[test]
    fn the_filter_is_read_with_or_without_the_dollar() {
        let q = Query::parse(Some("%24filter=appId%20eq%20%27x%27&$top=5"));
        assert_eq!(q.filter.as_deref(), Some("appId eq 'x'"));
        let q = Query::parse(Some("filter=displayName eq 'a+b'"));
        assert_eq!(q.filter.as_deref(), Some("displayName eq 'a b'"));
        assert_eq!(Query::parse(None).filter, None);
    }
}
