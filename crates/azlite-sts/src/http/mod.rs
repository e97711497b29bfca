//! Entra's HTTP surface: token endpoints, discovery documents, keys.
//!
//! Paths are the same on every host name the STS answers on (login.microsoftonline.com,
//! login.windows.net, sts.windows.net, or the listener's IP address). Documents that name
//! endpoints use the host the client called, so a client that found the STS at
//! `https://127.0.0.1:8443` keeps talking to it.

mod discovery;
mod errors;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::Sts;

pub use errors::entra_error_response;

/// The STS router. Mount it at the root of a host that serves Entra.
pub fn router(sts: Arc<Sts>) -> Router {
    Router::new()
        .route(
            "/{tenant}/oauth2/token",
            post(token::token_v1)
                .get(token::wrong_method)
                .put(token::wrong_method),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token::token_v2)
                .get(token::wrong_method)
                .put(token::wrong_method),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::openid_configuration_v1),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration_v2),
        )
        .route("/{tenant}/discovery/keys", get(discovery::keys_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys_v2))
        .route(
            "/{tenant}/discovery/instance",
            get(discovery::instance_discovery),
        )
        .with_state(sts)
}

/// `https://{Host}`: the base URL the client used to reach us.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("login.microsoftonline.com");
    format!("https://{host}")
}

/// `client-request-id` if the client sent one (MSAL does), else a new id.
fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.parse::<uuid::Uuid>().is_ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}
