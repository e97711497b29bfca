//! Time is injected: every component asks a [`Clock`], never the system, so tests (and the
//! owner, through the admin route) can move time forward and watch tokens expire.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// Seconds since the Unix epoch, the unit of JWT `iat`/`nbf`/`exp`.
pub type UnixTime = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in whole seconds since the Unix epoch.
    fn now(&self) -> UnixTime;

    /// The current time as a calendar date, for timestamps in response bodies.
    fn now_datetime(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.now()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> UnixTime {
        (**self).now()
    }
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as UnixTime,
            Err(e) => -(e.duration().as_secs() as UnixTime),
        }
    }
}

/// The system clock plus an offset that only moves forward while the server runs. This is
/// what `azlite up` uses: the owner can skip ahead to expire tokens, and the offset is
/// persisted so that a restart does not travel back in time.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_seconds: AtomicI64,
}

impl OffsetClock {
    /// A clock `offset_seconds` ahead of the system clock.
    pub fn new(offset_seconds: i64) -> Self {
        Self {
            offset_seconds: AtomicI64::new(offset_seconds),
        }
    }

    /// How far ahead of the system clock this clock runs.
    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Sets the offset; returns the new current time.
    pub fn set_offset(&self, offset_seconds: i64) -> UnixTime {
        self.offset_seconds.store(offset_seconds, Ordering::Relaxed);
        self.now()
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> UnixTime {
        SystemClock.now() + self.offset()
    }
}

/// A clock that stands still until told to move. For unit tests.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock frozen at `now`.
    pub fn at(now: UnixTime) -> Self {
        Self {
            now: AtomicI64::new(now),
        }
    }

    /// Moves the clock by `seconds` (negative moves it back).
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.now.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_clock_runs_ahead_of_the_system_clock() {
        let clock = OffsetClock::new(3600);
        let delta = clock.now() - SystemClock.now();
        assert!((3599..=3601).contains(&delta), "delta was {delta}");
        clock.set_offset(0);
        assert!((clock.now() - SystemClock.now()).abs() <= 1);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(60);
        assert_eq!(clock.now(), 1_060);
        assert_eq!(clock.now_datetime().unix_timestamp(), 1_060);
    }
}
