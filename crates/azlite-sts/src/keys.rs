//! The token-signing keys: load or create them, rotate them, publish them.
//!
//! One key is active and signs every token. Rotation makes a new active key and retires the
//! old one, which stays in the JWKS until the last token it can have signed has expired
//! (`retired_at + max token lifetime`); after that it is deleted. Resource services verify
//! through a [`KeyRing`] built from the same JWKS that clients download.

use std::sync::{Arc, RwLock};

use azlite_store::{SigningKeyStore, StoreError, StoredSigningKey};
use azlite_token::{JwkSet, KeyRing, SigningKey};
use azlite_types::{Clock, UnixTime};

use crate::StsError;

/// How long a signing certificate is valid: Entra's are valid for years; five is plenty.
const CERT_VALIDITY_SECONDS: i64 = 5 * 365 * 24 * 3600;

/// The published state: the active key and everything clients may still need to verify.
#[derive(Debug)]
struct Published {
    active: SigningKey,
    /// Active key first, then retired keys newest first.
    jwks: Arc<JwkSet>,
    key_ring: Arc<KeyRing>,
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The new active key.
    pub active_kid: String,
    /// The key it replaced, now retired but still published.
    pub retired_kid: String,
    /// Keys removed from the JWKS because no token they signed can still be valid.
    pub removed_kids: Vec<String>,
}

/// Signing keys, shared by every request.
pub struct KeyManager {
    store: Arc<dyn SigningKeyStore>,
    clock: Arc<dyn Clock>,
    /// Longest lifetime of any token azlite issues; a retired key outlives it.
    max_token_lifetime: i64,
    published: RwLock<Arc<Published>>,
    /// Serializes rotations so two concurrent calls do not both retire the same key.
    rotate_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager")
            .field("active_kid", &self.active().kid())
            .finish()
    }
}

impl KeyManager {
    /// Loads the keys from the store, creating the first one on a new store, and drops
    /// retired keys whose tokens have all expired.
    pub async fn load_or_create(
        store: Arc<dyn SigningKeyStore>,
        clock: Arc<dyn Clock>,
        max_token_lifetime: i64,
    ) -> Result<Self, StsError> {
        let mut stored = store.list_signing_keys().await?;
        if !stored.iter().any(|k| k.retired_at.is_none()) {
            let key = new_key(clock.now())?;
            store.insert_signing_key(&key).await?;
            stored.push(key);
        }
        // A crash between inserting a new key and retiring the old one leaves two active
        // keys: the newest signs, the others are retired now.
        // The store lists keys oldest first, so the last active one is the newest.
        let mut active: Vec<String> = stored
            .iter()
            .filter(|k| k.retired_at.is_none())
            .map(|k| k.kid.clone())
            .collect();
        active.pop();
        let stale = active;
        for kid in &stale {
            store.retire_signing_key(kid, clock.now()).await?;
        }
        if !stale.is_empty() {
            stored = store.list_signing_keys().await?;
        }
        let published = build(&stored, clock.now(), max_token_lifetime)?;
        let manager = Self {
            store,
            clock,
            max_token_lifetime,
            published: RwLock::new(Arc::new(published.0)),
            rotate_lock: tokio::sync::Mutex::new(()),
        };
        manager.delete(&published.1).await?;
        Ok(manager)
    }

