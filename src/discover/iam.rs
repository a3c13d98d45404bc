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
use crate::check::{AccountIam, GroupFacts, RoleFacts, UserFacts};
use crate::desired::{Address, GroupSpec, PolicySpec, RoleSpec, Spec};
use crate::policy::PolicyDocument;

/// Parses a document IAM returned; an unreadable one reads as empty, which plans an update.
fn document(text: Option<&str>) -> PolicyDocument {
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

/// Reads account `account`'s IAM: the landing zone's roles and policies (its groups too when
/// it is the security account) as addressed resources, and every principal, lz's or not, for
/// `lz check`.
pub(crate) async fn read_account(
    member: &Member,
    account: &str,
    id: &str,
    path: &str,
    groups: bool,
) -> Result<(Vec<(Address, Observed)>, AccountIam), DiscoverError> {
    let iam = &member.iam;
    let filter = vec![
        EntityType::Role,
        EntityType::User,
        EntityType::Group,
        EntityType::LocalManagedPolicy,
    ];
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

    let principals = principals(&pages, account, id);
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
        if !groups || group.path() != Some(path) {
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
    Ok((found, principals))
}

/// Every role, user, group and customer managed policy of the listing, whatever its path.
fn principals(
    pages: &[aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput],
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
