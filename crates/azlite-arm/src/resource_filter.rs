//! The `$filter` of `Resources_List` and `Resources_ListByResourceGroup`
//! (`GET /subscriptions/{s}[/resourcegroups/{g}]/resources`), as ARM documents it:
//!
//! - `eq` and `ne` on `location`, `resourceType`, `name` and `resourceGroup`
//!   (`resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'kv1'` is what `az keyvault
//!   show` sends without `-g`);
//! - `substringof('value', name|resourceGroup)`;
//! - any of these joined with `and` / `or` (`and` binds tighter), parentheses allowed;
//! - tags on their own: `tagName eq 'k'`, `tagName eq 'k' and tagValue eq 'v'`, or
//!   `startswith(tagName, 'prefix')`. ARM refuses a tag filter combined with anything else,
//!   and answers a tag name and value filter without the resources' tags.
//!
//! Everything else (`identity`, `plan`, other functions, a tag filter mixed with other
//! clauses, malformed text) is refused with ARM's own answer: 400
//! `InvalidFilterInQueryString`, "Invalid $filter '…' specified in the query string."
//! Names, types, groups and locations compare case-insensitively, as ARM compares them; tag
//! names case-insensitively and tag values exactly.

use std::collections::BTreeMap;

/// How deep parentheses may nest: deeper input is refused rather than recursed into.
const MAX_DEPTH: usize = 32;

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceFilter {
    /// A boolean expression over the resource's name, type, group and location.
    Expression(Expression),
    /// `tagName eq 'name' [and tagValue eq 'value']`.
    Tag {
        /// The tag name (compared case-insensitively).
        name: String,
        /// The tag value (compared exactly), if given.
        value: Option<String>,
    },
    /// `startswith(tagName, 'prefix')`.
    TagNamePrefix(String),
}

/// A boolean expression of the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// `property eq|ne 'value'`.
    Compare {
        /// The property compared.
        property: Property,
        /// `eq` (true) or `ne` (false).
        equal: bool,
        /// The literal, unescaped.
        value: String,
    },
    /// `substringof('needle', property)`.
    SubstringOf {
        /// The literal, unescaped.
        needle: String,
        /// `name` or `resourceGroup`.
        property: Property,
    },
    /// Every operand holds.
    And(Vec<Expression>),
    /// Some operand holds.
    Or(Vec<Expression>),
}

/// The properties a filter expression reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// `location` (`East US` and `eastus` are the same).
    Location,
    /// `resourceType`, the full type.
    ResourceType,
    /// `name`, the resource's last name.
    Name,
    /// `resourceGroup`.
    ResourceGroup,
}

/// What the filter sees of a resource.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The resource name.
    pub name: &'a str,
    /// The full type.
    pub resource_type: &'a str,
    /// The resource group.
    pub resource_group: &'a str,
    /// The location.
    pub location: &'a str,
    /// The tags.
    pub tags: &'a BTreeMap<String, String>,
}

/// A `$filter` ARM does not accept; its text is kept for ARM's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid $filter '{0}' specified in the query string.")]
pub struct InvalidFilter(pub String);

impl ResourceFilter {
    /// Parses `text`, the decoded value of `$filter`.
    pub fn parse(text: &str) -> Result<Self, InvalidFilter> {
        let invalid = || InvalidFilter(text.to_owned());
        let tokens = tokenize(text).ok_or_else(invalid)?;
        let mut parser = Parser { tokens, at: 0 };
        let raw = parser.or(0).ok_or_else(invalid)?;
        if parser.at != parser.tokens.len() {
            return Err(invalid());
        }
        classify(raw).ok_or_else(invalid)
    }

    /// Whether the resource passes the filter.
    pub fn matches(&self, candidate: &Candidate<'_>) -> bool {
        match self {
            Self::Expression(e) => e.matches(candidate),
            Self::Tag { name, value } => candidate.tags.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case(name) && value.as_ref().is_none_or(|want| want == v)
            }),
            Self::TagNamePrefix(prefix) => candidate.tags.keys().any(|k| {
                k.len() >= prefix.len()
                    && k.is_char_boundary(prefix.len())
                    && k[..prefix.len()].eq_ignore_ascii_case(prefix)
            }),
        }
    }

    /// ARM answers a tag name and value filter without the resources' tags.
    pub fn hides_tags(&self) -> bool {
        matches!(self, Self::Tag { value: Some(_), .. })
    }

    /// The one type every match has, when the filter says so at its top level (so the store
    /// can be asked for that type only).
    pub fn required_type(&self) -> Option<&str> {
        fn compare_type(e: &Expression) -> Option<&str> {
            match e {
                Expression::Compare {
                    property: Property::ResourceType,
                    equal: true,
                    value,
                } => Some(value.as_str()),
                _ => None,
            }
        }
        match self {
            Self::Expression(Expression::And(all)) => all.iter().find_map(compare_type),
            Self::Expression(e) => compare_type(e),
            _ => None,
        }
    }
}

impl Expression {
    fn matches(&self, c: &Candidate<'_>) -> bool {
        match self {
            Self::Compare {
                property,
                equal,
                value,
            } => {
                let same = match property {
                    Property::Location => fold_location(c.location) == fold_location(value),
                    other => field(*other, c).eq_ignore_ascii_case(value),
                };
                same == *equal
            }
            Self::SubstringOf { needle, property } => field(*property, c)
                .to_lowercase()
                .contains(&needle.to_lowercase()),
            Self::And(all) => all.iter().all(|e| e.matches(c)),
            Self::Or(any) => any.iter().any(|e| e.matches(c)),
        }
    }
}

