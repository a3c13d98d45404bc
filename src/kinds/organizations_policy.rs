//! Organizations policies lz owns (service control, resource control and tag policies), found
//! by name among the organization's policies of their type: the document, and the targets
//! (root, units, accounts) it is attached to. Attachments lz did not ask for are someone
//! else's and left alone; an attachment lz asked for that went missing is made again.

use std::sync::Arc;

use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};
use serde::{Deserialize, Serialize};

use super::writes::organizations_tags;
use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::{Aws, CallError, call};
use crate::desired::{Address, Spec, Tags};
use crate::discover::{DiscoverError, Read};
use crate::policy::PolicyDocument;

/// The types of Organizations policies lz makes, named as AWS names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgPolicyType {
    /// What principals of member accounts may do (IAM's grammar, no `Principal`).
    ServiceControlPolicy,
    /// Who may reach the member accounts' resources (IAM's grammar, `Principal: "*"`).
    ResourceControlPolicy,
    /// Which tag keys and values resources carry (Organizations' own grammar).
    TagPolicy,
}

impl OrgPolicyType {
    /// Every type, in the order lz reads them.
    pub const ALL: [OrgPolicyType; 3] = [
        OrgPolicyType::ServiceControlPolicy,
        OrgPolicyType::ResourceControlPolicy,
        OrgPolicyType::TagPolicy,
    ];

    /// The first segment of an address of this type (`scp.lz-acme-baseline`).
    pub fn prefix(self) -> &'static str {
        match self {
            OrgPolicyType::ServiceControlPolicy => "scp",
            OrgPolicyType::ResourceControlPolicy => "rcp",
            OrgPolicyType::TagPolicy => "tag_policy",
        }
    }

    /// What people call it.
    pub fn noun(self) -> &'static str {
        match self {
            OrgPolicyType::ServiceControlPolicy => "service control policy",
            OrgPolicyType::ResourceControlPolicy => "resource control policy",
            OrgPolicyType::TagPolicy => "tag policy",
        }
    }

    /// Whether its documents are in IAM's policy grammar (and so evaluated).
    pub fn is_iam(self) -> bool {
        self != OrgPolicyType::TagPolicy
    }

    fn sdk(self) -> PolicyType {
        match self {
            OrgPolicyType::ServiceControlPolicy => PolicyType::ServiceControlPolicy,
            OrgPolicyType::ResourceControlPolicy => PolicyType::ResourceControlPolicy,
            OrgPolicyType::TagPolicy => PolicyType::TagPolicy,
        }
    }
}

/// A policy's content: an IAM policy document (compared by meaning), or a tag policy's JSON
/// (compared as JSON values, key order aside).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// A service or resource control policy.
    Iam(Arc<PolicyDocument>),
    /// A tag policy, as the compact JSON lz sends.
    Json(String),
}

impl Content {
    /// The text sent to AWS.
    pub fn to_json(&self) -> String {
        match self {
            Content::Iam(document) => document.to_json(),
            Content::Json(text) => text.clone(),
        }
    }

    /// Whether two contents mean the same.
    fn same_as(&self, other: &Content) -> bool {
        match (self, other) {
            (Content::Iam(a), Content::Iam(b)) => a.same_as(b),
            (Content::Json(a), Content::Json(b)) => {
                serde_json::from_str::<serde_json::Value>(a).ok()
                    == serde_json::from_str::<serde_json::Value>(b).ok()
            }
            _ => false,
        }
    }

    /// The IAM document, for a service or resource control policy.
    pub fn iam(&self) -> Option<&PolicyDocument> {
        match self {
            Content::Iam(document) => Some(document),
            Content::Json(_) => None,
        }
    }
}

impl From<PolicyDocument> for Content {
    fn from(document: PolicyDocument) -> Content {
        Content::Iam(Arc::new(document))
    }
}

/// An Organizations policy and where it is attached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgPolicySpec {
    /// Its name, unique among the organization's policies of its type.
    pub name: String,
    /// Its type.
    pub policy_type: OrgPolicyType,
    /// What it is for, as AWS shows it.
    pub description: String,
    /// The policy's content.
    pub document: Content,
    /// The ids it is attached to (the root `r-…`, units `ou-…`, accounts), sorted.
    pub targets: Vec<String>,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// A service or resource control policy of the organization that lz does not own, and where
