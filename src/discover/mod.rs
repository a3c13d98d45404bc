//! Discovery: reading the live organization, never writing.
//!
//! Two halves, kept apart so the second can be tested with plain data. The reads gather a
//! [`Read`] (the only I/O): the organization's inventory ([`organizations`]), each member
//! account's IAM listing ([`iam`]), the log-archive account's audit key and buckets
//! ([`audit`]), and what a kind reads for itself ([`crate::kinds`]). Then [`identify`] names it
//! all with the blueprint's addresses, each kind naming its own resources: accounts by email
//! (AWS keeps emails unique), account creations still in progress by account name (all a
//! creation request carries), organizational units by name under the root, IAM entities by
//! name under the landing zone's path, audit resources by their deterministic names.

mod audit;

pub(crate) use audit::{LogArchiveRead, list_aliases};
mod iam;
pub(crate) mod organizations;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::error::ProvideErrorMetadata;
use futures::StreamExt;

use crate::actual::{Actual, UnmanagedAccount};
use crate::aws::{Aws, CallError};
use crate::blueprint::Blueprint;
use crate::desired::{Known, Tags};
use crate::kinds::s3_account_public_access_block::PublicAccessBlockSpec;
use crate::kinds::{self, Raws};

use crate::check::AccountIam;
pub(crate) use iam::{AccountRead, document};
pub(crate) use organizations::{
    Inventory, list_root, list_top_ous, list_trusted_services, read_inventory,
};

/// Everything discovery read, before it is named: plain data, no clients.
#[derive(Debug, Clone)]
pub(crate) struct Read<'a> {
    /// The blueprint whose addresses name what was read.
    pub blueprint: &'a Blueprint,
    /// The organization, its units, accounts and creations.
    pub organization: Inventory,
    /// Each member account of the blueprint that could be read, by name.
    pub accounts: BTreeMap<String, AccountRead>,
    /// The audit key and buckets, when the log-archive account could be read.
    pub log_archive: Option<LogArchiveRead>,
    /// Each member account's S3 Block Public Access (`None`: it has none), with its id.
    pub public_access_blocks: BTreeMap<String, (String, Option<PublicAccessBlockSpec>)>,
}

impl<'a> Read<'a> {
    /// What an organization with only `organization` in it reads as.
    pub(crate) fn new(blueprint: &'a Blueprint, organization: Inventory) -> Read<'a> {
        Read {
            blueprint,
            organization,
            accounts: BTreeMap::new(),
            log_archive: None,
            public_access_blocks: BTreeMap::new(),
        }
    }
}

/// One resource found, before it is named: its id in AWS and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found<K> {
    /// Its id in AWS (an ARN), where it has one.
    pub id: Option<String>,
    /// What it is.
    pub spec: K,
}

/// Why the organization could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The credentials belong to an account that is not the organization's management account.
    #[error(
        "the credentials are for account {caller}, but organization {organization} is managed by account {management}; run lz with the management account's credentials"
    )]
    NotManagementAccount {
        /// The caller's account.
        caller: String,
        /// The organization.
        organization: String,
        /// The management account.
        management: String,
    },
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] CallError),
}

/// How many member accounts are read at once.
const ACCOUNTS_IN_FLIGHT: usize = 8;

/// What discovery read in each member account, kept between an apply's rounds so that a round
/// re-reads only the accounts the previous round wrote to, not the whole organization (each
/// account costs an AssumeRole and three or more IAM listings).
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountReads(BTreeMap<String, AccountReading>);

#[derive(Debug, Clone)]
struct AccountReading {
    id: String,
    iam: AccountRead,
    principals: AccountIam,
    audit: Option<LogArchiveRead>,
    public_access_block: Option<PublicAccessBlockSpec>,
}

/// Reads the live organization and names what it finds with `blueprint`'s addresses: the
/// organization from the management account, then each existing account of the blueprint
/// through its access role, several at a time. An account whose role cannot be assumed is
/// recorded as unreadable, and the others are still read.
pub async fn discover(aws: &Aws, blueprint: &Blueprint) -> Result<Actual, DiscoverError> {
    discover_again(aws, blueprint, &mut AccountReads::default(), &|_| true).await
}

/// The ids a blueprint's names need (the organization, its root, units and accounts), read
/// from the management account alone. `lz profiles` and `lz graph` need no more, and reading
/// no member account spares them an AssumeRole and several IAM listings per account, which on
/// a large organization is most of a plan's reads.
pub async fn known_ids(aws: &Aws, blueprint: &Blueprint) -> Result<Known, DiscoverError> {
    let read = Read::new(blueprint, read_inventory(aws, blueprint).await?);
    Ok(identify(&read, &Raws::default()).known())
}

