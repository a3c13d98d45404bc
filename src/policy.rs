//! IAM policy documents as typed values.
//!
//! Every policy lz writes (trust policies, permissions, key and bucket policies) is built from
//! these types and serialised by serde, never glued from strings. Documents read back from AWS
//! parse into the same types, and [`PolicyDocument::same_as`] compares them by meaning: the
//! order of keys, statements and list items does not matter, nor does `"a"` versus `["a"]`,
//! `true` versus `"true"`, or the URL encoding IAM applies to documents it returns.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The only policy language version in use.
pub const VERSION: &str = "2012-10-17";

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicyDocument {
    /// The policy language version.
    #[serde(rename = "Version", default = "version")]
    pub version: String,
    /// The statements.
    #[serde(rename = "Statement", deserialize_with = "one_or_many_statements")]
    pub statements: Vec<Statement>,
}

fn version() -> String {
    VERSION.to_owned()
}

fn one_or_many_statements<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Statement>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrVec {
        One(Box<Statement>),
        Many(Vec<Statement>),
    }
    Ok(match OneOrVec::deserialize(d)? {
        OneOrVec::One(s) => vec![*s],
        OneOrVec::Many(v) => v,
    })
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Refuses, whatever else grants.
    Deny,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Statement {
    /// A name for the statement, unique in its document.
    #[serde(rename = "Sid", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Text>,
    /// Allow or deny.
    #[serde(rename = "Effect")]
    pub effect: Effect,
    /// Who, for resource and trust policies.
    #[serde(rename = "Principal", default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Everyone but these, for resource policies. lz writes none; it is read so that a live
    /// document's meaning is not lost.
    #[serde(
        rename = "NotPrincipal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_principal: Option<Principal>,
    /// The actions.
    #[serde(rename = "Action", default, skip_serializing_if = "Strings::is_empty")]
    pub action: Strings,
    /// Every action but these.
    #[serde(
        rename = "NotAction",
        default,
        skip_serializing_if = "Strings::is_empty"
    )]
    pub not_action: Strings,
    /// The resources.
    #[serde(
        rename = "Resource",
        default,
        skip_serializing_if = "Strings::is_empty"
    )]
    pub resource: Strings,
    /// Every resource but these.
    #[serde(
        rename = "NotResource",
        default,
        skip_serializing_if = "Strings::is_empty"
    )]
    pub not_resource: Strings,
    /// Conditions: operator, then key, then values.
    #[serde(
        rename = "Condition",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub condition: BTreeMap<Text, BTreeMap<Text, Strings>>,
}

impl Statement {
    /// A statement with an effect and nothing else; fill it in with the builder methods.
    pub fn new(effect: Effect) -> Statement {
        Statement {
            sid: None,
            effect,
            principal: None,
            not_principal: None,
            action: Strings::default(),
            not_action: Strings::default(),
            resource: Strings::default(),
            not_resource: Strings::default(),
            condition: BTreeMap::new(),
        }
    }

    /// An `Allow` statement.
    pub fn allow() -> Statement {
        Statement::new(Effect::Allow)
    }

    /// A `Deny` statement.
    pub fn deny() -> Statement {
        Statement::new(Effect::Deny)
    }

    /// Sets the statement id.
    pub fn sid(mut self, sid: &'static str) -> Statement {
        self.sid = Some(Cow::Borrowed(sid));
        self
    }

    /// Sets the principal.
    pub fn principal(mut self, principal: Principal) -> Statement {
        self.principal = Some(principal);
        self
    }

    /// Sets the actions.
    pub fn actions<I: IntoIterator<Item = S>, S: Into<Text>>(mut self, actions: I) -> Statement {
        self.action = Strings::from_iter(actions);
        self
    }

    /// Sets the excluded actions.
    pub fn not_actions<I: IntoIterator<Item = S>, S: Into<Text>>(
        mut self,
        actions: I,
    ) -> Statement {
        self.not_action = Strings::from_iter(actions);
        self
    }

    /// Sets the resources.
    pub fn resources<I: IntoIterator<Item = S>, S: Into<Text>>(
        mut self,
        resources: I,
    ) -> Statement {
        self.resource = Strings::from_iter(resources);
        self
    }

