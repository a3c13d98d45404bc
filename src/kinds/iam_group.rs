//! IAM groups in the security account, one per tier and customer: membership is how people
//! get a tier. IAM groups take no tags: lz owns the groups under its IAM path.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::writes::{eventually, gone_ok, is_code};
use super::{Attr, ResourceKind, Step, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::desired::{Address, Spec, Tags};
use crate::discover::{Read, document};
use crate::policy::PolicyDocument;

/// An IAM group. IAM groups take no tags: lz owns the groups under its IAM path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupSpec {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// Inline policies by name.
    pub inline_policies: BTreeMap<String, Arc<PolicyDocument>>,
}

/// What apply finds of the group.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    exists: bool,
}

/// One write to a group.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateGroup.
    Create,
    /// PutGroupPolicy.
    PutInline(String),
    /// DeleteGroupPolicy.
    DeleteInline(String),
    /// DeleteGroup.
    Delete,
}

impl ResourceKind for GroupSpec {
    const NAME: &'static str = "iam_group";
    const RANK: u8 = 4;
    const DELETABLE_WITH: Option<DeletableKind> = Some(DeletableKind::Groups);

    fn tags(&self) -> Option<&Tags> {
        None
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![("inline_policies", Attr::Policies(&self.inline_policies))]
    }

    fn impossible(&self, found: &GroupSpec) -> Option<String> {
        (self.path != found.path).then(|| {
            format!(
                "group {} exists at path {}, not {}: IAM group names are unique in an account and lz will not replace the group. Rename or remove it, or set the tier's role_name",
                self.name, found.path, self.path
            )
        })
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        // Groups are lz's only in the security account, where people sign in.
        let security = read.blueprint.accounts.security.name.as_str();
        let path = read.blueprint.organization.iam_path.as_str();
        let Some(listing) = read.accounts.get(security) else {
            return Vec::new();
        };
        // A group named like a tier's is found wherever it is (names are unique in an account).
        let tier_names = read.blueprint.role_tiers.role_names();
        listing
            .details
            .iter()
            .flat_map(|p| p.group_detail_list())
            .filter(|group| {
                group.path() == Some(path)
                    || tier_names.iter().any(|t| Some(t.as_str()) == group.group_name())
            })
            .map(|group| {
                let name = group.group_name().unwrap_or_default();
                let spec = GroupSpec {
                    name: name.to_owned(),
                    path: group.path().unwrap_or("/").to_owned(),
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
                (
                    Address::group(name),
                    observed(
                        group.arn().map(str::to_owned),
                        Spec::IamGroup(spec),
                        Some(security),
                    ),
                )
            })
            .collect()
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        let Some(want) = step.want else {
            return Ok(Seen { exists: true });
        };
        let member = ctx.member(step.account()?).await?;
        let exists = match member.iam.get_group().group_name(&want.name).send().await {
            Ok(_) => true,
            Err(e) if is_code(&e, "NoSuchEntity") => false,
            Err(e) => return Err(call("iam.GetGroup")(e).into()),
        };
        Ok(Seen { exists })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        let Some(want) = step.want else {
            let Some(before) = step.before else {
                return Ok(vec![]);
            };
            let mut ops: Vec<Op> = before
                .inline_policies
                .keys()
                .cloned()
                .map(Op::DeleteInline)
                .collect();
            ops.push(Op::Delete);
            return Ok(ops);
        };
        let mut ops = Vec::new();
        if !seen.exists {
            ops.push(Op::Create);
        }
        // Every policy is set whenever the group changes: a group has few, and none is large.
        ops.extend(want.inline_policies.keys().cloned().map(Op::PutInline));
        for name in step.before.into_iter().flat_map(|b| b.inline_policies.keys()) {
            if !want.inline_policies.contains_key(name) {
                ops.push(Op::DeleteInline(name.clone()));
            }
        }
        Ok(ops)
    }

    async fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        _seen: &mut Seen,
        op: &Op,
    ) -> Result<(), StepError> {
        let Some(group) = step.want.or(step.before) else {
            return Ok(());
        };
        let member = ctx.member(step.account()?).await?;
        let iam = &member.iam;
        let name = &group.name;
        match op {
            Op::Create => {
                iam.create_group()
                    .group_name(name)
                    .path(&group.path)
                    .send()
                    .await
                    .map_err(call("iam.CreateGroup"))?;
            }
            Op::PutInline(policy) => {
                let document = group.inline_policies.get(policy).map(|d| d.to_json());
                eventually("iam.PutGroupPolicy", || {
                    iam.put_group_policy()
                        .group_name(name)
                        .policy_name(policy)
                        .set_policy_document(document.clone())
                        .send()
                })
                .await?;
            }
            Op::DeleteInline(policy) => gone_ok(
                "iam.DeleteGroupPolicy",
                iam.delete_group_policy()
                    .group_name(name)
                    .policy_name(policy)
                    .send()
                    .await,
            )?,
            Op::Delete => gone_ok(
                "iam.DeleteGroup",
                iam.delete_group().group_name(name).send().await,
            )?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec(policies: &[&str]) -> GroupSpec {
        GroupSpec {
            name: "lz-watcher-lumo".to_owned(),
            path: "/lz/".to_owned(),
            inline_policies: policies
                .iter()
                .map(|p| ((*p).to_owned(), Arc::new(PolicyDocument::new(Vec::new()))))
                .collect(),
        }
    }

    #[test]
    fn a_group_gets_its_policies_and_loses_the_ones_dropped() {
        let (want, before) = (spec(&["assume"]), spec(&["assume", "old"]));
        let updated = change(Action::Update, &["inline_policies"]);
        let ops = GroupSpec::decide(&step(&updated, Some(&want), Some(&before)), &Seen { exists: true });
        assert_eq!(
            ops.unwrap(),
            [
                Op::PutInline("assume".to_owned()),
                Op::DeleteInline("old".to_owned())
            ]
        );
        let created = change(Action::Create, &[]);
        let ops = GroupSpec::decide(&step(&created, Some(&want), None), &Seen { exists: false });
        assert_eq!(ops.unwrap(), [Op::Create, Op::PutInline("assume".to_owned())]);
    }
}
