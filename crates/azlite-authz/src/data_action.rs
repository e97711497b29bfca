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

    /// May `principal` perform the control-plane action `action` at `scope`? Some data
    /// planes check actions, not data actions, for some operations: Blob Storage checks
    /// `…/blobServices/containers/read|write|delete` for its container operations over
    /// OAuth, which is why Storage Blob Data Reader lists `containers/read` among its
    /// `actions` (reference arm-rbac §3.7).
    fn check_control_action(
        &self,
        principal: ObjectId,
        scope: &Scope,
        action: &str,
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

    fn check_control_action(
        &self,
        principal: ObjectId,
        scope: &Scope,
        action: &str,
    ) -> Decision<'static> {
        match self.check(principal, scope, &Action::control(action)) {
            Decision::Allow(proof) => Decision::Allow(proof.into_owned()),
            Decision::Deny { reason } => Decision::Deny { reason },
        }
    }
}
