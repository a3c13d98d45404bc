//! Reading the organization: every call here is a read, and every list is paginated.
//!
//! Requests: one `DescribeOrganization` and `GetCallerIdentity`; the root, the OUs under it
//! and the accounts each a page at a time; one `ListAccountsForParent` per top-level OU to
//! place accounts (pages again); `ListParents` only for an account of the blueprint found in
//! none of those (a nested OU); one `ListTagsForResource` per OU and per account of the
//! blueprint (Organizations has no batch read of tags); the in-progress creations and the
//! trusted services, paginated.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_organizations::types::{CreateAccountState, ParentType};
use futures::{StreamExt, TryStreamExt};

use super::{DiscoverError, tag_map};
use crate::aws::{Aws, CallError, call};
use crate::blueprint::Blueprint;
use crate::desired::Tags;

/// Items per page of an Organizations listing: AWS's largest page (and its default), asked
/// for explicitly so that an emulator with larger pages pages as AWS does.
const PAGE: i32 = 20;

/// How many tag reads run at once.
const TAG_READS_IN_FLIGHT: usize = 8;

/// The organization itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrgInfo {
    pub id: String,
    pub management_account_id: String,
    pub feature_set: String,
}

/// An OU directly under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OuInfo {
    pub id: String,
    pub name: String,
    pub tags: Tags,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountInfo {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The id of the OU holding it; `None` directly under the root.
    pub parent_ou: Option<String>,
}

/// An account creation that has not finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreationInfo {
    pub id: String,
    pub account_name: String,
}

/// Everything read, before it is named with the blueprint's addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Inventory {
    pub organization: Option<OrgInfo>,
    pub root_id: Option<String>,
    pub ous: Vec<OuInfo>,
    pub accounts: Vec<AccountInfo>,
    pub account_tags: HashMap<String, Tags>,
    pub creating: Vec<CreationInfo>,
    pub trusted_services: BTreeSet<String>,
}

/// The id of the organization's root.
pub(crate) async fn list_root(
    org: &aws_sdk_organizations::Client,
) -> Result<Option<String>, CallError> {
    let roots = org
        .list_roots()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListRoots"))?;
    Ok(roots
        .iter()
        .flat_map(|page| page.roots())
        .find_map(|r| r.id().map(str::to_owned)))
}

/// The service principals with trusted access to the organization.
pub(crate) async fn list_trusted_services(
    org: &aws_sdk_organizations::Client,
) -> Result<BTreeSet<String>, CallError> {
    let pages = org
        .list_aws_service_access_for_organization()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListAWSServiceAccessForOrganization"))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.enabled_service_principals())
        .filter_map(|s| s.service_principal().map(str::to_owned))
        .collect())
}

