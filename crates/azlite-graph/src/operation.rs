//! Every Graph request is parsed once into an [`Operation`], named after Graph's own
//! operations, before anything else happens. Paths are `/v1.0/{collection}[/{id}[/{action}]]`;
//! segments are matched without regard to case, as Graph does, and object ids are parsed
//! into typed ids here (a malformed id is `Request_BadRequest`, as in Graph).

use axum::http::Method;
use azlite_types::{ClientId, ObjectId};

/// How a request names a service principal: by object id (`servicePrincipals/{id}`) or by
/// app id (`servicePrincipals(appId='{appId}')`, Graph's alternate key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalKey {
    /// The object id.
    Id(ObjectId),
    /// The app id.
    AppId(ClientId),
}

/// Which side of an app role assignment a path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// `servicePrincipals/{id}/appRoleAssignments`: the roles `{id}` holds.
    Principal,
    /// `servicePrincipals/{id}/appRoleAssignedTo`: the roles granted on `{id}`.
    Resource,
}

/// What a Graph request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /v1.0/applications`
    ListApplications,
    /// `POST /v1.0/applications`
    CreateApplication,
    /// `GET /v1.0/applications/{id}`
    GetApplication(ObjectId),
    /// `DELETE /v1.0/applications/{id}`
    DeleteApplication(ObjectId),
    /// `POST /v1.0/applications/{id}/addPassword`
    AddPassword(ObjectId),
    /// `GET /v1.0/servicePrincipals`
    ListServicePrincipals,
    /// `POST /v1.0/servicePrincipals`
    CreateServicePrincipal,
    /// `GET /v1.0/servicePrincipals/{id}`
    GetServicePrincipal(PrincipalKey),
    /// `DELETE /v1.0/servicePrincipals/{id}`
    DeleteServicePrincipal(PrincipalKey),
    /// `GET /v1.0/servicePrincipals/{id}/appRoleAssignments` (or `appRoleAssignedTo`)
    ListAppRoleAssignments(Side, PrincipalKey),
    /// `POST /v1.0/servicePrincipals/{id}/appRoleAssignments` (or `appRoleAssignedTo`)
    CreateAppRoleAssignment(Side, PrincipalKey),
    /// `GET /v1.0/servicePrincipals/{id}/appRoleAssignments/{assignment}`
    GetAppRoleAssignment(Side, PrincipalKey, String),
    /// `DELETE /v1.0/servicePrincipals/{id}/appRoleAssignments/{assignment}`
    DeleteAppRoleAssignment(Side, PrincipalKey, String),
    /// `POST /v1.0/directoryObjects/getByIds`
    GetByIds,
    /// A path azlite serves, with a method it does not allow there.
    MethodNotAllowed,
    /// An object id that is not a GUID.
    InvalidObjectId(String),
    /// A path azlite does not serve: the first segment it does not know.
    UnknownSegment(String),
}

fn is(segment: &str, name: &str) -> bool {
    segment.eq_ignore_ascii_case(name)
}

/// `servicePrincipals(appId='…')`: the app id text, if the segment has that form. Quotes
/// may arrive percent-encoded.
fn app_id_key(segment: &str) -> Option<String> {
    let decoded = segment
        .replace("%27", "'")
        .replace("%28", "(")
        .replace("%29", ")");
    let lower = decoded.to_ascii_lowercase();
    let prefix = "serviceprincipals(appid=";
    if !lower.starts_with(prefix) || !lower.ends_with(')') {
        return None;
    }
    let inner = &decoded[prefix.len()..decoded.len() - 1];
    let inner = inner.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.to_owned())
}

