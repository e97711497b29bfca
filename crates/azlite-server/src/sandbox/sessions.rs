//! The running sandboxes: one session per `azlite run`, named by a secret that only its
//! forwarder holds, bound to the VM it was started for.
//!
//! A session lives while the connection that opened it (`hello`) stays open: when
//! `azlite run` ends, however it ends, the kernel closes the connection and the session is
//! gone. The table is bounded: a server serves at most [`MAX_SESSIONS`] sandboxes at once.
//! Secrets are kept as their SHA-256 digests, so a lookup compares digests, never the
//! secret itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// How many sandboxes may run at once.
pub const MAX_SESSIONS: usize = 256;

/// The bytes of randomness in a session's secret.
const SECRET_BYTES: usize = 32;

type Digest = [u8; 32];

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    /// As many sandboxes run as the server serves.
    #[error("too many sandboxes are running ({0} at most): end one first")]
    Full(usize),
    /// The system's random source failed.
    #[error("cannot make a session secret")]
    Random,
}

/// The sessions, each with its `T` (what the server needs to serve it).
pub(crate) struct Sessions<T> {
    table: Arc<Mutex<HashMap<Digest, T>>>,
    capacity: usize,
    random: SystemRandom,
}

impl<T: Clone> Sessions<T> {
    /// An empty table that holds at most `capacity` sessions.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            table: Arc::new(Mutex::new(HashMap::new())),
            capacity,
            random: SystemRandom::new(),
        }
    }

    /// Opens a session for `value`: its secret, and the guard that ends it when dropped.
    pub(crate) fn open(&self, value: T) -> Result<(String, SessionGuard<T>), OpenError> {
        let mut bytes = [0u8; SECRET_BYTES];
        self.random
            .fill(&mut bytes)
            .map_err(|_| OpenError::Random)?;
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let key = digest_of(&secret);
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if table.len() >= self.capacity {
            return Err(OpenError::Full(self.capacity));
        }
        table.insert(key, value);
        let guard = SessionGuard {
            table: self.table.clone(),
            key,
        };
        Ok((secret, guard))
    }

    /// The live session named by `secret`.
    pub(crate) fn get(&self, secret: &str) -> Option<T> {
        let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        table.get(&digest_of(secret)).cloned()
    }

    /// How many sessions are open.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn digest_of(secret: &str) -> Digest {
    let mut key = [0u8; 32];
    key.copy_from_slice(digest(&SHA256, secret.as_bytes()).as_ref());
    key
}

/// Ends its session when dropped.
pub(crate) struct SessionGuard<T> {
    table: Arc<Mutex<HashMap<Digest, T>>>,
    key: Digest,
}

impl<T> Drop for SessionGuard<T> {
    fn drop(&mut self) {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_secret_only_while_its_guard_lives() {
        let sessions = Sessions::new(4);
        let (secret, guard) = sessions.open("vm-a").unwrap();
        assert_eq!(secret.len(), 2 * SECRET_BYTES);
        assert_eq!(sessions.get(&secret), Some("vm-a"));
        let mut wrong = secret.clone().into_bytes();
        wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
        assert_eq!(sessions.get(std::str::from_utf8(&wrong).unwrap()), None);
        assert_eq!(sessions.get(""), None);
        drop(guard);
        assert_eq!(sessions.get(&secret), None);
        assert_eq!(sessions.len(), 0);
    }

    #[test]
    fn each_session_has_its_own_secret_and_vm() {
        let sessions = Sessions::new(4);
        let (a, _ga) = sessions.open("vm-a").unwrap();
        let (b, _gb) = sessions.open("vm-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(sessions.get(&a), Some("vm-a"));
        assert_eq!(sessions.get(&b), Some("vm-b"));
    }

    #[test]
    fn the_table_is_bounded_and_frees_room_when_a_session_ends() {
        let sessions = Sessions::new(2);
        let (_, g1) = sessions.open(1).unwrap();
        let (_, _g2) = sessions.open(2).unwrap();
        assert!(matches!(sessions.open(3), Err(OpenError::Full(2))));
        drop(g1);
        assert!(sessions.open(3).is_ok());
    }
}
