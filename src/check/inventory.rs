//! What the checker looks at: every principal of every member account with its policies, the
//! tier entry points in the security account, and the audit trail's resource policies. Built
//! from the documents a plan would write, or from what discovery read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::actual::Actual;
use crate::blueprint::{Blueprint, ResolvedTier, TierName};
use crate::desired::audit::{ACCESS_LOGS, AUDIT};
use crate::desired::{Address, Desired, Known, Spec, expand};
use crate::policy::{PolicyDocument, Principal, Statement};

/// One account's IAM: every role, user, group and customer managed policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountIam {
    /// The blueprint's name for the account.
    pub name: String,
    /// Its id.
    pub id: String,
    /// Its roles.
    pub roles: Vec<RoleFacts>,
    /// Its users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserFacts>,
    /// Its groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupFacts>,
    /// Its customer managed policies by ARN, each the document of its default version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Arc<PolicyDocument>>,
}

/// A role and its policies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleFacts {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// Its trust policy.
    pub trust: Arc<PolicyDocument>,
    /// Its inline policies.
    pub inline: Vec<Arc<PolicyDocument>>,
    /// The ARNs of its attached managed policies.
    pub managed: Vec<String>,
    /// Its permissions boundary's ARN.
    pub boundary: Option<String>,
}

/// A user and its policies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserFacts {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// Its inline policies.
    pub inline: Vec<Arc<PolicyDocument>>,
    /// The ARNs of its attached managed policies.
    pub managed: Vec<String>,
    /// The names of its groups.
    pub groups: Vec<String>,
    /// Its permissions boundary's ARN.
    pub boundary: Option<String>,
}

/// A group and its policies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupFacts {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// Its inline policies.
    pub inline: Vec<Arc<PolicyDocument>>,
    /// The ARNs of its attached managed policies.
    pub managed: Vec<String>,
}

impl AccountIam {
    /// A role's ARN in this account.
    pub fn role_arn(&self, role: &RoleFacts) -> String {
        format!("arn:aws:iam::{}:role{}{}", self.id, role.path, role.name)
    }

    /// A user's ARN in this account.
    pub fn user_arn(&self, user: &UserFacts) -> String {
        format!("arn:aws:iam::{}:user{}{}", self.id, user.path, user.name)
    }

    /// A key under which accounts whose IAM is the same up to their own id share results.
    pub(super) fn shape_key(&self) -> u64 {
        let text = serde_json::to_string(&(&self.roles, &self.users, &self.groups, &self.policies))
            .unwrap_or_default();
        super::hash_of(&text.replace(&self.id, "<self>"))
    }
}

/// People of the security account who may enter one tier: the members of its group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The tier.
    pub tier: TierName,
    /// The group's name.
    pub group: String,
    /// The group's policies.
    pub policies: Vec<Arc<PolicyDocument>>,
}

/// The audit trail's resources, in the log-archive account.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFacts {
    /// The log-archive account's IAM.
    pub principals: AccountIam,
    /// The home region.
    pub region: String,
    /// The audit key's ARN and policy.
    pub key: Option<(String, PolicyDocument)>,
    /// The audit bucket's name and policy.
    pub bucket: Option<(String, PolicyDocument)>,
    /// The access-log bucket's name and policy.
    pub access_log_bucket: Option<(String, PolicyDocument)>,
}

/// Everything the checker looks at.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The blueprint's name.
    pub blueprint: String,
    /// `offline` or `live`.
    pub source: &'static str,
    /// The organization's id.
    pub organization_id: String,
    /// The management account's id.
    pub management_account_id: String,
    /// The security account's id.
    pub security_account_id: String,
    /// The role lz comes in through.
    pub access_role: String,
    /// The landing zone's IAM path.
    pub iam_path: String,
    /// The path of the roles and policies `keeper` manages.
    pub keeper_path: String,
    /// The tiers.
    pub tiers: Vec<ResolvedTier>,
    /// The tiers' groups in the security account.
    pub entries: Vec<Entry>,
    /// The customer accounts.
    pub accounts: Vec<AccountIam>,
    /// The audit trail.
    pub audit: Option<AuditFacts>,
    /// What could not be checked (accounts not read, resources that do not exist yet): a
    /// check with anything here does not pass.
    pub uncovered: Vec<String>,
    /// What the guardrails in force (lz's, and live, the organization's others) would deny
    /// that the landing zone needs, one line per denying statement.
    pub lockouts: Vec<String>,
}

/// Ids for what does not exist yet, so that an offline check has concrete ARNs. They are
/// valid in form and belong to no one.
fn complete(bp: &Blueprint, mut known: Known) -> Known {
    known
        .organization_id
        .get_or_insert_with(|| "o-lzcheck0000".to_owned());
    known
        .management_account_id
        .get_or_insert_with(|| "100000000000".to_owned());
    known.root_id.get_or_insert_with(|| "r-lzc0".to_owned());
    for (i, ou) in crate::desired::ous(bp).into_iter().enumerate() {
        known
            .ou_ids
            .entry(ou.to_owned())
            .or_insert_with(|| format!("ou-lzc0-{i:08}"));
    }
    for (i, account) in crate::desired::accounts(bp).iter().enumerate() {
        known
            .account_ids
            .entry(account.name.clone())
            .or_insert_with(|| format!("{:012}", 100_000_000_001u64 + i as u64));
    }
    let la = &known.account_ids[&bp.accounts.log_archive.name];
    let key = format!(
        "arn:aws:kms:{}:{la}:key/00000000-0000-0000-0000-00000000c4ec",
        bp.home_region
    );
    known.key_arns.entry(Address::key(AUDIT)).or_insert(key);
    known
}

