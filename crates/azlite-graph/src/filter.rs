//! The `$filter` clauses azlite serves: one comparison, in the three shapes the Azure CLI and
//! SDKs send (reference arm-rbac-protocol.md §4.5):
//!
//! * `property eq 'value'` (`appId eq '…'`, `displayName eq '…'`);
//! * `startswith(property,'value')` (`az ad sp list --display-name`);
//! * `collection/any(c:c eq 'value')` (`servicePrincipalNames/any(c:c eq '…')`).
//!
//! A clause is parsed once into a [`Clause`]; each collection then turns it into its own typed
//! filter or refuses it with `Request_UnsupportedQuery`, as Graph does for properties it does
//! not index. `and`/`or`, `ne`, `in` and the rest are unsupported. String literals use OData's
//! quoting: `'` inside a literal is written `''`. Names are matched without regard to case.

use crate::GraphError;

/// One parsed `$filter` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Clause {
    /// `property eq 'value'`.
    Equals {
        /// The property, as sent.
        property: String,
        /// The literal, unquoted.
        value: String,
    },
    /// `startswith(property,'value')`.
    StartsWith {
        /// The property, as sent.
        property: String,
        /// The literal, unquoted.
        value: String,
    },
    /// `collection/any(c:c eq 'value')`.
    AnyEquals {
        /// The collection property, as sent.
        collection: String,
        /// The literal, unquoted.
        value: String,
    },
}

impl Clause {
    /// The error for a clause a collection does not serve.
    pub(crate) fn unsupported(&self, resource: &str) -> GraphError {
        let property = match self {
            Clause::Equals { property, .. } | Clause::StartsWith { property, .. } => property,
            Clause::AnyEquals { collection, .. } => collection,
        };
        GraphError::unsupported_query(format!(
            "Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'."
        ))
    }
}

fn invalid() -> GraphError {
    GraphError::bad_request("Invalid filter clause")
}

fn unsupported() -> GraphError {
    GraphError::unsupported_query("Unsupported query.")
}

/// Reads an OData string literal at the start of `text`; returns it and the rest.
fn literal(text: &str) -> Result<(String, &str), GraphError> {
    let rest = text.strip_prefix('\'').ok_or_else(invalid)?;
    let mut value = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                chars.next();
                value.push('\'');
                continue;
            }
            return Ok((value, &rest[i + 1..]));
        }
        value.push(c);
    }
    Err(invalid())
}

/// A property path: letters, digits, `_` and `/` (no spaces).
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/')
}

/// Whatever follows a complete clause must be nothing: `and`/`or` are unsupported, anything
/// else is malformed.
fn end(rest: &str) -> Result<(), GraphError> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(());
    }
    let word = rest.split_whitespace().next().unwrap_or_default();
    if word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or") {
        Err(unsupported())
    } else {
        Err(invalid())
    }
}

/// OData's comparison operators other than `eq`: understood, not served.
const OPERATORS: [&str; 7] = ["ne", "gt", "ge", "lt", "le", "in", "has"];

/// `left eq 'value'` with `left` a plain name: the name and the literal.
fn equals(text: &str) -> Result<Option<(String, String, &str)>, GraphError> {
    let text = text.trim_start();
    let Some(space) = text.find(char::is_whitespace) else {
        return Ok(None);
    };
    let (left, rest) = text.split_at(space);
    let rest = rest.trim_start();
    let Some((operator, rest)) = rest.split_once(char::is_whitespace) else {
        return Ok(None);
    };
    if !is_name(left) {
        return Ok(None);
    }
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(
            if OPERATORS.iter().any(|o| operator.eq_ignore_ascii_case(o)) {
                unsupported()
            } else {
                invalid()
            },
        );
    }
    let (value, rest) = literal(rest.trim_start())?;
    Ok(Some((left.to_owned(), value, rest)))
}

