//! Parsing a request once: its parameters (query or form), the headers IMDS insists on,
//! `api-version`, and the identity selector, into a [`TokenQuery`].

use std::borrow::Cow;

use axum::http::{HeaderMap, HeaderName};

use crate::error::ImdsError;
use crate::selection::{Selector, SelectorKind};

/// Every IMDS api-version, newest first (IMDS-doc "Supported API versions").
pub(crate) const API_VERSIONS: &[&str] = &[
    "2025-04-07",
    "2024-07-17",
    "2024-03-15",
    "2023-11-15",
    "2023-07-01",
    "2021-12-13",
    "2021-11-15",
    "2021-11-01",
    "2021-10-01",
    "2021-08-01",
    "2021-05-01",
    "2021-03-01",
    "2021-02-01",
    "2021-01-01",
    "2020-12-01",
    "2020-10-01",
    "2020-09-01",
    "2020-07-15",
    "2020-06-01",
    "2019-11-01",
    "2019-08-15",
    "2019-08-01",
    "2019-06-04",
    "2019-06-01",
    "2019-04-30",
    "2019-03-11",
    "2019-02-01",
    "2018-10-01",
    "2018-04-02",
    "2018-02-01",
    "2017-12-01",
    "2017-10-01",
    "2017-08-01",
    "2017-04-02",
    "2017-03-01",
];

/// The three versions IMDS names when it refuses an api-version.
pub(crate) const NEWEST_VERSIONS: [&str; 3] = ["2025-04-07", "2024-07-17", "2024-03-15"];

/// The first version of the identity category (IMDS-doc "Endpoint categories").
pub(crate) const IDENTITY_SINCE: &str = "2018-02-01";
/// The first version of the instance category.
pub(crate) const INSTANCE_SINCE: &str = "2017-04-02";

/// Request parameters in the order sent, percent-decoded. A name or value that needed no
/// decoding borrows the request's bytes: a token request allocates only for what it
/// escaped (`resource=https%3A%2F%2F…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Params<'a> {
    /// From a query string (`None` when the URL has none).
    pub(crate) fn from_query(query: Option<&'a str>) -> Self {
        Self::from_urlencoded(query.unwrap_or_default().as_bytes())
    }

    /// From an `application/x-www-form-urlencoded` body or query.
    pub(crate) fn from_urlencoded(bytes: &'a [u8]) -> Self {
        Self(form_urlencoded::parse(bytes).collect())
    }

    /// Adds the parameters of `other` whose names are not here yet.
    pub(crate) fn or(mut self, other: Self) -> Self {
        for (name, value) in other.0 {
            if self.get(&name).is_none() {
                self.0.push((name, value));
            }
        }
        self
    }

    /// A name that appears twice ("Requests with duplicate query parameter names will be
    /// rejected", IMDS-doc "Query parameters").
    pub(crate) fn duplicate(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (name, _))| {
            self.0[..i]
                .iter()
                .any(|(earlier, _)| earlier == name)
                .then_some(name.as_ref())
        })
    }

    /// The first value of `name`, trimmed, if not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// IMDS's two header rules, in the order that makes a header-less probe always get the
/// `Metadata` error: no `X-Forwarded-For`, then `Metadata: true` (reference §1.1, §1.6).
/// The value is compared case-insensitively: the IMDS doc's own samples send `Metadata:True`.
pub(crate) fn check_headers(headers: &HeaderMap) -> Result<(), ImdsError> {
    // Names made once, not parsed from text on every lookup.
    static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    static METADATA: HeaderName = HeaderName::from_static("metadata");
    if headers.contains_key(&X_FORWARDED_FOR) {
        return Err(ImdsError::ForwardedRequest);
    }
    let metadata = headers
        .get(&METADATA)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !metadata {
        return Err(ImdsError::MissingMetadataHeader);
    }
    Ok(())
}

/// `api-version` must be an IMDS version no older than `since`.
pub(crate) fn check_api_version(params: &Params, since: &str) -> Result<(), ImdsError> {
    match params.get("api-version") {
        // Dates in one format compare as strings.
        Some(v) if API_VERSIONS.contains(&v) && v >= since => Ok(()),
        _ => Err(ImdsError::InvalidApiVersion),
    }
}

/// A token request, parsed (borrowing the request's parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenQuery<'a> {
    /// The resource, verbatim.
    pub(crate) resource: &'a str,
    /// The identity asked for.
    pub(crate) selector: Selector,
    /// `bypass_cache=true`.
    pub(crate) bypass_cache: bool,
    /// The selector parameter other than `client_id` as sent, echoed in the answer
    /// (`object_id`, `msi_res_id`, `mi_res_id`; MSAL checks the echo on Arc, reference §2.4).
    pub(crate) echo: Option<(&'static str, &'a str)>,
}

/// The selector parameters of IMDS (and the extension, Cloud Shell and Arc).
const IMDS_SELECTORS: &[(&str, SelectorKind)] = &[
    ("client_id", SelectorKind::Client),
    ("object_id", SelectorKind::Principal),
    ("msi_res_id", SelectorKind::ArmId),
    // The older name, still in MSAL for App Service and in old docs for IMDS.
    ("mi_res_id", SelectorKind::ArmId),
];

