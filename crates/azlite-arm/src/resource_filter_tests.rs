//! The `$filter` grammar: what clients send parses and matches, the rest is refused.

use super::*;

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn vault<'a>(name: &'a str, group: &'a str, tags: &'a BTreeMap<String, String>) -> Candidate<'a> {
    Candidate {
        name,
        resource_type: "Microsoft.KeyVault/vaults",
        resource_group: group,
        location: "East US",
        tags,
    }
}

fn matches(filter: &str, candidate: &Candidate<'_>) -> bool {
    ResourceFilter::parse(filter)
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
        .matches(candidate)
}

#[test]
fn what_az_sends_parses_and_matches() {
    let none = tags(&[]);
    let kv = vault("MyVault", "rg-One", &none);
    // `az keyvault show -n` without `-g`, `az resource list -n`, `-g`, `--resource-type`.
    assert!(matches(
        "resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'myvault'",
        &kv
    ));
    assert!(!matches(
        "resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'other'",
        &kv
    ));
    assert!(matches("name eq 'MyVault'", &kv));
    assert!(matches("resourceGroup eq 'RG-ONE'", &kv));
    assert!(matches("resourceType eq 'microsoft.keyvault/VAULTS'", &kv));
    assert!(!matches("resourceType ne 'Microsoft.KeyVault/vaults'", &kv));
    assert!(matches("location eq 'eastus'", &kv));
    assert!(matches("location ne 'westus'", &kv));
}

#[test]
fn substringof_and_or_combine_with_and_binding_tighter() {
    let none = tags(&[]);
    let kv = vault("demo-vault", "rg", &none);
    assert!(matches("substringof('DEMO', name)", &kv));
    assert!(!matches("substringof('demo', resourceGroup)", &kv));
    assert!(matches(
        "substringof('x', name) or substringof('vault', name) and resourceType eq 'Microsoft.KeyVault/vaults'",
        &kv
    ));
    assert!(!matches(
        "(substringof('x', name) or substringof('vault', name)) and resourceType eq 'Microsoft.Compute/virtualMachines'",
        &kv
    ));
    assert!(matches("name eq 'nope' OR name eq 'demo-vault'", &kv));
}

#[test]
fn tags_filter_alone_and_hide_the_tags_with_a_value() {
    let t = tags(&[("Env", "Dev"), ("department", "it")]);
    let kv = vault("v", "rg", &t);
    assert!(matches("tagName eq 'env'", &kv));
    assert!(matches("tagName eq 'env' and tagValue eq 'Dev'", &kv));
    assert!(!matches("tagName eq 'env' and tagValue eq 'dev'", &kv));
    assert!(matches("startswith(tagName, 'DEPART')", &kv));
    assert!(!matches("startswith(tagName, 'x')", &kv));
    assert!(
        ResourceFilter::parse("tagName eq 'env' and tagValue eq 'Dev'")
            .unwrap()
            .hides_tags()
    );
    assert!(
        !ResourceFilter::parse("tagName eq 'env'")
            .unwrap()
            .hides_tags()
    );
}

#[test]
fn literals_unescape_doubled_quotes() {
    let none = tags(&[]);
    assert!(matches("name eq 'it''s'", &vault("it's", "rg", &none)));
    assert_eq!(
        ResourceFilter::parse("name eq ''''").unwrap(),
        ResourceFilter::Expression(Expression::Compare {
            property: Property::Name,
            equal: true,
            value: "'".into()
        })
    );
}

#[test]
fn the_type_at_the_top_level_is_known() {
    let f = |s| ResourceFilter::parse(s).unwrap();
    assert_eq!(
        f("resourceType eq 'A/b' and name eq 'x'").required_type(),
        Some("A/b")
    );
    assert_eq!(f("resourceType eq 'A/b'").required_type(), Some("A/b"));
    assert_eq!(
        f("resourceType eq 'A/b' or name eq 'x'").required_type(),
        None
    );
    assert_eq!(f("resourceType ne 'A/b'").required_type(), None);
}

#[test]
fn everything_else_is_refused_with_arms_message() {
    for bad in [
        "",
        "name",
        "name eq",
        "name eq 'unterminated",
        "name eq 'a' and",
        "name gt 'a'",
        "identity eq 'x'",
        "plan/publisher eq 'x'",
        "tolower(name) eq 'x'",
        "substringof(name, 'x')",
        "substringof('x', location)",
        "resourceType eq 'A/b' and tagName eq 'k'",
        "tagName eq 'k' and tagValue eq 'v' and name eq 'n'",
        "tagValue eq 'v'",
        "tagName ne 'k'",
        "tagName eq 'k' or tagName eq 'j'",
        "(name eq 'a'",
        "name eq 'a')",
        "name eq \"a\"",
        "$filter=resourceType eq 'x'",
        "startswith(name, 'x')",
        "name eq 'a' name eq 'b'",
    ] {
        let error = ResourceFilter::parse(bad).expect_err(bad);
        assert_eq!(
            error.to_string(),
            format!("Invalid $filter '{bad}' specified in the query string.")
        );
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}name eq 'a'{}", "(".repeat(40), ")".repeat(40));
    assert!(ResourceFilter::parse(&deep).is_err());
    let fine = format!("{}name eq 'a'{}", "(".repeat(10), ")".repeat(10));
    assert!(ResourceFilter::parse(&fine).is_ok());
}