/// The operations under one service principal (`rest` follows its key).
fn principal_operation(method: &Method, key: PrincipalKey, rest: &[&str]) -> Operation {
    use Operation as O;
    let get = method == Method::GET;
    let post = method == Method::POST;
    let delete = method == Method::DELETE;
    let side = |name: &str| {
        if is(name, "appRoleAssignments") {
            Some(Side::Principal)
        } else if is(name, "appRoleAssignedTo") {
            Some(Side::Resource)
        } else {
            None
        }
    };
    match rest {
        [] if get => O::GetServicePrincipal(key),
        [] if delete => O::DeleteServicePrincipal(key),
        [] => O::MethodNotAllowed,
        [a] => match side(a) {
            Some(side) if get => O::ListAppRoleAssignments(side, key),
            Some(side) if post => O::CreateAppRoleAssignment(side, key),
            Some(_) => O::MethodNotAllowed,
            None => O::UnknownSegment((*a).to_owned()),
        },
        [a, id] => match side(a) {
            Some(side) if get => O::GetAppRoleAssignment(side, key, (*id).to_owned()),
            Some(side) if delete => O::DeleteAppRoleAssignment(side, key, (*id).to_owned()),
            Some(_) => O::MethodNotAllowed,
            None => O::UnknownSegment((*a).to_owned()),
        },
        [a, _, next, ..] => match side(a) {
            Some(_) => O::UnknownSegment((*next).to_owned()),
            None => O::UnknownSegment((*a).to_owned()),
        },
    }
}

