//! The organization: all features on, and trusted access for the services lz needs.

use std::collections::BTreeSet;

use aws_sdk_organizations::types::OrganizationFeatureSet;
use serde::{Deserialize, Serialize};

use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::desired::{Address, Known, Spec, Tags};
use crate::discover::{Read, list_trusted_services};

/// The organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrganizationSpec {
    /// `ALL`: every feature, which SCPs and organization trails need.
    pub feature_set: String,
    /// Service principals with trusted access (`cloudtrail.amazonaws.com`).
    pub trusted_services: BTreeSet<String>,
}

/// What apply finds of the organization.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    exists: bool,
    /// Services with trusted access (read only when they are to be changed).
    trusted: BTreeSet<String>,
}

/// One write to the organization.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateOrganization with all features.
    Create,
    /// EnableAWSServiceAccess.
    Trust(String),
}

impl ResourceKind for OrganizationSpec {
    const NAME: &'static str = "organization";
    const RANK: u8 = 0;
    const DELETABLE_WITH: Option<DeletableKind> = None;

    fn tags(&self) -> Option<&Tags> {
        None
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("feature_set", Attr::Exact(json(&self.feature_set))),
            (
                "trusted_services",
                Attr::Includes(self.trusted_services.iter().map(String::as_str).collect()),
            ),
        ]
    }

    fn learn(&self, _address: &Address, id: &str, known: &mut Known) {
        known.organization_id = Some(id.to_owned());
    }

    fn assumed_id(&self, known: &Known) -> Option<String> {
        known.organization_id.clone()
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        let inventory = &read.organization;
        let Some(org) = &inventory.organization else {
            return Vec::new();
        };
        let spec = OrganizationSpec {
            feature_set: org.feature_set.clone(),
            trusted_services: inventory.trusted_services.clone(),
        };
        vec![(
            Address::organization(),
            observed(Some(org.id.clone()), Spec::Organization(spec), None),
        )]
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        if step.want.is_none() {
            return Ok(Seen::default());
        }
        let org = &ctx.aws.organizations;
        let exists = if step.full() {
            match org.describe_organization().send().await {
                Ok(_) => true,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_aws_organizations_not_in_use_exception()) =>
                {
                    false
                }
                Err(e) => return Err(call("organizations.DescribeOrganization")(e).into()),
            }
        } else {
            true
        };
        let trusted = if exists && step.touches("trusted_services") {
            list_trusted_services(org).await?
        } else {
            BTreeSet::new()
        };
        Ok(Seen { exists, trusted })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        let Some(want) = step.want else {
            return Err(step.never_deleted("it holds every account"));
        };
        let mut ops = Vec::new();
        if !seen.exists {
            ops.push(Op::Create);
        } else if !step.full() && step.touches("feature_set") {
            return Err(StepError::FeatureSet {
                want: want.feature_set.clone(),
            });
        }
        if step.touches("trusted_services") {
            ops.extend(
                want.trusted_services
                    .difference(&seen.trusted)
                    .map(|s| Op::Trust(s.clone())),
            );
        }
        Ok(ops)
    }

    async fn send(
        ctx: &Ctx<'_>,
        _step: &Step<'_, Self>,
        _seen: &mut Seen,
        op: &Op,
    ) -> Result<(), StepError> {
        let org = &ctx.aws.organizations;
        match op {
            Op::Create => {
                org.create_organization()
                    .feature_set(OrganizationFeatureSet::All)
                    .send()
                    .await
                    .map_err(call("organizations.CreateOrganization"))?;
            }
            Op::Trust(service) => {
                org.enable_aws_service_access()
                    .service_principal(service)
                    .send()
                    .await
                    .map_err(call("organizations.EnableAWSServiceAccess"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec() -> OrganizationSpec {
        OrganizationSpec {
            feature_set: "ALL".to_owned(),
            trusted_services: BTreeSet::from(["cloudtrail.amazonaws.com".to_owned()]),
        }
    }

    #[test]
    fn a_missing_organization_is_created_then_trusts_its_services() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let ops = OrganizationSpec::decide(&step(&change, Some(&want), None), &Seen::default());
        assert_eq!(
            ops.unwrap(),
            [Op::Create, Op::Trust("cloudtrail.amazonaws.com".to_owned())]
        );
    }

    #[test]
    fn an_organization_found_after_all_only_gets_the_services_it_lacks() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let mut seen = Seen {
            exists: true,
            trusted: want.trusted_services.clone(),
        };
        let decided = OrganizationSpec::decide(&step(&change, Some(&want), None), &seen);
        assert!(decided.unwrap().is_empty());
        seen.trusted.clear();
        let decided = OrganizationSpec::decide(&step(&change, Some(&want), None), &seen);
        assert_eq!(
            decided.unwrap(),
            [Op::Trust("cloudtrail.amazonaws.com".to_owned())]
        );
    }

    #[test]
    fn without_all_features_a_person_must_act_and_nothing_is_written() {
        let (want, change) = (spec(), change(Action::Update, &["feature_set"]));
        let seen = Seen {
            exists: true,
            trusted: BTreeSet::new(),
        };
        assert!(matches!(
            OrganizationSpec::decide(&step(&change, Some(&want), None), &seen),
            Err(StepError::FeatureSet { .. })
        ));
    }

    #[test]
    fn the_organization_is_never_deleted() {
        let change = change(Action::Delete, &[]);
        let decided = OrganizationSpec::decide(&step(&change, None, None), &Seen::default());
        assert!(matches!(decided, Err(StepError::NeverDeleted { .. })));
    }
}
