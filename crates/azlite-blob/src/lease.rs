//! Leases of containers and blobs: the state a stored lease is in now, the lease actions
//! (acquire, renew, change, release, break), and the check a write makes of the lease id it
//! was given (reference: Blob REST "Lease Blob", "Lease Container").

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_store::{StoredLease, UnixMillis};

use crate::BlobError;
use crate::wire::header;

/// A lease's state now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeaseState {
    /// No lease.
    Available,
    /// Held (until `expires_at`, or forever).
    Leased,
    /// Was held, ran out.
    Expired,
    /// Being broken, until its break time.
    Breaking,
    /// Broken.
    Broken,
}

/// The state of `lease` at `now`.
pub(crate) fn state(lease: Option<&StoredLease>, now: UnixMillis) -> LeaseState {
    let Some(lease) = lease else {
        return LeaseState::Available;
    };
    match lease.break_at {
        Some(at) if now < at => LeaseState::Breaking,
        Some(_) => LeaseState::Broken,
        None if lease.expires_at.is_none_or(|at| now < at) => LeaseState::Leased,
        None => LeaseState::Expired,
    }
}

/// The lease headers of a GET/HEAD answer: `x-ms-lease-status`, `-state`, `-duration`.
pub(crate) fn headers(lease: Option<&StoredLease>, now: UnixMillis, out: &mut HeaderMap) {
    let (status, state_text) = status_and_state(lease, now);
    out.insert("x-ms-lease-status", HeaderValue::from_static(status));
    out.insert("x-ms-lease-state", HeaderValue::from_static(state_text));
    if state(lease, now) == LeaseState::Leased {
        let infinite = lease.is_some_and(|l| l.duration < 0);
        out.insert(
            "x-ms-lease-duration",
            HeaderValue::from_static(if infinite { "infinite" } else { "fixed" }),
        );
    }
}

/// `(LeaseStatus, LeaseState)` as listings and headers spell them.
pub(crate) fn status_and_state(
    lease: Option<&StoredLease>,
    now: UnixMillis,
) -> (&'static str, &'static str) {
    match state(lease, now) {
        LeaseState::Available => ("unlocked", "available"),
        LeaseState::Leased => ("locked", "leased"),
        LeaseState::Expired => ("unlocked", "expired"),
        LeaseState::Breaking => ("locked", "breaking"),
        LeaseState::Broken => ("unlocked", "broken"),
    }
}

/// Which kind of resource a lease is on (the error codes name it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A container.
    Container,
    /// A blob.
    Blob,
}

fn precondition(code: &'static str, message: &str) -> BlobError {
    BlobError::new(StatusCode::PRECONDITION_FAILED, code, message)
}

/// Checks the `x-ms-lease-id` a write (or a container delete) gave against the lease.
pub(crate) fn check_write(
    headers: &HeaderMap,
    lease: Option<&StoredLease>,
    now: UnixMillis,
    target: Target,
) -> Result<(), BlobError> {
    let given = header(headers, "x-ms-lease-id");
    let held = matches!(state(lease, now), LeaseState::Leased | LeaseState::Breaking);
    let noun = match target {
        Target::Container => "container",
        Target::Blob => "blob",
    };
    match (held, given) {
        (false, None) => Ok(()),
        (false, Some(_)) => Err(match target {
            Target::Container => precondition(
                "LeaseNotPresentWithContainerOperation",
                "There is currently no lease on the container.",
            ),
            Target::Blob => precondition(
                "LeaseNotPresentWithBlobOperation",
                "There is currently no lease on the blob.",
            ),
        }),
        (true, None) => Err(precondition(
            "LeaseIdMissing",
            &format!(
                "There is currently a lease on the {noun} and no lease ID was specified in the request."
            ),
        )),
        (true, Some(id)) if lease.is_some_and(|l| l.lease_id.eq_ignore_ascii_case(id)) => Ok(()),
        (true, Some(_)) => Err(match target {
            Target::Container => precondition(
                "LeaseIdMismatchWithContainerOperation",
                "The lease ID specified did not match the lease ID for the container.",
            ),
            Target::Blob => precondition(
                "LeaseIdMismatchWithBlobOperation",
                "The lease ID specified did not match the lease ID for the blob.",
            ),
        }),
    }
}

fn conflict(code: &'static str, message: &str) -> BlobError {
    BlobError::new(StatusCode::CONFLICT, code, message)
}

fn lease_id_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, BlobError> {
    match header(headers, name) {
        None => Ok(None),
        Some(text) if uuid::Uuid::try_parse(text).is_ok() => Ok(Some(text.to_owned())),
        Some(text) => Err(BlobError::invalid_header(name, text)),
    }
}

