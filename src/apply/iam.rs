//! Changes to IAM in member accounts: tier roles, the permissions boundary, tier groups.
//!
//! Every write sets the desired value rather than applying a delta, so repeating a step (after
//! a crash, or because two rounds overlap) is harmless. IAM is eventually consistent: a role
//! or policy just created can be missing for a few seconds, so writes that refer to one retry
//! on `NoSuchEntity` with backoff; the SDK's own retries do not cover that error.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;

use super::{Live, StepError};
use crate::aws::{Aws, CallError, call};
use crate::desired::{GroupSpec, RoleSpec, Spec, Tags};
use crate::plan::{Action, Change};
use crate::policy::PolicyDocument;

fn tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// Whether `attribute` must be written: everything for a creation, else what differs.
fn touches(change: &Change, attribute: &str) -> bool {
    change.action == Action::Create || change.attributes.iter().any(|a| a.name == attribute)
}

fn is_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>, code: &str) -> bool {
    error.code() == Some(code)
}

/// Runs an IAM call, retrying while IAM has not yet caught up with an entity just created.
async fn eventually<T, E, R, Fut>(
    operation: &'static str,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, CallError>
where
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let mut pause = Duration::from_millis(250);
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if tries < 6 && is_code(&e, "NoSuchEntity") => {
                tries += 1;
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other.map_err(call(operation)),
        }
    }
}

/// Ignores "not found" for deletions: what is gone need not be deleted.
fn gone_ok<T, E, R>(
    operation: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> Result<(), CallError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
        Err(e) => Err(call(operation)(e)),
    }
}

/// The outcome of a create: `Ok(false)` when it made the entity, `Ok(true)` when the entity
/// was already there (the answer to a retried create whose first try went through).
fn created<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    operation: &'static str,
) -> Result<bool, CallError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(false),
        Err(e) if is_code(&e, "EntityAlreadyExists") => Ok(true),
        Err(e) => Err(call(operation)(e)),
    }
}

fn account_of(change: &Change) -> Result<&str, StepError> {
    change
        .account
        .as_deref()
        .ok_or_else(|| StepError::NoAccount {
            address: change.address.clone(),
        })
}

