//! A blueprint that would void a tier's guarantee is refused before any AWS call. The decision
//! is the policy evaluator's (`crate::check`), run on the documents the blueprint would write,
//! not a list of policy names: `keeper` given `IAMFullAccess` or any policy allowing `iam:*`,
//! `watcher` given a write policy, an administrator policy on a tier without MFA. Policies lz
//! does not know are not evaluated here (nothing is refused that is not proven); `lz check`
//! reports them.

use indexmap::IndexMap;

use super::{FieldPath, Problem};
use crate::blueprint::{Blueprint, Customer, TierName};
use crate::check::managed::Unknown;
use crate::check::{Inventory, check_with};

pub(super) fn check(bp: &Blueprint) -> Vec<Problem> {
    // One account per environment carries every combination of tiers the blueprint makes.
    let mut probe = bp.clone();
    probe.customers = IndexMap::from([(
        "lzcheck".to_owned(),
        Customer {
            environments: bp.environments.keys().cloned().collect(),
            tags: Default::default(),
            emails: Default::default(),
        },
    )]);
    let report = check_with(&Inventory::offline(&probe), Unknown::AllowsNothing);
    let mut seen: Vec<TierName> = Vec::new();
    let mut out = Vec::new();
    for failure in report.failures() {
        let Some(tier) = failure.tier else { continue };
        if seen.contains(&tier) {
            continue; // one problem per tier: the first guarantee it voids
        }
        seen.push(tier);
        let written = bp.role_tiers.get(tier);
        let at = FieldPath::root().key("role_tiers").key(tier.key());
        let at = if written.managed_policies.is_some() {
            at.key("managed_policies")
        } else if written.mfa.is_some() {
            at.key("mfa")
        } else {
            at
        };
        let why = failure
            .evidence
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        out.push(
            Problem::at_value(
                at,
                format!(
                    "tier `{tier}` would void its guarantee: it must hold that it {}, but {why}",
                    failure.claim
                ),
            )
            .hint(match tier {
                TierName::Settler | TierName::BreakGlass => {
                    "administrator tiers need `mfa: required`"
                }
                _ => {
                    "remove the policy that grants this; `lz check --assume-empty` shows every path"
                }
            }),
        );
    }
    out
}
