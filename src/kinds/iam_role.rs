//! IAM roles in member accounts: the tier roles. Every write sets the desired value rather
//! than applying a delta, so repeating one (after a crash, or because two rounds overlap) is
//! harmless.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::writes::{eventually, gone_ok, iam_tags, is_code};
use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::desired::{Address, Spec, Tags};
use crate::discover::{Read, document, tag_map};
use crate::policy::PolicyDocument;

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleSpec {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// Who may assume it. Documents are shared between the many roles that have the same.
    pub trust_policy: Arc<PolicyDocument>,
    /// Attached managed policy ARNs.
    pub managed_policies: BTreeSet<String>,
    /// Inline policies by name.
    pub inline_policies: BTreeMap<String, Arc<PolicyDocument>>,
    /// The permissions boundary's ARN.
    pub permissions_boundary: Option<String>,
    /// Maximum session length in seconds.
    pub max_session_secs: u32,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// What apply finds of the role.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    exists: bool,
}

/// One write to a role.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateRole with its trust, session length, boundary and tags.
    Create,
    /// UpdateAssumeRolePolicy.
    Trust,
    /// UpdateRole (the session length).
    Session,
    /// PutRolePermissionsBoundary.
    PutBoundary(String),
    /// DeleteRolePermissionsBoundary.
    DeleteBoundary,
    /// TagRole.
    Tag,
    /// AttachRolePolicy.
    Attach(String),
    /// DetachRolePolicy.
    Detach(String),
    /// PutRolePolicy.
    PutInline(String),
    /// DeleteRolePolicy.
    DeleteInline(String),
    /// DeleteRole.
    Delete,
}

