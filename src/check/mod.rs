//! `lz check`: the landing zone's security claims, proven by evaluating the policies rather
//! than by reading their shape.
//!
//! The checker takes an [`Inventory`] (every principal of every member account with its
//! policies, the tier entry points in the security account, the audit bucket and key policies),
//! built either from the documents a plan would write ([`Inventory::offline`]) or from what
//! discovery read ([`Inventory::live`]), and returns a [`Report`] of properties, each holding,
//! failing, or holding but for a documented residual path. It does no I/O.
//!
//! - [`eval`] evaluates one request as AWS's documented evaluation logic does.
//! - [`escalation`] is the privilege-escalation graph: one small check per known technique,
//!   whose actions are data in [`techniques`].
//! - [`audit`] asks who can erase or silence the audit trail.

pub mod audit;
pub mod escalation;
pub mod eval;
mod inventory;
pub mod managed;
mod report;
pub mod techniques;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

pub use inventory::{AccountIam, AuditFacts, Entry, GroupFacts, Inventory, RoleFacts, UserFacts};
pub use report::{summary_line, write_human, write_json};

use crate::blueprint::TierName;

/// The version of the JSON report's format.
pub const FORMAT_VERSION: &str = "1.0";

/// Whether a property holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Proven, within the evaluator's limits.
    Holds,
    /// Holds except for a path the README documents as residual (code running on compute
    /// that already exists acts as that compute's role).
    Residual,
    /// Does not hold: the evidence shows how.
    Fails,
}

/// One property of one account (or of the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Property {
    /// The blueprint account it is about.
    pub account: String,
    /// The tier it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<TierName>,
    /// What is claimed, in words.
    pub claim: String,
    /// Whether it holds.
    pub status: Status,
    /// How it fails (a path, the principals that can), or the residual path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// Counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Properties that hold.
    pub holds: usize,
    /// Properties that hold but for a documented residual path.
    pub residual: usize,
    /// Properties that fail.
    pub fails: usize,
}

/// What `lz check` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`FORMAT_VERSION`].
    pub format_version: String,
    /// The blueprint's name.
    pub blueprint: String,
    /// `offline` (the documents a plan would write) or `live` (the organization as it is).
    pub source: String,
    /// Counts by status.
    pub summary: Summary,
    /// Every property checked.
    pub properties: Vec<Property>,
    /// What the check could not cover (accounts not read, resources not made yet): the check
    /// does not pass while there is any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncovered: Vec<String>,
    /// Things to know (policies lz does not know, and how they were read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    /// Whether every property holds (residual paths allowed: they are documented) and the
    /// check covered everything.
    pub fn passed(&self) -> bool {
        self.summary.fails == 0 && self.uncovered.is_empty()
    }

    /// The properties that fail.
    pub fn failures(&self) -> impl Iterator<Item = &Property> {
        self.properties.iter().filter(|p| p.status == Status::Fails)
    }
}

/// Checks every property of the inventory. A policy lz does not know is taken to allow
/// everything.
pub fn check(inventory: &Inventory) -> Report {
    check_with(inventory, managed::Unknown::AllowsEverything)
}

/// Checks every property of the inventory, reading policies lz does not know as `unknown`
/// says.
pub fn check_with(inventory: &Inventory, unknown: managed::Unknown) -> Report {
    let mut properties = Vec::new();
    let mut compiler = managed::Resolver::new(unknown);
    let entries = escalation::entries(inventory, &mut compiler);
    // Accounts whose IAM is the same up to their own id have the same properties: a blueprint
    // of a thousand accounts has a handful of distinct ones.
    let mut memo: HashMap<u64, Vec<Property>> = HashMap::new();
    for account in &inventory.accounts {
        let key = hash_of(&(
            account.shape_key(),
            escalation::entry_signature(inventory, account, &entries),
        ));
        let found = memo.entry(key).or_insert_with(|| {
            escalation::account_properties(inventory, account, &entries, &mut compiler)
        });
        properties.extend(found.iter().cloned().map(|mut p| {
            p.account = account.name.clone();
            p
        }));
    }
    if let Some(audit) = &inventory.audit {
        properties.extend(audit::properties(inventory, audit, &mut compiler));
    }
    properties.push(Property {
        account: "organization".to_owned(),
        tier: None,
        claim: "no guardrail (SCP or RCP, lz's or another's) denies what the landing zone needs: lz's writes, break-glass, keeper, role assumption, CloudTrail".to_owned(),
        status: if inventory.lockouts.is_empty() {
            Status::Holds
        } else {
            Status::Fails
        },
        evidence: inventory.lockouts.clone(),
    });
    let mut summary = Summary::default();
    for p in &properties {
        match p.status {
            Status::Holds => summary.holds += 1,
            Status::Residual => summary.residual += 1,
            Status::Fails => summary.fails += 1,
        }
    }
    let notes = compiler.unknown_notes();
    Report {
        format_version: FORMAT_VERSION.to_owned(),
        blueprint: inventory.blueprint.clone(),
        source: inventory.source.to_owned(),
        summary,
        properties,
        uncovered: inventory.uncovered.clone(),
        notes,
    }
}

/// A hasher for memo keys.
fn hash_of(value: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests;
