//! Vocabulary shared by every azlite crate: typed identifiers, ARM resource ids and scopes,
//! the injected [`Clock`], and the app roles of the first-party APIs ([`app_roles`]).
//!
//! Architecture Invariant: this crate does no I/O. It parses and compares; it never reads a
//! file, a socket or the system clock except through [`SystemClock`], which callers inject.

pub mod app_roles;
mod clock;
mod ids;
mod resource_id;

pub use clock::{Clock, ManualClock, OffsetClock, SystemClock, UnixTime};
pub use ids::{ClientId, IdParseError, ObjectId, SubscriptionId, TenantId};
pub use resource_id::{ResourceId, ResourceIdError, Scope};