impl Inventory {
    /// The documents a plan against an empty organization would write: what `lz check
    /// --assume-empty` checks, with no credentials and no AWS call.
    pub fn offline(bp: &Blueprint) -> Inventory {
        let known = complete(bp, Known::default());
        let desired = expand(bp, &known);
        let mut inventory = Inventory::from_desired(bp, &desired, &known, None, "offline");
        inventory.lockouts = crate::validate::lockout_findings(bp, None);
        inventory
    }

    /// The organization as the plan would leave it: the documents lz writes, with every other
    /// principal discovery found in the member accounts.
    pub fn after_apply(bp: &Blueprint, actual: &Actual) -> Inventory {
        let known = complete(bp, actual.known());
        let desired = expand(bp, &known);
        let mut inventory =
            Inventory::from_desired(bp, &desired, &known, Some(&actual.iam), "planned");
        inventory.uncovered.extend(unreadable_notes(actual));
        inventory.lockouts = crate::validate::lockout_findings(bp, Some(actual));
        inventory
    }

    /// The organization as it is now.
    pub fn live(bp: &Blueprint, actual: &Actual) -> Inventory {
        let known = actual.known();
        let mut inventory = Inventory::skeleton(bp, &complete(bp, known.clone()), "live");
        inventory.uncovered.extend(unreadable_notes(actual));
        inventory.lockouts = crate::validate::lockout_findings(bp, Some(actual));
        for account in crate::desired::accounts(bp) {
            if account.environment.is_none() {
                continue;
            }
            match actual.iam.get(&account.name) {
                Some(iam) => inventory.accounts.push(iam.clone()),
                None if !known.account_ids.contains_key(&account.name) => inventory
                    .uncovered
                    .push(format!("account {} does not exist yet", account.name)),
                None => {}
            }
        }
        inventory.entries = entries(bp, actual.resources.values().map(|o| o.spec.as_ref()));
        let la = &bp.accounts.log_archive.name;
        if !actual.iam.contains_key(la) {
            inventory.uncovered.push(format!(
                "the log-archive account {la} was not read: the audit trail is not checked"
            ));
        }
        if let Some(principals) = actual.iam.get(la) {
            let spec =
                |address: &Address| actual.resources.get(address).map(|o| (o, o.spec.as_ref()));
            inventory.audit = Some(AuditFacts {
                principals: principals.clone(),
                region: bp.home_region.clone(),
                key: spec(&Address::key(AUDIT)).and_then(|(o, s)| match s {
                    Spec::KmsKey(k) => Some((o.id.clone()?, k.policy.clone())),
                    _ => None,
                }),
                bucket: bucket(spec(&Address::bucket(AUDIT)).map(|(_, s)| s)),
                access_log_bucket: bucket(spec(&Address::bucket(ACCESS_LOGS)).map(|(_, s)| s)),
            });
        }
        if let Some(audit) = &inventory.audit {
            for (what, missing) in [
                ("the audit key", audit.key.is_none()),
                ("the audit bucket", audit.bucket.is_none()),
                ("the access-log bucket", audit.access_log_bucket.is_none()),
            ] {
                if missing {
                    inventory
                        .uncovered
                        .push(format!("{what} does not exist yet: it is not checked"));
                }
            }
        }
        inventory
    }

    fn skeleton(bp: &Blueprint, known: &Known, source: &'static str) -> Inventory {
        let id = |name: &str| known.account_ids.get(name).cloned().unwrap_or_default();
        Inventory {
            blueprint: bp.name.clone(),
            source,
            organization_id: known.organization_id.clone().unwrap_or_default(),
            management_account_id: known.management_account_id.clone().unwrap_or_default(),
            security_account_id: id(&bp.accounts.security.name),
            access_role: bp.organization.access_role.clone(),
            iam_path: bp.organization.iam_path.clone(),
            keeper_path: bp.organization.keeper_path.clone(),
            tiers: bp.role_tiers.resolved(),
            entries: Vec::new(),
            accounts: Vec::new(),
            audit: None,
            uncovered: Vec::new(),
            lockouts: Vec::new(),
        }
    }

