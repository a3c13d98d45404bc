//! The planner: a pure function from the desired and the actual state to the changes that
//! would make the second match the first, in dependency order.
//!
//! Rules, in the order they are applied to each address:
//! - desired and absent: **create**;
//! - desired and found without the ownership tags: **adopt** (tag it and fix what differs,
//!   all shown), never recreate;
//! - desired and found owned by another blueprint: a **conflict**, which blocks apply;
//! - desired and found owned: **update** with the attributes that differ, or no-op;
//! - found owned, no longer desired: **delete** only when the blueprint allows that kind (and
//!   an organizational unit only when empty); otherwise kept and noted. Accounts are never
//!   deleted: closing an account is not something lz plans.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::actual::Actual;
use crate::blueprint::Blueprint;
use crate::desired::{
    Address, BLUEPRINT_TAG, Desired, Kind, OWNER_TAG, OWNER_VALUE, Resource, Spec, Tags,
};
use crate::kinds::{Attr, json};

/// The version of the JSON plan document.
pub const FORMAT_VERSION: &str = "1.0";

/// This build's version, recorded in every plan.
pub const LZ_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Already as desired.
    NoOp,
    /// Created.
    Create,
    /// Found without the ownership tags: tagged, and fixed where it differs.
    Adopt,
    /// Changed in place.
    Update,
    /// Deleted (only with the blueprint's opt-in).
    Delete,
}

impl Action {
    /// The action's name, as in the JSON plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Adopt => "adopt",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attribute that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// The attribute's name.
    pub name: String,
    /// Its value now.
    pub before: Value,
    /// Its value after apply.
    pub after: Value,
}

/// The change planned for one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The resource's address.
    pub address: Address,
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The account it lives in; `None` for the management account.
    pub account: Option<String>,
    /// What happens.
    pub action: Action,
    /// Its id in AWS, when it exists.
    pub id: Option<String>,
    /// What it is now.
    pub before: Option<Arc<Spec>>,
    /// What it will be.
    pub after: Option<Arc<Spec>>,
    /// The attributes that differ (for updates and adoptions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeChange>,
    /// Resources whose ids this one needs and that do not exist yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<Address>,
    /// Resources that must be in place first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Address>,
    /// For an account creation already requested: the request to wait for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<String>,
}

/// Something the reviewer should know that is not a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The resource it is about.
    pub address: String,
    /// What to know.
    pub message: String,
}

/// A resource the plan may not touch, which blocks apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The resource.
    pub address: Address,
    /// Why.
    pub message: String,
}

/// Counts of changes by action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Resources to create.
    pub create: usize,
    /// Resources to adopt.
    pub adopt: usize,
    /// Resources to update.
    pub update: usize,
    /// Resources to delete.
    pub delete: usize,
}

impl Summary {
    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        self.create + self.adopt + self.update + self.delete > 0
    }
}

