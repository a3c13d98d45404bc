//! AWS's quotas, checked before any AWS call: the blueprint's declared raises must be ones AWS
//! grants, and everything lz would send is measured against the quotas in force, with every id
//! not known yet as long as AWS makes it (the worst case). A violation is reported at the
//! blueprint field that causes it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::{FieldPath, Problem, lockout};
use crate::blueprint::{Blueprint, TierName};
use crate::desired::audit::AUDIT;
use crate::desired::guardrails::{self, Source, Target};
use crate::desired::{Address, Known, Spec, expand};
use crate::kinds::organizations_policy::OrgPolicyType;
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
    // Each tier's fields, built once: a blueprint of thousands of accounts has as many roles.
    let tier_paths: Vec<(&str, Field, Field)> = tiers
        .iter()
        .map(|t| {
            let at = FieldPath::root().key("role_tiers").key(t.tier.key());
            let managed = found.field(at.key("managed_policies"));
            (t.role_name.as_str(), found.field(at), managed)
        })
        .collect();
    let keeper = found.field(
        FieldPath::root()
            .key("role_tiers")
            .key(TierName::Keeper.key()),
    );
    let owners: HashMap<String, Field> = owners(bp)
        .into_iter()
        .map(|(account, at)| (account, found.field(at)))
        .collect();
    // Tags every resource carries.
    let everywhere = found.field(FieldPath::root().key("organization").key("tags"));
    let mut accounts = 1; // the management account
    for resource in &desired.resources {
        match resource.spec.as_ref() {
            Spec::IamRole(role) => {
                let Some(&(_, at, managed)) = tier_paths.iter().find(|t| t.0 == role.name) else {
                    continue;
                };
                let what = || format!("role `{}`", role.name);
                found.note(
                    at,
                    QuotaName::TrustPolicySize,
                    what,
                    size(&role.trust_policy),
                );
                let inline: u64 = role.inline_policies.values().map(&mut size).sum();
                found.note(at, QuotaName::RoleInlinePolicySize, what, inline);
                let count = role.managed_policies.len() as u64;
                found.note(managed, QuotaName::ManagedPoliciesPerRole, what, count);
                let tags = role.tags.len() as u64;
                found.note(everywhere, QuotaName::TagsPerResource, what, tags);
            }
            Spec::IamPolicy(policy) => {
                let what = || format!("policy `{}`", policy.name);
                let measured = size(&policy.document);
                found.note(keeper, QuotaName::ManagedPolicySize, what, measured);
            }
            Spec::IamGroup(group) => {
                let inline: u64 = group.inline_policies.values().map(&mut size).sum();
                // Its size grows with the units where the tier applies.
                let tier = tiers.iter().find(|t| t.role_name == group.name);
                let at = match tier {
                    Some(t) if bp.role_tiers.get(t.tier).environments.is_some() => {
                        FieldPath::root()
                            .key("role_tiers")
                            .key(t.tier.key())
                            .key("environments")
                    }
                    _ => FieldPath::root().key("environments"),
                };
                let at = found.field(at);
                let what = || format!("group `{}`", group.name);
                found.note(at, QuotaName::GroupInlinePolicySize, what, inline);
            }
            Spec::Account(account) => {
                accounts += 1;
                let what = || format!("account `{}`", account.name);
                let at = *owners.get(&account.name).unwrap_or(&everywhere);
                let tags = account.tags.len() as u64;
                found.note(at, QuotaName::TagsPerResource, what, tags);
            }
            _ => {}
        }
    }
    guardrails(bp, &mut found);
    let customers = found.field(FieldPath::root().key("customers"));
    found.note(
        customers,
        QuotaName::AccountsPerOrganization,
        || "the organization".to_owned(),
        accounts,
    );
    for (at, name, what, measured) in found.into_worst() {
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

/// Each guardrail's size, and the policies of each type attached to each target (AWS's own
/// `FullAWSAccess` and `RCPFullAWSAccess` included, as AWS counts them).
fn guardrails(bp: &Blueprint, found: &mut Found) {
    // The longest organization id AWS makes: `o-` and 32 characters.
    let org_id = format!("o-{}", "a".repeat(32));
    let planned = guardrails::planned(bp, &org_id, ACCOUNT_ID);
    let mut counts: std::collections::BTreeMap<(OrgPolicyType, &Target), (u64, Source)> =
        std::collections::BTreeMap::new();
    for g in &planned {
        let at = found.field(lockout::field_of(bp, g.source));
        let what = || format!("{} `{}`", g.policy_type.noun(), g.name);
        let (size, per_target) = match g.policy_type {
            OrgPolicyType::ServiceControlPolicy => {
                (QuotaName::ScpSize, Some(QuotaName::ScpsPerTarget))
            }
            OrgPolicyType::ResourceControlPolicy => {
                (QuotaName::RcpSize, Some(QuotaName::RcpsPerTarget))
            }
            OrgPolicyType::TagPolicy => (QuotaName::TagPolicySize, None),
        };
        found.note(at, size, what, g.document.to_json().len() as u64);
        if per_target.is_some() {
            for target in &g.targets {
                let entry = counts
                    .entry((g.policy_type, target))
                    .or_insert((1, g.source));
                entry.0 += 1;
                entry.1 = g.source;
            }
        }
    }
    for ((policy_type, target), (count, source)) in counts {
        let at = found.field(lockout::field_of(bp, source));
        let name = match policy_type {
            OrgPolicyType::ResourceControlPolicy => QuotaName::RcpsPerTarget,
            _ => QuotaName::ScpsPerTarget,
        };
        let what = || target.to_string();
        found.note(at, name, what, count);
    }
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

/// The largest measure of each quota at each blueprint field, with what it was measured on.
#[derive(Default)]
struct Found {
    fields: Vec<FieldPath>,
    index: HashMap<FieldPath, Field>,
    worst: HashMap<(Field, QuotaName), (String, u64)>,
}

/// A blueprint field measured against quotas: an index into [`Found::fields`], taken once per
/// field, since the same fields are measured once per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Field(usize);

impl Found {
    fn field(&mut self, at: FieldPath) -> Field {
        let next = Field(self.fields.len());
        *self.index.entry(at).or_insert_with_key(|at| {
            self.fields.push(at.clone());
            next
        })
    }

    /// Keeps `measured` if it is the largest yet; `what` names it only then.
    fn note(&mut self, at: Field, name: QuotaName, what: impl Fn() -> String, measured: u64) {
        match self.worst.entry((at, name)) {
            Entry::Vacant(entry) => {
                entry.insert((what(), measured));
            }
            Entry::Occupied(mut entry) if measured > entry.get().1 => {
                *entry.get_mut() = (what(), measured);
            }
            Entry::Occupied(_) => {}
        }
    }

    /// Each field and quota with its largest measure, in field order.
    fn into_worst(self) -> Vec<(FieldPath, QuotaName, String, u64)> {
        let mut worst: Vec<_> = self
            .worst
            .into_iter()
            .map(|((at, name), (what, measured))| (self.fields[at.0].clone(), name, what, measured))
            .collect();
        worst.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        worst
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