/// it is attached: lz leaves it, lists it in the plan, and evaluates it in the lockout analysis.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForeignPolicy {
    /// Its id (`p-…`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its type.
    pub policy_type: OrgPolicyType,
    /// Its document; `None` when it is not IAM's grammar as lz reads it.
    pub document: Option<PolicyDocument>,
    /// The ids it is attached to, sorted.
    pub targets: Vec<String>,
}

/// What discovery reads of the organization's policies.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// lz's own, by type.
    own: Vec<(OrgPolicyType, FoundPolicy)>,
    /// Every other SCP and RCP but AWS's own (`FullAWSAccess`, `RCPFullAWSAccess`).
    pub foreign: Vec<ForeignPolicy>,
}

/// What apply finds of the policy.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Whether the root has the policy's type enabled.
    enabled: bool,
    /// The policy, when it exists.
    found: Option<FoundPolicy>,
}

/// One write to a policy.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// EnablePolicyType on the root: policies of a type not enabled bind no one.
    EnableType,
    /// CreatePolicy, with its tags.
    Create,
    /// UpdatePolicy: the document and description.
    Update,
    /// TagResource.
    Tag,
    /// AttachPolicy to one target.
    Attach(String),
}

/// A policy as read: plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FoundPolicy {
    id: String,
    name: String,
    description: String,
    content: String,
    targets: Vec<String>,
    tags: Tags,
}

impl FoundPolicy {
    fn spec(&self, policy_type: OrgPolicyType) -> OrgPolicySpec {
        // A document that is not IAM's policy grammar (edited by hand) compares as empty,
        // which differs from anything lz writes: planned as an update.
        let document = if policy_type.is_iam() {
            Content::from(
                PolicyDocument::parse(&self.content)
                    .unwrap_or_else(|_| PolicyDocument::new(Vec::new())),
            )
        } else {
            Content::Json(self.content.clone())
        };
        OrgPolicySpec {
            name: self.name.clone(),
            policy_type,
            description: self.description.clone(),
            document,
            targets: self.targets.clone(),
            tags: self.tags.clone(),
        }
    }
}