/// App Service 2019-08-01's selectors (`msi_res_id` too: the Rust SDK sends it).
pub(crate) const APP_SERVICE_SELECTORS: &[(&str, SelectorKind)] = &[
    ("client_id", SelectorKind::Client),
    ("principal_id", SelectorKind::Principal),
    ("object_id", SelectorKind::Principal),
    ("mi_res_id", SelectorKind::ArmId),
    ("msi_res_id", SelectorKind::ArmId),
];

/// App Service 2017-09-01's selector (`client_id` too, leniently).
pub(crate) const APP_SERVICE_2017_SELECTORS: &[(&str, SelectorKind)] = &[
    ("clientid", SelectorKind::Client),
    ("client_id", SelectorKind::Client),
];

impl<'a> TokenQuery<'a> {
    /// Parses IMDS's token parameters: `resource` first, then the selectors.
    pub(crate) fn parse_imds(params: &'a Params<'_>) -> Result<Self, ImdsError> {
        Self::parse(params, IMDS_SELECTORS)
    }

    /// Parses with the selector parameters of a protocol.
    pub(crate) fn parse(
        params: &'a Params<'_>,
        selectors: &[(&'static str, SelectorKind)],
    ) -> Result<Self, ImdsError> {
        let resource = params.get("resource").ok_or(ImdsError::MissingResource)?;
        let mut named = selectors
            .iter()
            .filter_map(|(name, kind)| params.get(name).map(|value| (*name, *kind, value)));
        let (selector, echo) = match (named.next(), named.next()) {
            (None, _) => (Selector::Default, None),
            (Some(_), Some(_)) => return Err(ImdsError::ConflictingSelectors),
            (Some((name, kind, value)), None) => {
                let echo = (kind != SelectorKind::Client).then_some((name, value));
                (Selector::parse(kind, value), echo)
            }
        };
        let bypass_cache = params
            .get("bypass_cache")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(Self {
            resource,
            selector,
            bypass_cache,
            echo,
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn parameters_are_decoded_and_duplicates_found() {
        let p = Params::from_query(Some(
            "api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&x=1&x=2",
        ));
        assert_eq!(p.get("resource"), Some("https://vault.azure.net"));
        assert_eq!(p.duplicate(), Some("x"));
        assert_eq!(Params::from_query(Some("a=1&b=2")).duplicate(), None);
        assert_eq!(Params::from_query(None).get("resource"), None);
        assert_eq!(Params::from_query(Some("resource=")).get("resource"), None);
        let merged = Params::from_urlencoded(b"resource=a")
            .or(Params::from_query(Some("resource=b&client_id=c")));
        assert_eq!(merged.get("resource"), Some("a"));
        assert_eq!(merged.get("client_id"), Some("c"));
    }

    #[test]
    fn forwarded_requests_are_refused_before_the_metadata_check() {
        let mut headers = HeaderMap::new();
        assert!(matches!(
            check_headers(&headers),
            Err(ImdsError::MissingMetadataHeader)
        ));
        headers.insert("metadata", HeaderValue::from_static("false"));
        assert!(matches!(
            check_headers(&headers),
            Err(ImdsError::MissingMetadataHeader)
        ));
        headers.insert("metadata", HeaderValue::from_static("True"));
        assert!(check_headers(&headers).is_ok());
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        assert!(matches!(
            check_headers(&headers),
            Err(ImdsError::ForwardedRequest)
        ));
    }

    #[test]
    fn api_versions_come_from_the_list_and_start_with_the_category() {
        let check = |v: &str| check_api_version(&Params::from_query(Some(v)), IDENTITY_SINCE);
        assert!(check("api-version=2018-02-01").is_ok());
        assert!(check("api-version=2019-08-01").is_ok());
        assert!(check("api-version=2025-04-07").is_ok());
        for bad in [
            "",
            "api-version=2017-12-01",
            "api-version=2018-02-02",
            "api-version=latest",
        ] {
            assert!(
                matches!(check(bad), Err(ImdsError::InvalidApiVersion)),
                "{bad}"
            );
        }
        assert!(
            check_api_version(
                &Params::from_query(Some("api-version=2017-04-02")),
                INSTANCE_SINCE
            )
            .is_ok()
        );
    }

    #[test]
    fn one_selector_at_most_and_the_echo_keeps_the_name_sent() {
        let params = |q: &'static str| Params::from_query(Some(q));
        let p = params("x=1");
        assert!(matches!(
            TokenQuery::parse_imds(&p),
            Err(ImdsError::MissingResource)
        ));
        let p = params("resource=r");
        let q = TokenQuery::parse_imds(&p).unwrap();
        assert_eq!(q.resource, "r");
        assert_eq!(q.selector, Selector::Default);
        assert!(!q.bypass_cache && q.echo.is_none());
        let p = params("resource=r&mi_res_id=%2Fx&bypass_cache=TRUE");
        let q = TokenQuery::parse_imds(&p).unwrap();
        assert_eq!(q.selector, Selector::Unmatchable);
        assert_eq!(q.echo, Some(("mi_res_id", "/x")));
        assert!(q.bypass_cache);
        let p = params("resource=r&client_id=c");
        assert!(TokenQuery::parse_imds(&p).unwrap().echo.is_none());
        for both in [
            "resource=r&client_id=a&object_id=b",
            "resource=r&msi_res_id=a&mi_res_id=a",
        ] {
            let p = params(both);
            assert!(matches!(
                TokenQuery::parse_imds(&p),
                Err(ImdsError::ConflictingSelectors)
            ));
        }
    }
}
