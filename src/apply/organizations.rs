//! Changes to the organization, its OUs and its accounts. Each re-reads what it is about to
//! change first, so that running it twice, or after a crash, does the work once.

use std::time::{Duration, Instant};

use aws_sdk_organizations::error::ProvideErrorMetadata;
use aws_sdk_organizations::types::{CreateAccountState, OrganizationFeatureSet, ParentType, Tag};

use super::{Event, Live, StepError};
use crate::aws::{Aws, call};
use crate::desired::{AccountSpec, OrganizationSpec, OuSpec, Spec, Tags};
use crate::discover::{ROOT, list_root, list_top_ous, list_trusted_services};
use crate::plan::{Action, Change};

fn tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// Accepts the "already done" answer a retried create gets when its first try went through.
pub(super) fn already<T, E, R>(
    operation: &'static str,
    result: Result<T, aws_sdk_organizations::error::SdkError<E, R>>,
    codes: &[&str],
) -> Result<(), StepError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Ok(()),
        Err(e) => Err(call(operation)(e).into()),
    }
}

fn changed(change: &Change, attribute: &str) -> bool {
    change.action == Action::Create || change.attributes.iter().any(|a| a.name == attribute)
}

pub(super) async fn organization(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    let Some(Spec::Organization(spec)) = change.after.as_deref() else {
        return Err(StepError::NeverDeleted {
            address: change.address.clone(),
            why: "it holds every account",
        });
    };
    let org = &aws.organizations;
    if change.action == Action::Create {
        let exists = match org.describe_organization().send().await {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_aws_organizations_not_in_use_exception()) =>
            {
                false
            }
            Err(e) => return Err(call("organizations.DescribeOrganization")(e).into()),
        };
        if !exists {
            // A retry of a create that went through answers "already in an organization".
            already(
                "organizations.CreateOrganization",
                org.create_organization()
                    .feature_set(OrganizationFeatureSet::All)
                    .send()
                    .await,
                &["AlreadyInOrganizationException"],
            )?;
        }
        root_id(aws, live).await?;
    } else if changed(change, "feature_set") {
        return Err(StepError::FeatureSet {
            want: spec.feature_set.clone(),
        });
    }
    if changed(change, "trusted_services") {
        enable_services(aws, spec).await?;
    }
    Ok(())
}

async fn enable_services(aws: &Aws, spec: &OrganizationSpec) -> Result<(), StepError> {
    let enabled = list_trusted_services(&aws.organizations).await?;
    for service in spec
        .trusted_services
        .iter()
        .filter(|s| !enabled.contains(*s))
    {
        aws.organizations
            .enable_aws_service_access()
            .service_principal(service)
            .send()
            .await
            .map_err(call("organizations.EnableAWSServiceAccess"))?;
    }
    Ok(())
}

/// The root's id, read once per apply.
async fn root_id(aws: &Aws, live: &Live) -> Result<String, StepError> {
    if let Some(id) = live.root_id.lock().expect("not poisoned").clone() {
        return Ok(id);
    }
    let id = list_root(&aws.organizations)
        .await?
        .ok_or(StepError::IncompleteAnswer {
            operation: "organizations.ListRoots",
            missing: "root",
        })?;
    *live.root_id.lock().expect("not poisoned") = Some(id.clone());
    Ok(id)
}

/// The id of the top-level OU named `name`, from this apply's memory or from AWS.
async fn ou_id(aws: &Aws, live: &Live, name: &str) -> Result<Option<String>, StepError> {
    if let Some(id) = live.ou_ids.lock().expect("not poisoned").get(name) {
        return Ok(Some(id.clone()));
    }
    let root = root_id(aws, live).await?;
    let id = list_top_ous(&aws.organizations, &root)
        .await?
        .into_iter()
        .find(|(_, n)| n == name)
        .map(|(id, _)| id);
    if let Some(id) = &id {
        live.ou_ids
            .lock()
            .expect("not poisoned")
            .insert(name.to_owned(), id.clone());
    }
    Ok(id)
}

