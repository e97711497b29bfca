//! Local administration routes under `/azlite/admin/` on the listener's IP host: the clock,
//! key rotation, and registering applications for tests and tools.
//!
//! Every route is local only (the peer must be a loopback address) and authenticated as the
//! owner: a token for ARM's audience, from the default tenant, whose `oid` is the owner
//! service principal. Anything else gets ARM's 401 or 403.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use azlite_sts::{Bootstrap, CreateApplicationError, NewApplication, Sts, create_application};
use azlite_token::{IssuerPolicy, VerifiedToken};
use azlite_types::{Clock, OffsetClock};
use serde::Deserialize;
use serde_json::json;

use azlite_arm::ArmError;
use azlite_arm::auth::authenticate;

/// The setting that persists the clock offset across restarts.
pub(crate) const CLOCK_OFFSET_SETTING: &str = "clock.offset_seconds";

/// The address of the peer of a connection, put on every request by the listener.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

#[derive(Clone)]
struct AdminState {
    sts: Arc<Sts>,
    clock: Arc<OffsetClock>,
    bootstrap: Arc<Bootstrap>,
}

/// The admin router, mounted at `/azlite/admin`.
pub(crate) fn router(sts: Arc<Sts>, clock: Arc<OffsetClock>, bootstrap: Arc<Bootstrap>) -> Router {
    let state = AdminState {
        sts,
        clock,
        bootstrap,
    };
    Router::new()
        .route("/whoami", get(whoami))
        .route("/clock", get(get_clock).post(set_clock))
        .route("/keys/rotate", post(rotate_keys))
        .route("/applications", post(create_app))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_local_owner,
        ))
        .with_state(state)
}

/// The caller, once authenticated as the owner.
#[derive(Clone)]
struct Owner(Arc<VerifiedToken>);

/// Largest admin request body (a few certificates in JSON).
const MAX_ADMIN_BODY: usize = 1 << 20;

async fn require_local_owner(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    // Read the body before any answer: a client that sent `Content-Length` and gets a 401
    // before its body was consumed would find the connection closed on its next request.
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ADMIN_BODY).await else {
        return ArmError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLarge",
            "The request body is too large.",
        )
        .into_response();
    };
    let mut request = Request::from_parts(parts, axum::body::Body::from(bytes));
    let local = request
        .extensions()
        .get::<PeerAddr>()
        .is_some_and(|p| p.0.ip().is_loopback());
    if !local {
        return ArmError::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            "The admin routes answer only on loopback.",
        )
        .into_response();
    }
    let tenant = &state.bootstrap.tenant;
    let issuers = IssuerPolicy::Exact(vec![
        azlite_sts::issuer_v1(tenant),
        azlite_sts::issuer_v2(tenant),
    ]);
    let keys = state.sts.keys().key_ring();
    let token = match authenticate(request.headers(), &keys, issuers, state.clock.now()) {
        Ok(token) => token,
        Err(e) => return e.into_response(),
    };
    let owner = &state.bootstrap.owner;
    if token.claims.oid != owner.object_id.to_string() {
        let client = token
            .claims
            .appid
            .clone()
            .or(token.claims.azp.clone())
            .unwrap_or_default();
        return ArmError::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{client}' with object id '{}' does not have authorization to perform action 'azlite/admin/action' over scope '/' or the scope is invalid. Only the owner service principal may use the admin routes.",
                token.claims.oid
            ),
        )
        .into_response();
    }
    request.extensions_mut().insert(Owner(Arc::new(token)));
    next.run(request).await
}

async fn whoami(Extension(Owner(token)): Extension<Owner>) -> Json<serde_json::Value> {
    let c = &token.claims;
    Json(
        json!({ "oid": c.oid, "appid": c.appid.as_ref().or(c.azp.as_ref()), "tid": c.tid, "aud": c.aud, "iss": c.iss, "exp": c.exp, "kid": token.kid }),
    )
}

