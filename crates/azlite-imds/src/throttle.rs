//! Azure's rate limits for the Managed Identity category: 20 requests per second and 5
//! concurrent requests per VM; excess gets 429 (IMDS-doc "Rate limiting"). Off unless
//! configured, so that tests and benchmarks are not throttled by accident.
//!
//! The second is the injected clock's (a fixed window per whole second), so tests can move
//! time instead of sleeping.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicUsize, Ordering};

use azlite_types::{Clock, UnixTime};

use crate::error::ImdsError;

/// Requests admitted per second.
pub(crate) const REQUESTS_PER_SECOND: u32 = 20;
/// Requests in flight at once.
pub(crate) const CONCURRENT_REQUESTS: usize = 5;

/// The limiter of one endpoint.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    window: Mutex<(UnixTime, u32)>,
    in_flight: Arc<AtomicUsize>,
}

/// A request being served; dropping it frees its concurrency slot.
#[derive(Debug)]
pub(crate) struct Admitted {
    in_flight: Option<Arc<AtomicUsize>>,
}

impl Admitted {
    /// A permit from a disabled throttle.
    pub(crate) fn unthrottled() -> Self {
        Self { in_flight: None }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some(counter) = &self.in_flight {
            counter.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Throttle {
    /// Admits a request, or refuses it with [`ImdsError::Throttled`].
    pub(crate) fn admit(&self, clock: &dyn Clock) -> Result<Admitted, ImdsError> {
        let previous = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted {
            in_flight: Some(self.in_flight.clone()),
        };
        if previous >= CONCURRENT_REQUESTS {
            return Err(ImdsError::Throttled);
        }
        let now = clock.now();
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.0 != now {
            *window = (now, 0);
        }
        if window.1 >= REQUESTS_PER_SECOND {
            return Err(ImdsError::Throttled);
        }
        window.1 += 1;
        Ok(admitted)
    }
}

#[cfg(test)]
mod tests {
    use azlite_types::ManualClock;

    use super::*;

    #[test]
    fn twenty_per_second() {
        let clock = ManualClock::at(100);
        let throttle = Throttle::default();
        for _ in 0..REQUESTS_PER_SECOND {
            drop(throttle.admit(&clock).unwrap());
        }
        assert!(matches!(throttle.admit(&clock), Err(ImdsError::Throttled)));
        clock.advance(1);
        assert!(throttle.admit(&clock).is_ok());
    }

    #[test]
    fn five_at_once() {
        let clock = ManualClock::at(100);
        let throttle = Throttle::default();
        let held: Vec<_> = (0..CONCURRENT_REQUESTS)
            .map(|_| throttle.admit(&clock).unwrap())
            .collect();
        assert!(matches!(throttle.admit(&clock), Err(ImdsError::Throttled)));
        drop(held);
        assert!(throttle.admit(&clock).is_ok());
    }
}
