//! Discovery: reading the live organization, never writing.
//!
//! Two halves, kept apart so the second can be tested with plain data: [`organizations`]
//! reads an inventory of what exists (the only I/O), and [`identify`] names what it found with
//! the blueprint's addresses: accounts by email (AWS keeps emails unique), account creations
//! still in progress by account name (all a creation request carries), organizational units by
//! name under the root.

mod audit;

pub(crate) use audit::list_aliases;
mod iam;
mod organizations;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures::StreamExt;

use crate::actual::{Actual, Observed, UnmanagedAccount};
use crate::aws::{Aws, CallError};
use crate::blueprint::Blueprint;
use crate::desired::{AccountSpec, Address, OrganizationSpec, OuSpec, Spec, Tags};

pub(crate) use organizations::{
    Inventory, list_root, list_top_ous, list_trusted_services, read_inventory,
};

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

/// Reads the live organization and names what it finds with `blueprint`'s addresses: the
/// organization from the management account, then each existing account of the blueprint
/// through its access role, several at a time. An account whose role cannot be assumed is
/// recorded as unreadable, and the others are still read.
#[tracing::instrument(skip_all, fields(blueprint = %blueprint.name))]
pub async fn discover(aws: &Aws, blueprint: &Blueprint) -> Result<Actual, DiscoverError> {
    let inventory = read_inventory(aws, blueprint).await?;
    let mut actual = identify(&inventory, blueprint);
    let known = actual.known();
    let role = &blueprint.organization.access_role;
    let path = &blueprint.organization.iam_path;
    let security = &blueprint.accounts.security.name;
    let log_archive = &blueprint.accounts.log_archive.name;
    let reads: Vec<_> = futures::stream::iter(known.account_ids.iter())
        .map(|(name, id)| async move {
            tracing::debug!(account = %name, id = %id, "reading account");
            let member = match aws.member(name, id, role, &blueprint.home_region).await {
                Ok(member) => member,
                Err(e) => return (name, Err(Unreadable::Assume(e))),
            };
            let (mut found, principals) =
                match iam::read_account(&member, name, id, path, name == security).await {
                    Ok(read) => read,
                    Err(e) => return (name, Err(Unreadable::Read(e))),
                };
            if name == log_archive {
                match audit::read_log_archive(&member, blueprint, id).await {
                    Ok(more) => found.extend(more),
                    Err(e) => return (name, Err(Unreadable::Read(e))),
                }
            }
            (name, Ok((found, principals)))
        })
        .buffer_unordered(ACCOUNTS_IN_FLIGHT)
        .collect()
        .await;
    for (name, read) in reads {
        match read {
            Ok((found, principals)) => {
                actual.resources.extend(found);
                actual.iam.insert(name.clone(), principals);
            }
            Err(Unreadable::Assume(e)) => {
                tracing::warn!(account = %name, error = %chain(&e), "account unreadable");
                actual.unreadable.insert(name.clone(), chain(&e));
            }
            Err(Unreadable::Read(e)) => {
                tracing::warn!(account = %name, error = %chain(&e), "account unreadable");
                actual.unreadable.insert(name.clone(), chain(&e));
            }
        }
    }
    if actual.management_account_id.is_some()
        && let Some((address, trail)) = audit::read_trail(aws, blueprint).await?
    {
        actual.resources.insert(address, trail);
    }
    tracing::info!(
        resources = actual.resources.len(),
        unmanaged_accounts = actual.unmanaged_accounts.len(),
        unreadable = actual.unreadable.len(),
        "organization read"
    );
    Ok(actual)
}

enum Unreadable {
    Assume(crate::aws::AssumeError),
    Read(DiscoverError),
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

/// Names an inventory with the blueprint's addresses. Pure.
pub(crate) fn identify(inventory: &Inventory, blueprint: &Blueprint) -> Actual {
    let mut actual = Actual::empty();
    let Some(org) = &inventory.organization else {
        return actual;
    };
    actual.management_account_id = Some(org.management_account_id.clone());
    actual.root_id = inventory.root_id.clone();
    actual.resources.insert(
        Address::organization(),
        Observed {
            id: Some(org.id.clone()),
            spec: Arc::new(Spec::Organization(OrganizationSpec {
                feature_set: org.feature_set.clone(),
                trusted_services: inventory.trusted_services.clone(),
            })),
            creating: None,
            account: None,
        },
    );
    let ou_names: HashMap<&str, &str> = inventory
        .ous
        .iter()
        .map(|ou| (ou.id.as_str(), ou.name.as_str()))
        .collect();
    for ou in &inventory.ous {
        actual.resources.insert(
            Address::ou(&ou.name),
            Observed {
                id: Some(ou.id.clone()),
                spec: Arc::new(Spec::OrganizationalUnit(OuSpec {
                    name: ou.name.clone(),
                    tags: ou.tags.clone(),
                })),
                creating: None,
                account: None,
            },
        );
    }
    let planned: Vec<(String, String)> = crate::desired::accounts(blueprint)
        .into_iter()
        .map(|a| (a.email.to_ascii_lowercase(), a.name))
        .collect();
    let by_email: HashMap<&str, &str> = planned
        .iter()
        .map(|(e, n)| (e.as_str(), n.as_str()))
        .collect();
    let planned_names: BTreeSet<&str> = planned.iter().map(|(_, n)| n.as_str()).collect();
    let empty = Tags::new();
    for account in &inventory.accounts {
        if account.id == org.management_account_id {
            continue; // the management account is the organization itself, never a member
        }
        let ou = account
            .parent_ou
            .as_deref()
            .map(|id| match ou_names.get(id) {
                Some(name) => name.to_string(),
                None => format!("(nested OU {id})"),
            });
        match by_email.get(account.email.to_ascii_lowercase().as_str()) {
            Some(name) => {
                actual.resources.insert(
                    Address::account(name),
                    Observed {
                        id: Some(account.id.clone()),
                        spec: Arc::new(Spec::Account(AccountSpec {
                            name: account.name.clone(),
                            email: account.email.clone(),
                            ou: ou.unwrap_or_else(|| ROOT.to_owned()),
                            tags: inventory
                                .account_tags
                                .get(&account.id)
                                .unwrap_or(&empty)
                                .clone(),
                        })),
                        creating: None,
                        account: None,
                    },
                );
            }
            None => actual.unmanaged_accounts.push(UnmanagedAccount {
                id: account.id.clone(),
                name: account.name.clone(),
                email: account.email.clone(),
                ou,
            }),
        }
    }
    for request in &inventory.creating {
        let address = Address::account(&request.account_name);
        if planned_names.contains(request.account_name.as_str())
            && !actual.resources.contains_key(&address)
        {
            let email = planned
                .iter()
                .find(|(_, n)| n == &request.account_name)
                .map(|(e, _)| e.clone())
                .unwrap_or_default();
            actual.resources.insert(
                address,
                Observed {
                    id: None,
                    spec: Arc::new(Spec::Account(AccountSpec {
                        name: request.account_name.clone(),
                        email,
                        ou: ROOT.to_owned(),
                        tags: Tags::new(),
                    })),
                    creating: Some(request.id.clone()),
                    account: None,
                },
            );
        }
    }
    actual.unmanaged_accounts.sort();
    actual
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
