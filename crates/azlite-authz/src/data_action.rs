//! How a data plane asks "may this principal perform this data action here?" without
//! depending on the service that holds the role assignments.
//!
//! The assignment index lives in ARM (it changes with every assignment ARM writes); data
//! planes (Key Vault, Blob) must not depend on ARM. ARM implements [`DataActionCheck`], and
//! the composition root hands it to each data plane as `Arc<dyn DataActionCheck>`.

use azlite_types::{ObjectId, Scope};

use crate::{Action, AssignmentIndex, Decision};

/// Answers data-plane authorization checks against the current role assignments.
pub trait DataActionCheck: Send + Sync {
    /// May `principal` perform the data action `data_action` (e.g.
    /// `Microsoft.KeyVault/vaults/secrets/getSecret/action`) at `scope`? Only the
    /// `dataActions` of the roles assigned at `scope` or above count (reference §3.3.5).
    fn check_data_action(
        &self,
        principal: ObjectId,
        scope: &Scope,
        data_action: &str,
    ) -> Decision<'static>;
}

impl AssignmentIndex {
    /// [`AssignmentIndex::check`] of a data action, with an owned proof.
    pub fn check_data_action(
        &self,
        principal: ObjectId,
        scope: &Scope,
        data_action: &str,
    ) -> Decision<'static> {
        let action = Action::data(data_action);
        match self.check(principal, scope, &action) {
            Decision::Allow(proof) => Decision::Allow(proof.into_owned()),
            Decision::Deny { reason } => Decision::Deny { reason },
        }
    }
}

impl DataActionCheck for AssignmentIndex {
    fn check_data_action(
        &self,
        principal: ObjectId,
        scope: &Scope,
        data_action: &str,
    ) -> Decision<'static> {
        AssignmentIndex::check_data_action(self, principal, scope, data_action)
    }
}
