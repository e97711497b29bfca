//! What each Blob operation needs from a SAS: the resource level (for an account SAS's
//! `srt`) and the permission letters of `sp`, any one of which suffices.
//!
//! From "Create a service SAS" / "Create an account SAS" (permission tables) and Azurite's
//! `OperationBlobSASPermission` ("any of" semantics):
//! * `r` reads content, properties, metadata and block lists; `l` lists;
//! * `c` writes a *new* blob, `w` creates or overwrites, sets properties and metadata, and
//!   takes leases; `a` appends blocks;
//! * `d` deletes; container create/delete/lease and the service's settings need an account
//!   SAS (a service SAS is for the data inside one container or blob).
//!
//! Letters are accepted in any order and unknown letters are ignored (Azure's SDKs order
//! them; the service's own tolerance of disorder is not documented).

use crate::error::AuthError;

/// A set of permission letters (`sp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SasPermissions(u32);

/// Every letter a blob SAS may carry, in the SDKs' canonical order.
const LETTERS: &str = "racwdxyltfmeopiu";

impl SasPermissions {
    /// Reads `sp`.
    pub fn parse(sp: &str) -> Self {
        let mut bits = 0;
        for c in sp.chars() {
            if let Some(i) = LETTERS.find(c) {
                bits |= 1 << i;
            }
        }
        SasPermissions(bits)
    }

    /// Whether `letter` is granted.
    pub fn has(self, letter: char) -> bool {
        LETTERS.find(letter).is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Whether any of `letters` is granted.
    pub fn has_any(self, letters: &str) -> bool {
        letters.chars().any(|c| self.has(c))
    }

    /// Whether no permission at all is granted.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The level an operation addresses, as an account SAS's `srt` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// `s`: the service (list containers, service properties).
    Service,
    /// `c`: a container (create, delete, properties, list blobs).
    Container,
    /// `o`: an object (a blob).
    Object,
}

impl ResourceType {
    /// The letter in `srt`.
    pub fn letter(self) -> char {
        match self {
            ResourceType::Service => 's',
            ResourceType::Container => 'c',
            ResourceType::Object => 'o',
        }
    }
}

/// The Blob operations a SAS may authorize, named after the REST operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOperation {
    /// List Containers.
    ListContainers,
    /// Get Blob Service Properties / Stats.
    GetServiceProperties,
    /// Set Blob Service Properties.
    SetServiceProperties,
    /// Get Account Information: any valid SAS of the account, whatever its permissions.
    GetAccountInformation,
    /// Get User Delegation Key: Microsoft Entra only, never a SAS.
    GetUserDelegationKey,
    /// Create Container.
    CreateContainer,
    /// Delete Container.
    DeleteContainer,
    /// Get Container Properties / Metadata.
    GetContainerProperties,
    /// Set Container Metadata.
    SetContainerMetadata,
    /// Get or Set Container ACL: account key holders only.
    ContainerAcl,
    /// Lease Container.
    LeaseContainer,
    /// List Blobs.
    ListBlobs,
    /// Get Blob, Get Blob Properties / Metadata, Get Block List, or a copy's source.
    ReadBlob,
    /// Put Blob, Put Block, Put Block List, Copy Blob (destination): `c` is enough for a
    /// blob that does not exist yet, `w` is needed to overwrite one.
    WriteBlob {
        /// Whether the blob exists already.
        exists: bool,
    },
    /// Append Block.
    AppendBlock,
    /// Set Blob Properties / Metadata / Tier.
    SetBlobProperties,
    /// Lease Blob.
    LeaseBlob,
    /// Delete Blob.
    DeleteBlob,
}

/// What a service or user delegation SAS may do with an operation.
enum ServiceSasRule {
    /// Allowed, with the same permission letters.
    Allowed,
    /// Never allowed with a service SAS.
    NotAllowed,
}