    /// Sets the excluded resources.
    pub fn not_resources<I: IntoIterator<Item = S>, S: Into<Text>>(
        mut self,
        resources: I,
    ) -> Statement {
        self.not_resource = Strings::from_iter(resources);
        self
    }

    /// Adds a condition `operator: { key: values }`.
    pub fn condition<I: IntoIterator<Item = S>, S: Into<Text>>(
        mut self,
        operator: &'static str,
        key: &'static str,
        values: I,
    ) -> Statement {
        self.condition
            .entry(Cow::Borrowed(operator))
            .or_default()
            .insert(Cow::Borrowed(key), Strings::from_iter(values));
        self
    }
}

/// A principal: everyone (`"*"`) or a map of kinds (`AWS`, `Service`, ...) to identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Principal {
    /// `"*"`.
    Any(AnyPrincipal),
    /// `{"AWS": [...], "Service": [...]}`.
    Of(BTreeMap<Text, Strings>),
}

/// The literal `"*"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnyPrincipal {
    /// Everyone.
    #[serde(rename = "*")]
    Everyone,
}

impl Principal {
    /// AWS principals (account roots or role ARNs).
    pub fn aws<I: IntoIterator<Item = S>, S: Into<Text>>(arns: I) -> Principal {
        Principal::Of(BTreeMap::from([(
            Cow::Borrowed("AWS"),
            Strings::from_iter(arns),
        )]))
    }

    /// A service principal such as `cloudtrail.amazonaws.com`.
    pub fn service(service: &'static str) -> Principal {
        Principal::service_named(service)
    }

    /// A service principal, by a name not known at compile time.
    pub fn service_named(service: impl Into<Text>) -> Principal {
        Principal::Of(BTreeMap::from([(
            Cow::Borrowed("Service"),
            Strings::from_iter([service.into()]),
        )]))
    }
}

/// A policy string: static for the action names and keys lz writes, owned for what it reads
/// or formats, so that large organizations do not allocate the same action names thousands
/// of times.
pub type Text = Cow<'static, str>;

/// A list of strings that IAM may write as a single string. Non-string scalars (`true`, `3600`)
/// read as their text, as IAM compares them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Strings(pub Vec<Text>);

impl Strings {
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The items.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| s.as_ref())
    }
}

impl<S: Into<Text>> FromIterator<S> for Strings {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Strings(iter.into_iter().map(Into::into).collect())
    }
}

impl Serialize for Strings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fn text(v: serde_json::Value) -> Result<Text, String> {
            match v {
                serde_json::Value::String(s) => Ok(Cow::Owned(s)),
                serde_json::Value::Bool(b) => Ok(Cow::Owned(b.to_string())),
                serde_json::Value::Number(n) => Ok(Cow::Owned(n.to_string())),
                other => Err(format!("expected a string, found {other}")),
            }
        }
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(text)
                .collect::<Result<Vec<_>, _>>()
                .map(Strings)
                .map_err(serde::de::Error::custom),
            one => text(one)
                .map(|s| Strings(vec![s]))
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Why a policy document read from AWS could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("policy document is not valid JSON")]
pub struct ParseError(#[source] serde_json::Error);

impl PolicyDocument {
    /// A document with these statements.
    pub fn new(statements: Vec<Statement>) -> PolicyDocument {
        PolicyDocument {
            version: version(),
            statements,
        }
    }

    /// Parses a document as AWS returns it: JSON, URL-encoded by IAM.
    pub fn parse(text: &str) -> Result<PolicyDocument, ParseError> {
        let decoded = if text.trim_start().starts_with('{') {
            std::borrow::Cow::Borrowed(text)
        } else {
            percent_encoding::percent_decode_str(text).decode_utf8_lossy()
        };
        serde_json::from_str(&decoded).map_err(ParseError)
    }

    /// The document as compact JSON, as sent to AWS.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a policy document always serialises")
    }

    /// Whether two documents mean the same.
    pub fn same_as(&self, other: &PolicyDocument) -> bool {
        self == other || self.canonical() == other.canonical()
    }

    /// A form in which documents that mean the same are equal: sorted, deduplicated lists and
    /// statements in a fixed order.
    pub fn canonical(&self) -> PolicyDocument {
        let mut statements: Vec<Statement> = self
            .statements
            .iter()
            .map(|s| {
                let mut s = s.clone();
                for list in [
                    &mut s.action,
                    &mut s.not_action,
                    &mut s.resource,
                    &mut s.not_resource,
                ] {
                    sort(list);
                }
                for keys in s.condition.values_mut() {
                    keys.values_mut().for_each(sort);
                }
                for principal in [&mut s.principal, &mut s.not_principal] {
                    if let Some(Principal::Of(map)) = principal {
                        map.values_mut().for_each(sort);
                    }
                }
                s
            })
            .collect();
        statements.sort_by_cached_key(|s| serde_json::to_string(s).unwrap_or_default());
        statements.dedup();
        PolicyDocument {
            version: self.version.clone(),
            statements,
        }
    }

    /// Every statement, for checks over all of them.
    pub fn iter(&self) -> impl Iterator<Item = &Statement> {
        self.statements.iter()
    }
}

