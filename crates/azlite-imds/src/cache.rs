//! The endpoint's token cache, as IMDS keeps one: Entra is asked only on a miss or when the
//! cached token is near its end, so repeated requests get the same token with a shrinking
//! `expires_in` (reference §1.4, VMTOKEN-doc "Token caching").
//!
//! Keyed by (principal, resource as requested): the resource is the v1 `aud`, so
//! `https://management.azure.com` and `https://management.azure.com/` are two tokens. The
//! cache never decides who may have a token: the caller checks that the principal is still
//! on the VM before every lookup, so a detached identity's cached token is never served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use azlite_token::ManagedIdentityToken;
use azlite_types::{ObjectId, UnixTime};

/// Cached tokens per principal and resource.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<ObjectId, HashMap<String, Arc<ManagedIdentityToken>>>>,
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
    ) -> Option<Arc<ManagedIdentityToken>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(&principal)?
            .get(resource)
            .filter(|t| t.expires_on - now >= margin)
            .cloned()
    }

    /// Keeps `token` for `principal` and `resource`, and drops what can no longer be
    /// served: tokens of principals not `current` (detached identities) and expired tokens.
    pub(crate) fn insert(
        &self,
        principal: ObjectId,
        resource: &str,
        token: Arc<ManagedIdentityToken>,
        now: UnixTime,
        current: impl Fn(ObjectId) -> bool,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|p, tokens| {
            tokens.retain(|_, t| t.expires_on > now);
            current(*p) && !tokens.is_empty()
        });
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
    use azlite_types::ClientId;

    use super::*;

    fn token(resource: &str, expires_on: UnixTime) -> Arc<ManagedIdentityToken> {
        Arc::new(ManagedIdentityToken {
            access_token: "t".into(),
            expires_on,
            not_before: 0,
            resource: resource.into(),
            client_id: ClientId::new_random(),
        })
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
