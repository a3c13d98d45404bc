//! AWS's quotas, checked before any AWS call: the blueprint's declared raises must be ones AWS
//! grants, and everything lz would send is measured against the quotas in force, with every id
//! not known yet as long as AWS makes it (the worst case). A violation is reported at the
//! blueprint field that causes it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{FieldPath, Problem};
use crate::blueprint::{Blueprint, TierName};
use crate::desired::audit::AUDIT;
use crate::desired::{Address, Known, Spec, expand};
use crate::policy::PolicyDocument;
use crate::quotas::{Limits, QuotaName, Raise, policy_size};

/// The longest account id AWS makes (they all have 12 digits).
const ACCOUNT_ID: &str = "999999999999";

pub(super) fn check(bp: &Blueprint) -> Vec<Problem> {
    let mut out = declared(bp);
    if !out.is_empty() {
        return out;
    }
    let limits = Limits::new(&bp.quotas);
    let desired = expand(bp, &worst_case(bp));
    let mut found = Found::default();
    let mut sizes: HashMap<*const PolicyDocument, u64> = HashMap::new();
    let mut size = |doc: &Arc<PolicyDocument>| -> u64 {
        *sizes
            .entry(Arc::as_ptr(doc))
            .or_insert_with(|| policy_size(doc))
    };
    let tiers = bp.role_tiers.resolved();
    let tier_of = |role: &str| tiers.iter().find(|t| t.role_name == role).map(|t| t.tier);
    let owners = owners(bp);
    let mut accounts = 1; // the management account
    for resource in &desired.resources {
        match resource.spec.as_ref() {
            Spec::IamRole(role) => {
                let Some(tier) = tier_of(&role.name) else {
                    continue;
                };
                let at = FieldPath::root().key("role_tiers").key(tier.key());
                let what = format!("role `{}`", role.name);
                found.note(
                    &at,
                    QuotaName::TrustPolicySize,
                    &what,
                    size(&role.trust_policy),
                );
                let inline: u64 = role.inline_policies.values().map(&mut size).sum();
                found.note(&at, QuotaName::RoleInlinePolicySize, &what, inline);
                let managed = at.key("managed_policies");
                let count = role.managed_policies.len() as u64;
                found.note(&managed, QuotaName::ManagedPoliciesPerRole, &what, count);
                found.note(
                    &tags_at(&owners, None),
                    QuotaName::TagsPerResource,
                    &what,
                    role.tags.len() as u64,
                );
            }
            Spec::IamPolicy(policy) => {
                let at = FieldPath::root()
                    .key("role_tiers")
                    .key(TierName::Keeper.key());
                let what = format!("policy `{}`", policy.name);
                found.note(
                    &at,
                    QuotaName::ManagedPolicySize,
                    &what,
                    size(&policy.document),
                );
            }
            Spec::IamGroup(group) => {
                let inline: u64 = group.inline_policies.values().map(&mut size).sum();
                // Its size grows with the units where the tier applies.
                let at = match tier_of(&group.name) {
                    Some(tier) if bp.role_tiers.get(tier).environments.is_some() => {
                        FieldPath::root()
                            .key("role_tiers")
                            .key(tier.key())
                            .key("environments")
                    }
                    _ => FieldPath::root().key("environments"),
                };
                let what = format!("group `{}`", group.name);
                found.note(&at, QuotaName::GroupInlinePolicySize, &what, inline);
            }
            Spec::Account(account) => {
                accounts += 1;
                let what = format!("account `{}`", account.name);
                let at = tags_at(&owners, Some(&account.name));
                found.note(
                    &at,
                    QuotaName::TagsPerResource,
                    &what,
                    account.tags.len() as u64,
                );
            }
            _ => {}
        }
    }
    found.note(
        &FieldPath::root().key("customers"),
        QuotaName::AccountsPerOrganization,
        "the organization",
        accounts,
    );
    for ((at, name), (what, measured)) in found.worst {
        let limit = limits.get(name);
        if measured <= limit {
            continue;
        }
        let quota = name.quota();
        let hint = match quota.raise {
            Raise::Never => format!("{} is a hard limit AWS does not raise", name.key()),
            Raise::UpTo(max) => format!(
                "AWS raises it to {max} on request; once raised, declare `quotas: {{ {}: <value> }}`",
                name.key()
            ),
            Raise::OnRequest => format!(
                "AWS raises it on request; once raised, declare `quotas: {{ {}: <value> }}`",
                name.key()
            ),
        };
        out.push(
            Problem::at_value(
                at,
                format!(
                    "{what} would exceed AWS's quota on {}: {measured}, where {limit} is allowed",
                    quota.what
                ),
            )
            .hint(hint),
        );
    }
    out
}