impl BlobOperation {
    /// The level of the resource the operation addresses.
    pub fn resource_type(self) -> ResourceType {
        use BlobOperation::*;
        match self {
            ListContainers
            | GetServiceProperties
            | SetServiceProperties
            | GetAccountInformation
            | GetUserDelegationKey => ResourceType::Service,
            CreateContainer
            | DeleteContainer
            | GetContainerProperties
            | SetContainerMetadata
            | ContainerAcl
            | LeaseContainer
            | ListBlobs => ResourceType::Container,
            ReadBlob
            | WriteBlob { .. }
            | AppendBlock
            | SetBlobProperties
            | LeaseBlob
            | DeleteBlob => ResourceType::Object,
        }
    }

    /// The permission letters, any one of which allows the operation (empty: any SAS).
    pub fn any_of(self) -> &'static str {
        use BlobOperation::*;
        match self {
            ListContainers | ListBlobs => "l",
            GetServiceProperties | GetContainerProperties | ReadBlob => "r",
            SetServiceProperties | SetContainerMetadata | SetBlobProperties | LeaseContainer
            | LeaseBlob => "w",
            GetAccountInformation => "",
            GetUserDelegationKey | ContainerAcl => "",
            CreateContainer => "cw",
            DeleteContainer | DeleteBlob => "d",
            WriteBlob { exists: false } => "cw",
            WriteBlob { exists: true } => "w",
            AppendBlock => "aw",
        }
    }

    fn service_sas_rule(self) -> ServiceSasRule {
        use BlobOperation::*;
        match self {
            ListContainers | GetServiceProperties | SetServiceProperties | GetUserDelegationKey
            | CreateContainer | DeleteContainer | ContainerAcl | LeaseContainer => {
                ServiceSasRule::NotAllowed
            }
            _ => ServiceSasRule::Allowed,
        }
    }

    /// Whether an account SAS with these resource types and permissions allows the
    /// operation.
    pub fn check_account_sas(
        self,
        resource_types: &str,
        permissions: SasPermissions,
    ) -> Result<(), AuthError> {
        if matches!(
            self,
            BlobOperation::GetUserDelegationKey | BlobOperation::ContainerAcl
        ) {
            return Err(AuthError::AuthorizationFailure);
        }
        if self != BlobOperation::GetAccountInformation
            && !resource_types.contains(self.resource_type().letter())
        {
            return Err(AuthError::AuthorizationResourceTypeMismatch);
        }
        self.check_letters(permissions)
    }

    /// Whether a service or user delegation SAS with these permissions allows the
    /// operation (its scope is checked by the signature, which covers the resource).
    pub fn check_service_sas(self, permissions: SasPermissions) -> Result<(), AuthError> {
        match self.service_sas_rule() {
            ServiceSasRule::NotAllowed => Err(AuthError::AuthorizationFailure),
            ServiceSasRule::Allowed => self.check_letters(permissions),
        }
    }

    fn check_letters(self, permissions: SasPermissions) -> Result<(), AuthError> {
        let any_of = self.any_of();
        if any_of.is_empty() || permissions.has_any(any_of) {
            Ok(())
        } else {
            Err(AuthError::AuthorizationPermissionMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_operations() {
        let p = SasPermissions::parse("rcw");
        assert!(p.has('r') && p.has('c') && p.has('w') && !p.has('d'));
        assert!(SasPermissions::parse("").is_empty());
        assert!(SasPermissions::parse("zq?").is_empty());
        use BlobOperation::*;
        assert_eq!(WriteBlob { exists: false }.check_service_sas(p), Ok(()));
        let create_only = SasPermissions::parse("c");
        assert_eq!(
            WriteBlob { exists: true }.check_service_sas(create_only),
            Err(AuthError::AuthorizationPermissionMismatch)
        );
        assert_eq!(
            DeleteBlob.check_service_sas(p),
            Err(AuthError::AuthorizationPermissionMismatch)
        );
        assert_eq!(
            CreateContainer.check_service_sas(p),
            Err(AuthError::AuthorizationFailure)
        );
        assert_eq!(
            ListContainers.check_account_sas("s", SasPermissions::parse("l")),
            Ok(())
        );
        assert_eq!(
            ListContainers.check_account_sas("co", SasPermissions::parse("l")),
            Err(AuthError::AuthorizationResourceTypeMismatch)
        );
        assert_eq!(GetAccountInformation.check_account_sas("o", p), Ok(()));
    }
}
