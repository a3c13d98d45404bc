//! The AWS managed policies lz can evaluate without asking AWS.
//!
//! A tier names AWS managed policies by ARN; to evaluate a blueprint offline (and to refuse one
//! that voids a tier's guarantee before any AWS call) their documents must be at hand. These
//! are AWS's documents as moto 5.2.5 ships them (each with the date AWS last updated it, kept
//! in the file), for the policies a tier is likely to name. A managed policy not in this table
//! is *unknown*: the checker assumes it allows everything and says so.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use super::eval::Compiled;
use crate::policy::PolicyDocument;

#[derive(Deserialize)]
struct Entry {
    document: PolicyDocument,
}

fn table() -> &'static HashMap<String, Arc<Compiled>> {
    static TABLE: OnceLock<HashMap<String, Arc<Compiled>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let entries: HashMap<String, Entry> =
            serde_json::from_str(include_str!("aws_managed_policies.json"))
                .expect("the shipped table of AWS managed policies parses");
        entries
            .into_iter()
            .map(|(arn, e)| (arn, Arc::new(Compiled::new(&e.document))))
            .collect()
    })
}

/// The compiled document of the AWS managed policy `arn`, if lz ships it.
pub fn aws_managed(arn: &str) -> Option<Arc<Compiled>> {
    table().get(arn).cloned()
}

/// A document that allows everything: what an unknown policy is assumed to be.
pub fn allow_everything() -> Arc<Compiled> {
    static ALL: OnceLock<Arc<Compiled>> = OnceLock::new();
    ALL.get_or_init(|| {
        Arc::new(Compiled::new(&PolicyDocument::new(vec![
            crate::policy::Statement::allow()
                .actions(["*"])
                .resources(["*"]),
        ])))
    })
    .clone()
}

fn allow_nothing() -> Arc<Compiled> {
    static NOTHING: OnceLock<Arc<Compiled>> = OnceLock::new();
    NOTHING
        .get_or_init(|| Arc::new(Compiled::new(&PolicyDocument::new(Vec::new()))))
        .clone()
}

/// `AdministratorAccess`.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// What a policy lz does not know is taken to allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unknown {
    /// Everything: a check must not call safe what it cannot see (`lz check`).
    #[default]
    AllowsEverything,
    /// Nothing: refuse only what is proven (validation, before any AWS call).
    AllowsNothing,
}

/// Compiles documents once each (the same `Arc` shared by a thousand accounts is compiled
/// once) and resolves managed policy ARNs, noting those it does not know.
#[derive(Default)]
pub struct Resolver {
    mode: Unknown,
    /// Keyed by the document's address; the `Arc` kept here keeps the address from reuse.
    compiled: HashMap<usize, (Arc<PolicyDocument>, Arc<Compiled>)>,
    unknown: std::collections::BTreeSet<String>,
}

impl Resolver {
    /// A resolver reading unknown policies as `mode` says.
    pub fn new(mode: Unknown) -> Resolver {
        Resolver {
            mode,
            ..Resolver::default()
        }
    }

    /// The compiled form of a document.
    pub fn document(&mut self, document: &Arc<PolicyDocument>) -> Arc<Compiled> {
        let key = Arc::as_ptr(document) as usize;
        self.compiled
            .entry(key)
            .or_insert_with(|| (document.clone(), Arc::new(Compiled::new(document))))
            .1
            .clone()
    }

    /// An AWS managed policy's compiled document; an unknown one allows everything, and
    /// `true` says so.
    pub fn managed(&mut self, arn: &str) -> (Arc<Compiled>, bool) {
        match aws_managed(arn) {
            Some(doc) => (doc, false),
            None => {
                self.unknown.insert(arn.to_owned());
                match self.mode {
                    Unknown::AllowsEverything => (allow_everything(), true),
                    Unknown::AllowsNothing => (allow_nothing(), false),
                }
            }
        }
    }

    /// A note per policy the check did not know.
    pub fn unknown_notes(&self) -> Vec<String> {
        self.unknown
            .iter()
            .map(|arn| match self.mode {
                Unknown::AllowsEverything => {
                    format!("policy {arn} is not known to lz; it was taken to allow everything")
                }
                Unknown::AllowsNothing => {
                    format!("policy {arn} is not known to lz; it was not evaluated")
                }
            })
            .collect()
    }
}