pub(super) async fn organizational_unit(
    aws: &Aws,
    live: &Live,
    change: &Change,
) -> Result<(), StepError> {
    let org = &aws.organizations;
    if change.action == Action::Delete {
        let Some(Spec::OrganizationalUnit(before)) = change.before.as_deref() else {
            return Ok(());
        };
        return delete_ou(aws, live, &before.name, change.id.as_deref()).await;
    }
    let Some(Spec::OrganizationalUnit(OuSpec { name, tags: want })) = change.after.as_deref()
    else {
        return Ok(());
    };
    match ou_id(aws, live, name).await? {
        None => {
            let root = root_id(aws, live).await?;
            let created = org
                .create_organizational_unit()
                .parent_id(root)
                .name(name)
                .set_tags(Some(tags(want)))
                .send()
                .await;
            match created {
                Ok(out) => {
                    if let Some(id) = out.organizational_unit.and_then(|ou| ou.id) {
                        live.ou_ids
                            .lock()
                            .expect("not poisoned")
                            .insert(name.clone(), id);
                    }
                }
                // A retry of a create that went through: the OU is there; make its tags right.
                Err(e) if e.code() == Some("DuplicateOrganizationalUnitException") => {
                    let id = ou_id(aws, live, name)
                        .await?
                        .ok_or_else(|| StepError::NotFound {
                            what: "organizational unit",
                            name: name.clone(),
                        })?;
                    org.tag_resource()
                        .resource_id(id)
                        .set_tags(Some(tags(want)))
                        .send()
                        .await
                        .map_err(call("organizations.TagResource"))?;
                }
                Err(e) => return Err(call("organizations.CreateOrganizationalUnit")(e).into()),
            }
        }
        Some(id) => {
            // Found (created by an earlier, interrupted run, or adopted): make its tags right.
            org.tag_resource()
                .resource_id(id)
                .set_tags(Some(tags(want)))
                .send()
                .await
                .map_err(call("organizations.TagResource"))?;
        }
    }
    Ok(())
}

async fn delete_ou(aws: &Aws, live: &Live, name: &str, id: Option<&str>) -> Result<(), StepError> {
    let Some(id) = id else { return Ok(()) };
    let org = &aws.organizations;
    let accounts = org
        .list_accounts_for_parent()
        .parent_id(id)
        .send()
        .await
        .map_err(call("organizations.ListAccountsForParent"))?;
    let children = org
        .list_organizational_units_for_parent()
        .parent_id(id)
        .send()
        .await
        .map_err(call("organizations.ListOrganizationalUnitsForParent"))?;
    if !accounts.accounts().is_empty() || !children.organizational_units().is_empty() {
        return Err(StepError::NotEmpty {
            name: name.to_owned(),
        });
    }
    org.delete_organizational_unit()
        .organizational_unit_id(id)
        .send()
        .await
        .map_err(call("organizations.DeleteOrganizationalUnit"))?;
    live.ou_ids.lock().expect("not poisoned").remove(name);
    Ok(())
}

pub(super) async fn account(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    let Some(Spec::Account(spec)) = change.after.as_deref() else {
        return Err(StepError::NeverDeleted {
            address: change.address.clone(),
            why: "lz never closes an account",
        });
    };
    let id = match &change.id {
        Some(id) => id.clone(),
        None => {
            let id = create_account(aws, live, change, spec).await?;
            // Later waves of this round (the roles in it) need the new account's id.
            live.account_ids
                .lock()
                .expect("not poisoned")
                .insert(spec.name.clone(), id.clone());
            id
        }
    };
    if changed(change, "ou") {
        move_account(aws, live, &id, spec).await?;
    }
    if change.action != Action::Create && changed(change, "tags") {
        aws.organizations
            .tag_resource()
            .resource_id(&id)
            .set_tags(Some(tags(&spec.tags)))
            .send()
            .await
            .map_err(call("organizations.TagResource"))?;
    }
    Ok(())
}

/// Creates the account, or finds the creation a previous run started, and waits for it.
async fn create_account(
    aws: &Aws,
    live: &Live,
    change: &Change,
    spec: &AccountSpec,
) -> Result<String, StepError> {
    let _slot = live
        .account_creations
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let request = match &change.creating {
        Some(request) => request.clone(),
        None => request_account(aws, live, spec).await?,
    };
    wait_for_account(aws, live, change, spec, &request).await
}

/// Asks for the account, once. CreateAccount carries no idempotency token, so the SDK must not
/// retry it: an answer lost on the way back would become a second account. Instead, after any
/// failure that is not AWS refusing the request, lz looks for a creation of this account name
/// before trying again.
async fn request_account(aws: &Aws, live: &Live, spec: &AccountSpec) -> Result<String, StepError> {
    let mut pause = Duration::from_millis(200);
    for attempt in 1.. {
        // Started by a run that stopped before discovery could see it, or by a lost answer.
        if let Some(request) = requested(aws, spec).await? {
            return Ok(request);
        }
        let created = aws
            .organizations
            .create_account()
            .email(&spec.email)
            .account_name(&spec.name)
            .role_name(live.access_role())
            .set_tags(Some(tags(&spec.tags)))
            .customize()
            .config_override(
                aws_sdk_organizations::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match created {
            Ok(out) => {
                return out.create_account_status.and_then(|s| s.id).ok_or(
                    StepError::IncompleteAnswer {
                        operation: "organizations.CreateAccount",
                        missing: "request id",
                    },
                );
            }
            Err(e) if transient(&e) && attempt < crate::aws::MAX_ATTEMPTS => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(e) => return Err(call("organizations.CreateAccount")(e).into()),
        }
    }
    unreachable!("the loop returns")
}

/// Whether a failure may have been the network or AWS having a moment, rather than AWS
/// refusing the request.
fn transient<E, R>(error: &aws_sdk_organizations::error::SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    use aws_sdk_organizations::error::SdkError;
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => {
            matches!(
                e.err().code(),
                Some("TooManyRequestsException" | "ServiceException")
            ) || e.err().code().is_none()
        }
        _ => false,
    }
}

