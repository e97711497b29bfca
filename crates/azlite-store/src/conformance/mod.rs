//! The backend-independent conformance suite: what every [`Store`] must do, checked through
//! the traits alone.
//!
//! Each check is a `pub async fn` taking `&dyn Store`; [`run_all`] runs them in turn. The
//! checks create their own objects under fresh random ids, domains and keys, so they pass on
//! a store that already holds data, and they may run one after another on the same store
//! (which [`run_all`] does) or each on its own store (which `tests/conformance.rs` does, to
//! report them separately). A backend in another crate runs the same suite:
//!
//! ```ignore
//! #[tokio::test]
//! async fn postgres_conforms() {
//!     let store = PostgresStore::connect(&test_database_url()).await.unwrap();
//!     azlite_store::conformance::run_all(&store).await;
//! }
//! ```
//!
//! This is test code compiled into the library so that other crates can call it: a check
//! panics, with a message naming the broken rule, on the first departure from the contract.

mod app_role_assignments;
mod applications;
mod arm;
mod arm_deletion;
mod batch;
mod blob_inline;
mod blobs;
mod credentials;
mod datalake;
mod fixtures;
mod keys;
mod principals;
mod secrets;
mod storage_account_keys;
mod tenants;

pub use app_role_assignments::{app_role_assignment_cascade, app_role_assignments};
pub use applications::{application_deletion, application_listing};
pub use arm::{resource_groups, resources, resources_by_name, role_assignments};
pub use arm_deletion::{
    deletions_before_inserts, names_are_not_patterns, resource_deletion, resource_group_deletion,
};
pub use batch::{batch_atomicity, batch_deletions};
pub use blob_inline::{blob_concurrent_writes, blob_inline_content};
pub use blobs::{
    blob_cascade, blob_containers, blob_listing, blob_uncommitted_blocks, blob_writes,
};
pub use credentials::{credentials, service_principal_deletion};
pub use datalake::{datalake_appends, datalake_cascade, datalake_changes, datalake_tree};
pub use keys::{settings, signing_keys};
pub use principals::{applications, service_principals};
pub use secrets::{secret_cascade, secret_deletion, secrets};
pub use storage_account_keys::{storage_account_key_cascade, storage_account_keys};
pub use tenants::{subscriptions, tenants, users};

use crate::Store;

/// Runs every check against `store`, one after another.
pub async fn run_all(store: &dyn Store) {
    tenants(store).await;
    subscriptions(store).await;
    applications(store).await;
    service_principals(store).await;
    application_listing(store).await;
    application_deletion(store).await;
    credentials(store).await;
    service_principal_deletion(store).await;
    users(store).await;
    batch_atomicity(store).await;
    batch_deletions(store).await;
    settings(store).await;
    signing_keys(store).await;
    resource_groups(store).await;
    resources(store).await;
    resources_by_name(store).await;
    role_assignments(store).await;
    resource_group_deletion(store).await;
    resource_deletion(store).await;
    deletions_before_inserts(store).await;
    names_are_not_patterns(store).await;
    secrets(store).await;
    secret_deletion(store).await;
    secret_cascade(store).await;
    storage_account_keys(store).await;
    storage_account_key_cascade(store).await;
    datalake_tree(store).await;
    datalake_appends(store).await;
    datalake_changes(store).await;
    datalake_cascade(store).await;
    blob_containers(store).await;
    blob_writes(store).await;
    blob_uncommitted_blocks(store).await;
    blob_listing(store).await;
    blob_cascade(store).await;
    app_role_assignments(store).await;
    app_role_assignment_cascade(store).await;
    blob_inline_content(store).await;
    blob_concurrent_writes(store).await;
}