fn field<'a>(property: Property, c: &Candidate<'a>) -> &'a str {
    match property {
        Property::Location => c.location,
        Property::ResourceType => c.resource_type,
        Property::Name => c.name,
        Property::ResourceGroup => c.resource_group,
    }
}

fn fold_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

// --- tokens and grammar ---------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Comma,
    Literal(String),
    Word(String),
}

/// Splits the filter into tokens; `None` for an unterminated literal or a stray character.
fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '\'' => {
                // OData literals double a quote to escape it.
                let mut value = String::new();
                loop {
                    match chars.next()? {
                        (_, '\'') if chars.peek().is_some_and(|(_, n)| *n == '\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        (_, '\'') => break,
                        (_, other) => value.push(other),
                    }
                }
                out.push(Token::Literal(value));
            }
            c if c.is_ascii_alphabetic() => {
                let mut end = start + c.len_utf8();
                while let Some((i, n)) = chars.peek().copied() {
                    if !(n.is_ascii_alphanumeric() || n == '/' || n == '_') {
                        break;
                    }
                    end = i + n.len_utf8();
                    chars.next();
                }
                out.push(Token::Word(text[start..end].to_owned()));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A clause as written, before the tag rules are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Raw {
    Plain(Expression),
    TagName(String),
    TagValue(String),
    TagNamePrefix(String),
    And(Vec<Raw>),
    Or(Vec<Raw>),
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, want: &Token) -> Option<()> {
        (self.next()? == *want).then_some(())
    }

    fn literal(&mut self) -> Option<String> {
        match self.next()? {
            Token::Literal(v) => Some(v),
            _ => None,
        }
    }

    fn or(&mut self, depth: usize) -> Option<Raw> {
        let mut operands = vec![self.and(depth)?];
        while self.keyword("or") {
            operands.push(self.and(depth)?);
        }
        Some(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Raw::Or(operands)
        })
    }

    fn and(&mut self, depth: usize) -> Option<Raw> {
        let mut operands = vec![self.primary(depth)?];
        while self.keyword("and") {
            operands.push(self.primary(depth)?);
        }
        Some(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Raw::And(operands)
        })
    }

    fn primary(&mut self, depth: usize) -> Option<Raw> {
        if self.peek() == Some(&Token::Open) {
            if depth >= MAX_DEPTH {
                return None;
            }
            self.at += 1;
            let inner = self.or(depth + 1)?;
            self.expect(&Token::Close)?;
            return Some(inner);
        }
        let Token::Word(word) = self.next()? else {
            return None;
        };
        if self.peek() == Some(&Token::Open) {
            return self.function(&word);
        }
        let equal = if self.keyword("eq") {
            true
        } else if self.keyword("ne") {
            false
        } else {
            return None;
        };
        let value = self.literal()?;
        let is = |name: &str| word.eq_ignore_ascii_case(name);
        let property = if is("location") {
            Property::Location
        } else if is("resourceType") {
            Property::ResourceType
        } else if is("name") {
            Property::Name
        } else if is("resourceGroup") {
            Property::ResourceGroup
        } else if is("tagName") && equal {
            return Some(Raw::TagName(value));
        } else if is("tagValue") && equal {
            return Some(Raw::TagValue(value));
        } else {
            return None;
        };
        Some(Raw::Plain(Expression::Compare {
            property,
            equal,
            value,
        }))
    }

    /// `substringof('v', name|resourceGroup)` and `startswith(tagName, 'p')`.
    fn function(&mut self, name: &str) -> Option<Raw> {
        self.expect(&Token::Open)?;
        let raw = if name.eq_ignore_ascii_case("substringof") {
            let needle = self.literal()?;
            self.expect(&Token::Comma)?;
            let property = match self.next()? {
                Token::Word(w) if w.eq_ignore_ascii_case("name") => Property::Name,
                Token::Word(w) if w.eq_ignore_ascii_case("resourceGroup") => {
                    Property::ResourceGroup
                }
                _ => return None,
            };
            Raw::Plain(Expression::SubstringOf { needle, property })
        } else if name.eq_ignore_ascii_case("startswith") {
            match self.next()? {
                Token::Word(w) if w.eq_ignore_ascii_case("tagName") => {}
                _ => return None,
            }
            self.expect(&Token::Comma)?;
            Raw::TagNamePrefix(self.literal()?)
        } else {
            return None;
        };
        self.expect(&Token::Close)?;
        Some(raw)
    }
}

/// Applies ARM's rule for tags: a tag filter stands alone.
fn classify(raw: Raw) -> Option<ResourceFilter> {
    match raw {
        Raw::TagName(name) => Some(ResourceFilter::Tag { name, value: None }),
        Raw::TagNamePrefix(prefix) => Some(ResourceFilter::TagNamePrefix(prefix)),
        Raw::And(ref operands) if operands.len() == 2 => match (&operands[0], &operands[1]) {
            (Raw::TagName(name), Raw::TagValue(value)) => Some(ResourceFilter::Tag {
                name: name.clone(),
                value: Some(value.clone()),
            }),
            _ => plain(raw).map(ResourceFilter::Expression),
        },
        other => plain(other).map(ResourceFilter::Expression),
    }
}

/// The expression, if no tag clause is inside it.
fn plain(raw: Raw) -> Option<Expression> {
    match raw {
        Raw::Plain(e) => Some(e),
        Raw::And(all) => all
            .into_iter()
            .map(plain)
            .collect::<Option<_>>()
            .map(Expression::And),
        Raw::Or(any) => any
            .into_iter()
            .map(plain)
            .collect::<Option<_>>()
            .map(Expression::Or),
        Raw::TagName(_) | Raw::TagValue(_) | Raw::TagNamePrefix(_) => None,
    }
}

#[cfg(test)]
#[path = "resource_filter_tests.rs"]
mod tests;
