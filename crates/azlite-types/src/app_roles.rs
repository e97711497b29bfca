//! The app roles of Microsoft's first-party APIs that azlite serves, with their real ids:
//! what Microsoft Graph's service principal (`appId 00000003-0000-0000-c000-000000000000`)
//! defines as application permissions, as Graph lists them in its `appRoles` and the
//! permissions reference documents them. An app role assignment names a role by its id;
//! a token carries its value in `roles`.
//!
//! Only the roles azlite enforces are listed: those that govern the directory objects
//! azlite's Graph serves (applications, service principals, app role assignments).

use uuid::Uuid;

use crate::ClientId;

/// Microsoft Graph's app (client) id, the same in every tenant.
pub const MICROSOFT_GRAPH_APP_ID: ClientId =
    ClientId::from_uuid(Uuid::from_u128(0x00000003_0000_0000_c000_000000000000));

/// The tenant that owns Microsoft's first-party applications (`appOwnerOrganizationId` of
/// Microsoft Graph's and of every managed identity's service principal).
pub const MICROSOFT_SERVICES_TENANT_ID: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// An application permission a resource service principal defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppRole {
    /// The role's id (`appRoleId` in an assignment).
    pub id: Uuid,
    /// The value a token carries in `roles`, e.g. `Application.Read.All`.
    pub value: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// What the role allows.
    pub description: &'static str,
}

/// `Application.Read.All`.
pub const APPLICATION_READ_ALL: &str = "Application.Read.All";
/// `Application.ReadWrite.All`.
pub const APPLICATION_READ_WRITE_ALL: &str = "Application.ReadWrite.All";
/// `Application.ReadWrite.OwnedBy`.
pub const APPLICATION_READ_WRITE_OWNED_BY: &str = "Application.ReadWrite.OwnedBy";
/// `AppRoleAssignment.ReadWrite.All`.
pub const APP_ROLE_ASSIGNMENT_READ_WRITE_ALL: &str = "AppRoleAssignment.ReadWrite.All";
/// `Directory.Read.All`.
pub const DIRECTORY_READ_ALL: &str = "Directory.Read.All";
/// `Directory.ReadWrite.All`.
pub const DIRECTORY_READ_WRITE_ALL: &str = "Directory.ReadWrite.All";

/// Microsoft Graph's application permissions that azlite enforces, with Graph's ids.
pub const MICROSOFT_GRAPH_APP_ROLES: &[AppRole] = &[
    AppRole {
        id: Uuid::from_u128(0x9a5d68dd_52b0_4cc2_bd40_abcf44ac3a30),
        value: APPLICATION_READ_ALL,
        display_name: "Read all applications",
        description: "Allows the app to read all applications and service principals without a signed-in user.",
    },
    AppRole {
        id: Uuid::from_u128(0x1bfefb4e_e0b5_418b_a88f_73c46d2cc8e9),
        value: APPLICATION_READ_WRITE_ALL,
        display_name: "Read and write all applications",
        description: "Allows the app to create, read, update and delete applications and service principals without a signed-in user. Does not allow management of consent grants.",
    },
    AppRole {
        id: Uuid::from_u128(0x18a4783c_866b_4cc7_a460_3d5e5662c884),
        value: APPLICATION_READ_WRITE_OWNED_BY,
        display_name: "Manage apps that this app creates or owns",
        description: "Allows the app to create other applications, and fully manage those applications (read, update, update application secrets and delete), without a signed-in user. It cannot update any apps that it is not an owner of.",
    },
    AppRole {
        id: Uuid::from_u128(0x06b708a9_e830_4db3_a914_8e69da51d44f),
        value: APP_ROLE_ASSIGNMENT_READ_WRITE_ALL,
        display_name: "Manage app permission grants and app role assignments",
        description: "Allows the app to manage permission grants for application permissions to any API (including Microsoft Graph) and application assignments for any app, without a signed-in user.",
    },
    AppRole {
        id: Uuid::from_u128(0x7ab1d382_f21e_4acd_a863_ba3e13f7da61),
        value: DIRECTORY_READ_ALL,
        display_name: "Read directory data",
        description: "Allows the app to read data in your organization's directory, such as users, groups and apps, without a signed-in user.",
    },
    AppRole {
        id: Uuid::from_u128(0x19dbc75e_c2e2_444c_a770_ec69d8559fc7),
        value: DIRECTORY_READ_WRITE_ALL,
        display_name: "Read and write directory data",
        description: "Allows the app to read and write data in your organization's directory, such as users, and groups, without a signed-in user. Does not allow user or group deletion.",
    },
];

/// The app roles the first-party API `app_id` defines (empty for any other app).
pub fn app_roles_of(app_id: ClientId) -> &'static [AppRole] {
    if app_id == MICROSOFT_GRAPH_APP_ID {
        MICROSOFT_GRAPH_APP_ROLES
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_role_ids_are_graphs() {
        let id = |value: &str| {
            MICROSOFT_GRAPH_APP_ROLES
                .iter()
                .find(|r| r.value == value)
                .map(|r| r.id.hyphenated().to_string())
        };
        assert_eq!(
            MICROSOFT_GRAPH_APP_ID.to_string(),
            "00000003-0000-0000-c000-000000000000"
        );
        assert_eq!(
            id(APPLICATION_READ_ALL).as_deref(),
            Some("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30")
        );
        assert_eq!(
            id(DIRECTORY_READ_ALL).as_deref(),
            Some("7ab1d382-f21e-4acd-a863-ba3e13f7da61")
        );
        assert_eq!(
            id(DIRECTORY_READ_WRITE_ALL).as_deref(),
            Some("19dbc75e-c2e2-444c-a770-ec69d8559fc7")
        );
        let mut ids: Vec<_> = MICROSOFT_GRAPH_APP_ROLES.iter().map(|r| r.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), MICROSOFT_GRAPH_APP_ROLES.len());
        assert!(app_roles_of(ClientId::new_random()).is_empty());
    }
}