/// The request that creates, or created, this account: in progress under its name, or done
/// for an account of the organization that has its email (a request whose answer was lost).
async fn requested(aws: &Aws, spec: &AccountSpec) -> Result<Option<String>, StepError> {
    let pages = aws
        .organizations
        .list_create_account_status()
        .states(CreateAccountState::InProgress)
        .states(CreateAccountState::Succeeded)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListCreateAccountStatus"))?;
    for status in pages
        .iter()
        .flat_map(|p| p.create_account_statuses())
        .filter(|s| s.account_name() == Some(spec.name.as_str()))
    {
        let Some(id) = status.id() else { continue };
        if status.state() == Some(&CreateAccountState::InProgress) {
            return Ok(Some(id.to_owned()));
        }
        let Some(account) = status.account_id() else {
            continue;
        };
        let described = aws
            .organizations
            .describe_account()
            .account_id(account)
            .send()
            .await;
        let email = match described {
            Ok(out) => out.account.and_then(|a| a.email),
            // An account that left the organization since: not this one.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_account_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(call("organizations.DescribeAccount")(e).into()),
        };
        if email.is_some_and(|e| e.eq_ignore_ascii_case(&spec.email)) {
            return Ok(Some(id.to_owned()));
        }
    }
    Ok(None)
}

async fn wait_for_account(
    aws: &Aws,
    live: &Live,
    change: &Change,
    spec: &AccountSpec,
    request: &str,
) -> Result<String, StepError> {
    let polling = live.options.polling;
    let started = Instant::now();
    let mut pause = polling.initial;
    loop {
        let status = aws
            .organizations
            .describe_create_account_status()
            .create_account_request_id(request)
            .send()
            .await
            .map_err(call("organizations.DescribeCreateAccountStatus"))?
            .create_account_status
            .unwrap_or_else(|| {
                aws_sdk_organizations::types::CreateAccountStatus::builder().build()
            });
        match status.state() {
            Some(CreateAccountState::Succeeded) => {
                return status
                    .account_id()
                    .map(str::to_owned)
                    .ok_or(StepError::IncompleteAnswer {
                        operation: "organizations.DescribeCreateAccountStatus",
                        missing: "account id",
                    });
            }
            Some(CreateAccountState::Failed) => {
                return Err(StepError::AccountCreationFailed {
                    account: spec.name.clone(),
                    reason: status
                        .failure_reason()
                        .map(|r| r.as_str().to_owned())
                        .unwrap_or_else(|| "no reason given".to_owned()),
                });
            }
            _ if started.elapsed() >= polling.timeout => {
                return Err(StepError::CreationTimedOut {
                    account: spec.name.clone(),
                    request: request.to_owned(),
                    waited: started.elapsed(),
                });
            }
            _ => {
                live.event(Event::Waiting {
                    address: change.address.clone(),
                    message: format!("account {} is being created", spec.name),
                });
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(polling.max).max(Duration::from_millis(1));
            }
        }
    }
}

/// Moves the account into its OU, from wherever it is now.
async fn move_account(
    aws: &Aws,
    live: &Live,
    id: &str,
    spec: &AccountSpec,
) -> Result<(), StepError> {
    let org = &aws.organizations;
    let destination = if spec.ou == ROOT {
        root_id(aws, live).await?
    } else {
        ou_id(aws, live, &spec.ou)
            .await?
            .ok_or_else(|| StepError::NotFound {
                what: "organizational unit",
                name: spec.ou.clone(),
            })?
    };
    let parents = org
        .list_parents()
        .child_id(id)
        .send()
        .await
        .map_err(call("organizations.ListParents"))?;
    let Some(source) = parents
        .parents()
        .iter()
        .find(|p| {
            matches!(
                p.r#type(),
                Some(ParentType::Root | ParentType::OrganizationalUnit)
            )
        })
        .and_then(|p| p.id())
    else {
        return Err(StepError::IncompleteAnswer {
            operation: "organizations.ListParents",
            missing: "parent",
        });
    };
    if source == destination {
        return Ok(());
    }
    let moved = org
        .move_account()
        .account_id(id)
        .source_parent_id(source)
        .destination_parent_id(destination.clone())
        .send()
        .await;
    if let Err(e) = moved {
        // A retry of a move that went through finds the account gone from its source.
        let parents = org
            .list_parents()
            .child_id(id)
            .send()
            .await
            .map_err(call("organizations.ListParents"))?;
        if !parents
            .parents()
            .iter()
            .any(|p| p.id() == Some(destination.as_str()))
        {
            return Err(call("organizations.MoveAccount")(e).into());
        }
    }
    Ok(())
}