    fn current(&self) -> Arc<Published> {
        // A poisoned lock only means a panic happened while swapping an Arc; the value is
        // still a complete state.
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> SigningKey {
        self.current().active.clone()
    }

    /// Signs `claims` with the active key.
    pub fn sign<C: serde::Serialize>(
        &self,
        claims: &C,
        style: azlite_token::HeaderStyle,
    ) -> Result<String, azlite_token::TokenError> {
        self.current().active.sign(claims, style)
    }

    /// The JWKS to publish.
    pub fn jwks(&self) -> Arc<JwkSet> {
        self.current().jwks.clone()
    }

    /// The verification keys matching [`Self::jwks`].
    pub fn key_ring(&self) -> Arc<KeyRing> {
        self.current().key_ring.clone()
    }

    /// Makes a new active key and retires the current one.
    pub async fn rotate(&self) -> Result<Rotation, StsError> {
        let _guard = self.rotate_lock.lock().await;
        let now = self.clock.now();
        let old = self.active();
        let key = new_key(now)?;
        self.store.insert_signing_key(&key).await?;
        self.store.retire_signing_key(old.kid(), now).await?;
        let stored = self.store.list_signing_keys().await?;
        let (published, expired) = build(&stored, now, self.max_token_lifetime)?;
        *self.published.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(published);
        self.delete(&expired).await?;
        Ok(Rotation {
            active_kid: key.kid,
            retired_kid: old.kid().to_owned(),
            removed_kids: expired,
        })
    }

    async fn delete(&self, kids: &[String]) -> Result<(), StoreError> {
        for kid in kids {
            self.store.delete_signing_key(kid).await?;
            tracing::info!(%kid, "signing key removed: every token it signed has expired");
        }
        Ok(())
    }
}

fn new_key(now: UnixTime) -> Result<StoredSigningKey, StsError> {
    // Back-date the certificate a little so clients with a slightly slow clock accept it.
    let key = SigningKey::generate(
        "azlite token signing",
        now - 3600,
        now + CERT_VALIDITY_SECONDS,
    )
    .map_err(|e| StsError::Internal(Box::new(e)))?;
    tracing::info!(kid = %key.kid(), "new token signing key");
    Ok(StoredSigningKey {
        kid: key.kid().to_owned(),
        certificate_pem: key.certificate_pem(),
        private_key_pem: key.private_key_pem(),
        created_at: now,
        retired_at: None,
    })
}

/// Builds the published state from stored keys; returns it with the kids to delete.
fn build(
    stored: &[StoredSigningKey],
    now: UnixTime,
    max_token_lifetime: i64,
) -> Result<(Published, Vec<String>), StsError> {
    let internal = |e: azlite_token::KeyError| StsError::Internal(Box::new(e));
    // The newest key that is not retired signs.
    // Oldest first: the last key that is not retired is the newest.
    let active_row = stored
        .iter()
        .rfind(|k| k.retired_at.is_none())
        .ok_or_else(|| StsError::Internal("no active signing key".into()))?;
    let active = SigningKey::from_pem(&active_row.certificate_pem, &active_row.private_key_pem)
        .map_err(internal)?;
    let mut keys = vec![active.jwk()];
    let mut expired = Vec::new();
    let mut retired: Vec<&StoredSigningKey> =
        stored.iter().filter(|k| k.kid != active_row.kid).collect();
    retired.sort_by_key(|k| std::cmp::Reverse(k.retired_at.unwrap_or(k.created_at)));
    for row in retired {
        let retired_at = row.retired_at.unwrap_or(now);
        if retired_at + max_token_lifetime < now {
            expired.push(row.kid.clone());
            continue;
        }
        // A retired key that no longer parses only verified old tokens: it is left out of
        // the JWKS with a warning rather than keeping the token service from starting.
        match SigningKey::from_pem(&row.certificate_pem, &row.private_key_pem) {
            Ok(key) => keys.push(key.jwk()),
            Err(error) => {
                tracing::warn!(kid = %row.kid, %error, "skipping a retired signing key that does not parse");
            }
        }
    }
    let jwks = JwkSet { keys };
    let key_ring = KeyRing::from_jwks(&jwks).map_err(|e| StsError::Internal(Box::new(e)))?;
    Ok((
        Published {
            active,
            jwks: Arc::new(jwks),
            key_ring: Arc::new(key_ring),
        },
        expired,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retired_key_that_does_not_parse_is_left_out_not_fatal() {
        let now = 1_800_000_000;
        let mut old = new_key(now - 100).unwrap();
        old.retired_at = Some(now - 10);
        old.private_key_pem =
            "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n".into();
        let active = new_key(now).unwrap();
        let (published, expired) = build(&[old, active.clone()], now, 3600).unwrap();
        assert!(expired.is_empty());
        assert_eq!(
            published.jwks.keys.len(),
            1,
            "only the active key is published"
        );
        assert_eq!(published.active.kid(), active.kid);
    }
}