pub(super) async fn role(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    let member = live.member(aws, account_of(change)?).await?;
    let iam = &member.iam;
    if change.action == Action::Delete {
        let Some(Spec::IamRole(before)) = change.before.as_deref() else {
            return Ok(());
        };
        return delete_role(iam, before).await;
    }
    let Some(Spec::IamRole(spec)) = change.after.as_deref() else {
        return Ok(());
    };
    let before = match change.before.as_deref() {
        Some(Spec::IamRole(before)) => Some(before),
        _ => None,
    };
    let mut exists = match iam.get_role().role_name(&spec.name).send().await {
        Ok(_) => true,
        Err(e) if is_code(&e, "NoSuchEntity") => false,
        Err(e) => return Err(call("iam.GetRole")(e).into()),
    };
    // A role found where the plan expected none (left by an interrupted run), or gone since
    // the plan, is brought in line in full, like a creation.
    let full = change.action == Action::Create || !exists;
    if !exists {
        let created_role = iam
            .create_role()
            .role_name(&spec.name)
            .path(&spec.path)
            .assume_role_policy_document(spec.trust_policy.to_json())
            .max_session_duration(i32::try_from(spec.max_session_secs).unwrap_or(3600))
            .set_permissions_boundary(spec.permissions_boundary.clone())
            .set_tags(Some(tags(&spec.tags)))
            .send()
            .await;
        // A retried create whose first try went through: bring the role in line in full.
        exists = created(created_role, "iam.CreateRole")?;
    }
    if exists {
        if full || touches(change, "trust_policy") {
            eventually("iam.UpdateAssumeRolePolicy", || {
                iam.update_assume_role_policy()
                    .role_name(&spec.name)
                    .policy_document(spec.trust_policy.to_json())
                    .send()
            })
            .await?;
        }
        if full || touches(change, "max_session_secs") {
            eventually("iam.UpdateRole", || {
                iam.update_role()
                    .role_name(&spec.name)
                    .max_session_duration(i32::try_from(spec.max_session_secs).unwrap_or(3600))
                    .send()
            })
            .await?;
        }
        if full || touches(change, "permissions_boundary") {
            match &spec.permissions_boundary {
                Some(arn) => {
                    eventually("iam.PutRolePermissionsBoundary", || {
                        iam.put_role_permissions_boundary()
                            .role_name(&spec.name)
                            .permissions_boundary(arn)
                            .send()
                    })
                    .await?;
                }
                None => gone_ok(
                    "iam.DeleteRolePermissionsBoundary",
                    iam.delete_role_permissions_boundary()
                        .role_name(&spec.name)
                        .send()
                        .await,
                )?,
            }
        }
        if full || touches(change, "tags") {
            eventually("iam.TagRole", || {
                iam.tag_role()
                    .role_name(&spec.name)
                    .set_tags(Some(tags(&spec.tags)))
                    .send()
            })
            .await?;
        }
    }
    if full || touches(change, "managed_policies") {
        let had: BTreeSet<String> = before
            .map(|b| b.managed_policies.clone())
            .unwrap_or_default();
        let attach: Vec<&String> = if full {
            spec.managed_policies.iter().collect()
        } else {
            spec.managed_policies.difference(&had).collect()
        };
        for arn in attach {
            eventually("iam.AttachRolePolicy", || {
                iam.attach_role_policy()
                    .role_name(&spec.name)
                    .policy_arn(arn)
                    .send()
            })
            .await?;
        }
        for arn in had.difference(&spec.managed_policies) {
            gone_ok(
                "iam.DetachRolePolicy",
                iam.detach_role_policy()
                    .role_name(&spec.name)
                    .policy_arn(arn)
                    .send()
                    .await,
            )?;
        }
    }
    if full || touches(change, "inline_policies") {
        let had: BTreeMap<String, Arc<PolicyDocument>> = before
            .map(|b| b.inline_policies.clone())
            .unwrap_or_default();
        for (name, document) in &spec.inline_policies {
            if !full && had.get(name).is_some_and(|d| d.same_as(document)) {
                continue;
            }
            eventually("iam.PutRolePolicy", || {
                iam.put_role_policy()
                    .role_name(&spec.name)
                    .policy_name(name)
                    .policy_document(document.to_json())
                    .send()
            })
            .await?;
        }
        for name in had
            .keys()
            .filter(|n| !spec.inline_policies.contains_key(*n))
        {
            gone_ok(
                "iam.DeleteRolePolicy",
                iam.delete_role_policy()
                    .role_name(&spec.name)
                    .policy_name(name)
                    .send()
                    .await,
            )?;
        }
    }
    Ok(())
}

async fn delete_role(iam: &aws_sdk_iam::Client, role: &RoleSpec) -> Result<(), StepError> {
    for arn in &role.managed_policies {
        gone_ok(
            "iam.DetachRolePolicy",
            iam.detach_role_policy()
                .role_name(&role.name)
                .policy_arn(arn)
                .send()
                .await,
        )?;
    }
    for name in role.inline_policies.keys() {
        gone_ok(
            "iam.DeleteRolePolicy",
            iam.delete_role_policy()
                .role_name(&role.name)
                .policy_name(name)
                .send()
                .await,
        )?;
    }
    gone_ok(
        "iam.DeleteRole",
        iam.delete_role().role_name(&role.name).send().await,
    )?;
    Ok(())
}