    fn from_desired(
        bp: &Blueprint,
        desired: &Desired,
        known: &Known,
        others: Option<&BTreeMap<String, AccountIam>>,
        source: &'static str,
    ) -> Inventory {
        let mut inventory = Inventory::skeleton(bp, known, source);
        let mut by_account: HashMap<&str, AccountIam> = HashMap::new();
        for resource in &desired.resources {
            let Some(account) = resource.account.as_deref() else {
                continue;
            };
            let iam = by_account.entry(account).or_insert_with(|| AccountIam {
                name: account.to_owned(),
                id: known.account_ids.get(account).cloned().unwrap_or_default(),
                ..AccountIam::default()
            });
            match resource.spec.as_ref() {
                Spec::IamRole(role) => iam.roles.push(RoleFacts {
                    name: role.name.clone(),
                    path: role.path.clone(),
                    trust: role.trust_policy.clone(),
                    inline: role.inline_policies.values().cloned().collect(),
                    managed: role.managed_policies.iter().cloned().collect(),
                    boundary: role.permissions_boundary.clone(),
                }),
                Spec::IamPolicy(policy) => {
                    let arn = format!(
                        "arn:aws:iam::{}:policy{}{}",
                        iam.id, policy.path, policy.name
                    );
                    iam.policies.insert(arn, policy.document.clone());
                }
                _ => {}
            }
        }
        let add_others = |iam: &mut AccountIam| match others.and_then(|o| o.get(&iam.name)) {
            Some(found) => {
                let ours = &bp.organization.iam_path;
                iam.roles
                    .extend(found.roles.iter().filter(|r| &r.path != ours).cloned());
                iam.users.extend(found.users.iter().cloned());
                iam.groups.extend(found.groups.iter().cloned());
                for (arn, doc) in &found.policies {
                    iam.policies
                        .entry(arn.clone())
                        .or_insert_with(|| doc.clone());
                }
            }
            None => iam.roles.push(access_role(bp, known)),
        };
        for account in crate::desired::accounts(bp) {
            if account.environment.is_none() {
                continue;
            }
            let mut iam = by_account
                .remove(account.name.as_str())
                .unwrap_or_else(|| AccountIam {
                    name: account.name.clone(),
                    id: known
                        .account_ids
                        .get(&account.name)
                        .cloned()
                        .unwrap_or_default(),
                    ..AccountIam::default()
                });
            add_others(&mut iam);
            inventory.accounts.push(iam);
        }
        inventory.entries = entries(bp, desired.resources.iter().map(|r| r.spec.as_ref()));
        let la = &bp.accounts.log_archive.name;
        let mut principals = AccountIam {
            name: la.clone(),
            id: known.account_ids.get(la).cloned().unwrap_or_default(),
            ..AccountIam::default()
        };
        add_others(&mut principals);
        let spec = |address: &Address| desired.get(address).map(|r| r.spec.as_ref());
        inventory.audit = Some(AuditFacts {
            principals,
            region: bp.home_region.clone(),
            key: match spec(&Address::key(AUDIT)) {
                Some(Spec::KmsKey(k)) => known
                    .key_arns
                    .get(&Address::key(AUDIT))
                    .map(|arn| (arn.clone(), k.policy.clone())),
                _ => None,
            },
            bucket: bucket(spec(&Address::bucket(AUDIT))),
            access_log_bucket: bucket(spec(&Address::bucket(ACCESS_LOGS))),
        });
        inventory
    }
}

fn bucket(spec: Option<&Spec>) -> Option<(String, PolicyDocument)> {
    match spec {
        Some(Spec::S3Bucket(b)) => Some((b.name.clone(), b.policy.clone())),
        _ => None,
    }
}

fn unreadable_notes(actual: &Actual) -> Vec<String> {
    actual
        .unreadable
        .iter()
        .map(|(account, why)| {
            format!("account {account} could not be read, so it is not checked: {why}")
        })
        .collect()
}

/// The tiers' groups among the specs, by the role name each tier gives its group.
fn entries<'a>(bp: &Blueprint, specs: impl Iterator<Item = &'a Spec>) -> Vec<Entry> {
    let groups: HashMap<&str, Vec<Arc<PolicyDocument>>> = specs
        .filter_map(|s| match s {
            Spec::IamGroup(g) => Some((
                g.name.as_str(),
                g.inline_policies.values().cloned().collect(),
            )),
            _ => None,
        })
        .collect();
    bp.role_tiers
        .resolved()
        .into_iter()
        .filter_map(|t| {
            let policies = groups.get(t.role_name.as_str())?.clone();
            Some(Entry {
                tier: t.tier,
                group: t.role_name,
                policies,
            })
        })
        .collect()
}

/// The access role as AWS Organizations makes it in a new account: administrator, trusting the
/// management account. Offline, it stands for what discovery would find.
fn access_role(bp: &Blueprint, known: &Known) -> RoleFacts {
    let management = known.management_account_id.clone().unwrap_or_default();
    RoleFacts {
        name: bp.organization.access_role.clone(),
        path: "/".to_owned(),
        trust: Arc::new(PolicyDocument::new(vec![
            Statement::allow()
                .principal(Principal::aws([format!("arn:aws:iam::{management}:root")]))
                .actions(["sts:AssumeRole"]),
        ])),
        inline: Vec::new(),
        managed: vec![super::managed::ADMINISTRATOR_ACCESS.to_owned()],
        boundary: None,
    }
}