/// The OUs directly under `root`, as (id, name).
pub(crate) async fn list_top_ous(
    org: &aws_sdk_organizations::Client,
    root: &str,
) -> Result<Vec<(String, String)>, CallError> {
    let pages = org
        .list_organizational_units_for_parent()
        .parent_id(root)
        .max_results(PAGE)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListOrganizationalUnitsForParent"))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.organizational_units())
        .map(|ou| {
            (
                ou.id().unwrap_or_default().to_owned(),
                ou.name().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// Refuses credentials of any account but the organization's management account: only it
/// sees the whole organization, and a member account's reads fail with errors that say
/// nothing of why.
pub(crate) async fn ensure_management(
    aws: &Aws,
    organization: &str,
    management: &str,
) -> Result<(), DiscoverError> {
    let caller = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(call("sts.GetCallerIdentity"))?
        .account
        .unwrap_or_default();
    if caller != management {
        return Err(DiscoverError::NotManagementAccount {
            caller,
            organization: organization.to_owned(),
            management: management.to_owned(),
        });
    }
    Ok(())
}

pub(crate) async fn read_inventory(
    aws: &Aws,
    blueprint: &Blueprint,
) -> Result<Inventory, DiscoverError> {
    let org = &aws.organizations;
    let described = match org.describe_organization().send().await {
        Ok(out) => out
            .organization
            .unwrap_or_else(|| aws_sdk_organizations::types::Organization::builder().build()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_aws_organizations_not_in_use_exception()) =>
        {
            return Ok(Inventory::default());
        }
        Err(e) => return Err(call("organizations.DescribeOrganization")(e).into()),
    };
    let organization = OrgInfo {
        id: described.id().unwrap_or_default().to_owned(),
        management_account_id: described.master_account_id().unwrap_or_default().to_owned(),
        feature_set: described
            .feature_set()
            .map(|f| f.as_str().to_owned())
            .unwrap_or_default(),
    };
    ensure_management(aws, &organization.id, &organization.management_account_id).await?;

    let root_id = list_root(org).await?;
    let mut ous = Vec::new();
    if let Some(root) = &root_id {
        for (id, name) in list_top_ous(org, root).await? {
            ous.push(OuInfo {
                id,
                name,
                tags: Tags::new(),
            });
        }
    }

    let pages = org
        .list_accounts()
        .max_results(PAGE)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListAccounts"))?;
    let mut accounts: Vec<AccountInfo> = pages
        .iter()
        .flat_map(|p| p.accounts())
        .map(|a| AccountInfo {
            id: a.id().unwrap_or_default().to_owned(),
            name: a.name().unwrap_or_default().to_owned(),
            email: a.email().unwrap_or_default().to_owned(),
            parent_ou: None,
        })
        .collect();

    // Place accounts: one listing per top-level OU and one for the root.
    let mut parent: HashMap<String, Option<String>> = HashMap::new();
    let parents = ous
        .iter()
        .map(|ou| Some(ou.id.clone()))
        .chain(std::iter::once(None));
    for holder in parents {
        let Some(parent_id) = holder.clone().or_else(|| root_id.clone()) else {
            continue;
        };
        let pages = org
            .list_accounts_for_parent()
            .parent_id(&parent_id)
            .max_results(PAGE)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(call("organizations.ListAccountsForParent"))?;
        for account in pages.iter().flat_map(|p| p.accounts()) {
            parent.insert(account.id().unwrap_or_default().to_owned(), holder.clone());
        }
    }
    let planned: BTreeSet<String> = crate::desired::accounts(blueprint)
        .into_iter()
        .map(|a| a.email.to_ascii_lowercase())
        .collect();
    for account in &mut accounts {
        match parent.get(&account.id) {
            Some(holder) => account.parent_ou = holder.clone(),
            None if planned.contains(&account.email.to_ascii_lowercase()) => {
                // In a nested OU: ask where.
                let out = org
                    .list_parents()
                    .child_id(&account.id)
                    .send()
                    .await
                    .map_err(call("organizations.ListParents"))?;
                account.parent_ou = out
                    .parents()
                    .iter()
                    .find(|p| p.r#type() == Some(&ParentType::OrganizationalUnit))
                    .and_then(|p| p.id().map(str::to_owned));
            }
            None => {}
        }
    }

    // Tags: of every top-level OU, and of the accounts the blueprint names.
    let mut wanted: Vec<String> = ous.iter().map(|ou| ou.id.clone()).collect();
    wanted.extend(
        accounts
            .iter()
            .filter(|a| planned.contains(&a.email.to_ascii_lowercase()))
            .map(|a| a.id.clone()),
    );
    let tags: HashMap<String, Tags> = futures::stream::iter(wanted)
        .map(|id| async move {
            let tags: Vec<_> = org
                .list_tags_for_resource()
                .resource_id(&id)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(call("organizations.ListTagsForResource"))?;
            let tags = tag_map(tags.iter().map(|t| (t.key(), t.value())));
            Ok::<_, DiscoverError>((id, tags))
        })
        .buffer_unordered(TAG_READS_IN_FLIGHT)
        .try_collect()
        .await?;
    for ou in &mut ous {
        ou.tags = tags.get(&ou.id).cloned().unwrap_or_default();
    }
    let account_tags: HashMap<String, Tags> = accounts
        .iter()
        .filter_map(|a| tags.get(&a.id).map(|t| (a.id.clone(), t.clone())))
        .collect();

    let pages = org
        .list_create_account_status()
        .states(CreateAccountState::InProgress)
        .max_results(PAGE)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListCreateAccountStatus"))?;
    let creating = pages
        .iter()
        .flat_map(|p| p.create_account_statuses())
        .filter(|s| s.state() == Some(&CreateAccountState::InProgress))
        .map(|s| CreationInfo {
            id: s.id().unwrap_or_default().to_owned(),
            account_name: s.account_name().unwrap_or_default().to_owned(),
        })
        .collect();

    let trusted_services = list_trusted_services(org).await?;

    Ok(Inventory {
        organization: Some(organization),
        root_id,
        ous,
        accounts,
        account_tags,
        creating,
        trusted_services,
    })
}