/// A plan: every resource's change, in the order apply performs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT_VERSION`].
    pub format_version: String,
    /// The version of lz that made the plan; only the same version applies it.
    pub lz_version: String,
    /// The blueprint's name.
    pub blueprint: String,
    /// The fingerprint of the actual state the plan was made against.
    pub fingerprint: String,
    /// Counts by action.
    pub summary: Summary,
    /// Every resource, no-ops included, in dependency order; deletions last.
    pub resource_changes: Vec<Change>,
    /// Things to know that are not changes.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// Resources owned by another blueprint; apply refuses while there are any.
    #[serde(default)]
    pub conflicts: Vec<Conflict>,
    /// Accounts that could not be read; what lives in them is not in this plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Note>,
    /// The blueprint the plan was made from, so that a saved plan can be applied on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Blueprint>,
    /// SHA-256 over everything above, set by [`Plan::seal`] when the plan is saved: a plan
    /// file edited after review no longer matches it, and apply refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Plan {
    /// The changes that do something.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.resource_changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
    }

    /// Whether applying would change anything.
    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }

    /// Whether every account could be read, so that the plan covers the whole blueprint.
    pub fn is_complete(&self) -> bool {
        self.unreadable.is_empty()
    }

    /// Records the digest of the plan as it stands, before it is saved for review.
    pub fn seal(&mut self) {
        self.digest = None;
        self.digest = Some(self.content_digest());
    }

    /// Whether the plan carries a digest and still matches it: nothing in it was edited
    /// since [`Plan::seal`].
    pub fn is_intact(&self) -> bool {
        let mut unsealed = self.clone();
        unsealed.digest = None;
        self.digest.as_deref() == Some(unsealed.content_digest().as_str())
    }

    /// SHA-256 of the plan's JSON as [`crate::render::write_json`] writes it, as it stands
    /// (with no digest, as sealed).
    fn content_digest(&self) -> String {
        struct Sha(Sha256);
        impl std::io::Write for Sha {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.update(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut sha = Sha(Sha256::new());
        serde_json::to_writer(std::io::BufWriter::with_capacity(1 << 16, &mut sha), self)
            .expect("a plan always serialises");
        digest_text(sha.0)
    }
}

/// A finished SHA-256 as a plan writes it: `sha256:` and hex.
pub(crate) fn digest_text(sha: Sha256) -> String {
    let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Plan {
    /// Seals the plan and writes it as JSON in one pass: the digest is computed from the bytes
    /// as they are written (a plan of thousands of accounts is tens of megabytes), and added as
    /// the last field. The output is exactly [`crate::render::write_json`] of the sealed plan:
    /// compact, as Terraform's `show -json` is, since indenting a plan of 5,000 accounts
    /// would nearly double its size and the time to write it.
    pub fn write_sealed(&mut self, out: impl std::io::Write) -> std::io::Result<()> {
        use std::io::Write as _;
        self.digest = None;
        let mut tee = Sealing {
            out,
            sha: Sha256::new(),
            held: None,
        };
        {
            let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut tee);
            serde_json::to_writer(&mut buffered, &*self)?;
            buffered.flush()?;
        }
        let Sealing { mut out, sha, held } = tee;
        debug_assert_eq!(held, Some(b'}'));
        let digest = digest_text(sha);
        writeln!(out, ",\"digest\":\"{digest}\"}}")?;
        out.flush()?;
        self.digest = Some(digest);
        Ok(())
    }
}

/// Passes bytes on while hashing them, holding back the last one (the object's closing `}`),
/// after which the digest goes.
struct Sealing<W: std::io::Write> {
    out: W,
    sha: Sha256,
    held: Option<u8>,
}

impl<W: std::io::Write> std::io::Write for Sealing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let Some((&last, pass)) = bytes.split_last() else {
            return Ok(0);
        };
        self.sha.update(bytes);
        if let Some(held) = self.held.replace(last) {
            self.out.write_all(&[held])?;
        }
        self.out.write_all(pass)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Who owns a found resource, by its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ownership {
    Ours,
    Untagged,
    Other(String),
}

fn ownership(blueprint: &str, spec: &Spec) -> Ownership {
    let Some(tags) = spec.tags() else {
        // The organization and IAM groups take no tags; lz finds groups only under its path.
        return Ownership::Ours;
    };
    match (tags.get(OWNER_TAG), tags.get(BLUEPRINT_TAG)) {
        (Some(owner), Some(name)) if owner == OWNER_VALUE && name == blueprint => Ownership::Ours,
        (Some(owner), Some(name)) if owner == OWNER_VALUE => Ownership::Other(name.clone()),
        _ => Ownership::Untagged,
    }
}

/// Plans the changes that make `actual` match `desired`.
pub fn plan(desired: &Desired, actual: &Actual) -> Plan {
    let mut changes = Vec::with_capacity(desired.resources.len());
    let mut conflicts = Vec::new();
    let mut notes = Vec::new();
    let unreadable: Vec<Note> = actual
        .unreadable
        .iter()
        .map(|(account, why)| Note {
            address: format!("account.{account}"),
            message: format!("could not be read, so nothing in it is planned: {why}"),
        })
        .collect();
    for resource in ordered(&desired.resources) {
        if resource
            .account
            .as_ref()
            .is_some_and(|a| actual.unreadable.contains_key(a))
        {
            continue;
        }
        let found = actual.resources.get(&resource.address);
        let (action, attributes) = match found {
            None => (Action::Create, Vec::new()),
            Some(found) if found.creating.is_some() => (Action::Create, Vec::new()),
            Some(found) => match ownership(&desired.blueprint, &found.spec) {
                Ownership::Ours if resource.spec == found.spec => (Action::NoOp, Vec::new()),
                Ownership::Ours => {
                    let attributes = diff(&resource.spec, &found.spec);
                    let action = if attributes.is_empty() {
                        Action::NoOp
                    } else {
                        Action::Update
                    };
                    (action, attributes)
                }
                Ownership::Untagged => (Action::Adopt, diff(&resource.spec, &found.spec)),
                Ownership::Other(owner) => {
                    conflicts.push(Conflict {
                        address: resource.address.clone(),
                        message: format!(
                            "{} exists and belongs to landing zone `{owner}`; lz will not take it over",
                            resource.address
                        ),
                    });
                    (Action::NoOp, Vec::new())
                }
            },
        };
        if let Some(message) = found.and_then(|f| resource.spec.impossible(&f.spec)) {
            conflicts.push(Conflict {
                address: resource.address.clone(),
                message,
            });
        }
        changes.push(Change {
            address: resource.address.clone(),
            kind: resource.spec.kind(),
            account: resource.account.clone(),
            action,
            id: found.and_then(|f| f.id.clone()),
            before: found.map(|f| f.spec.clone()),
            after: Some(resource.spec.clone()),
            attributes,
            unknown: resource.unknown.clone(),
            depends_on: resource.depends_on.clone(),
            creating: found.and_then(|f| f.creating.clone()),
        });
    }
    conflicts.extend(missing_policies(desired, actual));
    let desired_addresses: BTreeSet<&Address> =
        desired.resources.iter().map(|r| &r.address).collect();
    let mut deletions = Vec::new();
    for (address, found) in &actual.resources {
        if desired_addresses.contains(address)
            || ownership(&desired.blueprint, &found.spec) != Ownership::Ours
        {
            continue;
        }
        let kind = found.spec.kind();
        if kind == Kind::Account {
            notes.push(Note {
                address: address.to_string(),
                message: "no longer in the blueprint; lz never closes accounts, it stays as it is"
                    .to_owned(),
            });
        } else if !desired.deletable.contains(&kind) {
            notes.push(Note {
                address: address.to_string(),
                message: format!(
                    "no longer in the blueprint; kept, since allow_delete does not name {}",
                    kind.as_str()
                ),
            });
        } else if let Some(why) = found.spec.kept(actual) {
            notes.push(Note {
                address: address.to_string(),
                message: format!("no longer in the blueprint; kept, since {why}"),
            });
        } else {
            deletions.push(Change {
                address: address.clone(),
                kind,
                account: found.account.clone(),
                action: Action::Delete,
                id: found.id.clone(),
                before: Some(found.spec.clone()),
                after: None,
                attributes: Vec::new(),
                unknown: Vec::new(),
                depends_on: Vec::new(),
                creating: None,
            });
        }
    }
    // Delete what depends on others first: roles before their policies before their OUs.
    deletions.sort_by_key(|c| std::cmp::Reverse(c.kind.rank()));
    changes.extend(deletions);
    for account in &actual.unmanaged_accounts {
        notes.push(Note {
            address: format!("account {} ({})", account.name, account.id),
            message: "in the organization but not in the blueprint; not managed, left as it is"
                .to_owned(),
        });
    }
    notes.extend(foreign_policies(actual));
    let mut summary = Summary::default();
    for change in &changes {
        match change.action {
            Action::NoOp => {}
            Action::Create => summary.create += 1,
            Action::Adopt => summary.adopt += 1,
            Action::Update => summary.update += 1,
            Action::Delete => summary.delete += 1,
        }
    }
    Plan {
        format_version: FORMAT_VERSION.to_owned(),
        lz_version: LZ_VERSION.to_owned(),
        blueprint: desired.blueprint.clone(),
        fingerprint: actual.fingerprint(),
        summary,
        resource_changes: changes,
        notes,
        conflicts,
        unreadable,
        configuration: None,
        digest: None,
    }
}

/// A note for each SCP or RCP of someone else's attached where lz's accounts are: lz leaves it,
/// and the lockout analysis evaluates it.
fn foreign_policies(actual: &Actual) -> Vec<Note> {
    let known = actual.known();
    let name_of = |id: &str| {
        crate::desired::guardrails::Target::of_id(actual, &known, id).map(|t| t.to_string())
    };
    actual
        .foreign_policies
        .iter()
        .filter_map(|p| {
            let mut places: Vec<String> = p.targets.iter().filter_map(|t| name_of(t)).collect();
            if places.is_empty() {
                return None;
            }
            places.sort();
            let readable = if p.document.is_some() {
                "lz leaves it and evaluates it in the lockout analysis"
            } else {
                "lz leaves it; its document could not be read, so the lockout analysis cannot evaluate it"
            };
            Some(Note {
                address: Address::org_policy(p.policy_type, &p.name).to_string(),
                message: format!(
                    "{} not lz's, attached to {}; {readable}",
                    p.policy_type.noun(),
                    places.join(", ")
                ),
            })
        })
        .collect()
}

/// The plan for `blueprint` against `actual`: [`plan`] of its expansion, with a conflict for
/// every statement of a policy lz does not own that would deny what the landing zone needs
/// (the lockout analysis, on the live organization's policies): apply refuses while there is
/// one. The blueprint's own guardrails were analysed when it was loaded.
pub fn for_blueprint(blueprint: &crate::Blueprint, actual: &Actual) -> Plan {
    let mut plan = plan(&crate::expand(blueprint, &actual.known()), actual);
    plan.conflicts
        .extend(crate::validate::lockout_conflicts(blueprint, actual));
    plan
}

/// A conflict for each AWS managed policy the blueprint names that does not exist, at the tier
/// that names it: IAM would refuse to attach it.
fn missing_policies(desired: &Desired, actual: &Actual) -> Vec<Conflict> {
    let mut out = Vec::new();
    for arn in &actual.missing_policies {
        let roles: Vec<&Resource> = desired
            .resources
            .iter()
            .filter(|r| matches!(r.spec.as_ref(), Spec::IamRole(role) if role.managed_policies.contains(arn)))
            .collect();
        let Some(first) = roles.first() else {
            continue;
        };
        let tier = first
            .spec
            .tags()
            .and_then(|t| t.get("lz:tier"))
            .map_or("(tier)", String::as_str);
        out.push(Conflict {
            address: first.address.clone(),
            message: format!(
                "role_tiers.{tier}.managed_policies: policy {arn} does not exist, so IAM would refuse to attach it to {} role(s); correct the ARN",
                roles.len()
            ),
        });
    }
    out
}

/// The resources in dependency order: each after everything it depends on, otherwise in
/// declaration order.
fn ordered(resources: &[Resource]) -> Vec<&Resource> {
    let index: HashMap<&Address, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.address, i))
        .collect();
    let mut depth: Vec<Option<usize>> = vec![None; resources.len()];
    fn depth_of(
        i: usize,
        resources: &[Resource],
        index: &HashMap<&Address, usize>,
        depth: &mut Vec<Option<usize>>,
        visiting: &mut Vec<bool>,
    ) -> usize {
        if let Some(d) = depth[i] {
            return d;
        }
        if visiting[i] {
            return 0; // a cycle cannot be built by expansion; do not recurse forever
        }
        visiting[i] = true;
        let d = resources[i]
            .depends_on
            .iter()
            .filter_map(|a| index.get(a))
            .map(|&j| depth_of(j, resources, index, depth, visiting) + 1)
            .max()
            .unwrap_or(0);
        visiting[i] = false;
        depth[i] = Some(d);
        d
    }
    let mut visiting = vec![false; resources.len()];
    for i in 0..resources.len() {
        depth_of(i, resources, &index, &mut depth, &mut visiting);
    }
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by_key(|&i| (depth[i], i));
    order.into_iter().map(|i| &resources[i]).collect()
}

