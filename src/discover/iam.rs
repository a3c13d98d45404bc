//! Reading IAM in one member account, through the access role: every role, user, group and
//! customer managed policy, as plain data the IAM kinds name and `lz check` evaluates.
//!
//! Requests per account: `GetAccountAuthorizationDetails` (roles with their trust, inline and
//! attached policies, boundary and tags; groups; local policies with their versions) and
//! `ListRoles` (for session lengths, which the former lacks), each a page at a time, and one
//! `ListPolicyTags` per landing zone policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::EntityType;

use super::{DiscoverError, tag_map};
use crate::aws::{Member, call};
use crate::check::{AccountIam, GroupFacts, RoleFacts, UserFacts};
use crate::desired::Tags;
use crate::policy::PolicyDocument;

/// Parses a document IAM returned; an unreadable one reads as empty, which plans an update.
pub(crate) fn document(text: Option<&str>) -> PolicyDocument {
    text.and_then(|t| PolicyDocument::parse(t).ok())
        .unwrap_or_else(|| PolicyDocument::new(Vec::new()))
}

/// Parses a document for `lz check`; one lz cannot read is taken to allow everything (to
/// anyone, as a trust policy), so that the check never calls safe what it could not read.
fn checked_document(text: Option<&str>) -> PolicyDocument {
    match text.map(PolicyDocument::parse) {
        Some(Ok(document)) => document,
        _ => PolicyDocument::new(vec![
            crate::policy::Statement::allow()
                .principal(crate::policy::Principal::Any(
                    crate::policy::AnyPrincipal::Everyone,
                ))
                .actions(["*"])
                .resources(["*"]),
        ]),
    }
}

/// One member account's IAM as read: plain data, named by the IAM kinds.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountRead {
    /// `GetAccountAuthorizationDetails`, every page: roles, users, groups, local policies.
    pub details: Vec<GetAccountAuthorizationDetailsOutput>,
    /// Session lengths of the roles under the landing zone's path, by role name (the listing
    /// above lacks them).
    pub sessions: BTreeMap<String, i32>,
    /// Tags of the customer managed policies under the landing zone's path, by ARN.
    pub policy_tags: BTreeMap<String, Tags>,
}

/// Reads account `account`'s IAM: the listing the IAM kinds name, and every principal, lz's or
/// not, for `lz check`.
pub(crate) async fn read_account(
    member: &Member,
    account: &str,
    id: &str,
    path: &str,
) -> Result<(AccountRead, AccountIam), DiscoverError> {
    let iam = &member.iam;
    let filter = vec![
        EntityType::Role,
        EntityType::User,
        EntityType::Group,
        EntityType::LocalManagedPolicy,
    ];
    let details = iam
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
    let sessions = roles
        .iter()
        .flat_map(|p| p.roles())
        .filter_map(|r| Some((r.role_name().to_owned(), r.max_session_duration()?)))
        .collect();
    let mut policy_tags = BTreeMap::new();
    for policy in details.iter().flat_map(|p| p.policies()) {
        let Some(arn) = policy.arn().filter(|_| policy.path() == Some(path)) else {
            continue;
        };
        let tags = iam
            .list_policy_tags()
            .policy_arn(arn)
            .send()
            .await
            .map_err(call("iam.ListPolicyTags"))?;
        policy_tags.insert(
            arn.to_owned(),
            tag_map(tags.tags().iter().map(|t| (t.key(), t.value()))),
        );
    }
    let principals = principals(&details, account, id);
    Ok((
        AccountRead {
            details,
            sessions,
            policy_tags,
        },
        principals,
    ))
}

/// Every role, user, group and customer managed policy of the listing, whatever its path.
fn principals(
    pages: &[GetAccountAuthorizationDetailsOutput],
    account: &str,
    id: &str,
) -> AccountIam {
    let inline = |list: &[aws_sdk_iam::types::PolicyDetail]| {
        list.iter()
            .map(|p| Arc::new(checked_document(p.policy_document())))
            .collect::<Vec<_>>()
    };
    let managed = |list: &[aws_sdk_iam::types::AttachedPolicy]| {
        list.iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let boundary = |b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| {
        b.and_then(|b| b.permissions_boundary_arn().map(str::to_owned))
    };
    AccountIam {
        name: account.to_owned(),
        id: id.to_owned(),
        roles: pages
            .iter()
            .flat_map(|p| p.role_detail_list())
            .map(|r| RoleFacts {
                name: r.role_name().unwrap_or_default().to_owned(),
                path: r.path().unwrap_or("/").to_owned(),
                trust: Arc::new(checked_document(r.assume_role_policy_document())),
                inline: inline(r.role_policy_list()),
                managed: managed(r.attached_managed_policies()),
                boundary: boundary(r.permissions_boundary()),
            })
            .collect(),
        users: pages
            .iter()
            .flat_map(|p| p.user_detail_list())
            .map(|u| UserFacts {
                name: u.user_name().unwrap_or_default().to_owned(),
                path: u.path().unwrap_or("/").to_owned(),
                inline: inline(u.user_policy_list()),
                managed: managed(u.attached_managed_policies()),
                groups: u.group_list().to_vec(),
                boundary: boundary(u.permissions_boundary()),
            })
            .collect(),
        groups: pages
            .iter()
            .flat_map(|p| p.group_detail_list())
            .map(|g| GroupFacts {
                name: g.group_name().unwrap_or_default().to_owned(),
                path: g.path().unwrap_or("/").to_owned(),
                inline: inline(g.group_policy_list()),
                managed: managed(g.attached_managed_policies()),
            })
            .collect(),
        policies: pages
            .iter()
            .flat_map(|p| p.policies())
            .filter_map(|p| {
                let default = p
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version())
                    .and_then(|v| v.document());
                Some((p.arn()?.to_owned(), Arc::new(checked_document(default))))
            })
            .collect(),
    }
}