impl ResourceKind for OrgPolicySpec {
    const NAME: &'static str = "organizations_policy";
    const RANK: u8 = 2;
    // lz deletes no guardrail: removing one opens what it closed.
    const DELETABLE_WITH: Option<crate::blueprint::DeletableKind> = None;

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("description", Attr::Exact(json(&self.description))),
            (
                "document",
                match &self.document {
                    Content::Iam(document) => Attr::Policy(document),
                    Content::Json(text) => Attr::Exact(
                        serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
                    ),
                },
            ),
            (
                "targets",
                Attr::Includes(self.targets.iter().map(String::as_str).collect()),
            ),
            ("tags", Attr::Tags(&self.tags)),
        ]
    }

    /// The organization's policies whose types and names the blueprint uses, each with its
    /// document, tags and targets, and every other SCP and RCP, for the lockout analysis;
    /// none before the organization exists.
    type Raw = Found;

    async fn read_own(aws: &Aws, read: &Read<'_>) -> Result<Found, DiscoverError> {
        let mut found = Found::default();
        if read.organization.organization.is_none() {
            return Ok(found);
        }
        let wanted = crate::desired::guardrails::names(read.blueprint);
        for policy_type in OrgPolicyType::ALL {
            let foreign_too = policy_type.is_iam();
            if !foreign_too && !wanted.iter().any(|(t, _)| *t == policy_type) {
                continue;
            }
            for listed in list(&aws.organizations, policy_type).await? {
                if wanted.contains(&(policy_type, listed.name.clone())) {
                    let own = describe(&aws.organizations, &listed.id).await?;
                    found.own.push((policy_type, own));
                } else if foreign_too && !listed.aws_managed {
                    let other = describe(&aws.organizations, &listed.id).await?;
                    found.foreign.push(ForeignPolicy {
                        id: other.id,
                        name: other.name,
                        policy_type,
                        document: PolicyDocument::parse(&other.content).ok(),
                        targets: other.targets,
                    });
                }
            }
        }
        Ok(found)
    }

    fn identify(_read: &Read<'_>, raw: &Found) -> Vec<(Address, Observed)> {
        raw.own
            .iter()
            .map(|(policy_type, p)| {
                let spec = Spec::OrganizationsPolicy(p.spec(*policy_type));
                let address = Address::org_policy(*policy_type, &p.name);
                (address, observed(Some(p.id.clone()), spec, None))
            })
            .collect()
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        let Some(want) = step.want else {
            return Ok(Seen::default());
        };
        let org = &ctx.aws.organizations;
        let root = super::organizational_unit::root_id(ctx).await?;
        let roots = org
            .list_roots()
            .send()
            .await
            .map_err(call("organizations.ListRoots"))?;
        let enabled = roots
            .roots()
            .iter()
            .filter(|r| r.id() == Some(root.as_str()))
            .flat_map(|r| r.policy_types())
            .any(|t| {
                t.r#type() == Some(&want.policy_type.sdk())
                    && t.status() == Some(&PolicyTypeStatus::Enabled)
            });
        let id = list(org, want.policy_type)
            .await?
            .into_iter()
            .find(|p| p.name == want.name)
            .map(|p| p.id);
        let found = match id {
            Some(id) => Some(describe(org, &id).await?),
            None => None,
        };
        Ok(Seen { enabled, found })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        let Some(want) = step.want else {
            return Err(step.never_deleted("lz deletes no guardrail"));
        };
        let mut ops = Vec::new();
        if !seen.enabled {
            ops.push(Op::EnableType);
        }
        let attached: &[String] = match &seen.found {
            None => {
                ops.push(Op::Create);
                &[]
            }
            Some(found) => {
                let have = found.spec(want.policy_type);
                let same = have.description == want.description
                    && have.document.same_as(&want.document);
                if !same {
                    ops.push(Op::Update);
                }
                if want.tags.iter().any(|(k, v)| found.tags.get(k) != Some(v)) {
                    ops.push(Op::Tag);
                }
                &found.targets
            }
        };
        ops.extend(
            want.targets
                .iter()
                .filter(|t| !attached.contains(t))
                .map(|t| Op::Attach(t.clone())),
        );
        Ok(ops)
    }

    async fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        seen: &mut Seen,
        op: &Op,
    ) -> Result<(), StepError> {
        let Some(want) = step.want else {
            return Ok(());
        };
        let org = &ctx.aws.organizations;
        let id = || seen.found.as_ref().map(|f| f.id.clone());
        match op {
            Op::EnableType => {
                let root = super::organizational_unit::root_id(ctx).await?;
                match org
                    .enable_policy_type()
                    .root_id(root)
                    .policy_type(want.policy_type.sdk())
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_policy_type_already_enabled_exception()) => {}
                    Err(e) => return Err(call("organizations.EnablePolicyType")(e).into()),
                }
            }
            Op::Create => {
                // AWS refuses a second policy of the same name (`DuplicatePolicyException`),
                // which the executor takes as "it exists": re-read and brought in line.
                let created = org
                    .create_policy()
                    .name(&want.name)
                    .description(&want.description)
                    .content(want.document.to_json())
                    .r#type(want.policy_type.sdk())
                    .set_tags(Some(organizations_tags(&want.tags)))
                    .send()
                    .await
                    .map_err(call("organizations.CreatePolicy"))?;
                let id = created
                    .policy()
                    .and_then(|p| p.policy_summary())
                    .and_then(|s| s.id())
                    .ok_or(StepError::IncompleteAnswer {
                        operation: "organizations.CreatePolicy",
                        missing: "policy id",
                    })?;
                seen.found = Some(FoundPolicy {
                    id: id.to_owned(),
                    name: want.name.clone(),
                    ..FoundPolicy::default()
                });
            }
            Op::Update => {
                org.update_policy()
                    .set_policy_id(id())
                    .description(&want.description)
                    .content(want.document.to_json())
                    .send()
                    .await
                    .map_err(call("organizations.UpdatePolicy"))?;
            }
            Op::Tag => {
                org.tag_resource()
                    .set_resource_id(id())
                    .set_tags(Some(organizations_tags(&want.tags)))
                    .send()
                    .await
                    .map_err(call("organizations.TagResource"))?;
            }
            Op::Attach(target) => {
                match org
                    .attach_policy()
                    .set_policy_id(id())
                    .target_id(target)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_duplicate_policy_attachment_exception()) => {}
                    Err(e) => return Err(call("organizations.AttachPolicy")(e).into()),
                }
            }
        }
        Ok(())
    }
}

/// A policy as listed.
struct Listed {
    id: String,
    name: String,
    /// AWS's own (`FullAWSAccess`).
    aws_managed: bool,
}

