//! Azure Storage request signing, both directions, with no I/O: Shared Key and Shared Key
//! Lite ([`shared_key`]), and shared access signatures of every kind ([`sas`]): service SAS,
//! account SAS and user delegation SAS, from `sv=2015-04-05` (what ARM's `listServiceSas`
//! still signs) to the newest version azure-storage-blob sends.
//!
//! The crate takes plain inputs (method, path as sent, decoded query pairs, headers as
//! name/value pairs, the client's address, `now`) so that Blob, ARM and later the Data Lake
//! Gen2 endpoint share it without sharing HTTP types. Keys are HMAC-SHA256 keys from
//! aws-lc-rs; every signature comparison is constant-time. Failures are [`AuthError`]s that
//! carry Azure's error code, message and `AuthenticationErrorDetail`, including the
//! string-to-sign the server used, which is what a user debugging a signature needs.
//!
//! User delegation keys are derived, not stored: see [`udk`].

pub mod credential;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod header_order;
mod keys;
pub mod sas;
pub mod shared_key;
mod times;
pub mod udk;
mod version;

pub use credential::{UnverifiedCredential, classify};
pub use error::{AUTHENTICATION_FAILED_MESSAGE, AuthError};
pub use header_order::compare_header_names;
pub use keys::AccountKey;
pub use sas::parse_query;
pub use times::{format_rfc1123, format_sas_time, parse_rfc1123, parse_sas_time};
pub use version::ServiceVersion;