fn clock_body(clock: &OffsetClock) -> Json<serde_json::Value> {
    Json(json!({ "now": clock.now(), "offsetSeconds": clock.offset() }))
}

async fn get_clock(State(state): State<AdminState>) -> Json<serde_json::Value> {
    clock_body(&state.clock)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SetClock {
    advance_seconds: Option<i64>,
    offset_seconds: Option<i64>,
}

/// Moves the clock: `{"advanceSeconds": n}` adds to the offset, `{"offsetSeconds": n}` sets
/// it. The offset never goes below zero, so azlite's time is never behind the real one.
async fn set_clock(
    State(state): State<AdminState>,
    body: Result<Json<SetClock>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let bad = |message: String| {
        ArmError::new(StatusCode::BAD_REQUEST, "InvalidRequestContent", message).into_response()
    };
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad(e.body_text()),
    };
    let offset = match (body.advance_seconds, body.offset_seconds) {
        (Some(advance), None) => state.clock.offset().saturating_add(advance),
        (None, Some(offset)) => offset,
        _ => return bad("Give exactly one of 'advanceSeconds' and 'offsetSeconds'.".to_owned()),
    };
    if offset < 0 {
        return bad(format!(
            "The clock offset must not be negative (it would be {offset})."
        ));
    }
    // Persist first: an acknowledged move survives a restart.
    if let Err(e) = state
        .sts
        .store()
        .put_setting(CLOCK_OFFSET_SETTING, &offset.to_string())
        .await
    {
        tracing::error!(error = ?e, "could not persist the clock offset");
        return ArmError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The clock could not be moved.",
        )
        .into_response();
    }
    state.clock.set_offset(offset);
    tracing::info!(offset, "clock moved");
    clock_body(&state.clock).into_response()
}

async fn rotate_keys(State(state): State<AdminState>) -> Response {
    match state.sts.keys().rotate().await {
        Ok(r) => Json(json!({ "activeKid": r.active_kid, "retiredKid": r.retired_kid, "removedKids": r.removed_kids }))
            .into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "key rotation failed");
            ArmError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "Key rotation failed.").into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateApp {
    display_name: String,
    #[serde(default)]
    identifier_uris: Vec<String>,
    #[serde(default)]
    access_token_version: u8,
    #[serde(default)]
    password: bool,
    #[serde(default)]
    certificates: Vec<String>,
}

async fn create_app(
    State(state): State<AdminState>,
    body: Result<Json<CreateApp>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let bad = |message: String| {
        ArmError::new(StatusCode::BAD_REQUEST, "InvalidRequestContent", message).into_response()
    };
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad(e.body_text()),
    };
    if body.display_name.trim().is_empty() {
        return bad("'displayName' must not be empty.".to_owned());
    }
    let request = NewApplication {
        display_name: body.display_name,
        identifier_uris: body.identifier_uris,
        access_token_version: body.access_token_version,
        with_secret: body.password,
        certificates_pem: body.certificates,
    };
    let tenant = state.bootstrap.tenant.id;
    match create_application(
        state.sts.store().as_ref(),
        tenant,
        request,
        state.clock.now(),
    )
    .await
    {
        Ok(created) => (
            StatusCode::CREATED,
            Json(json!({
                "appId": created.application.app_id,
                "applicationObjectId": created.application.object_id,
                "servicePrincipalObjectId": created.service_principal.object_id,
                "tenant": tenant,
                "password": created.secret,
            })),
        )
            .into_response(),
        Err(CreateApplicationError::Sts(e)) => {
            tracing::error!(error = ?e, "application creation failed");
            ArmError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "The application could not be created.",
            )
            .into_response()
        }
        Err(CreateApplicationError::Conflict(what)) => ArmError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("Another object with the same value already exists: {what}"),
        )
        .into_response(),
        Err(e) => bad(e.to_string()),
    }
}
