//! The desired state: every resource a blueprint asks for, each with a stable address.
//!
//! [`expand`] is a pure function of the blueprint and of the ids already known (the
//! organization's, the accounts'). An id that is not known yet, because the account it
//! belongs to does not exist, appears as `(known after apply: account.<name>)` (not `${...}`,
//! which IAM reads as a policy variable) and the resource lists that
//! account in [`Resource::unknown`]: the plan shows it as known after apply, and apply writes
//! the resource in a later round, once the account exists.

pub mod audit;
pub(crate) mod guardrails;
pub(crate) mod tiers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::blueprint::Blueprint;
pub use crate::kinds::{
    AccountSpec, BucketSpec, Encryption, GroupSpec, KeySpec, Kind, ObjectLockSpec,
    OrganizationSpec, OuSpec, PolicySpec, RoleSpec, Spec, TrailSpec,
};

/// The tag that marks a resource as managed by lz.
pub const OWNER_TAG: &str = "managed-by";
/// The value of [`OWNER_TAG`].
pub const OWNER_VALUE: &str = "landing-zone";
/// The tag that names the blueprint owning a resource.
pub const BLUEPRINT_TAG: &str = "lz:blueprint";
/// A syntactically valid account id, for checks that need one before accounts exist.
pub const PLACEHOLDER_ACCOUNT_ID: &str = "000000000000";

/// A resource's stable address, such as `account.lumo-prod` or `role.lumo-prod.lz-watcher`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    /// The organization.
    pub fn organization() -> Address {
        Address("organization".to_owned())
    }
    /// An organizational unit.
    pub fn ou(name: &str) -> Address {
        Address(format!("ou.{name}"))
    }
    /// An account, by its name.
    pub fn account(name: &str) -> Address {
        Address(format!("account.{name}"))
    }
    /// An IAM role in an account.
    pub fn role(account: &str, role: &str) -> Address {
        Address(format!("role.{account}.{role}"))
    }
    /// A customer managed IAM policy in an account.
    pub fn policy(account: &str, policy: &str) -> Address {
        Address(format!("policy.{account}.{policy}"))
    }
    /// An IAM group in the security account.
    pub fn group(group: &str) -> Address {
        Address(format!("group.{group}"))
    }
    /// A KMS key.
    pub fn key(name: &str) -> Address {
        Address(format!("kms.{name}"))
    }
    /// An S3 bucket.
    pub fn bucket(name: &str) -> Address {
        Address(format!("bucket.{name}"))
    }
    /// An Organizations policy, by its type and name (`scp.lz-acme-baseline`).
    pub fn org_policy(
        policy_type: crate::kinds::organizations_policy::OrgPolicyType,
        name: &str,
    ) -> Address {
        Address(format!("{}.{name}", policy_type.prefix()))
    }
    /// An account's S3 Block Public Access.
    pub fn public_access_block(account: &str) -> Address {
        Address(format!("public_access_block.{account}"))
    }
    /// A CloudTrail trail.
    pub fn trail(name: &str) -> Address {
        Address(format!("trail.{name}"))
    }
    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The placeholder standing for this resource's id until it is known.
    pub fn id_placeholder(&self) -> String {
        format!("{PLACEHOLDER}{})", self.0)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a text still holds an id placeholder.
pub fn has_placeholder(text: &str) -> bool {
    text.contains(PLACEHOLDER)
}

/// How an id that is not known yet begins.
const PLACEHOLDER: &str = "(known after apply: ";

impl Ids<'_> {
    /// Notes ids found missing elsewhere (for a document built once and shared).
    fn note(&mut self, addresses: &[Address]) {
        self.unknown.extend(addresses.iter().cloned());
    }
}

/// Tags, by key.
pub type Tags = BTreeMap<String, String>;

/// One resource of the desired state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Resource {
    /// Its address.
    pub address: Address,
    /// The name of the account it lives in; `None` for the management account.
    pub account: Option<String>,
    /// What it should be; shared with the plan rather than copied.
    pub spec: Arc<Spec>,
    /// Resources that must exist before it.
    pub depends_on: Vec<Address>,
    /// Resources whose ids it needs and that do not exist yet.
    pub unknown: Vec<Address>,
}

