//! Organizational units, directly under the root, found by name.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::writes::{organizations_tags, transient};
use super::{Attr, ResourceKind, Step, observed};
use crate::actual::{Actual, Observed};
use crate::apply::{Ctx, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::desired::{Address, Known, Spec, Tags};
use crate::discover::{Read, list_root, list_top_ous};

/// An organizational unit, directly under the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OuSpec {
    /// Its name.
    pub name: String,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// What apply finds of the unit.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Its id, when it exists.
    id: Option<String>,
    /// For a deletion: whether it holds no account and no unit.
    empty: bool,
}

/// One write to a unit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateOrganizationalUnit under the root, with its tags.
    Create,
    /// TagResource: a unit found (made by an interrupted run, or adopted) gets its tags.
    Tag,
    /// DeleteOrganizationalUnit.
    Delete,
}

impl ResourceKind for OuSpec {
    const NAME: &'static str = "organizational_unit";
    const RANK: u8 = 1;
    const DELETABLE_WITH: Option<DeletableKind> = Some(DeletableKind::OrganizationalUnits);

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![("tags", Attr::Tags(&self.tags))]
    }

    fn learn(&self, _address: &Address, id: &str, known: &mut Known) {
        known.ou_ids.insert(self.name.clone(), id.to_owned());
    }

    fn assumed_id(&self, known: &Known) -> Option<String> {
        known.ou_ids.get(&self.name).cloned()
    }

    fn kept(&self, actual: &Actual) -> Option<&'static str> {
        let managed = actual
            .resources
            .values()
            .any(|r| matches!(r.spec.as_ref(), Spec::Account(a) if a.ou == self.name));
        let unmanaged = actual
            .unmanaged_accounts
            .iter()
            .any(|a| a.ou.as_deref() == Some(self.name.as_str()));
        (managed || unmanaged).then_some("it still holds accounts")
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        read.organization
            .ous
            .iter()
            .map(|ou| {
                let spec = OuSpec {
                    name: ou.name.clone(),
                    tags: ou.tags.clone(),
                };
                (
                    Address::ou(&ou.name),
                    observed(Some(ou.id.clone()), Spec::OrganizationalUnit(spec), None),
                )
            })
            .collect()
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        let Some(want) = step.want else {
            let Some(id) = step.change.id.clone() else {
                return Ok(Seen::default());
            };
            let org = &ctx.aws.organizations;
            let accounts = org
                .list_accounts_for_parent()
                .parent_id(&id)
                .send()
                .await
                .map_err(call("organizations.ListAccountsForParent"))?;
            let children = org
                .list_organizational_units_for_parent()
                .parent_id(&id)
                .send()
                .await
                .map_err(call("organizations.ListOrganizationalUnitsForParent"))?;
            let empty =
                accounts.accounts().is_empty() && children.organizational_units().is_empty();
            return Ok(Seen {
                id: Some(id),
                empty,
            });
        };
        Ok(Seen {
            id: ou_id(ctx, &want.name).await?,
            empty: false,
        })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        match (step.want, &seen.id) {
            (None, None) => Ok(vec![]),
            (None, Some(_)) if !seen.empty => Err(StepError::NotEmpty {
                name: step.before.map(|b| b.name.clone()).unwrap_or_default(),
            }),
            (None, Some(_)) => Ok(vec![Op::Delete]),
            (Some(_), None) => Ok(vec![Op::Create]),
            (Some(_), Some(_)) => Ok(vec![Op::Tag]),
        }
    }

    async fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        seen: &mut Seen,
        op: &Op,
    ) -> Result<(), StepError> {
        let org = &ctx.aws.organizations;
        match (op, step.want) {
            (Op::Create, Some(want)) => {
                let root = root_id(ctx).await?;
                // Sent once, without the SDK's retries: a stand-in need not refuse a second unit
                // of the same name as AWS does, so after a failure that may have gone through,
                // lz looks for the unit before asking again.
                let mut pause = Duration::from_millis(200);
                for attempt in 1.. {
                    let created = org
                        .create_organizational_unit()
                        .parent_id(&root)
                        .name(&want.name)
                        .set_tags(Some(organizations_tags(&want.tags)))
                        .customize()
                        .config_override(
                            aws_sdk_organizations::config::Builder::default()
                                .retry_config(aws_config::retry::RetryConfig::disabled()),
                        )
                        .send()
                        .await;
                    match created {
                        Ok(out) => {
                            if let Some(id) = out.organizational_unit.and_then(|ou| ou.id) {
                                ctx.live.remember_ou(&want.name, &id);
                                seen.id = Some(id);
                            }
                            break;
                        }
                        Err(e) if transient(&e) && attempt < crate::aws::MAX_ATTEMPTS => {
                            tokio::time::sleep(pause).await;
                            pause *= 2;
                            if let Some(id) = ou_id(ctx, &want.name).await? {
                                seen.id = Some(id);
                                break;
                            }
                        }
                        Err(e) => {
                            return Err(call("organizations.CreateOrganizationalUnit")(e).into());
                        }
                    }
                }
            }
            (Op::Tag, Some(want)) => {
                org.tag_resource()
                    .set_resource_id(seen.id.clone())
                    .set_tags(Some(organizations_tags(&want.tags)))
                    .send()
                    .await
                    .map_err(call("organizations.TagResource"))?;
            }
            (Op::Delete, _) => {
                org.delete_organizational_unit()
                    .set_organizational_unit_id(seen.id.clone())
                    .send()
                    .await
                    .map_err(call("organizations.DeleteOrganizationalUnit"))?;
                if let Some(before) = step.before {
                    ctx.live.forget_ou(&before.name);
                }
            }
            (Op::Create | Op::Tag, None) => {}
        }
        Ok(())
    }
}

