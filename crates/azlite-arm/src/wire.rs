//! Small pieces of ARM's wire format: the query string, JSON bodies, timestamps.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_types::UnixTime;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ArmError;

/// The query parameters ARM looks at.
#[derive(Debug, Default)]
pub(crate) struct Query {
    api_version: Option<String>,
    /// `$filter`, if any.
    pub(crate) filter: Option<String>,
    /// `$top`, if any (a non-number is ignored, as ARM ignores what it cannot use).
    pub(crate) top: Option<usize>,
    /// `$skiptoken`, where a paged list goes on.
    pub(crate) skip_token: Option<String>,
    /// `$expand`, if any.
    pub(crate) expand: Option<String>,
    /// Every parameter as sent, in order (a `nextLink` repeats them).
    pub(crate) pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let mut out = Self::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                k if k.eq_ignore_ascii_case("api-version") => {
                    out.api_version = Some(value.clone().into_owned())
                }
                "$filter" => out.filter = Some(value.clone().into_owned()),
                "$top" => out.top = value.parse().ok(),
                k if k.eq_ignore_ascii_case("$skiptoken") => {
                    out.skip_token = Some(value.clone().into_owned())
                }
                "$expand" => out.expand = Some(value.clone().into_owned()),
                _ => {}
            }
            out.pairs.push((key.into_owned(), value.into_owned()));
        }
        out
    }

    pub(crate) fn api_version(&self) -> Option<&str> {
        self.api_version.as_deref()
    }

    /// The first value of the parameter `name`, which matches in any casing.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The absolute URL of the next page of a list at `host` and `path`: this query with
    /// `$skiptoken` set to `token` (RPC: the `nextLink` is the referer plus a skip token).
    pub(crate) fn next_link(&self, host: &str, path: &str, token: &str) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            if !key.eq_ignore_ascii_case("$skiptoken") {
                serializer.append_pair(key, value);
            }
        }
        serializer.append_pair("$skiptoken", token);
        format!("https://{host}{path}?{}", serializer.finish())
    }

    /// Any well-formed `YYYY-MM-DD[-suffix]` version is accepted: clients send many
    /// (reference §1.3), and azlite serves one behaviour for all.
    pub(crate) fn require_api_version(&self) -> Result<(), ArmError> {
        let Some(version) = self.api_version.as_deref() else {
            return Err(ArmError::bad_request(
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            ));
        };
        let (date, suffix) = version.split_at(version.len().min(10));
        let date_ok = date.len() == 10
            && date.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        let suffix_ok = suffix.is_empty()
            || ["-preview", "-alpha", "-beta", "-rc", "-privatepreview"]
                .iter()
                .any(|s| suffix.eq_ignore_ascii_case(s));
        if date_ok && suffix_ok {
            Ok(())
        } else {
            Err(ArmError::bad_request(
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{version}' is invalid. The supported versions are any date-style version, such as '2022-09-01'."
                ),
            ))
        }
    }
}

/// Parses a JSON request body into `T`, with ARM's error for bad content.
pub(crate) fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ArmError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })
}

/// The host a request was sent to (what a `nextLink` names), `management.azure.com` when
/// the request names none.
pub(crate) fn host(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("management.azure.com")
}

/// A JSON answer with a status.
pub(crate) fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (status, Json(value)).into_response()
}

/// A JSON answer with a status, from any serializable shape (no intermediate
/// `serde_json::Value`), serialized into one buffer of the usual size.
pub(crate) fn json_of<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    let mut body = Vec::with_capacity(512);
    if let Err(e) = serde_json::to_writer(&mut body, value) {
        // Only a map with non-string keys fails, which no shape here has.
        tracing::error!(error = %e, "cannot serialize a response");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `2024-01-01T00:00:00Z`.
pub(crate) fn timestamp(t: UnixTime) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_must_be_dates() {
        let check = |q: &str| {
            Query::parse(Some(q))
                .require_api_version()
                .map_err(|e| e.code)
        };
        assert_eq!(check("api-version=2016-09-01"), Ok(()));
        assert_eq!(check("api-version=2025-05-31-preview"), Ok(()));
        assert_eq!(check("API-VERSION=2016-09-01"), Ok(()));
        assert_eq!(check(""), Err("MissingApiVersionParameter"));
        assert_eq!(
            check("api-version=latest"),
            Err("InvalidApiVersionParameter")
        );
        assert_eq!(
            check("api-version=2016-9-01"),
            Err("InvalidApiVersionParameter")
        );
    }
}