/// What a lease action did: the lease to store and the answer to give.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The lease after the action.
    pub lease: Option<StoredLease>,
    /// The status and lease headers of the answer.
    pub response: Response,
}

/// Runs the lease action of a request (`x-ms-lease-action`) on `lease` at `now`.
pub(crate) fn act(
    headers: &HeaderMap,
    lease: Option<&StoredLease>,
    now: UnixMillis,
) -> Result<Outcome, BlobError> {
    let action = header(headers, "x-ms-lease-action")
        .ok_or_else(|| BlobError::missing_header("x-ms-lease-action"))?;
    let current = state(lease, now);
    let given = lease_id_header(headers, "x-ms-lease-id")?;
    let proposed = lease_id_header(headers, "x-ms-proposed-lease-id")?;
    let matches = |id: &Option<String>| matches!((lease, id), (Some(l), Some(id)) if l.lease_id.eq_ignore_ascii_case(id));
    let answer = |status: StatusCode, id: Option<&str>| {
        let mut response = status.into_response();
        if let Some(value) = id.and_then(|id| HeaderValue::from_str(id).ok()) {
            response.headers_mut().insert("x-ms-lease-id", value);
        }
        response
    };
    match action.to_ascii_lowercase().as_str() {
        "acquire" => {
            let duration: i64 = header(headers, "x-ms-lease-duration")
                .ok_or_else(|| BlobError::missing_header("x-ms-lease-duration"))?
                .parse()
                .map_err(|_| {
                    BlobError::invalid_header(
                        "x-ms-lease-duration",
                        header(headers, "x-ms-lease-duration").unwrap_or_default(),
                    )
                })?;
            if duration != -1 && !(15..=60).contains(&duration) {
                return Err(BlobError::invalid_header(
                    "x-ms-lease-duration",
                    &duration.to_string(),
                ));
            }
            let id = proposed.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            match current {
                LeaseState::Leased
                    if !lease.is_some_and(|l| l.lease_id.eq_ignore_ascii_case(&id)) =>
                {
                    return Err(conflict(
                        "LeaseAlreadyPresent",
                        "There is already a lease present.",
                    ));
                }
                LeaseState::Breaking => {
                    return Err(conflict(
                        "LeaseIsBreakingAndCannotBeAcquired",
                        "There is already a breaking lease present.",
                    ));
                }
                _ => {}
            }
            let lease = new_lease(id.clone(), duration, now);
            Ok(Outcome {
                lease: Some(lease),
                response: answer(StatusCode::CREATED, Some(&id)),
            })
        }
        "renew" => {
            let given = given.ok_or_else(|| BlobError::missing_header("x-ms-lease-id"))?;
            if lease.is_none() {
                return Err(conflict(
                    "LeaseNotPresentWithLeaseOperation",
                    "There is currently no lease.",
                ));
            }
            if !matches(&Some(given.clone())) {
                return Err(conflict(
                    "LeaseIdMismatchWithLeaseOperation",
                    "The lease ID specified did not match the lease ID for the blob/container.",
                ));
            }
            if matches!(current, LeaseState::Breaking | LeaseState::Broken) {
                return Err(conflict(
                    "LeaseIsBrokenAndCannotBeRenewed",
                    "The lease ID matched, but the lease has been broken explicitly and cannot be renewed.",
                ));
            }
            let duration = lease.map_or(-1, |l| l.duration);
            Ok(Outcome {
                lease: Some(new_lease(given.clone(), duration, now)),
                response: answer(StatusCode::OK, Some(&given)),
            })
        }
        "change" => {
            let given = given.ok_or_else(|| BlobError::missing_header("x-ms-lease-id"))?;
            let proposed =
                proposed.ok_or_else(|| BlobError::missing_header("x-ms-proposed-lease-id"))?;
            match current {
                LeaseState::Leased
                    if matches(&Some(given.clone())) || matches(&Some(proposed.clone())) => {}
                LeaseState::Leased => {
                    return Err(conflict(
                        "LeaseIdMismatchWithLeaseOperation",
                        "The lease ID specified did not match the lease ID for the blob/container.",
                    ));
                }
                LeaseState::Breaking => {
                    return Err(conflict(
                        "LeaseIsBreakingAndCannotBeChanged",
                        "The lease ID matched, but the lease is currently in breaking state and cannot be changed.",
                    ));
                }
                _ => {
                    return Err(conflict(
                        "LeaseNotPresentWithLeaseOperation",
                        "There is currently no lease.",
                    ));
                }
            }
            let mut changed = lease.cloned().expect("leased");
            changed.lease_id = proposed.clone();
            Ok(Outcome {
                lease: Some(changed),
                response: answer(StatusCode::OK, Some(&proposed)),
            })
        }
        "release" => {
            let given = given.ok_or_else(|| BlobError::missing_header("x-ms-lease-id"))?;
            if lease.is_none() {
                return Err(conflict(
                    "LeaseNotPresentWithLeaseOperation",
                    "There is currently no lease.",
                ));
            }
            if !matches(&Some(given)) {
                return Err(conflict(
                    "LeaseIdMismatchWithLeaseOperation",
                    "The lease ID specified did not match the lease ID for the blob/container.",
                ));
            }
            Ok(Outcome {
                lease: None,
                response: answer(StatusCode::OK, None),
            })
        }
        "break" => {
            let Some(held) = lease.filter(|_| current != LeaseState::Available) else {
                return Err(conflict(
                    "LeaseNotPresentWithLeaseOperation",
                    "There is currently no lease.",
                ));
            };
            let period = match header(headers, "x-ms-lease-break-period") {
                Some(text) => Some(
                    text.parse::<i64>()
                        .ok()
                        .filter(|p| (0..=60).contains(p))
                        .ok_or_else(|| {
                            BlobError::invalid_header("x-ms-lease-break-period", text)
                        })?,
                ),
                None => None,
            };
            let break_at = match current {
                LeaseState::Breaking => held.break_at.unwrap_or(now),
                LeaseState::Broken | LeaseState::Expired => now,
                _ => {
                    // Infinite leases break at once unless a period is given; finite ones at
                    // the earlier of the period and their expiry.
                    let remaining = held.expires_at.map(|at| at - now);
                    let wanted = period.map(|p| p * 1000);
                    now + match (wanted, remaining) {
                        (Some(w), Some(r)) => w.min(r),
                        (Some(w), None) => w,
                        (None, Some(r)) => r,
                        (None, None) => 0,
                    }
                }
            };
            let mut broken = held.clone();
            broken.break_at = Some(break_at);
            let mut response = answer(StatusCode::ACCEPTED, None);
            let seconds = ((break_at - now).max(0) + 999) / 1000;
            response
                .headers_mut()
                .insert("x-ms-lease-time", HeaderValue::from(seconds));
            Ok(Outcome {
                lease: Some(broken),
                response,
            })
        }
        _ => Err(BlobError::invalid_header("x-ms-lease-action", action)),
    }
}

