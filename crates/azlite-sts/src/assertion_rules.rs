//! The rules a client assertion meets beyond its signature and claims
//! ([`azlite_token::verify_client_assertion`]): its certificate within the key credential's
//! dates, and a bounded lifetime (which also bounds the replay memory, `replay`).

use azlite_store::KeyCredential;
use azlite_token::{ClientCertificate, VerifiedAssertion};
use azlite_types::{ClientId, UnixTime};

use crate::StsError;
use crate::grant::entra_timestamp;
use crate::replay::MAX_ASSERTION_LIFETIME;

/// The certificate that verified the assertion must be within its key credential's
/// `startDateTime`..`endDateTime`, as client secrets are (AADSTS700027, "The key used is
/// expired." in Entra's words). When several credentials hold the same certificate, one
/// valid credential is enough.
pub(crate) fn check_certificate_dates(
    credentials: &[KeyCredential],
    verified: &VerifiedAssertion,
    client_id: ClientId,
    now: UnixTime,
) -> Result<(), StsError> {
    let mut matching = credentials.iter().filter(|k| {
        ClientCertificate::from_der(&k.certificate_der)
            .is_ok_and(|c| c.x5t() == verified.thumbprint_sha1)
    });
    let Some(first) = matching.next() else {
        return Ok(());
    };
    let valid = |k: &KeyCredential| k.start <= now && now < k.end;
    if valid(first) || matching.any(valid) {
        return Ok(());
    }
    Err(StsError::AssertionCertificateOutOfTime {
        thumbprint: verified.thumbprint_sha1.clone(),
        client_id: client_id.to_string(),
        reason: if first.end <= now {
            "expired"
        } else {
            "not yet valid"
        },
        start: entra_timestamp(first.start),
        end: entra_timestamp(first.end),
    })
}

/// An assertion may be valid for at most [`MAX_ASSERTION_LIFETIME`] (from its `nbf`, or
/// from now without one): longer-lived assertions are refused, which also bounds how long
/// the STS must remember one to refuse its replay.
pub(crate) fn check_lifetime(verified: &VerifiedAssertion, now: UnixTime) -> Result<(), StsError> {
    let from = verified.nbf.map_or(now, |nbf| nbf.min(now));
    if verified.exp.saturating_sub(from) > MAX_ASSERTION_LIFETIME {
        return Err(StsError::AssertionLifetimeTooLong {
            lifetime: verified.exp.saturating_sub(from),
            limit: MAX_ASSERTION_LIFETIME,
        });
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