/// [`discover`], reusing from `kept` what was read in each member account that `stale` does
/// not name and that still has the same id, and keeping what it reads there for next time.
/// The organization itself (units, accounts, creations, the trail) is always read afresh.
#[tracing::instrument(skip_all, fields(blueprint = %blueprint.name))]
pub(crate) async fn discover_again(
    aws: &Aws,
    blueprint: &Blueprint,
    kept: &mut AccountReads,
    stale: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Actual, DiscoverError> {
    let mut read = Read::new(blueprint, read_inventory(aws, blueprint).await?);
    let members = kinds::account::member_ids(&read.organization, blueprint);
    let role = &blueprint.organization.access_role;
    let path = &blueprint.organization.iam_path;
    let log_archive = &blueprint.accounts.log_archive.name;
    let (reuse, to_read): (Vec<_>, Vec<_>) = members
        .iter()
        .partition(|(name, id)| !stale(name) && kept.0.get(*name).is_some_and(|k| k.id == **id));
    tracing::debug!(
        reused = reuse.len(),
        read = to_read.len(),
        "member accounts"
    );
    let reads: Vec<_> = futures::stream::iter(to_read)
        .map(|(name, id)| async move {
            tracing::debug!(account = %name, id = %id, "reading account");
            let member = match aws.member(name, id, role, &blueprint.home_region).await {
                Ok(member) => member,
                Err(e) => return (name, Err(chain(&e))),
            };
            let (iam, principals) = match iam::read_account(&member, name, id, path).await {
                Ok(read) => read,
                Err(e) => return (name, Err(chain(&e))),
            };
            let public_access_block =
                match kinds::s3_account_public_access_block::read(&member, id).await {
                    Ok(found) => found,
                    Err(e) => return (name, Err(chain(&e))),
                };
            let audit = if name == log_archive {
                match audit::read_log_archive(&member, blueprint, id).await {
                    Ok(audit) => Some(audit),
                    Err(e) => return (name, Err(chain(&e))),
                }
            } else {
                None
            };
            let reading = AccountReading {
                id: id.clone(),
                iam,
                principals,
                audit,
                public_access_block,
            };
            (name, Ok(reading))
        })
        .buffer_unordered(ACCOUNTS_IN_FLIGHT)
        .collect()
        .await;
    let mut unreadable = BTreeMap::new();
    for (name, outcome) in reads {
        match outcome {
            Ok(reading) => {
                kept.0.insert(name.clone(), reading);
            }
            Err(why) => {
                tracing::warn!(account = %name, error = %why, "account unreadable");
                kept.0.remove(name);
                unreadable.insert(name.clone(), why);
            }
        }
    }
    let mut principals = BTreeMap::new();
    for name in members.keys() {
        if let Some(reading) = kept.0.get(name) {
            read.accounts.insert(name.clone(), reading.iam.clone());
            read.public_access_blocks.insert(
                name.clone(),
                (reading.id.clone(), reading.public_access_block),
            );
            principals.insert(name.clone(), reading.principals.clone());
            if reading.audit.is_some() {
                read.log_archive = reading.audit.clone();
            }
        }
    }
    let raws = kinds::read_own(aws, &read).await?;
    let mut actual = identify(&read, &raws);
    actual.unreadable = unreadable;
    actual.iam = principals;
    actual.foreign_policies = kinds::foreign_policies(&raws);
    actual.missing_policies = missing_policies(aws, blueprint).await?;
    tracing::info!(
        resources = actual.resources.len(),
        unmanaged_accounts = actual.unmanaged_accounts.len(),
        unreadable = actual.unreadable.len(),
        "organization read"
    );
    Ok(actual)
}

/// The AWS managed policies the blueprint's tiers name that IAM does not have: each read once,
/// so that a mistyped ARN is a plan error rather than a failed apply. Policies of a particular
/// account cannot be read from the management account, and are left to apply.
async fn missing_policies(aws: &Aws, blueprint: &Blueprint) -> Result<Vec<String>, DiscoverError> {
    let named: BTreeSet<String> = blueprint
        .role_tiers
        .resolved()
        .into_iter()
        .flat_map(|t| t.managed_policies)
        .filter(|arn| arn.starts_with("arn:aws:iam::aws:policy/"))
        .collect();
    let mut missing = Vec::new();
    for arn in named {
        match aws.iam.get_policy().policy_arn(&arn).send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("NoSuchEntity") => missing.push(arn),
            Err(e) => return Err(crate::aws::call("iam.GetPolicy")(e).into()),
        }
    }
    Ok(missing)
}

/// An error and its causes on one line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Names what was read with the blueprint's addresses, each kind its own resources. Pure.
pub(crate) fn identify(read: &Read<'_>, raws: &Raws) -> Actual {
    let mut actual = Actual::empty();
    let inventory = &read.organization;
    let Some(org) = &inventory.organization else {
        return actual;
    };
    actual.management_account_id = Some(org.management_account_id.clone());
    actual.root_id = inventory.root_id.clone();
    actual.resources.extend(kinds::identify(read, raws));
    let planned: BTreeSet<String> = crate::desired::accounts(read.blueprint)
        .into_iter()
        .map(|a| a.email.to_ascii_lowercase())
        .collect();
    for account in &inventory.accounts {
        if account.id == org.management_account_id
            || planned.contains(&account.email.to_ascii_lowercase())
        {
            continue;
        }
        actual.unmanaged_accounts.push(UnmanagedAccount {
            id: account.id.clone(),
            name: account.name.clone(),
            email: account.email.clone(),
            ou: account
                .parent_ou
                .as_deref()
                .map(|id| ou_name(inventory, id)),
        });
    }
    actual.unmanaged_accounts.sort();
    actual
}

/// The name shown for the unit `id`: a top-level unit's name, or where a nested one is.
pub(crate) fn ou_name(inventory: &Inventory, id: &str) -> String {
    match inventory.ous.iter().find(|ou| ou.id == id) {
        Some(ou) => ou.name.clone(),
        None => format!("(nested OU {id})"),
    }
}

/// The OU name shown for an account directly under the root.
pub const ROOT: &str = "(root)";

/// Tags as a map, from the SDK's list.
pub(crate) fn tag_map<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Tags {
    tags.into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect::<BTreeMap<_, _>>()
}

#[cfg(test)]
mod tests;