fn new_lease(lease_id: String, duration: i64, now: UnixMillis) -> StoredLease {
    StoredLease {
        lease_id,
        duration,
        expires_at: (duration > 0).then(|| now + duration * 1000),
        break_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    const ID: &str = "11111111-1111-1111-1111-111111111111";

    #[test]
    fn acquire_renew_break_release() {
        let got = act(
            &h(&[
                ("x-ms-lease-action", "acquire"),
                ("x-ms-lease-duration", "15"),
                ("x-ms-proposed-lease-id", ID),
            ]),
            None,
            0,
        )
        .unwrap();
        let lease = got.lease.unwrap();
        assert_eq!(state(Some(&lease), 14_999), LeaseState::Leased);
        assert_eq!(state(Some(&lease), 15_000), LeaseState::Expired);
        let other = act(
            &h(&[
                ("x-ms-lease-action", "acquire"),
                ("x-ms-lease-duration", "-1"),
            ]),
            Some(&lease),
            1,
        )
        .unwrap_err();
        assert_eq!(other.code, "LeaseAlreadyPresent");
        assert!(check_write(&h(&[]), Some(&lease), 1, Target::Blob).is_err());
        assert!(check_write(&h(&[("x-ms-lease-id", ID)]), Some(&lease), 1, Target::Blob).is_ok());
        let broken = act(
            &h(&[
                ("x-ms-lease-action", "break"),
                ("x-ms-lease-break-period", "0"),
            ]),
            Some(&lease),
            2,
        )
        .unwrap()
        .lease
        .unwrap();
        assert_eq!(state(Some(&broken), 2), LeaseState::Broken);
        let renew = act(
            &h(&[("x-ms-lease-action", "renew"), ("x-ms-lease-id", ID)]),
            Some(&broken),
            3,
        )
        .unwrap_err();
        assert_eq!(renew.code, "LeaseIsBrokenAndCannotBeRenewed");
        assert!(
            act(
                &h(&[("x-ms-lease-action", "release"), ("x-ms-lease-id", ID)]),
                Some(&broken),
                3
            )
            .unwrap()
            .lease
            .is_none()
        );
    }
}
