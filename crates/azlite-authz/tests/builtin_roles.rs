//! The built-in roles against a second, independent table of their published GUIDs
//! (DOC-BUILTIN; identical in every cloud), and the shape every built-in shares.

use azlite_authz::{RoleCatalog, RoleType, builtin_role, builtin_roles};
use azlite_types::Scope;

/// Reference §3.7, copied by hand: role name → GUID.
const PUBLISHED: &[(&str, &str)] = &[
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    ),
    (
        "Storage Account Contributor",
        "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    ),
    (
        "Storage Blob Data Owner",
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    ),
    (
        "Storage Blob Data Contributor",
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    ),
    (
        "Storage Blob Data Reader",
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    ),
    (
        "Key Vault Administrator",
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    ),
    (
        "Key Vault Secrets Officer",
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    ),
    (
        "Key Vault Secrets User",
        "4633458b-17de-408a-b874-0445c86b69e6",
    ),
    ("Key Vault Reader", "21090545-7ca7-4776-b22c-e363652d74d2"),
    (
        "Managed Identity Operator",
        "f1a07417-d97a-45cb-824c-7a7467783830",
    ),
    (
        "Managed Identity Contributor",
        "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
    ),
    (
        "Virtual Machine Contributor",
        "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
    ),
    (
        "Key Vault Contributor",
        "f25e0fa2-a7c8-4377-a976-54943a77a395",
    ),
    (
        "Reader and Data Access",
        "c12c1c16-33a1-487b-954d-41c89c60f349",
    ),
    (
        "Storage Account Key Operator Service Role",
        "81a9662b-bebf-436f-a333-f67b29880f12",
    ),
];

#[test]
fn every_published_role_is_built_in_with_its_guid() {
    let catalog = RoleCatalog::with_builtins();
    for (name, guid) in PUBLISHED {
        let role = catalog
            .find_by_name(name)
            .unwrap_or_else(|| panic!("{name} is missing"));
        assert_eq!(role.id().to_string(), *guid, "{name}");
        assert_eq!(builtin_role(guid.parse().unwrap()).unwrap().name, *name);
    }
    let names: Vec<&str> = builtin_roles().iter().map(|r| r.name.as_str()).collect();
    let published: Vec<&str> = PUBLISHED.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names, published,
        "the built-ins are exactly the published table, in its order"
    );
}

#[test]
fn built_ins_share_one_shape() {
    for role in builtin_roles() {
        assert_eq!(role.role_type, RoleType::BuiltInRole, "{}", role.name);
        assert_eq!(role.assignable_scopes, vec![Scope::root()], "{}", role.name);
        assert_eq!(role.permissions.len(), 1, "{}", role.name);
        assert!(
            role.permissions[0].not_data_actions.is_empty(),
            "{}",
            role.name
        );
        assert!(!role.description.is_empty(), "{}", role.name);
    }
}

#[test]
fn permission_lists_have_the_published_lengths() {
    // (actions, notActions, dataActions) per role, counted in reference §3.7 and DOC-BUILTIN.
    let expected: &[(&str, usize, usize, usize)] = &[
        ("Owner", 1, 0, 0),
        ("Contributor", 1, 11, 0),
        ("Reader", 1, 0, 0),
        ("User Access Administrator", 3, 0, 0),
        ("Storage Account Contributor", 9, 0, 0),
        ("Storage Blob Data Owner", 2, 0, 1),
        ("Storage Blob Data Contributor", 4, 0, 5),
        ("Storage Blob Data Reader", 2, 0, 1),
        ("Key Vault Administrator", 10, 0, 1),
        ("Key Vault Secrets Officer", 10, 0, 1),
        ("Key Vault Secrets User", 0, 0, 2),
        ("Key Vault Reader", 10, 0, 2),
        ("Managed Identity Operator", 7, 0, 0),
        ("Managed Identity Contributor", 12, 0, 0),
        ("Virtual Machine Contributor", 45, 0, 0),
        ("Key Vault Contributor", 6, 3, 0),
        ("Reader and Data Access", 3, 0, 0),
        ("Storage Account Key Operator Service Role", 2, 0, 0),
    ];
    for (name, actions, not_actions, data_actions) in expected {
        let role = builtin_roles().iter().find(|r| r.name == *name).unwrap();
        let p = &role.permissions[0];
        assert_eq!(
            (p.actions.len(), p.not_actions.len(), p.data_actions.len()),
            (*actions, *not_actions, *data_actions),
            "{name}"
        );
    }
}
