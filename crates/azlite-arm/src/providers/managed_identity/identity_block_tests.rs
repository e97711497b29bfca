//! Tests of the identity block: exhaustive (property-style) checks of `type` parsing over
//! casings, spacings and orders, and of id casing in the merge.

use super::*;

const SUB: &str = "00000000-0000-0000-0000-000000000001";

fn uai(group_segment: &str, name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/{group_segment}/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
}

fn attached(name: &str) -> AttachedIdentity {
    AttachedIdentity {
        id: uai("resourceGroups", name).parse().unwrap(),
        principal_id: ObjectId::new_random(),
        client_id: ClientId::new_random(),
    }
}

fn request(body: Value) -> UnverifiedIdentity {
    UnverifiedIdentity::parse(&body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

/// Every way of writing a type the tutorials use, and more: each casing of each token, each
/// order, each spacing around the comma.
fn spellings(tokens: &[&str]) -> Vec<String> {
    let casings: [fn(&str) -> String; 4] = [
        |t| t.to_owned(),
        |t| t.to_ascii_lowercase(),
        |t| t.to_ascii_uppercase(),
        |t| {
            t.chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect()
        },
    ];
    let separators = [",", ", ", " ,", " , ", ",  "];
    let orders: Vec<Vec<&str>> = if tokens.len() == 2 {
        vec![tokens.to_vec(), vec![tokens[1], tokens[0]]]
    } else {
        vec![tokens.to_vec()]
    };
    let mut out = Vec::new();
    for order in &orders {
        for casing in casings {
            for separator in separators {
                let text = order
                    .iter()
                    .map(|t| casing(t))
                    .collect::<Vec<_>>()
                    .join(separator);
                out.push(text.clone());
                out.push(format!("  {text} "));
            }
        }
    }
    out
}

#[test]
fn every_spelling_of_every_type_parses_to_it_and_prints_canonically() {
    let cases: [(&[&str], IdentityType, &str); 4] = [
        (&["None"], IdentityType::default(), "None"),
        (
            &["SystemAssigned"],
            IdentityType {
                system: true,
                user: false,
            },
            "SystemAssigned",
        ),
        (
            &["UserAssigned"],
            IdentityType {
                system: false,
                user: true,
            },
            "UserAssigned",
        ),
        (
            &["SystemAssigned", "UserAssigned"],
            IdentityType {
                system: true,
                user: true,
            },
            "SystemAssigned, UserAssigned",
        ),
    ];
    for (tokens, expected, canonical) in cases {
        for text in spellings(tokens) {
            let parsed = IdentityType::parse(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(parsed, expected, "{text:?}");
            assert_eq!(parsed.canonical(), canonical);
            assert_eq!(IdentityType::parse(parsed.canonical()).unwrap(), parsed);
        }
    }
}

#[test]
fn other_types_are_refused() {
    for text in [
        "",
        " ",
        "System",
        "SystemAssigned,",
        ",UserAssigned",
        "None, SystemAssigned",
        "UserAssigned,none",
        "SystemAssigned;UserAssigned",
        "SystemAssigned UserAssigned",
        "SystemAssignedUserAssigned",
    ] {
        let error = IdentityType::parse(text).unwrap_err();
        assert_eq!(error.code, "InvalidParameter", "{text:?}");
    }
}

#[test]
fn request_blocks_parse_leniently() {
    let loose = request(json!({
        "Type": "systemassigned,userassigned",
        "userAssignedIdentities": { uai("resourcegroups", "id1"): {}, uai("resourceGroups", "id2"): null },
    }));
    assert_eq!(
        loose.kind,
        IdentityType {
            system: true,
            user: true
        }
    );
    let UserAssignedChange::Merge(changes) = &loose.user_assigned else {
        panic!("{loose:?}")
    };
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].0.as_str(), uai("resourcegroups", "id1"));
    assert!(changes[0].1 && !changes[1].1);

    let old =
        request(json!({ "type": "userAssigned", "identityIds": [uai("resourcegroups", "id1")] }));
    assert!(matches!(old.user_assigned, UserAssignedChange::Replace(ids) if ids.len() == 1));
    assert_eq!(
        request(json!({ "type": "None" })).user_assigned,
        UserAssignedChange::Unchanged
    );
}

#[test]
fn malformed_request_blocks_get_arms_codes() {
    let code = |body: Value| UnverifiedIdentity::parse(&body).unwrap_err().code;
    assert_eq!(code(json!({})), "InvalidRequestContent");
    assert_eq!(code(json!("SystemAssigned")), "InvalidRequestContent");
    assert_eq!(code(json!({ "type": 3 })), "InvalidParameter");
    assert_eq!(
        code(json!({ "type": "UserAssigned", "userAssignedIdentities": { "not-an-id": {} } })),
        "LinkedInvalidPropertyId"
    );
    let vm = format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
    );
    assert_eq!(
        code(json!({ "type": "UserAssigned", "userAssignedIdentities": { vm: {} } })),
        "InvalidParameter"
    );
    assert_eq!(
        code(
            json!({ "type": "UserAssigned", "userAssignedIdentities": { uai("resourceGroups", "a"): 1 } })
        ),
        "InvalidRequestContent"
    );
    assert_eq!(
        code(json!({
            "type": "UserAssigned",
            "userAssignedIdentities": { uai("resourceGroups", "a"): {} },
            "identityIds": [uai("resourceGroups", "a")],
        })),
        "InvalidParameter"
    );
}

