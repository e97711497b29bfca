//! Property tests: the evaluator against a small reference model written straight from the
//! rules of reference §4.6 over a flat list of entries, and the round trips of specs and
//! modes.

use azlite_posix_acl::inherit::{GEN1_UMASK, new_child};
use azlite_posix_acl::spec::{parse_spec, print_spec};
use azlite_posix_acl::{Acl, AclEntry, AclScope, AclTag, Caller, Mode, Perm, permitted};
use proptest::prelude::*;

const USERS: [&str; 4] = ["owner", "u1", "u2", "u3"];
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];

/// The reference model: the rules read from the flat access entries, one by one.
fn model(
    entries: &[AclEntry],
    owner: &str,
    group: &str,
    who: &str,
    groups: &[String],
    su: bool,
    want: u8,
) -> bool {
    if su {
        return true;
    }
    let access: Vec<&AclEntry> = entries
        .iter()
        .filter(|e| e.key.scope == AclScope::Access)
        .collect();
    let find = |tag: AclTag| {
        access
            .iter()
            .find(|e| e.key.tag == tag)
            .map(|e| e.perm.bits())
    };
    let mask = find(AclTag::Mask).unwrap_or(7);
    let has = |bits: u8| bits & want == want;
    if who == owner {
        return has(find(AclTag::User(None)).unwrap());
    }
    if let Some(p) = find(AclTag::User(Some(who.to_owned()))) {
        return has(p & mask);
    }
    let mut matched = false;
    let mut union = 0;
    for e in &access {
        let member = match &e.key.tag {
            AclTag::Group(None) => groups.iter().any(|g| g == group),
            AclTag::Group(Some(n)) => groups.iter().any(|g| g == n),
            _ => false,
        };
        if member {
            matched = true;
            union |= e.perm.bits();
        }
    }
    if matched {
        return has(union & mask);
    }
    has(find(AclTag::Other).unwrap())
}

fn perm() -> impl Strategy<Value = Perm> {
    (0u8..8).prop_map(Perm::from_bits)
}

fn tag() -> impl Strategy<Value = AclTag> {
    prop_oneof![
        Just(AclTag::User(None)),
        (1usize..4).prop_map(|i| AclTag::User(Some(USERS[i].to_owned()))),
        Just(AclTag::Group(None)),
        (0usize..3).prop_map(|i| AclTag::Group(Some(GROUPS[i].to_owned()))),
        Just(AclTag::Mask),
        Just(AclTag::Other),
    ]
}

/// A valid SETACL spec: the base entries, then any named, mask and default entries.
fn spec() -> impl Strategy<Value = Vec<AclEntry>> {
    (
        perm(),
        perm(),
        perm(),
        prop::collection::btree_map((any::<bool>(), tag()), perm(), 0..8),
    )
        .prop_map(|(u, g, o, extra)| {
            let mut entries = vec![
                AclEntry::access(AclTag::User(None), u),
                AclEntry::access(AclTag::Group(None), g),
                AclEntry::access(AclTag::Other, o),
            ];
            for ((default, tag), p) in extra {
                let e = if default {
                    AclEntry::default(tag, p)
                } else {
                    AclEntry::access(tag, p)
                };
                if !entries.iter().any(|x| x.key == e.key) {
                    entries.push(e);
                }
            }
            entries
        })
}

fn caller() -> impl Strategy<Value = (String, Vec<String>, bool)> {
    (
        prop::sample::select(USERS.to_vec()).prop_map(str::to_owned),
        prop::sample::subsequence(GROUPS.to_vec(), 0..=3)
            .prop_map(|g| g.into_iter().map(str::to_owned).collect()),
        prop::bool::weighted(0.1),
    )
}

proptest! {
    #[test]
    fn the_evaluator_agrees_with_the_model(spec in spec(), (who, groups, su) in caller(), want in 0u8..8) {
        let mut acl = Acl::new("owner", "g0", Mode::from_bits(0o750));
        acl.set_acl(&spec, true).unwrap();
        // The model reads the entries as a client would see them: printed and parsed back.
        let listed = parse_spec(&print_spec(&acl.entries())).unwrap();
        let c = Caller { id: &who, groups: &groups, superuser: su };
        prop_assert_eq!(
            permitted(&acl, &c, Perm::from_bits(want)),
            model(&listed, "owner", "g0", &who, &groups, su, want)
        );
    }

    #[test]
    fn granting_more_never_refuses_less(spec in spec(), (who, groups, su) in caller(), want in 0u8..8, less in 0u8..8) {
        let mut acl = Acl::new("owner", "g0", Mode::from_bits(0o750));
        acl.set_acl(&spec, true).unwrap();
        let c = Caller { id: &who, groups: &groups, superuser: su };
        if permitted(&acl, &c, Perm::from_bits(want)) {
            prop_assert!(permitted(&acl, &c, Perm::from_bits(want & less)));
        }
    }

    #[test]
    fn specs_round_trip(spec in spec()) {
        prop_assert_eq!(parse_spec(&print_spec(&spec)).unwrap(), spec);
    }

    #[test]
    fn a_mask_exists_exactly_with_named_access_entries(spec in spec()) {
        let mut acl = Acl::new("owner", "g0", Mode::from_bits(0o750));
        acl.set_acl(&spec, true).unwrap();
        prop_assert_eq!(acl.access.mask.is_some(), acl.access.is_extended());
    }

    #[test]
    fn chmod_shows_what_it_set(spec in spec(), bits in 0u16..0o2000) {
        let mut acl = Acl::new("owner", "g0", Mode::from_bits(0o750));
        acl.set_acl(&spec, true).unwrap();
        let mode = Mode::from_bits(bits);
        acl.set_mode(mode);
        prop_assert_eq!(acl.mode(), mode);
        prop_assert_eq!(Mode::parse_octal(&acl.mode().to_string()).unwrap(), mode);
    }

    #[test]
    fn new_children_follow_gen1s_rules(spec in spec(), is_dir in any::<bool>(), bits in prop::option::of(0u16..0o1000), (who, _, _) in caller()) {
        let mut parent = Acl::new("owner", "g0", Mode::from_bits(0o750));
        parent.set_acl(&spec, true).unwrap();
        let child = new_child(&parent, &who, is_dir, bits.map(Mode::from_bits), GEN1_UMASK);
        prop_assert_eq!(&child.owner, &who);
        prop_assert_eq!(&child.group, &parent.group);
        prop_assert_eq!(child.access.other, Perm::NONE);
        prop_assert_eq!(child.mode().other, Perm::NONE);
        prop_assert_eq!(child.access.mask.is_some(), child.access.is_extended());
        if is_dir {
            prop_assert_eq!(&child.default, &parent.default);
        } else {
            prop_assert!(child.default.is_none());
        }
        // Nobody but the owner gets more than the requested mode's group digit.
        if let Some(bits) = bits {
            let asked = Mode::from_bits(bits);
            prop_assert!(asked.user.contains(child.access.user));
            prop_assert!(asked.group.contains(child.mode().group));
        }
    }
}
