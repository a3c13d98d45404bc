//! Customer managed IAM policies in member accounts (the permissions boundary). A managed
//! policy keeps at most five versions: an update makes room, then adds the new default.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::writes::{gone_ok, iam_tags, is_code};
use super::{Attr, ResourceKind, Step, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::desired::{Address, Spec, Tags};
use crate::discover::{Read, document};
use crate::policy::PolicyDocument;

/// A customer managed IAM policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicySpec {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// The document of its default version.
    pub document: Arc<PolicyDocument>,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// How many versions IAM keeps of a managed policy.
const MAX_VERSIONS: usize = 5;

/// What apply finds of the policy.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Its ARN.
    arn: String,
    exists: bool,
    /// Its versions, when the document is to be replaced or the policy deleted.
    versions: Vec<Version>,
}

/// One version of a managed policy.
#[derive(Debug, Clone)]
pub(crate) struct Version {
    id: String,
    default: bool,
    /// When it was made, in seconds.
    created: i64,
}

/// One write to a policy.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreatePolicy with its document and tags.
    Create,
    /// DeletePolicyVersion, oldest first.
    DeleteVersion(String),
    /// CreatePolicyVersion, as the default.
    CreateVersion,
    /// TagPolicy.
    Tag,
    /// DeletePolicy.
    Delete,
}

impl ResourceKind for PolicySpec {
    const NAME: &'static str = "iam_policy";
    const RANK: u8 = 3;
    const DELETABLE_WITH: Option<DeletableKind> = Some(DeletableKind::Roles);

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("document", Attr::Policy(&self.document)),
            ("tags", Attr::Tags(&self.tags)),
        ]
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        let path = read.blueprint.organization.iam_path.as_str();
        let mut found = Vec::new();
        for (account, listing) in &read.accounts {
            for policy in listing.details.iter().flat_map(|p| p.policies()) {
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
                let spec = PolicySpec {
                    name: name.to_owned(),
                    path: path.to_owned(),
                    document: Arc::new(document(default)),
                    tags: listing.policy_tags.get(arn).cloned().unwrap_or_default(),
                };
                found.push((
                    Address::policy(account, name),
                    observed(Some(arn.to_owned()), Spec::IamPolicy(spec), Some(account)),
                ));
            }
        }
        found
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        let Some(policy) = step.want.or(step.before) else {
            return Ok(Seen::default());
        };
        let account = step.account()?;
        let member = ctx.member(account).await?;
        let iam = &member.iam;
        let id = ctx.live.account_id(account)?;
        let arn = format!("arn:aws:iam::{id}:policy{}{}", policy.path, policy.name);
        let exists = step.want.is_none()
            || match iam.get_policy().policy_arn(&arn).send().await {
                Ok(_) => true,
                Err(e) if is_code(&e, "NoSuchEntity") => false,
                Err(e) => return Err(call("iam.GetPolicy")(e).into()),
            };
        let versions = if exists && (step.want.is_none() || step.full() || step.touches("document"))
        {
            let listed = match iam.list_policy_versions().policy_arn(&arn).send().await {
                Ok(listed) => listed,
                Err(e) if step.want.is_none() && is_code(&e, "NoSuchEntity") => {
                    return Ok(Seen {
                        arn,
                        exists: false,
                        versions: Vec::new(),
                    });
                }
                Err(e) => return Err(call("iam.ListPolicyVersions")(e).into()),
            };
            listed
                .versions()
                .iter()
                .map(|v| Version {
                    id: v.version_id().unwrap_or_default().to_owned(),
                    default: v.is_default_version(),
                    created: v.create_date().map(|d| d.secs()).unwrap_or_default(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Seen {
            arn,
            exists,
            versions,
        })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        if step.want.is_none() {
            if !seen.exists {
                return Ok(vec![]);
            }
            let mut ops = prune(&seen.versions, 0);
            ops.push(Op::Delete);
            return Ok(ops);
        }
        if !seen.exists {
            return Ok(vec![Op::Create]);
        }
        let mut ops = Vec::new();
        if step.full() || step.touches("document") {
            ops.extend(prune(&seen.versions, MAX_VERSIONS - 1));
            ops.push(Op::CreateVersion);
        }
        if step.full() || step.touches("tags") {
            ops.push(Op::Tag);
        }
        Ok(ops)
    }

    async fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        seen: &mut Seen,
        op: &Op,
    ) -> Result<(), StepError> {
        let member = ctx.member(step.account()?).await?;
        let iam = &member.iam;
        let arn = &seen.arn;
        match (op, step.want) {
            (Op::Create, Some(want)) => {
                iam.create_policy()
                    .policy_name(&want.name)
                    .path(&want.path)
                    .policy_document(want.document.to_json())
                    .set_tags(Some(iam_tags(&want.tags)))
                    .send()
                    .await
                    .map_err(call("iam.CreatePolicy"))?;
            }
            (Op::DeleteVersion(version), _) => gone_ok(
                "iam.DeletePolicyVersion",
                iam.delete_policy_version()
                    .policy_arn(arn)
                    .version_id(version)
                    .send()
                    .await,
            )?,
            (Op::CreateVersion, Some(want)) => {
                iam.create_policy_version()
                    .policy_arn(arn)
                    .policy_document(want.document.to_json())
                    .set_as_default(true)
                    .send()
                    .await
                    .map_err(call("iam.CreatePolicyVersion"))?;
            }
            (Op::Tag, Some(want)) => {
                iam.tag_policy()
                    .policy_arn(arn)
                    .set_tags(Some(iam_tags(&want.tags)))
                    .send()
                    .await
                    .map_err(call("iam.TagPolicy"))?;
            }
            (Op::Delete, _) => gone_ok(
                "iam.DeletePolicy",
                iam.delete_policy().policy_arn(arn).send().await,
            )?,
            (Op::Create | Op::CreateVersion | Op::Tag, None) => {}
        }
        Ok(())
    }
}