#[test]
fn map_keys_match_stored_ids_whatever_their_casing() {
    let stored = attached("Id1");
    let current = ResourceIdentity {
        system: None,
        user: vec![stored.clone()],
    };
    for group_segment in ["resourcegroups", "RESOURCEGROUPS", "resourceGroups"] {
        for name in ["id1", "ID1", "Id1"] {
            let key = uai(group_segment, name);
            let again =
                request(json!({ "type": "UserAssigned", "userAssignedIdentities": { &key: {} } }));
            let result = plan(&current, &again).unwrap();
            assert_eq!(
                result.kept,
                vec![stored.clone()],
                "{key}: stored casing kept"
            );
            assert!(result.added.is_empty(), "{key}");
            let removal = request(json!({
                "type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": { &key: null, uai("resourceGroups", "other"): {} },
            }));
            let result = plan(&current, &removal).unwrap();
            assert!(result.kept.is_empty(), "{key}");
            assert_eq!(result.added.len(), 1);
        }
    }
}

#[test]
fn the_map_is_a_change_set_and_the_list_a_whole_set() {
    let (a, b) = (attached("a"), attached("b"));
    let current = ResourceIdentity {
        system: None,
        user: vec![a.clone(), b.clone()],
    };
    let add = request(json!({
        "type": "UserAssigned",
        "userAssignedIdentities": { uai("resourcegroups", "c"): {} },
    }));
    let result = plan(&current, &add).unwrap();
    assert_eq!(result.kept, vec![a.clone(), b.clone()]);
    assert_eq!(
        result.added,
        vec![uai("resourcegroups", "c").parse().unwrap()]
    );
    assert!(!result.system);

    let list =
        request(json!({ "type": "UserAssigned", "identityIds": [uai("resourceGroups", "B")] }));
    let result = plan(&current, &list).unwrap();
    assert_eq!(result.kept, vec![b.clone()]);
    assert!(result.added.is_empty());

    // Adding and removing the same identity in one map: the last entry wins.
    let flip = request(json!({
        "type": "UserAssigned",
        "userAssignedIdentities": { uai("resourceGroups", "c"): {}, uai("resourcegroups", "C"): null },
    }));
    assert!(plan(&current, &flip).unwrap().added.is_empty());
}

#[test]
fn types_without_user_assigned_detach_everything() {
    let current = ResourceIdentity {
        system: None,
        user: vec![attached("a")],
    };
    let system_only = request(json!({ "type": "SystemAssigned" }));
    let result = plan(&current, &system_only).unwrap();
    assert!(result.system && result.kept.is_empty() && result.added.is_empty());
    let none = plan(&current, &request(json!({ "type": "none" }))).unwrap();
    assert!(!none.system && none.kept.is_empty());
    // Naming an identity to attach with such a type is an error; naming one to detach is not.
    let contradictory = request(json!({
        "type": "SystemAssigned",
        "userAssignedIdentities": { uai("resourceGroups", "b"): {} },
    }));
    assert_eq!(
        plan(&current, &contradictory).unwrap_err().code,
        "InvalidParameter"
    );
    let detach = request(json!({
        "type": "SystemAssigned",
        "userAssignedIdentities": { uai("resourceGroups", "a"): null },
    }));
    assert!(plan(&current, &detach).is_ok());
    // UserAssigned must leave one attached.
    let empty = request(json!({
        "type": "UserAssigned",
        "userAssignedIdentities": { uai("resourceGroups", "a"): null },
    }));
    assert_eq!(plan(&current, &empty).unwrap_err().code, "InvalidParameter");
    let nothing = request(json!({ "type": "UserAssigned" }));
    assert_eq!(
        plan(&ResourceIdentity::default(), &nothing)
            .unwrap_err()
            .code,
        "InvalidParameter"
    );
}

#[test]
fn the_stored_form_round_trips_and_is_the_wire_shape() {
    let identity = ResourceIdentity {
        system: Some(SystemIdentity {
            principal_id: ObjectId::new_random(),
            tenant_id: TenantId::new_random(),
        }),
        user: vec![attached("a"), attached("b")],
    };
    let wire = identity.to_json().unwrap();
    assert_eq!(wire["type"], "SystemAssigned, UserAssigned");
    assert_eq!(
        wire["principalId"],
        json!(identity.system.as_ref().unwrap().principal_id)
    );
    let key = uai("resourceGroups", "a");
    assert_eq!(
        wire["userAssignedIdentities"][&key]["clientId"],
        json!(identity.user[0].client_id)
    );
    let body = json!({ "identity": wire });
    assert_eq!(ResourceIdentity::from_body(&body).unwrap(), identity);
    assert_eq!(ResourceIdentity::default().to_json(), None);
    assert_eq!(
        ResourceIdentity::from_body(&json!({})).unwrap(),
        ResourceIdentity::default()
    );
}