/// The root's id, read once per apply.
pub(crate) async fn root_id(ctx: &Ctx<'_>) -> Result<String, StepError> {
    if let Some(id) = ctx.live.root() {
        return Ok(id);
    }
    let id = list_root(&ctx.aws.organizations)
        .await?
        .ok_or(StepError::IncompleteAnswer {
            operation: "organizations.ListRoots",
            missing: "root",
        })?;
    ctx.live.remember_root(&id);
    Ok(id)
}

/// The id of the top-level unit named `name`, from this apply's memory or from AWS.
pub(crate) async fn ou_id(ctx: &Ctx<'_>, name: &str) -> Result<Option<String>, StepError> {
    if let Some(id) = ctx.live.ou(name) {
        return Ok(Some(id));
    }
    let root = root_id(ctx).await?;
    let id = list_top_ous(&ctx.aws.organizations, &root)
        .await?
        .into_iter()
        .find(|(_, n)| n == name)
        .map(|(id, _)| id);
    if let Some(id) = &id {
        ctx.live.remember_ou(name, id);
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec() -> OuSpec {
        OuSpec {
            name: "Prod".to_owned(),
            tags: Tags::new(),
        }
    }

    #[test]
    fn a_unit_is_created_when_missing_and_tagged_when_found() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let step = step(&change, Some(&want), None);
        assert_eq!(OuSpec::decide(&step, &Seen::default()).unwrap(), [Op::Create]);
        let found = Seen {
            id: Some("ou-1".to_owned()),
            empty: false,
        };
        assert_eq!(OuSpec::decide(&step, &found).unwrap(), [Op::Tag]);
    }

    #[test]
    fn a_unit_that_holds_something_again_is_kept() {
        let (before, change) = (spec(), change(Action::Delete, &[]));
        let step = step(&change, None, Some(&before));
        let mut seen = Seen {
            id: Some("ou-1".to_owned()),
            empty: false,
        };
        assert!(matches!(
            OuSpec::decide(&step, &seen),
            Err(StepError::NotEmpty { name }) if name == "Prod"
        ));
        seen.empty = true;
        assert_eq!(OuSpec::decide(&step, &seen).unwrap(), [Op::Delete]);
        assert!(OuSpec::decide(&step, &Seen::default()).unwrap().is_empty());
    }
}
