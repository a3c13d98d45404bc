//! AWS's quotas that a blueprint can run into, as data: each with AWS's documented value and,
//! where AWS raises it on request, how far. moto enforces none of them, so lz measures what it
//! would send against this table before any AWS call (`crate::validate`), and a blueprint may
//! declare a raised value for an adjustable quota (`quotas:`).
//!
//! Sources, read 2026-12: the IAM and STS quotas page
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>) and the
//! Organizations quotas page
//! (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html>).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::policy::PolicyDocument;

/// A quota lz checks, by the name a blueprint's `quotas:` uses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QuotaName {
    /// Characters of all inline policies of one role together.
    RoleInlinePolicySize,
    /// Characters of all inline policies of one group together.
    GroupInlinePolicySize,
    /// Characters of all inline policies of one user together.
    UserInlinePolicySize,
    /// Characters of one customer managed policy.
    ManagedPolicySize,
    /// Characters of one role's trust policy.
    TrustPolicySize,
    /// Managed policies attached to one role.
    ManagedPoliciesPerRole,
    /// Managed policies attached to one group.
    ManagedPoliciesPerGroup,
    /// Tags on one IAM role, policy, or Organizations account or unit.
    TagsPerResource,
    /// Characters of one service control policy.
    ScpSize,
    /// Service control policies attached to one root, unit or account.
    ScpsPerTarget,
    /// Characters of one resource control policy.
    RcpSize,
    /// Resource control policies attached to one root, unit or account.
    RcpsPerTarget,
    /// Characters of one tag policy.
    TagPolicySize,
    /// Levels of organizational units under the root.
    OuNestingDepth,
    /// Organizational units in an organization.
    OusPerOrganization,
    /// Accounts in an organization, the management account included.
    AccountsPerOrganization,
    /// `CreateAccount` requests in progress at once.
    ConcurrentAccountCreations,
}

/// One quota: AWS's default, and whether and how far AWS raises it on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quota {
    /// Its name.
    pub name: QuotaName,
    /// What it limits, in words.
    pub what: &'static str,
    /// AWS's default value.
    pub default: u64,
    /// How AWS raises it.
    pub raise: Raise,
}

/// Whether AWS raises a quota on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Raise {
    /// Never: a hard limit.
    Never,
    /// On request, up to this value.
    UpTo(u64),
    /// On request, with no documented ceiling.
    OnRequest,
}

impl Quota {
    /// Whether a blueprint may declare `value` for this quota: only a raise AWS grants.
    pub fn accepts(&self, value: u64) -> bool {
        match self.raise {
            Raise::Never => value == self.default,
            Raise::UpTo(max) => (self.default..=max).contains(&value),
            Raise::OnRequest => value >= self.default,
        }
    }
}

/// Every quota lz knows, in the order the README lists them.
pub const QUOTAS: &[Quota] = &[
    Quota {
        name: QuotaName::RoleInlinePolicySize,
        what: "characters of a role's inline policies together, whitespace excluded",
        default: 10_240,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::GroupInlinePolicySize,
        what: "characters of a group's inline policies together, whitespace excluded",
        default: 5_120,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::UserInlinePolicySize,
        what: "characters of a user's inline policies together, whitespace excluded",
        default: 2_048,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::ManagedPolicySize,
        what: "characters of a managed policy, whitespace excluded",
        default: 6_144,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::TrustPolicySize,
        what: "characters of a role's trust policy, whitespace excluded",
        default: 2_048,
        raise: Raise::UpTo(4_096),
    },
    Quota {
        name: QuotaName::ManagedPoliciesPerRole,
        what: "managed policies attached to a role",
        default: 10,
        raise: Raise::UpTo(25),
    },
    Quota {
        name: QuotaName::ManagedPoliciesPerGroup,
        what: "managed policies attached to a group",
        default: 10,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::TagsPerResource,
        what: "tags on an IAM role or policy, or an Organizations account or unit",
        default: 50,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::ScpSize,
        what: "characters of a service control policy, as sent",
        default: 5_120,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::ScpsPerTarget,
        what: "service control policies attached to a root, unit or account",
        default: 5,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::RcpSize,
        what: "characters of a resource control policy, as sent",
        default: 5_120,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::RcpsPerTarget,
        what: "resource control policies attached to a root, unit or account",
        default: 5,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::TagPolicySize,
        what: "characters of a tag policy, as sent",
        default: 10_000,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::OuNestingDepth,
        what: "levels of organizational units under the root",
        default: 5,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::OusPerOrganization,
        what: "organizational units in an organization",
        default: 2_000,
        raise: Raise::Never,
    },
    Quota {
        name: QuotaName::AccountsPerOrganization,
        what: "accounts in an organization, the management account included",
        default: 10,
        raise: Raise::OnRequest,
    },
    Quota {
        name: QuotaName::ConcurrentAccountCreations,
        what: "account creations in progress at once",
        default: 5,
        raise: Raise::Never,
    },
];

