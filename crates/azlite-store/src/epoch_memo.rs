//! What a service derives from reads (a vault's parsed access policies, a VM's identities),
//! kept while the store's epoch ([`crate::DirectoryStore::epoch`]) does not move.
//!
//! The rule that keeps it coherent: read the epoch *before* the reads a value is derived
//! from, and file the value under that epoch. A write that lands during the reads moves the
//! epoch, so the value is at least as new as its epoch says and is dropped at the next
//! lookup; a request that starts after a write returned sees a newer epoch and reads again.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

/// Values by key, valid at one epoch. Bounded: past its capacity it starts over.
#[derive(Debug)]
pub struct EpochMemo<K, V> {
    capacity: usize,
    inner: Mutex<Inner<K, V>>,
}

#[derive(Debug)]
struct Inner<K, V> {
    epoch: Option<u64>,
    values: HashMap<K, V>,
}

impl<K: Eq + Hash, V: Clone> EpochMemo<K, V> {
    /// A memo of at most `capacity` values.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner {
                epoch: None,
                values: HashMap::new(),
            }),
        }
    }

    /// The value kept for `key` at `epoch` (the epoch now), if any. `None` as the epoch:
    /// the store cannot tell, nothing is reused.
    pub fn get<Q>(&self, epoch: Option<u64>, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let epoch = epoch?;
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.epoch != Some(epoch) {
            return None;
        }
        inner.values.get(key).cloned()
    }

    /// Keeps `value`, derived from reads started at `epoch` (read before them). A value of an
    /// older epoch than the memo's is not kept; a newer epoch empties the memo first.
    pub fn put(&self, epoch: Option<u64>, key: K, value: V) {
        let Some(epoch) = epoch else { return };
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match inner.epoch {
            Some(held) if held > epoch => return,
            Some(held) if held == epoch => {}
            _ => {
                inner.epoch = Some(epoch);
                inner.values.clear();
            }
        }
        if inner.values.len() >= self.capacity {
            inner.values.clear();
        }
        inner.values.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_given_back_only_at_its_epoch() {
        let memo = EpochMemo::new(4);
        memo.put(Some(3), "a".to_owned(), 1);
        assert_eq!(memo.get(Some(3), "a"), Some(1));
        assert_eq!(memo.get(Some(4), "a"), None);
        assert_eq!(memo.get(None, "a"), None);
        // An older reader's value is not kept over a newer epoch's.
        memo.put(Some(5), "b".to_owned(), 2);
        memo.put(Some(4), "a".to_owned(), 9);
        assert_eq!(memo.get(Some(5), "a"), None);
        assert_eq!(memo.get(Some(5), "b"), Some(2));
        // Without an epoch nothing is kept.
        memo.put(None, "c".to_owned(), 3);
        assert_eq!(memo.get(Some(5), "c"), None);
    }

    #[test]
    fn the_memo_is_bounded() {
        let memo = EpochMemo::new(2);
        for i in 0..5 {
            memo.put(Some(1), i, i);
        }
        assert_eq!(memo.get(Some(1), &4), Some(4));
        let kept = (0..5).filter(|i| memo.get(Some(1), i).is_some()).count();
        assert!(kept <= 2);
    }
}
