//! Entry points for the cargo-fuzz targets in `fuzz/` (not an API: hidden from the docs).
//! They run the same parsing a token request's query goes through, without a server.

use crate::request::{
    APP_SERVICE_2017_SELECTORS, APP_SERVICE_SELECTORS, IDENTITY_SINCE, Params, TokenQuery,
    check_api_version,
};

/// Parses `query` as IMDS, App Service (2019 and 2017) and the extension endpoint would:
/// duplicates refused, then `api-version`, then the token parameters. Returns whether IMDS
/// accepted it; any input must return rather than panic.
pub fn token_query(query: &str) -> bool {
    let params = Params::from_query(Some(query));
    let body = Params::from_urlencoded(query.as_bytes());
    let merged = params.clone().or(body);
    let _ = TokenQuery::parse(&merged, APP_SERVICE_SELECTORS);
    let _ = TokenQuery::parse(&merged, APP_SERVICE_2017_SELECTORS);
    if params.duplicate().is_some() {
        return false;
    }
    if check_api_version(&params, IDENTITY_SINCE).is_err() {
        return false;
    }
    TokenQuery::parse_imds(&params).is_ok()
}