fn sort(list: &mut Strings) {
    list.0.sort();
    list.0.dedup();
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust() -> PolicyDocument {
        PolicyDocument::new(vec![
            Statement::allow()
                .principal(Principal::aws(["arn:aws:iam::111111111111:root"]))
                .actions(["sts:AssumeRole", "sts:TagSession"])
                .condition("Bool", "aws:MultiFactorAuthPresent", ["true"]),
        ])
    }

    #[test]
    fn single_item_lists_serialise_as_strings() {
        let json = trust().to_json();
        assert!(
            json.contains(r#""AWS":"arn:aws:iam::111111111111:root""#),
            "{json}"
        );
        assert!(
            json.contains(r#""Action":["sts:AssumeRole","sts:TagSession"]"#),
            "{json}"
        );
    }

    #[test]
    fn round_trips_through_json() {
        let doc = trust();
        assert_eq!(PolicyDocument::parse(&doc.to_json()).unwrap(), doc);
    }

    #[test]
    fn compares_by_meaning() {
        let ours = trust();
        // What IAM might hand back: URL-encoded, keys reordered, a boolean as a boolean,
        // actions in another order, the principal as a list.
        let theirs = "%7B%22Statement%22%3A%5B%7B%22Condition%22%3A%7B%22Bool%22%3A%7B%22aws%3AMultiFactorAuthPresent%22%3Atrue%7D%7D%2C%22Action%22%3A%5B%22sts%3ATagSession%22%2C%22sts%3AAssumeRole%22%5D%2C%22Principal%22%3A%7B%22AWS%22%3A%5B%22arn%3Aaws%3Aiam%3A%3A111111111111%3Aroot%22%5D%7D%2C%22Effect%22%3A%22Allow%22%7D%5D%2C%22Version%22%3A%222012-10-17%22%7D";
        let theirs = PolicyDocument::parse(theirs).unwrap();
        assert_ne!(ours, theirs, "structurally different");
        assert!(ours.same_as(&theirs));
    }

    #[test]
    fn a_real_difference_is_seen() {
        let ours = trust();
        let mut theirs = trust();
        theirs.statements[0].condition.clear();
        assert!(!ours.same_as(&theirs));
        let mut other_account = trust();
        other_account.statements[0].principal =
            Some(Principal::aws(["arn:aws:iam::222222222222:root"]));
        assert!(!ours.same_as(&other_account));
    }

    #[test]
    fn statement_order_does_not_matter() {
        let a = Statement::allow()
            .actions(["s3:GetObject"])
            .resources(["*"]);
        let b = Statement::deny()
            .actions(["s3:DeleteBucket"])
            .resources(["*"]);
        let one = PolicyDocument::new(vec![a.clone(), b.clone()]);
        let two = PolicyDocument::new(vec![b, a]);
        assert!(one.same_as(&two));
    }

    #[test]
    fn a_single_statement_object_parses() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.statements[0].principal, None);
    }

    #[test]
    fn everyone_principal() {
        let doc = PolicyDocument::new(vec![
            Statement::deny()
                .principal(Principal::Any(AnyPrincipal::Everyone))
                .actions(["s3:*"])
                .resources(["arn:aws:s3:::b/*"])
                .condition("Bool", "aws:SecureTransport", ["false"]),
        ]);
        assert!(doc.to_json().contains(r#""Principal":"*""#));
        assert_eq!(PolicyDocument::parse(&doc.to_json()).unwrap(), doc);
    }
}
