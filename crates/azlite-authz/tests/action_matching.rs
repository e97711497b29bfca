//! Property tests of action matching (house style rule 18): the compiled matcher against a
//! slow reference, and the laws a role author relies on.

use azlite_authz::{Action, ActionPattern};
use proptest::prelude::*;

/// Plain glob over bytes: `*` matches any run, including none and including `/`.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    // matches[j]: pattern[..i] matches text[..j].
    let mut matches = vec![false; text.len() + 1];
    matches[0] = true;
    for &p in pattern {
        if p == b'*' {
            for j in 1..=text.len() {
                matches[j] = matches[j] || matches[j - 1];
            }
        } else {
            for j in (1..=text.len()).rev() {
                matches[j] = matches[j - 1] && text[j - 1] == p;
            }
            matches[0] = false;
        }
    }
    matches[text.len()]
}

/// The documented semantics, spelled out slowly: case-insensitive glob, where each `/*/` may
/// also stand for a single `/`. Tries every choice of which such stars collapse.
fn reference_matches(pattern: &str, operation: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase().into_bytes();
    let operation = operation.to_ascii_lowercase().into_bytes();
    let mergeable: Vec<usize> = (1..pattern.len().saturating_sub(1))
        .filter(|&i| pattern[i] == b'*' && pattern[i - 1] == b'/' && pattern[i + 1] == b'/')
        .collect();
    (0..1u32 << mergeable.len()).any(|mask| {
        let mut variant = Vec::with_capacity(pattern.len());
        let mut i = 0;
        while i < pattern.len() {
            let merged = mergeable
                .iter()
                .position(|&m| m == i)
                .is_some_and(|k| mask >> k & 1 == 1);
            if merged {
                i += 2; // drop `*/`, keeping the `/` before it
            } else {
                variant.push(pattern[i]);
                i += 1;
            }
        }
        glob(&variant, &operation)
    })
}

fn matches(pattern: &str, operation: &str) -> bool {
    ActionPattern::parse(pattern)
        .unwrap()
        .matches(&Action::control(operation))
}

/// Patterns over a tiny alphabet, so stars, slashes and repeats collide often.
fn small_pattern() -> impl Strategy<Value = String> {
    "[aB/*]{1,12}"
}

/// Replaces each `*` of the pattern with a random run: an operation the pattern should match
/// (modulo casing), which the random strategy alone would rarely produce.
fn instantiate(pattern: &str, fillers: &[String]) -> String {
    let mut out = String::new();
    for (i, part) in pattern.split('*').enumerate() {
        if i > 0 {
            out.push_str(&fillers[(i - 1) % fillers.len()]);
        }
        out.push_str(part);
    }
    out
}

fn flip_case(text: &str, flips: &[bool]) -> String {
    text.chars()
        .zip(flips.iter().chain(std::iter::repeat(&false)))
        .map(|(c, &flip)| {
            if flip && c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else if flip {
                c.to_ascii_lowercase()
            } else {
                c
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_the_reference_on_random_operations(pattern in small_pattern(), operation in "[abAB/]{0,14}") {
        prop_assert_eq!(matches(&pattern, &operation), reference_matches(&pattern, &operation));
    }

    #[test]
    fn agrees_with_the_reference_on_instances(
        pattern in small_pattern(),
        fillers in prop::collection::vec("[ab/]{0,4}", 1..4),
        flips in prop::collection::vec(any::<bool>(), 0..20),
    ) {
        let operation = flip_case(&instantiate(&pattern, &fillers), &flips);
        prop_assert!(reference_matches(&pattern, &operation));
        prop_assert!(matches(&pattern, &operation), "{} should match {}", pattern, operation);
    }

    #[test]
    fn a_literal_matches_exactly_itself_in_any_casing(
        literal in "[A-Za-z][A-Za-z./]{0,40}",
        other in "[A-Za-z][A-Za-z./]{0,40}",
        flips in prop::collection::vec(any::<bool>(), 0..41),
    ) {
        prop_assert!(matches(&literal, &flip_case(&literal, &flips)));
        prop_assert!(matches(&flip_case(&literal, &flips), &literal));
        prop_assert_eq!(matches(&literal, &other), literal.eq_ignore_ascii_case(&other));
    }

    #[test]
    fn a_lone_star_matches_everything(operation in "\\PC{0,60}") {
        prop_assert!(matches("*", &operation));
    }

    #[test]
    fn never_matches_when_a_literal_part_is_absent(pattern in small_pattern(), operation in "[abAB/]{0,14}") {
        let folded = operation.to_ascii_lowercase();
        let missing = pattern.to_ascii_lowercase().split('*').any(|part| !folded.contains(part));
        if missing {
            prop_assert!(!matches(&pattern, &operation));
        }
    }

    #[test]
    fn a_trailing_star_grants_everything_below_the_prefix(
        prefix in "[A-Za-z.]{1,20}(/[A-Za-z]{1,10}){0,3}",
        rest in "[A-Za-z/]{0,30}",
        other in "[A-Za-z.]{1,20}",
    ) {
        let pattern = format!("{prefix}/*");
        let below = format!("{prefix}/{rest}");
        let below_upper = below.to_ascii_uppercase();
        prop_assert!(matches(&pattern, &below));
        prop_assert!(matches(&pattern, &below_upper));
        let elsewhere = format!("{other}/{rest}");
        if !elsewhere.to_ascii_lowercase().starts_with(&format!("{prefix}/").to_ascii_lowercase()) {
            prop_assert!(!matches(&pattern, &elsewhere));
        }
    }

    #[test]
    fn star_slash_read_grants_reads_only(path in "[A-Za-z.]{1,20}(/[A-Za-z]{1,10}){0,4}", verb in "(read|write|delete|[a-z]{1,8}/action)") {
        let operation = [path.as_str(), verb.as_str()].join("/");
        prop_assert_eq!(matches("*/read", &operation), verb == "read");
        prop_assert_eq!(matches("*/READ", &operation), verb == "read");
    }
}

#[test]
fn the_reference_itself_knows_the_documented_cases() {
    assert!(reference_matches(
        "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
        "microsoft.managedidentity/userassignedidentities/assign/action"
    ));
    assert!(reference_matches("a/*/*/b", "a/b"));
    assert!(!reference_matches("a/*/b", "ab"));
    assert!(!reference_matches("*/read", "read"));
}
