//! The content store's one error type.

use crate::ExtentId;

/// Why a content operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The body held more bytes than the put allowed.
    #[error("the body is longer than {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The body's length was not the one announced.
    #[error("the body has {actual} bytes, {expected} were announced")]
    LengthMismatch {
        /// The announced length.
        expected: u64,
        /// The bytes received (possibly more than the announced length, counted up to where
        /// reading stopped).
        actual: u64,
    },
    /// Reading the body failed (the client went away, or the connection broke).
    #[error("reading the body failed")]
    Body(#[source] std::io::Error),
    /// No extent of that id exists.
    #[error("extent {0} does not exist")]
    NotFound(ExtentId),
    /// The range asked for ends past the extent.
    #[error("bytes {offset}..+{len} are out of range of extent {id} ({extent_len} bytes)")]
    OutOfRange {
        /// The extent.
        id: ExtentId,
        /// Where the range starts.
        offset: u64,
        /// Its length.
        len: u64,
        /// The extent's length.
        extent_len: u64,
    },
    /// A name that is not an extent id.
    #[error("{0:?} is not an extent id")]
    InvalidId(String),
    /// The backend failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl ContentError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