/// Parses a request path (without the query string) and method.
pub(crate) fn parse(method: &Method, path: &str) -> Operation {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((version, rest)) = segments.split_first() else {
        return Operation::UnknownSegment(String::new());
    };
    if !is(version, "v1.0") {
        return Operation::UnknownSegment((*version).to_owned());
    }
    let get = method == Method::GET;
    let post = method == Method::POST;
    let delete = method == Method::DELETE;
    use Operation as O;
    let by_id = |id: &str, op: fn(ObjectId) -> Operation| match id.parse::<ObjectId>() {
        Ok(id) => op(id),
        Err(_) => O::InvalidObjectId(id.to_owned()),
    };
    if let Some((first, after)) = rest.split_first()
        && let Some(app_id) = app_id_key(first)
    {
        return match app_id.parse::<ClientId>() {
            Ok(app_id) => principal_operation(method, PrincipalKey::AppId(app_id), after),
            Err(_) => O::InvalidObjectId(app_id),
        };
    }
    match rest {
        [c] if is(c, "applications") && get => O::ListApplications,
        [c] if is(c, "applications") && post => O::CreateApplication,
        [c, id] if is(c, "applications") && get => by_id(id, O::GetApplication),
        [c, id] if is(c, "applications") && delete => by_id(id, O::DeleteApplication),
        [c, id, a] if is(c, "applications") && is(a, "addPassword") && post => {
            by_id(id, O::AddPassword)
        }
        [c] if is(c, "servicePrincipals") && get => O::ListServicePrincipals,
        [c] if is(c, "servicePrincipals") && post => O::CreateServicePrincipal,
        [c, id, after @ ..] if is(c, "servicePrincipals") => match id.parse::<ObjectId>() {
            Ok(id) => principal_operation(method, PrincipalKey::Id(id), after),
            Err(_) => O::InvalidObjectId((*id).to_owned()),
        },
        [c, a] if is(c, "directoryObjects") && is(a, "getByIds") && post => O::GetByIds,
        [c] | [c, _] if is(c, "applications") || is(c, "servicePrincipals") => O::MethodNotAllowed,
        [c, _, a] if is(c, "applications") && is(a, "addPassword") => O::MethodNotAllowed,
        [c, a] if is(c, "directoryObjects") && is(a, "getByIds") => O::MethodNotAllowed,
        [c, ..] if is(c, "applications") => {
            O::UnknownSegment(rest.get(2).copied().unwrap_or_default().to_owned())
        }
        [c, rest @ ..] if is(c, "directoryObjects") => {
            O::UnknownSegment(rest.first().copied().unwrap_or(c).to_owned())
        }
        [c, ..] => O::UnknownSegment((*c).to_owned()),
        [] => O::UnknownSegment((*version).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b9e6a2c-1f3d-4a5b-8c7d-9e0f1a2b3c4d";

    fn id() -> ObjectId {
        ID.parse().unwrap()
    }

    #[test]
    fn graph_paths_parse_case_insensitively() {
        let get = Method::GET;
        let post = Method::POST;
        let delete = Method::DELETE;
        assert_eq!(
            parse(&get, "/v1.0/applications"),
            Operation::ListApplications
        );
        assert_eq!(
            parse(&post, "/V1.0/Applications/"),
            Operation::CreateApplication
        );
        assert_eq!(
            parse(&get, &format!("/v1.0/applications/{ID}")),
            Operation::GetApplication(id())
        );
        assert_eq!(
            parse(
                &delete,
                &format!("/v1.0/applications/{}", ID.to_uppercase())
            ),
            Operation::DeleteApplication(id())
        );
        assert_eq!(
            parse(&post, &format!("/v1.0/applications/{ID}/addpassword")),
            Operation::AddPassword(id())
        );
        assert_eq!(
            parse(&get, "/v1.0/serviceprincipals"),
            Operation::ListServicePrincipals
        );
        assert_eq!(
            parse(&post, "/v1.0/servicePrincipals"),
            Operation::CreateServicePrincipal
        );
        assert_eq!(
            parse(&get, &format!("/v1.0/servicePrincipals/{ID}")),
            Operation::GetServicePrincipal(PrincipalKey::Id(id()))
        );
        assert_eq!(
            parse(&delete, &format!("/v1.0/servicePrincipals/{ID}")),
            Operation::DeleteServicePrincipal(PrincipalKey::Id(id()))
        );
        assert_eq!(
            parse(&post, "/v1.0/directoryObjects/getByIds"),
            Operation::GetByIds
        );
    }

    #[test]
    fn app_role_assignment_paths_and_the_app_id_key_parse() {
        let graph = "00000003-0000-0000-c000-000000000000";
        let app: ClientId = graph.parse().unwrap();
        assert_eq!(
            parse(
                &Method::GET,
                &format!("/v1.0/servicePrincipals(appId='{graph}')")
            ),
            Operation::GetServicePrincipal(PrincipalKey::AppId(app))
        );
        assert_eq!(
            parse(
                &Method::GET,
                &format!("/v1.0/servicePrincipals(appId=%27{graph}%27)/appRoleAssignedTo")
            ),
            Operation::ListAppRoleAssignments(Side::Resource, PrincipalKey::AppId(app))
        );
        assert_eq!(
            parse(
                &Method::POST,
                &format!("/v1.0/servicePrincipals/{ID}/appRoleAssignments")
            ),
            Operation::CreateAppRoleAssignment(Side::Principal, PrincipalKey::Id(id()))
        );
        assert_eq!(
            parse(
                &Method::DELETE,
                &format!("/v1.0/servicePrincipals/{ID}/approleassignments/abc-_1")
            ),
            Operation::DeleteAppRoleAssignment(
                Side::Principal,
                PrincipalKey::Id(id()),
                "abc-_1".into()
            )
        );
        assert_eq!(
            parse(
                &Method::PATCH,
                &format!("/v1.0/servicePrincipals/{ID}/appRoleAssignments/x")
            ),
            Operation::MethodNotAllowed
        );
        assert_eq!(
            parse(&Method::GET, "/v1.0/servicePrincipals(appId='nope')"),
            Operation::InvalidObjectId("nope".into())
        );
    }

    #[test]
    fn bad_ids_methods_and_paths_are_told_apart() {
        assert_eq!(
            parse(&Method::GET, "/v1.0/applications/not-a-guid"),
            Operation::InvalidObjectId("not-a-guid".into())
        );
        assert_eq!(
            parse(&Method::PUT, "/v1.0/applications"),
            Operation::MethodNotAllowed
        );
        assert_eq!(
            parse(&Method::PATCH, &format!("/v1.0/servicePrincipals/{ID}")),
            Operation::MethodNotAllowed
        );
        assert_eq!(
            parse(&Method::GET, "/v1.0/directoryObjects/getByIds"),
            Operation::MethodNotAllowed
        );
        assert_eq!(
            parse(&Method::GET, "/v1.0/users"),
            Operation::UnknownSegment("users".into())
        );
        assert_eq!(
            parse(&Method::GET, &format!("/v1.0/applications/{ID}/owners")),
            Operation::UnknownSegment("owners".into())
        );
        assert_eq!(
            parse(&Method::GET, "/beta/applications"),
            Operation::UnknownSegment("beta".into())
        );
        assert_eq!(
            parse(&Method::GET, "/v1.0"),
            Operation::UnknownSegment("v1.0".into())
        );
    }
}
