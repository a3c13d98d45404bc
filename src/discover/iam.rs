//! Reading IAM in one member account, through the access role: the roles, groups and
//! customer managed policies under the landing zone's path.
//!
//! Requests per account: `GetAccountAuthorizationDetails` (roles with their trust, inline and
//! attached policies, boundary and tags; groups; local policies with their versions) and
//! `ListRoles` (for session lengths, which the former lacks), each a page at a time, and one
//! `ListPolicyTags` per landing zone policy.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_iam::types::EntityType;

use super::{DiscoverError, tag_map};
use crate::actual::Observed;
use crate::aws::{Member, call};
use crate::desired::{Address, GroupSpec, PolicySpec, RoleSpec, Spec};
use crate::policy::PolicyDocument;

/// Parses a document IAM returned; an unreadable one reads as empty, which plans an update.
fn document(text: Option<&str>) -> PolicyDocument {
    text.and_then(|t| PolicyDocument::parse(t).ok())
        .unwrap_or_else(|| PolicyDocument::new(Vec::new()))
}

/// Reads account `account`'s landing zone IAM; `groups` too when it is the security account.
pub(crate) async fn read_account(
    member: &Member,
    account: &str,
    path: &str,
    groups: bool,
) -> Result<Vec<(Address, Observed)>, DiscoverError> {
    let iam = &member.iam;
    let mut filter = vec![EntityType::Role, EntityType::LocalManagedPolicy];
    if groups {
        filter.push(EntityType::Group);
    }
    let pages = iam
        .get_account_authorization_details()
        .set_filter(Some(filter))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("iam.GetAccountAuthorizationDetails"))?;
    let roles = iam
        .list_roles()
        .path_prefix(path)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("iam.ListRoles"))?;
    let sessions: BTreeMap<&str, i32> = roles
        .iter()
        .flat_map(|p| p.roles())
        .filter_map(|r| Some((r.role_name(), r.max_session_duration()?)))
        .collect();

    let mut found = Vec::new();
    for role in pages.iter().flat_map(|p| p.role_detail_list()) {
        if role.path() != Some(path) {
            continue;
        }
        let name = role.role_name().unwrap_or_default();
        let inline = role
            .role_policy_list()
            .iter()
            .map(|p| {
                (
                    p.policy_name().unwrap_or_default().to_owned(),
                    Arc::new(document(p.policy_document())),
                )
            })
            .collect();
        let spec = RoleSpec {
            name: name.to_owned(),
            path: path.to_owned(),
            trust_policy: Arc::new(document(role.assume_role_policy_document())),
            managed_policies: role
                .attached_managed_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_owned))
                .collect::<BTreeSet<_>>(),
            inline_policies: inline,
            permissions_boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn().map(str::to_owned)),
            max_session_secs: sessions
                .get(name)
                .and_then(|s| u32::try_from(*s).ok())
                .unwrap_or(3600),
            tags: tag_map(role.tags().iter().map(|t| (t.key(), t.value()))),
        };
        found.push((
            Address::role(account, name),
            Observed {
                id: role.arn().map(str::to_owned),
                spec: Arc::new(Spec::IamRole(spec)),
                creating: None,
                account: Some(account.to_owned()),
            },
        ));
    }
    for group in pages.iter().flat_map(|p| p.group_detail_list()) {
        if group.path() != Some(path) {
            continue;
        }
        let name = group.group_name().unwrap_or_default();
        let spec = GroupSpec {
            name: name.to_owned(),
            path: path.to_owned(),
            inline_policies: group
                .group_policy_list()
                .iter()
                .map(|p| {
                    (
                        p.policy_name().unwrap_or_default().to_owned(),
                        Arc::new(document(p.policy_document())),
                    )
                })
                .collect(),
        };
        found.push((
            Address::group(name),
            Observed {
                id: group.arn().map(str::to_owned),
                spec: Arc::new(Spec::IamGroup(spec)),
                creating: None,
                account: Some(account.to_owned()),
            },
        ));
    }
    for policy in pages.iter().flat_map(|p| p.policies()) {
        if policy.path() != Some(path) {
            continue;
        }
        let arn = policy.arn().unwrap_or_default();
        // moto (5.2.5) leaves PolicyName out of this listing; the ARN ends with it.
        let name = policy
            .policy_name()
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default());
        let default = policy
            .policy_version_list()
            .iter()
            .find(|v| v.is_default_version())
            .and_then(|v| v.document());
        let tags = iam
            .list_policy_tags()
            .policy_arn(arn)
            .send()
            .await
            .map_err(call("iam.ListPolicyTags"))?;
        let spec = PolicySpec {
            name: name.to_owned(),
            path: path.to_owned(),
            document: Arc::new(document(default)),
            tags: tag_map(tags.tags().iter().map(|t| (t.key(), t.value()))),
        };
        found.push((
            Address::policy(account, name),
            Observed {
                id: Some(arn.to_owned()),
                spec: Arc::new(Spec::IamPolicy(spec)),
                creating: None,
                account: Some(account.to_owned()),
            },
        ));
    }
    Ok(found)
}