impl QuotaName {
    /// The quota's entry in [`QUOTAS`].
    pub fn quota(self) -> &'static Quota {
        QUOTAS
            .iter()
            .find(|q| q.name == self)
            .expect("every quota name has an entry")
    }

    /// Its name in a blueprint's `quotas:`.
    pub fn key(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// The quotas in force: AWS's defaults, with the raised values a blueprint declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    raised: BTreeMap<QuotaName, u64>,
}

impl Limits {
    /// AWS's defaults, raised where `raised` says (values are validated elsewhere).
    pub fn new(raised: &BTreeMap<QuotaName, u64>) -> Limits {
        Limits {
            raised: raised.clone(),
        }
    }

    /// The value in force for `name`.
    pub fn get(&self, name: QuotaName) -> u64 {
        self.raised
            .get(&name)
            .copied()
            .unwrap_or(name.quota().default)
    }
}

/// A policy document's size as IAM counts it against its quotas: the characters of the JSON
/// sent, whitespace excluded.
pub fn policy_size(document: &PolicyDocument) -> u64 {
    document
        .to_json()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Statement;

    #[test]
    fn every_name_has_one_entry_and_a_raise_is_accepted_only_where_aws_grants_it() {
        for quota in QUOTAS {
            let same = QUOTAS.iter().filter(|q| q.name == quota.name).count();
            assert_eq!(same, 1, "{:?}", quota.name);
            assert!(quota.accepts(quota.default), "{:?}", quota.name);
            assert!(!quota.accepts(quota.default - 1), "{:?}", quota.name);
        }
        let trust = QuotaName::TrustPolicySize.quota();
        assert!(trust.accepts(4_096) && !trust.accepts(4_097));
        assert!(!QuotaName::GroupInlinePolicySize.quota().accepts(6_000));
        assert!(QuotaName::AccountsPerOrganization.quota().accepts(5_000));
        assert_eq!(QuotaName::TrustPolicySize.key(), "trust_policy_size");
    }

    #[test]
    fn a_declared_value_replaces_the_default_and_nothing_else() {
        let limits = Limits::new(&BTreeMap::from([(QuotaName::TrustPolicySize, 4_096)]));
        assert_eq!(limits.get(QuotaName::TrustPolicySize), 4_096);
        assert_eq!(limits.get(QuotaName::ManagedPoliciesPerRole), 10);
    }

    #[test]
    fn whitespace_inside_values_is_not_counted() {
        let spaced = PolicyDocument::new(vec![
            Statement::allow()
                .sid("A")
                .actions(["s3:GetObject"])
                .resources(["arn:aws:s3:::a b"]),
        ]);
        let tight = PolicyDocument::new(vec![
            Statement::allow()
                .sid("A")
                .actions(["s3:GetObject"])
                .resources(["arn:aws:s3:::ab"]),
        ]);
        assert_eq!(policy_size(&spaced), policy_size(&tight));
        assert_eq!(policy_size(&tight), tight.to_json().len() as u64);
    }
}

#[cfg(test)]
mod readme {
    use super::*;

    /// The README's quota table names every quota lz knows, and nothing more.
    #[test]
    fn the_readme_lists_every_quota() {
        let readme = include_str!("../README.md");
        let table: Vec<&str> = readme
            .lines()
            .skip_while(|l| !l.starts_with("| quota (`quotas:` name)"))
            .take_while(|l| l.starts_with('|'))
            .collect();
        for quota in QUOTAS {
            let key = format!("`{}`", quota.name.key());
            assert!(
                table.iter().any(|row| row.contains(&key)),
                "README's Limits table lacks {key}"
            );
        }
    }
}
