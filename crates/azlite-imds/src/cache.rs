//! The endpoint's token cache, as IMDS keeps one: Entra is asked only on a miss or when the
//! cached token is near its end, so repeated requests get the same token with a shrinking
//! `expires_in` (reference §1.4, VMTOKEN-doc "Token caching").
//!
//! Keyed by (principal, resource as requested): the resource is the v1 `aud`, so
//! `https://management.azure.com` and `https://management.azure.com/` are two tokens. The
//! cache never decides who may have a token: the caller checks that the principal is still
//! on the VM before every lookup, so a detached identity's cached token is never served.
//!
//! Bounded: any resource string gets a token (every `*.blob.core.windows.net` name resolves),
//! so at most [`CAPACITY`] tokens are kept per endpoint; a miss that finds the cache full
//! drops the token nearest its end. The cost is paid on a miss, which already waits for the
//! STS; a hit is the same two hash lookups as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use azlite_types::{ObjectId, UnixTime};

use crate::wire::Issued;

/// The most tokens one endpoint keeps.
pub(crate) const CAPACITY: usize = 1024;

/// Cached tokens per principal and resource.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<ObjectId, HashMap<String, Arc<Issued>>>>,
}

impl TokenCache {
    /// A cached token for `principal` and `resource` that has at least `margin` seconds left
    /// at `now`.
    pub(crate) fn fresh(
        &self,
        principal: ObjectId,
        resource: &str,
        now: UnixTime,
        margin: i64,
    ) -> Option<Arc<Issued>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(&principal)?
            .get(resource)
            .filter(|t| t.token.expires_on - now >= margin)
            .cloned()
    }

    /// Keeps `token` for `principal` and `resource`, and drops what can no longer be
    /// served: tokens of principals not `current` (detached identities) and expired tokens.
    pub(crate) fn insert(
        &self,
        principal: ObjectId,
        resource: &str,
        token: Arc<Issued>,
        now: UnixTime,
        current: impl Fn(ObjectId) -> bool,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|p, tokens| {
            tokens.retain(|_, t| t.token.expires_on > now);
            current(*p) && !tokens.is_empty()
        });
        let mut held: usize = entries.values().map(HashMap::len).sum();
        let replaces = entries
            .get(&principal)
            .is_some_and(|tokens| tokens.contains_key(resource));
        while !replaces && held >= CAPACITY {
            let nearest_end = entries
                .iter()
                .flat_map(|(p, tokens)| {
                    tokens.iter().map(move |(r, t)| (t.token.expires_on, *p, r))
                })
                .min_by_key(|(expires_on, ..)| *expires_on)
                .map(|(_, p, r)| (p, r.clone()));
            let Some((p, r)) = nearest_end else { break };
            if let Some(tokens) = entries.get_mut(&p) {
                tokens.remove(&r);
                if tokens.is_empty() {
                    entries.remove(&p);
                }
            }
            held -= 1;
        }
        entries
            .entry(principal)
            .or_default()
            .insert(resource.to_owned(), token);
    }

    /// How many tokens are cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.values().map(HashMap::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use azlite_token::ManagedIdentityToken;
    use azlite_types::ClientId;

    use super::*;

    fn token(resource: &str, expires_on: UnixTime) -> Arc<Issued> {
        Arc::new(Issued::new(ManagedIdentityToken {
            access_token: "t".into(),
            expires_on,
            not_before: 0,
            resource: resource.into(),
            client_id: ClientId::new_random(),
        }))
    }

    #[test]
    fn a_token_is_fresh_until_the_margin() {
        let cache = TokenCache::default();
        let p = ObjectId::new_random();
        cache.insert(p, "r", token("r", 1_000), 0, |_| true);
        assert!(cache.fresh(p, "r", 700, 300).is_some());
        assert!(cache.fresh(p, "r", 701, 300).is_none());
        assert!(cache.fresh(p, "r/", 0, 300).is_none());
        assert!(cache.fresh(ObjectId::new_random(), "r", 0, 300).is_none());
    }

    #[test]
    fn the_cache_is_bounded_and_drops_the_token_nearest_its_end() {
        let cache = TokenCache::default();
        let p = ObjectId::new_random();
        cache.insert(p, "keep", token("keep", 1_000_000), 0, |_| true);
        for i in 0..CAPACITY + 50 {
            let r = format!("https://a{i}.blob.core.windows.net");
            cache.insert(p, &r, token(&r, 10_000 + i as i64), 0, |_| true);
        }
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.fresh(p, "keep", 0, 0).is_some());
        let newest = format!("https://a{}.blob.core.windows.net", CAPACITY + 49);
        assert!(cache.fresh(p, &newest, 0, 0).is_some());
        assert!(
            cache
                .fresh(p, "https://a0.blob.core.windows.net", 0, 0)
                .is_none()
        );
        // Replacing a token held does not evict another.
        cache.insert(p, "keep", token("keep", 2_000_000), 0, |_| true);
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.fresh(p, &newest, 0, 0).is_some());
    }

    #[test]
    fn inserting_drops_detached_principals_and_expired_tokens() {
        let cache = TokenCache::default();
        let (kept, detached) = (ObjectId::new_random(), ObjectId::new_random());
        cache.insert(kept, "old", token("old", 10), 0, |_| true);
        cache.insert(kept, "a", token("a", 1_000), 0, |_| true);
        cache.insert(detached, "a", token("a", 1_000), 0, |_| true);
        assert_eq!(cache.len(), 3);
        cache.insert(kept, "b", token("b", 1_000), 20, |p| p == kept);
        assert_eq!(cache.len(), 2);
        assert!(cache.fresh(detached, "a", 20, 0).is_none());
        assert!(cache.fresh(kept, "a", 20, 0).is_some());
    }
}