/// Deletions of the oldest non-default versions, until at most `keep` remain.
fn prune(versions: &[Version], keep: usize) -> Vec<Op> {
    let mut old: Vec<&Version> = versions.iter().filter(|v| !v.default).collect();
    old.sort_by_key(|v| v.created);
    let excess = versions.len().saturating_sub(keep);
    old.into_iter()
        .take(excess)
        .map(|v| Op::DeleteVersion(v.id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec() -> PolicySpec {
        PolicySpec {
            name: "lz-boundary".to_owned(),
            path: "/lz/".to_owned(),
            document: Arc::new(PolicyDocument::new(Vec::new())),
            tags: Tags::new(),
        }
    }

    fn versions(n: usize) -> Vec<Version> {
        // v1 is the default; the others are older the lower their number.
        (1..=n)
            .map(|i| Version {
                id: format!("v{i}"),
                default: i == 1,
                created: 100 - i as i64,
            })
            .collect()
    }

    #[test]
    fn a_full_policy_makes_room_for_its_new_version_oldest_first() {
        let (want, change) = (spec(), change(Action::Update, &["document"]));
        let seen = Seen {
            arn: String::new(),
            exists: true,
            versions: versions(5),
        };
        let ops = PolicySpec::decide(&step(&change, Some(&want), None), &seen).unwrap();
        // Five versions and one to add: the oldest non-default one goes.
        assert_eq!(
            ops,
            [
                Op::DeleteVersion("v5".to_owned()),
                Op::CreateVersion
            ]
        );
        let roomy = Seen {
            versions: versions(2),
            ..seen
        };
        let ops = PolicySpec::decide(&step(&change, Some(&want), None), &roomy).unwrap();
        assert_eq!(ops, [Op::CreateVersion]);
    }

    #[test]
    fn a_new_policy_is_created_with_its_document_and_nothing_else() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let ops = PolicySpec::decide(&step(&change, Some(&want), None), &Seen::default());
        assert_eq!(ops.unwrap(), [Op::Create]);
    }

    #[test]
    fn a_deleted_policy_loses_every_other_version_first() {
        let (before, change) = (spec(), change(Action::Delete, &[]));
        let seen = Seen {
            arn: String::new(),
            exists: true,
            versions: versions(3),
        };
        let ops = PolicySpec::decide(&step(&change, None, Some(&before)), &seen).unwrap();
        assert_eq!(
            ops,
            [
                Op::DeleteVersion("v3".to_owned()),
                Op::DeleteVersion("v2".to_owned()),
                Op::Delete
            ]
        );
    }
}
