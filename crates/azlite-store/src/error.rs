//! The one error type of the store.

/// What went wrong in a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A write would create a second object with the same key.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The object a conditional write expected changed (or went) since it was read: the
    /// caller re-reads and decides again.
    #[error("changed since read: {0}")]
    Changed(String),
    /// The data in the store is not what this version of azlite can read.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The store was written by a newer azlite (a migration this build does not know).
    #[error("the store is at schema version {found}, newer than this azlite understands ({known})")]
    TooNew {
        /// The version recorded in the store.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The backend failed (I/O, SQLite, a closed pool).
    #[error("storage backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}
