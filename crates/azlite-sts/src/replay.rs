//! Client assertions are single-use: the STS remembers each one it accepted (by client and
//! `jti`, or by the SHA-256 of the whole assertion when it has no `jti`) until it can no
//! longer be accepted anyway (its `exp` plus the clock-skew leeway), and refuses a second
//! presentation (RFC 7523 §3 item 7 lets the server do so; Entra does).
//!
//! Memory is bounded twice: an assertion may live at most [`MAX_ASSERTION_LIFETIME`]
//! (longer ones are refused before they are remembered), and at most [`CAPACITY`] are
//! remembered at once. When that many unexpired assertions are held, new ones are refused
//! (fail closed) until some expire: forgetting one early would let it be replayed.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use azlite_types::UnixTime;

/// The longest lifetime (`exp` minus `nbf`, or minus now without `nbf`) of a client
/// assertion the STS accepts. Entra's own limit is not documented; Microsoft's libraries
/// make assertions of 10 minutes or less (MSAL), so one hour refuses no real client.
pub(crate) const MAX_ASSERTION_LIFETIME: i64 = 3600;

/// The most assertions remembered at once.
pub(crate) const CAPACITY: usize = 100_000;

/// What [`SeenAssertions::record`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// First presentation: now remembered.
    Fresh,
    /// Presented before, and still remembered.
    Replayed,
    /// Too many unexpired assertions are remembered to take one more.
    Full,
}

/// The assertions accepted and not yet expired.
#[derive(Debug, Default)]
pub(crate) struct SeenAssertions {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Key → the time after which it is forgotten.
    until: HashMap<String, UnixTime>,
    /// The same entries ordered by that time, to forget them in order.
    by_time: BTreeSet<(UnixTime, String)>,
}

impl SeenAssertions {
    /// Records the assertion `key` (client and `jti`), to be remembered until `forget_after`;
    /// forgets first every assertion whose time has passed at `now`.
    pub(crate) fn record(&self, key: String, forget_after: UnixTime, now: UnixTime) -> Seen {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((at, _)) = inner.by_time.first()
            && *at < now
        {
            if let Some((_, gone)) = inner.by_time.pop_first() {
                inner.until.remove(&gone);
            }
        }
        if inner.until.contains_key(&key) {
            return Seen::Replayed;
        }
        if inner.until.len() >= CAPACITY {
            return Seen::Full;
        }
        inner.until.insert(key.clone(), forget_after);
        inner.by_time.insert((forget_after, key));
        Seen::Fresh
    }

    /// How many assertions are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().until.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assertion_is_accepted_once_until_it_expires() {
        let seen = SeenAssertions::default();
        assert_eq!(seen.record("a".into(), 100, 0), Seen::Fresh);
        assert_eq!(seen.record("a".into(), 100, 50), Seen::Replayed);
        assert_eq!(seen.record("b".into(), 200, 50), Seen::Fresh);
        assert_eq!(seen.record("a".into(), 100, 100), Seen::Replayed);
        // Past its time it is forgotten (it would be refused as expired anyway).
        assert_eq!(seen.record("c".into(), 300, 101), Seen::Fresh);
        assert_eq!(seen.len(), 2);
        assert_eq!(seen.record("a".into(), 400, 101), Seen::Fresh);
    }

    #[test]
    fn memory_is_bounded_and_fails_closed() {
        let seen = SeenAssertions::default();
        for i in 0..CAPACITY {
            assert_eq!(seen.record(format!("k{i}"), 1000, 0), Seen::Fresh);
        }
        assert_eq!(seen.record("one more".into(), 1000, 0), Seen::Full);
        assert_eq!(seen.record("k0".into(), 1000, 0), Seen::Replayed);
        // Once they expire, there is room again.
        assert_eq!(seen.record("one more".into(), 2000, 1001), Seen::Fresh);
        assert_eq!(seen.len(), 1);
    }
}