pub(super) async fn policy(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    let account = account_of(change)?;
    let member = live.member(aws, account).await?;
    let iam = &member.iam;
    let id = live.account_id(account)?;
    if change.action == Action::Delete {
        let Some(Spec::IamPolicy(before)) = change.before.as_deref() else {
            return Ok(());
        };
        let arn = format!("arn:aws:iam::{id}:policy{}{}", before.path, before.name);
        prune_versions(iam, &arn, 0).await?;
        gone_ok(
            "iam.DeletePolicy",
            iam.delete_policy().policy_arn(&arn).send().await,
        )?;
        return Ok(());
    }
    let Some(Spec::IamPolicy(spec)) = change.after.as_deref() else {
        return Ok(());
    };
    let arn = format!("arn:aws:iam::{id}:policy{}{}", spec.path, spec.name);
    let exists = match iam.get_policy().policy_arn(&arn).send().await {
        Ok(_) => true,
        Err(e) if is_code(&e, "NoSuchEntity") => false,
        Err(e) => return Err(call("iam.GetPolicy")(e).into()),
    };
    let full = change.action == Action::Create;
    if !exists {
        let result = iam
            .create_policy()
            .policy_name(&spec.name)
            .path(&spec.path)
            .policy_document(spec.document.to_json())
            .set_tags(Some(tags(&spec.tags)))
            .send()
            .await;
        if !created(result, "iam.CreatePolicy")? {
            return Ok(());
        }
    }
    if full || touches(change, "document") {
        update_document(iam, &arn, &spec.document).await?;
    }
    if full || touches(change, "tags") {
        iam.tag_policy()
            .policy_arn(&arn)
            .set_tags(Some(tags(&spec.tags)))
            .send()
            .await
            .map_err(call("iam.TagPolicy"))?;
    }
    Ok(())
}

/// A managed policy keeps at most five versions: make room, then add the new default.
async fn update_document(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    document: &PolicyDocument,
) -> Result<(), StepError> {
    prune_versions(iam, arn, 4).await?;
    iam.create_policy_version()
        .policy_arn(arn)
        .policy_document(document.to_json())
        .set_as_default(true)
        .send()
        .await
        .map_err(call("iam.CreatePolicyVersion"))?;
    Ok(())
}

/// Deletes the oldest non-default versions until at most `keep` remain.
async fn prune_versions(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    keep: usize,
) -> Result<(), StepError> {
    let versions = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(call("iam.ListPolicyVersions"))?;
    let mut old: Vec<_> = versions
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .collect();
    old.sort_by_key(|v| v.create_date().map(|d| d.secs()).unwrap_or_default());
    let excess = versions.versions().len().saturating_sub(keep);
    for version in old.into_iter().take(excess) {
        gone_ok(
            "iam.DeletePolicyVersion",
            iam.delete_policy_version()
                .policy_arn(arn)
                .version_id(version.version_id().unwrap_or_default())
                .send()
                .await,
        )?;
    }
    Ok(())
}

pub(super) async fn group(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    let member = live.member(aws, account_of(change)?).await?;
    let iam = &member.iam;
    if change.action == Action::Delete {
        let Some(Spec::IamGroup(before)) = change.before.as_deref() else {
            return Ok(());
        };
        for name in before.inline_policies.keys() {
            gone_ok(
                "iam.DeleteGroupPolicy",
                iam.delete_group_policy()
                    .group_name(&before.name)
                    .policy_name(name)
                    .send()
                    .await,
            )?;
        }
        gone_ok(
            "iam.DeleteGroup",
            iam.delete_group().group_name(&before.name).send().await,
        )?;
        return Ok(());
    }
    let Some(Spec::IamGroup(spec)) = change.after.as_deref() else {
        return Ok(());
    };
    let before: Option<&GroupSpec> = match change.before.as_deref() {
        Some(Spec::IamGroup(before)) => Some(before),
        _ => None,
    };
    let exists = match iam.get_group().group_name(&spec.name).send().await {
        Ok(_) => true,
        Err(e) if is_code(&e, "NoSuchEntity") => false,
        Err(e) => return Err(call("iam.GetGroup")(e).into()),
    };
    if !exists {
        let result = iam
            .create_group()
            .group_name(&spec.name)
            .path(&spec.path)
            .send()
            .await;
        created(result, "iam.CreateGroup")?;
    }
    for (name, document) in &spec.inline_policies {
        eventually("iam.PutGroupPolicy", || {
            iam.put_group_policy()
                .group_name(&spec.name)
                .policy_name(name)
                .policy_document(document.to_json())
                .send()
        })
        .await?;
    }
    if let Some(before) = before {
        for name in before
            .inline_policies
            .keys()
            .filter(|n| !spec.inline_policies.contains_key(*n))
        {
            gone_ok(
                "iam.DeleteGroupPolicy",
                iam.delete_group_policy()
                    .group_name(&spec.name)
                    .policy_name(name)
                    .send()
                    .await,
            )?;
        }
    }
    Ok(())
}