/// Every resource a blueprint asks for, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Desired {
    /// The blueprint's name.
    pub blueprint: String,
    /// The resources.
    pub resources: Vec<Resource>,
    /// Which resource kinds the blueprint allows lz to delete.
    pub deletable: BTreeSet<Kind>,
}

impl Desired {
    /// The resource at `address`.
    pub fn get(&self, address: &Address) -> Option<&Resource> {
        self.resources.iter().find(|r| &r.address == address)
    }

    /// The ownership tags every resource of this blueprint carries.
    pub fn ownership_tags(&self) -> Tags {
        ownership_tags(&self.blueprint)
    }
}

/// The ownership tags of blueprint `name`.
pub fn ownership_tags(name: &str) -> Tags {
    Tags::from([
        (OWNER_TAG.to_owned(), OWNER_VALUE.to_owned()),
        (BLUEPRINT_TAG.to_owned(), name.to_owned()),
    ])
}

/// The ids already known in the live organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    /// The organization's id (`o-...`).
    pub organization_id: Option<String>,
    /// The management account's id.
    pub management_account_id: Option<String>,
    /// Account ids by account name.
    pub account_ids: HashMap<String, String>,
    /// KMS key ARNs by address (`kms.audit`).
    pub key_arns: HashMap<Address, String>,
    /// The id of the organization's root (`r-...`).
    #[serde(default)]
    pub root_id: Option<String>,
    /// Organizational unit ids by name (`ou-...`).
    #[serde(default)]
    pub ou_ids: HashMap<String, String>,
}

/// Looks ids up while expanding, noting those that are not known yet.
struct Ids<'a> {
    known: &'a Known,
    unknown: BTreeSet<Address>,
}

impl<'a> Ids<'a> {
    fn new(known: &'a Known) -> Ids<'a> {
        Ids {
            known,
            unknown: BTreeSet::new(),
        }
    }

    fn account(&mut self, name: &str) -> String {
        match self.known.account_ids.get(name) {
            Some(id) => id.clone(),
            None => {
                let address = Address::account(name);
                let placeholder = address.id_placeholder();
                self.unknown.insert(address);
                placeholder
            }
        }
    }

    fn key(&mut self, address: &Address) -> String {
        match self.known.key_arns.get(address) {
            Some(arn) => arn.clone(),
            None => {
                self.unknown.insert(address.clone());
                address.id_placeholder()
            }
        }
    }

    fn organization(&mut self) -> String {
        match &self.known.organization_id {
            Some(id) => id.clone(),
            None => {
                self.unknown.insert(Address::organization());
                Address::organization().id_placeholder()
            }
        }
    }

    fn root(&mut self) -> String {
        match &self.known.root_id {
            Some(id) => id.clone(),
            None => {
                self.unknown.insert(Address::organization());
                format!("{PLACEHOLDER}organization.root)")
            }
        }
    }

    fn ou(&mut self, name: &str) -> String {
        match self.known.ou_ids.get(name) {
            Some(id) => id.clone(),
            None => {
                let address = Address::ou(name);
                let placeholder = address.id_placeholder();
                self.unknown.insert(address);
                placeholder
            }
        }
    }

    fn management(&mut self) -> String {
        match &self.known.management_account_id {
            Some(id) => id.clone(),
            None => {
                self.unknown.insert(Address::organization());
                format!("{PLACEHOLDER}organization.management_account)")
            }
        }
    }

    /// The ids noted missing since the last call.
    fn take_unknown(&mut self) -> Vec<Address> {
        std::mem::take(&mut self.unknown).into_iter().collect()
    }
}

/// Builds the resources for one blueprint, given the ids known so far.
struct Expansion<'a> {
    bp: &'a Blueprint,
    ids: Ids<'a>,
    resources: Vec<Resource>,
}

