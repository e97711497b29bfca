//! A progress bar on stderr for large transfers, drawn only when stderr is a terminal (so
//! scripts and pipes see nothing).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Transfers smaller than this get no bar.
const MIN_BYTES: u64 = 8 * 1024 * 1024;

/// A progress bar, or nothing when stderr is not a terminal or the transfer is small.
pub(crate) struct Progress {
    total: u64,
    done: u64,
    label: &'static str,
    started: Instant,
    drawn: Option<Instant>,
    enabled: bool,
}

impl Progress {
    /// A bar for `total` bytes, labelled `Uploading`/`Downloading`.
    pub(crate) fn new(label: &'static str, total: u64) -> Self {
        Self {
            total,
            done: 0,
            label,
            started: Instant::now(),
            drawn: None,
            enabled: total >= MIN_BYTES && std::io::stderr().is_terminal(),
        }
    }

    /// Counts `bytes` more and redraws at most ten times a second.
    pub(crate) fn add(&mut self, bytes: u64) {
        self.done += bytes;
        if !self.enabled {
            return;
        }
        if self
            .drawn
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
            && self.done < self.total
        {
            return;
        }
        self.drawn = Some(Instant::now());
        self.draw();
    }

    fn draw(&self) {
        let fraction = if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        };
        let width = 30;
        let filled = ((fraction * width as f64) as usize).min(width);
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = self.done as f64 / seconds / 1_048_576.0;
        let _ = write!(
            std::io::stderr().lock(),
            "\r{} [{}{}] {:5.1}% {:.1}/{:.1} MiB {:.1} MiB/s ",
            self.label,
            "#".repeat(filled),
            " ".repeat(width - filled),
            fraction * 100.0,
            self.done as f64 / 1_048_576.0,
            self.total as f64 / 1_048_576.0,
            rate
        );
    }

    /// Ends the bar's line.
    pub(crate) fn finish(&self) {
        if self.enabled {
            self.draw();
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}
