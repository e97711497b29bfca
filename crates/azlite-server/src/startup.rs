//! What start-up spends its time on: each step of [`crate::Cloud::open`] is logged at debug
//! level with its duration (`RUST_LOG=azlite_server::startup=debug`), so a slow start can be
//! broken into its parts without a profiler.

use std::time::Instant;

/// The time of each start-up step, logged as it ends.
pub(crate) struct Steps {
    began: Instant,
    last: Instant,
}

impl Steps {
    /// Starts timing.
    pub(crate) fn start() -> Self {
        let now = Instant::now();
        Self {
            began: now,
            last: now,
        }
    }

    /// Logs the step that just ended, with its duration and the time since the start.
    pub(crate) fn done(&mut self, step: &'static str) {
        let now = Instant::now();
        let ms = (now - self.last).as_secs_f64() * 1000.0;
        let total_ms = (now - self.began).as_secs_f64() * 1000.0;
        tracing::debug!(
            step,
            ms = format!("{ms:.2}"),
            total_ms = format!("{total_ms:.2}"),
            "start-up step"
        );
        self.last = now;
    }
}