impl ResourceKind for RoleSpec {
    const NAME: &'static str = "iam_role";
    const RANK: u8 = 4;
    const DELETABLE_WITH: Option<DeletableKind> = Some(DeletableKind::Roles);

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("trust_policy", Attr::Policy(&self.trust_policy)),
            ("managed_policies", Attr::Exact(json(&self.managed_policies))),
            ("inline_policies", Attr::Policies(&self.inline_policies)),
            (
                "permissions_boundary",
                Attr::Exact(json(&self.permissions_boundary)),
            ),
            ("max_session_secs", Attr::Exact(json(&self.max_session_secs))),
            ("tags", Attr::Tags(&self.tags)),
        ]
    }

    fn impossible(&self, found: &RoleSpec) -> Option<String> {
        (self.path != found.path).then(|| {
            format!(
                "role {} exists at path {}, not {}: IAM role names are unique in an account and a path cannot be changed; lz will not replace the role. Rename or remove it, or set the tier's role_name",
                self.name, found.path, self.path
            )
        })
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        let path = read.blueprint.organization.iam_path.as_str();
        // A role named like a tier's is found wherever it is: IAM role names are unique in an
        // account, so one at another path stands where the tier's role would go.
        let tier_names = read.blueprint.role_tiers.role_names();
        let mut found = Vec::new();
        for (account, listing) in &read.accounts {
            for role in listing.details.iter().flat_map(|p| p.role_detail_list()) {
                let name = role.role_name().unwrap_or_default();
                if role.path() != Some(path) && !tier_names.iter().any(|t| t == name) {
                    continue;
                }
                let spec = RoleSpec {
                    name: name.to_owned(),
                    path: role.path().unwrap_or("/").to_owned(),
                    trust_policy: Arc::new(document(role.assume_role_policy_document())),
                    managed_policies: role
                        .attached_managed_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_owned))
                        .collect(),
                    inline_policies: role
                        .role_policy_list()
                        .iter()
                        .map(|p| {
                            (
                                p.policy_name().unwrap_or_default().to_owned(),
                                Arc::new(document(p.policy_document())),
                            )
                        })
                        .collect(),
                    permissions_boundary: role
                        .permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn().map(str::to_owned)),
                    max_session_secs: listing
                        .sessions
                        .get(name)
                        .and_then(|s| u32::try_from(*s).ok())
                        .unwrap_or(3600),
                    tags: tag_map(role.tags().iter().map(|t| (t.key(), t.value()))),
                };
                found.push((
                    Address::role(account, name),
                    observed(
                        role.arn().map(str::to_owned),
                        Spec::IamRole(spec),
                        Some(account),
                    ),
                ));
            }
        }
        found
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        let Some(want) = step.want else {
            return Ok(Seen { exists: true });
        };
        let member = ctx.member(step.account()?).await?;
        let exists = match member.iam.get_role().role_name(&want.name).send().await {
            Ok(_) => true,
            Err(e) if is_code(&e, "NoSuchEntity") => false,
            Err(e) => return Err(call("iam.GetRole")(e).into()),
        };
        Ok(Seen { exists })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        let Some(want) = step.want else {
            let Some(before) = step.before else {
                return Ok(vec![]);
            };
            let mut ops: Vec<Op> = before.managed_policies.iter().cloned().map(Op::Detach).collect();
            ops.extend(before.inline_policies.keys().cloned().map(Op::DeleteInline));
            ops.push(Op::Delete);
            return Ok(ops);
        };
        // A role found where the plan expected none (left by an interrupted run), or gone
        // since the plan, is brought in line in full, like a creation.
        let full = step.full() || !seen.exists;
        let mut ops = Vec::new();
        if !seen.exists {
            ops.push(Op::Create);
        } else {
            if full || step.touches("trust_policy") {
                ops.push(Op::Trust);
            }
            if full || step.touches("max_session_secs") {
                ops.push(Op::Session);
            }
            if full || step.touches("permissions_boundary") {
                ops.push(match &want.permissions_boundary {
                    Some(arn) => Op::PutBoundary(arn.clone()),
                    None => Op::DeleteBoundary,
                });
            }
            if full || step.touches("tags") {
                ops.push(Op::Tag);
            }
        }
        let had_managed = step.before.map(|b| &b.managed_policies);
        let had_inline = step.before.map(|b| &b.inline_policies);
        if full || step.touches("managed_policies") {
            for arn in &want.managed_policies {
                if full || !had_managed.is_some_and(|had| had.contains(arn)) {
                    ops.push(Op::Attach(arn.clone()));
                }
            }
            for arn in had_managed.into_iter().flatten() {
                if !want.managed_policies.contains(arn) {
                    ops.push(Op::Detach(arn.clone()));
                }
            }
        }
        if full || step.touches("inline_policies") {
            for (name, document) in &want.inline_policies {
                let same = had_inline
                    .and_then(|had| had.get(name))
                    .is_some_and(|d| d.same_as(document));
                if full || !same {
                    ops.push(Op::PutInline(name.clone()));
                }
            }
            for name in had_inline.into_iter().flat_map(|had| had.keys()) {
                if !want.inline_policies.contains_key(name) {
                    ops.push(Op::DeleteInline(name.clone()));
                }
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
        let Some(role) = step.want.or(step.before) else {
            return Ok(());
        };
        let member = ctx.member(step.account()?).await?;
        let iam = &member.iam;
        let name = &role.name;
        let session = i32::try_from(role.max_session_secs).unwrap_or(3600);
        match op {
            Op::Create => {
                iam.create_role()
                    .role_name(name)
                    .path(&role.path)
                    .assume_role_policy_document(role.trust_policy.to_json())
                    .max_session_duration(session)
                    .set_permissions_boundary(role.permissions_boundary.clone())
                    .set_tags(Some(iam_tags(&role.tags)))
                    .send()
                    .await
                    .map_err(call("iam.CreateRole"))?;
            }
            Op::Trust => {
                eventually("iam.UpdateAssumeRolePolicy", || {
                    iam.update_assume_role_policy()
                        .role_name(name)
                        .policy_document(role.trust_policy.to_json())
                        .send()
                })
                .await?;
            }
            Op::Session => {
                eventually("iam.UpdateRole", || {
                    iam.update_role()
                        .role_name(name)
                        .max_session_duration(session)
                        .send()
                })
                .await?;
            }
            Op::PutBoundary(arn) => {
                eventually("iam.PutRolePermissionsBoundary", || {
                    iam.put_role_permissions_boundary()
                        .role_name(name)
                        .permissions_boundary(arn)
                        .send()
                })
                .await?;
            }
            Op::DeleteBoundary => gone_ok(
                "iam.DeleteRolePermissionsBoundary",
                iam.delete_role_permissions_boundary()
                    .role_name(name)
                    .send()
                    .await,
            )?,
            Op::Tag => {
                eventually("iam.TagRole", || {
                    iam.tag_role()
                        .role_name(name)
                        .set_tags(Some(iam_tags(&role.tags)))
                        .send()
                })
                .await?;
            }
            Op::Attach(arn) => {
                eventually("iam.AttachRolePolicy", || {
                    iam.attach_role_policy()
                        .role_name(name)
                        .policy_arn(arn)
                        .send()
                })
                .await?;
            }
            Op::Detach(arn) => gone_ok(
                "iam.DetachRolePolicy",
                iam.detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await,
            )?,
            Op::PutInline(policy) => {
                let document = role.inline_policies.get(policy).map(|d| d.to_json());
                eventually("iam.PutRolePolicy", || {
                    iam.put_role_policy()
                        .role_name(name)
                        .policy_name(policy)
                        .set_policy_document(document.clone())
                        .send()
                })
                .await?;
            }
            Op::DeleteInline(policy) => gone_ok(
                "iam.DeleteRolePolicy",
                iam.delete_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await,
            )?,
            Op::Delete => gone_ok(
                "iam.DeleteRole",
                iam.delete_role().role_name(name).send().await,
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
    use crate::policy::Statement;

    fn spec() -> RoleSpec {
        let allow = |action: &'static str| {
            Arc::new(PolicyDocument::new(vec![
                Statement::allow().actions([action]).resources(["*"]),
            ]))
        };
        RoleSpec {
            name: "lz-watcher".to_owned(),
            path: "/lz/".to_owned(),
            trust_policy: allow("sts:AssumeRole"),
            managed_policies: BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()]),
            inline_policies: BTreeMap::from([
                ("guardrails".to_owned(), allow("s3:GetObject")),
                ("extra".to_owned(), allow("s3:ListBucket")),
            ]),
            permissions_boundary: None,
            max_session_secs: 3600,
            tags: Tags::new(),
        }
    }

    #[test]
    fn a_new_role_is_created_then_given_its_policies() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let ops = RoleSpec::decide(&step(&change, Some(&want), None), &Seen { exists: false });
        assert_eq!(
            ops.unwrap(),
            [
                Op::Create,
                Op::Attach("arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()),
                Op::PutInline("extra".to_owned()),
                Op::PutInline("guardrails".to_owned()),
            ]
        );
    }

    #[test]
    fn a_role_found_where_none_was_planned_is_set_in_full() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let ops = RoleSpec::decide(&step(&change, Some(&want), None), &Seen { exists: true });
        let ops = ops.unwrap();
        assert_eq!(
            ops[..5],
            [Op::Trust, Op::Session, Op::DeleteBoundary, Op::Tag, Op::Attach(
                "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()
            )]
        );
        assert!(!ops.contains(&Op::Create));
    }

    #[test]
    fn drift_is_repaired_by_exactly_the_writes_that_differ() {
        let want = spec();
        let mut before = spec();
        before.managed_policies =
            BTreeSet::from(["arn:aws:iam::aws:policy/AdministratorAccess".to_owned()]);
        before.inline_policies.remove("extra");
        before.inline_policies.insert(
            "backdoor".to_owned(),
            Arc::new(PolicyDocument::new(vec![
                Statement::allow().actions(["*"]).resources(["*"]),
            ])),
        );
        let change = change(Action::Update, &["managed_policies", "inline_policies"]);
        let ops = RoleSpec::decide(&step(&change, Some(&want), Some(&before)), &Seen { exists: true });
        assert_eq!(
            ops.unwrap(),
            [
                Op::Attach("arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()),
                Op::Detach("arn:aws:iam::aws:policy/AdministratorAccess".to_owned()),
                Op::PutInline("extra".to_owned()),
                Op::DeleteInline("backdoor".to_owned()),
            ]
        );
    }

    #[test]
    fn a_deleted_role_loses_its_policies_first() {
        let (before, change) = (spec(), change(Action::Delete, &[]));
        let ops = RoleSpec::decide(&step(&change, None, Some(&before)), &Seen { exists: true });
        assert_eq!(
            ops.unwrap(),
            [
                Op::Detach("arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()),
                Op::DeleteInline("extra".to_owned()),
                Op::DeleteInline("guardrails".to_owned()),
                Op::Delete,
            ]
        );
    }
}