impl Expansion<'_> {
    fn push(
        &mut self,
        address: Address,
        account: Option<&str>,
        spec: Spec,
        depends_on: Vec<Address>,
    ) {
        let unknown = self.ids.take_unknown();
        self.resources.push(Resource {
            address,
            account: account.map(str::to_owned),
            spec: Arc::new(spec),
            depends_on,
            unknown,
        });
    }

    fn tags(&self, extra: &[&Tags]) -> Tags {
        let mut tags = Tags::new();
        for more in extra {
            tags.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        tags.extend(ownership_tags(&self.bp.name));
        tags
    }
}

/// One account of the blueprint.
#[derive(Debug, Clone)]
pub(crate) struct PlannedAccount<'a> {
    pub name: String,
    pub email: String,
    pub ou: &'a str,
    pub environment: Option<&'a str>,
    pub tags: Tags,
}

/// Every account the blueprint makes, fixed ones first.
pub(crate) fn accounts(bp: &Blueprint) -> Vec<PlannedAccount<'_>> {
    let mut out = Vec::new();
    for core in [&bp.accounts.security, &bp.accounts.log_archive] {
        out.push(PlannedAccount {
            name: core.name.clone(),
            email: bp.account_email(&core.name, core.email.as_deref()),
            ou: &core.ou,
            environment: None,
            tags: core.tags.clone(),
        });
    }
    for (customer, spec) in &bp.customers {
        for env in &spec.environments {
            let Some(environment) = bp.environments.get(env) else {
                continue;
            };
            let name = Blueprint::workload_account_name(customer, env);
            let mut tags = spec.tags.clone();
            tags.insert("lz:customer".to_owned(), customer.clone());
            tags.insert("lz:environment".to_owned(), env.clone());
            out.push(PlannedAccount {
                email: bp.account_email(&name, spec.emails.get(env).map(String::as_str)),
                name,
                ou: &environment.ou,
                environment: Some(env),
                tags,
            });
        }
    }
    out
}

/// The names of the organizational units the blueprint makes: those holding its accounts, in
/// the accounts' order, then those of environments no customer has yet.
pub(crate) fn ous(bp: &Blueprint) -> Vec<&str> {
    let mut ous: Vec<&str> = Vec::new();
    let held = accounts(bp).into_iter().map(|a| a.ou);
    for ou in held.chain(bp.environments.values().map(|e| e.ou.as_str())) {
        if !ous.contains(&ou) {
            ous.push(ou);
        }
    }
    ous
}

/// Expands a (validated) blueprint into every resource it asks for.
pub fn expand(bp: &Blueprint, known: &Known) -> Desired {
    let mut x = Expansion {
        bp,
        ids: Ids::new(known),
        resources: Vec::new(),
    };
    x.push(
        Address::organization(),
        None,
        Spec::Organization(OrganizationSpec {
            feature_set: "ALL".to_owned(),
            trusted_services: BTreeSet::from(["cloudtrail.amazonaws.com".to_owned()]),
        }),
        vec![],
    );
    let accounts = accounts(bp);
    for ou in ous(bp) {
        let tags = x.tags(&[]);
        x.push(
            Address::ou(ou),
            None,
            Spec::OrganizationalUnit(OuSpec {
                name: ou.to_owned(),
                tags,
            }),
            vec![Address::organization()],
        );
    }
    for account in &accounts {
        let tags = x.tags(&[&bp.organization.tags, &account.tags]);
        x.push(
            Address::account(&account.name),
            None,
            Spec::Account(AccountSpec {
                name: account.name.clone(),
                email: account.email.clone(),
                ou: account.ou.to_owned(),
                tags,
            }),
            vec![Address::ou(account.ou)],
        );
    }
    tiers::expand(&mut x, &accounts);
    audit::expand(&mut x);
    guardrails::expand(&mut x);
    Desired {
        blueprint: bp.name.clone(),
        resources: x.resources,
        deletable: Kind::ALL
            .iter()
            .copied()
            .filter(|kind| {
                kind.deletable_with()
                    .is_some_and(|with| bp.allow_delete.contains(&with))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