/// Parses one `$filter` expression.
pub(crate) fn parse(text: &str) -> Result<Clause, GraphError> {
    let text = text.trim();
    // startswith(property,'value')
    if let Some(open) = text.find('(')
        && text[..open].trim().eq_ignore_ascii_case("startswith")
    {
        let inner = &text[open + 1..];
        let (property, rest) = inner.split_once(',').ok_or_else(invalid)?;
        let property = property.trim();
        if !is_name(property) {
            return Err(invalid());
        }
        let (value, rest) = literal(rest.trim_start())?;
        let rest = rest.trim_start().strip_prefix(')').ok_or_else(invalid)?;
        end(rest)?;
        return Ok(Clause::StartsWith {
            property: property.to_owned(),
            value,
        });
    }
    // collection/any(c:c eq 'value')
    if let Some((collection, lambda)) = text.split_once('/')
        && is_name(collection.trim())
        && let Some(inner) = lambda
            .trim_start()
            .get(..4)
            .filter(|any| any.eq_ignore_ascii_case("any("))
            .map(|_| &lambda.trim_start()[4..])
    {
        let collection = collection.trim();
        let (variable, body) = inner.split_once(':').ok_or_else(invalid)?;
        let variable = variable.trim();
        if !is_name(variable) {
            return Err(invalid());
        }
        let Some((left, value, rest)) = equals(body)? else {
            return Err(invalid());
        };
        if left != variable {
            return Err(unsupported());
        }
        let rest = rest.trim_start().strip_prefix(')').ok_or_else(invalid)?;
        end(rest)?;
        return Ok(Clause::AnyEquals {
            collection: collection.to_owned(),
            value,
        });
    }
    match equals(text)? {
        Some((property, value, rest)) => {
            end(rest)?;
            Ok(Clause::Equals { property, value })
        }
        None => Err(invalid()),
    }
}

/// `a` starts with `prefix`, ignoring case (Unicode lower case, as the directory compares).
pub(crate) fn starts_with_ignoring_case(a: &str, prefix: &str) -> bool {
    a.to_lowercase().starts_with(&prefix.to_lowercase())
}

/// `a` equals `b`, ignoring case.
pub(crate) fn equals_ignoring_case(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(property: &str, value: &str) -> Clause {
        Clause::Equals {
            property: property.into(),
            value: value.into(),
        }
    }

    #[test]
    fn the_three_shapes_parse() {
        assert_eq!(
            parse("appId eq '7f0a5b9c-0000-0000-0000-000000000001'").unwrap(),
            eq("appId", "7f0a5b9c-0000-0000-0000-000000000001")
        );
        assert_eq!(
            parse("  displayName EQ 'it''s mine'  ").unwrap(),
            eq("displayName", "it's mine")
        );
        assert_eq!(
            parse("startswith(displayName,'my app')").unwrap(),
            Clause::StartsWith {
                property: "displayName".into(),
                value: "my app".into()
            }
        );
        assert_eq!(
            parse("startsWith( displayName , 'x' )").unwrap(),
            Clause::StartsWith {
                property: "displayName".into(),
                value: "x".into()
            }
        );
        assert_eq!(
            parse("servicePrincipalNames/any(c:c eq 'api://thing')").unwrap(),
            Clause::AnyEquals {
                collection: "servicePrincipalNames".into(),
                value: "api://thing".into()
            }
        );
        assert_eq!(
            parse("identifierUris/any(x: x eq 'https://a/b')").unwrap(),
            Clause::AnyEquals {
                collection: "identifierUris".into(),
                value: "https://a/b".into()
            }
        );
        assert_eq!(parse("displayName eq ''").unwrap(), eq("displayName", ""));
        assert_eq!(
            parse("displayName eq 'a/any(b:b eq ''c'')'").unwrap(),
            eq("displayName", "a/any(b:b eq 'c')")
        );
        assert_eq!(
            parse("displayName eq 'startswith(x,'").unwrap(),
            eq("displayName", "startswith(x,")
        );
    }

    #[test]
    fn other_operators_and_combinations_are_unsupported() {
        for text in [
            "displayName ne 'x'",
            "appId eq 'a' and displayName eq 'b'",
            "appId in ('a','b')",
            "servicePrincipalNames/any(c:d eq 'x')",
        ] {
            assert_eq!(
                parse(text).unwrap_err().code,
                "Request_UnsupportedQuery",
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_clauses_are_bad_requests() {
        for text in [
            "",
            "appId",
            "appId eq",
            "appId eq 'unterminated",
            "appId eq x",
            "appId eq 'x' trailing",
            "startswith(displayName 'x')",
            "startswith(displayName,'x'",
            "servicePrincipalNames/any(c c eq 'x')",
            "servicePrincipalNames/any(c:c eq 'x'",
            "app id eq 'x'",
        ] {
            assert_eq!(
                parse(text).unwrap_err().code,
                "Request_BadRequest",
                "{text:?}"
            );
        }
    }

    #[test]
    fn comparisons_ignore_case() {
        assert!(equals_ignoring_case("My App", "my app"));
        assert!(!equals_ignoring_case("My App", "my app "));
        assert!(starts_with_ignoring_case("My App", "MY"));
        assert!(!starts_with_ignoring_case("My", "My App"));
    }
}