/// The attributes that differ between what should be and what is.
pub fn diff(desired: &Spec, actual: &Spec) -> Vec<AttributeChange> {
    if desired.kind() != actual.kind() {
        return vec![AttributeChange {
            name: "type".to_owned(),
            before: json(&actual.kind()),
            after: json(&desired.kind()),
        }];
    }
    let theirs = actual.attributes();
    desired
        .attributes()
        .into_iter()
        .zip(theirs)
        .filter_map(|((name, want), (_, have))| {
            let change = |before, after| AttributeChange {
                name: name.to_owned(),
                before,
                after,
            };
            match (want, have) {
                (Attr::Exact(w), Attr::Exact(h)) => (w != h).then(|| change(h, w)),
                (Attr::Tags(w), Attr::Tags(h)) => {
                    let missing = w.iter().any(|(k, v)| h.get(k) != Some(v));
                    // Show only the tags lz manages: the others are not its business.
                    let before: Tags = h
                        .iter()
                        .filter(|(k, _)| w.contains_key(*k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    missing.then(|| change(json(&before), json(w)))
                }
                (Attr::Includes(w), Attr::Includes(h)) => {
                    let missing = w.iter().any(|item| !h.contains(item));
                    missing.then(|| change(json(&h), json(&w)))
                }
                (Attr::Policy(w), Attr::Policy(h)) => {
                    (!w.same_as(h)).then(|| change(json(h), json(w)))
                }
                (Attr::Policies(w), Attr::Policies(h)) => {
                    let same = w.len() == h.len()
                        && w.iter()
                            .all(|(k, doc)| h.get(k).is_some_and(|theirs| doc.same_as(theirs)));
                    (!same).then(|| change(json(h), json(w)))
                }
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