/// The raised values the blueprint declares, each one AWS grants.
fn declared(bp: &Blueprint) -> Vec<Problem> {
    let mut out = Vec::new();
    for (name, value) in &bp.quotas {
        let quota = name.quota();
        if quota.accepts(*value) {
            continue;
        }
        let at = FieldPath::root().key("quotas").key(name.key());
        let why = match quota.raise {
            Raise::Never => format!(
                "{} is a hard limit of {}; AWS does not raise it",
                name.key(),
                quota.default
            ),
            Raise::UpTo(max) => format!(
                "{} can be raised from {} to at most {max}, not {value}",
                name.key(),
                quota.default
            ),
            Raise::OnRequest => format!(
                "{} can only be raised above its default of {}, not set to {value}",
                name.key(),
                quota.default
            ),
        };
        out.push(Problem::at_value(at, why));
    }
    out
}

/// Where each account's own tags are written, by account name.
fn owners(bp: &Blueprint) -> HashMap<String, FieldPath> {
    let root = FieldPath::root();
    let mut owners = HashMap::new();
    for (key, core) in [
        ("security", &bp.accounts.security),
        ("log_archive", &bp.accounts.log_archive),
    ] {
        owners.insert(core.name.clone(), root.key("accounts").key(key).key("tags"));
    }
    for (customer, spec) in &bp.customers {
        let at = root.key("customers").key(customer.as_str()).key("tags");
        for env in &spec.environments {
            owners.insert(Blueprint::workload_account_name(customer, env), at.clone());
        }
    }
    owners
}

/// Where the tags of an account (or of every resource, with `None`) come from.
fn tags_at(owners: &HashMap<String, FieldPath>, account: Option<&str>) -> FieldPath {
    account
        .and_then(|a| owners.get(a))
        .cloned()
        .unwrap_or_else(|| FieldPath::root().key("organization").key("tags"))
}

/// The largest measure of each quota at each blueprint field, with what it was measured on.
#[derive(Default)]
struct Found {
    worst: BTreeMap<(FieldPath, QuotaName), (String, u64)>,
}

impl Found {
    fn note(&mut self, at: &FieldPath, name: QuotaName, what: &str, measured: u64) {
        let entry = self
            .worst
            .entry((at.clone(), name))
            .or_insert_with(|| (what.to_owned(), 0));
        if measured > entry.1 {
            *entry = (what.to_owned(), measured);
        }
    }
}

/// Every id lz would write, as long as AWS makes it.
fn worst_case(bp: &Blueprint) -> Known {
    let mut known = Known {
        organization_id: Some(format!("o-{}", "a".repeat(32))),
        management_account_id: Some(ACCOUNT_ID.to_owned()),
        root_id: Some(format!("r-{}", "a".repeat(32))),
        ..Known::default()
    };
    for ou in crate::desired::ous(bp) {
        let id = format!("ou-{}-{}", "a".repeat(32), "a".repeat(32));
        known.ou_ids.insert(ou.to_owned(), id);
    }
    for account in crate::desired::accounts(bp) {
        known
            .account_ids
            .insert(account.name, ACCOUNT_ID.to_owned());
    }
    known.key_arns.insert(
        Address::key(AUDIT),
        format!(
            "arn:aws:kms:{}:{ACCOUNT_ID}:key/mrk-{}",
            bp.home_region,
            "0".repeat(32)
        ),
    );
    known
}