/// The organization's policies of one type.
async fn list(
    org: &aws_sdk_organizations::Client,
    policy_type: OrgPolicyType,
) -> Result<Vec<Listed>, CallError> {
    let pages: Vec<_> = org
        .list_policies()
        .filter(policy_type.sdk())
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListPolicies"))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.policies())
        .filter_map(|p| {
            Some(Listed {
                id: p.id()?.to_owned(),
                name: p.name()?.to_owned(),
                aws_managed: p.aws_managed(),
            })
        })
        .collect())
}

/// One policy: its document, tags and targets.
async fn describe(
    org: &aws_sdk_organizations::Client,
    id: &str,
) -> Result<FoundPolicy, CallError> {
    let described = org
        .describe_policy()
        .policy_id(id)
        .send()
        .await
        .map_err(call("organizations.DescribePolicy"))?;
    let policy = described.policy();
    let summary = policy.and_then(|p| p.policy_summary());
    let tags = org
        .list_tags_for_resource()
        .resource_id(id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListTagsForResource"))?
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    let pages: Vec<_> = org
        .list_targets_for_policy()
        .policy_id(id)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListTargetsForPolicy"))?;
    let mut targets: Vec<String> = pages
        .iter()
        .flat_map(|p| p.targets())
        .filter_map(|t| t.target_id().map(str::to_owned))
        .collect();
    targets.sort();
    Ok(FoundPolicy {
        id: id.to_owned(),
        name: summary.and_then(|s| s.name()).unwrap_or_default().to_owned(),
        description: summary
            .and_then(|s| s.description())
            .unwrap_or_default()
            .to_owned(),
        content: policy
            .and_then(|p| p.content())
            .unwrap_or_default()
            .to_owned(),
        targets,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec() -> OrgPolicySpec {
        OrgPolicySpec {
            name: "lz-baseline".to_owned(),
            policy_type: OrgPolicyType::ServiceControlPolicy,
            description: "the landing zone's baseline".to_owned(),
            document: PolicyDocument::new(Vec::new()).into(),
            targets: vec!["r-1".to_owned(), "ou-2".to_owned()],
            tags: Tags::from([("managed-by".to_owned(), "landing-zone".to_owned())]),
        }
    }

    fn found(want: &OrgPolicySpec, targets: &[&str]) -> FoundPolicy {
        FoundPolicy {
            id: "p-1".to_owned(),
            name: want.name.clone(),
            description: want.description.clone(),
            content: want.document.to_json(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
            tags: want.tags.clone(),
        }
    }

    #[test]
    fn a_new_policy_is_created_after_its_type_is_enabled_then_attached_everywhere() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let step = step(&change, Some(&want), None);
        assert_eq!(
            OrgPolicySpec::decide(&step, &Seen::default()).unwrap(),
            [
                Op::EnableType,
                Op::Create,
                Op::Attach("r-1".to_owned()),
                Op::Attach("ou-2".to_owned())
            ]
        );
    }

    #[test]
    fn a_found_policy_gets_only_what_it_lacks_and_keeps_others_attachments() {
        let (want, change) = (spec(), change(Action::Update, &["targets"]));
        let step = step(&change, Some(&want), None);
        let seen = Seen {
            enabled: true,
            found: Some(found(&want, &["ou-2", "ou-someone-elses"])),
        };
        assert_eq!(
            OrgPolicySpec::decide(&step, &seen).unwrap(),
            [Op::Attach("r-1".to_owned())]
        );
        let mut edited = found(&want, &["r-1", "ou-2"]);
        edited.content = r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned();
        edited.tags.clear();
        let seen = Seen {
            enabled: true,
            found: Some(edited),
        };
        let mut want_denying = want.clone();
        want_denying.document = PolicyDocument::new(vec![
            crate::policy::Statement::deny()
                .actions(["organizations:LeaveOrganization"])
                .resources(["*"]),
        ])
        .into();
        let step = crate::kinds::tests::step(&change, Some(&want_denying), None);
        assert_eq!(
            OrgPolicySpec::decide(&step, &seen).unwrap(),
            [Op::Update, Op::Tag]
        );
    }

    #[test]
    fn a_guardrail_is_never_deleted() {
        let (before, change) = (spec(), change(Action::Delete, &[]));
        let step = step(&change, None, Some(&before));
        assert!(matches!(
            OrgPolicySpec::decide(&step, &Seen::default()),
            Err(StepError::NeverDeleted { .. })
        ));
    }
}
