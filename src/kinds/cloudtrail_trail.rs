//! The organization trail, in the management account and the blueprint's home region. Never
//! deleted. The one kind that reads itself: no shared read covers CloudTrail.

use serde::{Deserialize, Serialize};

use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::{Aws, call};
use crate::blueprint::{Blueprint, DeletableKind};
use crate::desired::audit::ORG_TRAIL;
use crate::desired::{Address, Spec, Tags};
use crate::discover::{DiscoverError, Found, Read, tag_map};

/// The organization trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TrailSpec {
    /// Its name.
    pub name: String,
    /// The bucket it writes to.
    pub bucket: String,
    /// The KMS key it encrypts with.
    pub kms_key: String,
    /// Whether it records every region.
    pub multi_region: bool,
    /// Whether it records every account of the organization.
    pub organization: bool,
    /// Whether digest files for log validation are written.
    pub log_validation: bool,
    /// Whether global services (IAM, STS) are recorded.
    pub global_events: bool,
    /// Whether it is logging.
    pub logging: bool,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// The attributes UpdateTrail sets.
const SETTINGS: [&str; 6] = [
    "bucket",
    "kms_key",
    "multi_region",
    "organization",
    "log_validation",
    "global_events",
];

/// What apply finds of the trail.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Its ARN, when it exists.
    arn: Option<String>,
}

/// One write to the trail.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateTrail with every setting and its tags.
    Create,
    /// UpdateTrail with every setting.
    Update,
    /// AddTags.
    Tag,
    /// StartLogging.
    Start,
    /// StopLogging.
    Stop,
}

impl ResourceKind for TrailSpec {
    const NAME: &'static str = "cloudtrail_trail";
    const RANK: u8 = 5;
    const DELETABLE_WITH: Option<DeletableKind> = None;

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("bucket", Attr::Exact(json(&self.bucket))),
            ("kms_key", Attr::Exact(json(&self.kms_key))),
            ("multi_region", Attr::Exact(json(&self.multi_region))),
            ("organization", Attr::Exact(json(&self.organization))),
            ("log_validation", Attr::Exact(json(&self.log_validation))),
            ("global_events", Attr::Exact(json(&self.global_events))),
            ("logging", Attr::Exact(json(&self.logging))),
            ("tags", Attr::Tags(&self.tags)),
        ]
    }

    type Raw = Option<Found<TrailSpec>>;

    async fn read_own(aws: &Aws, read: &Read<'_>) -> Result<Self::Raw, DiscoverError> {
        if read.organization.organization.is_none() {
            return Ok(None);
        }
        read_trail(aws, read.blueprint).await
    }

    fn identify(_read: &Read<'_>, raw: &Self::Raw) -> Vec<(Address, Observed)> {
        raw.iter()
            .map(|trail| {
                (
                    Address::trail(ORG_TRAIL),
                    observed(
                        trail.id.clone(),
                        Spec::CloudtrailTrail(trail.spec.clone()),
                        None,
                    ),
                )
            })
            .collect()
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        let Some(want) = step.want else {
            return Ok(Seen::default());
        };
        let arn = ctx
            .cloudtrail()
            .describe_trails()
            .trail_name_list(&want.name)
            .send()
            .await
            .map_err(call("cloudtrail.DescribeTrails"))?
            .trail_list()
            .iter()
            .find(|t| t.name() == Some(want.name.as_str()))
            .map(|t| t.trail_arn().unwrap_or(want.name.as_str()).to_owned());
        Ok(Seen { arn })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        let Some(want) = step.want else {
            return Err(step.never_deleted("it is part of the audit log"));
        };
        let full = step.full();
        let mut ops = Vec::new();
        if seen.arn.is_none() {
            ops.push(Op::Create);
        } else {
            if full || SETTINGS.iter().any(|s| step.touches(s)) {
                ops.push(Op::Update);
            }
            if full || step.touches("tags") {
                ops.push(Op::Tag);
            }
        }
        if full || step.touches("logging") {
            ops.push(if want.logging { Op::Start } else { Op::Stop });
        }
        Ok(ops)
    }

    async fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        seen: &mut Seen,
        op: &Op,
    ) -> Result<(), StepError> {
        let Some(spec) = step.want else {
            return Ok(());
        };
        let cloudtrail = ctx.cloudtrail();
        let name = &spec.name;
        match op {
            Op::Create => {
                cloudtrail
                    .create_trail()
                    .name(name)
                    .s3_bucket_name(&spec.bucket)
                    .kms_key_id(&spec.kms_key)
                    .is_multi_region_trail(spec.multi_region)
                    .is_organization_trail(spec.organization)
                    .enable_log_file_validation(spec.log_validation)
                    .include_global_service_events(spec.global_events)
                    .set_tags_list(Some(trail_tags(spec)?))
                    .send()
                    .await
                    .map_err(call("cloudtrail.CreateTrail"))?;
            }
            Op::Update => {
                cloudtrail
                    .update_trail()
                    .name(name)
                    .s3_bucket_name(&spec.bucket)
                    .kms_key_id(&spec.kms_key)
                    .is_multi_region_trail(spec.multi_region)
                    .is_organization_trail(spec.organization)
                    .enable_log_file_validation(spec.log_validation)
                    .include_global_service_events(spec.global_events)
                    .send()
                    .await
                    .map_err(call("cloudtrail.UpdateTrail"))?;
            }
            Op::Tag => {
                cloudtrail
                    .add_tags()
                    .set_resource_id(seen.arn.clone())
                    .set_tags_list(Some(trail_tags(spec)?))
                    .send()
                    .await
                    .map_err(call("cloudtrail.AddTags"))?;
            }
            Op::Start => {
                cloudtrail
                    .start_logging()
                    .name(name)
                    .send()
                    .await
                    .map_err(call("cloudtrail.StartLogging"))?;
            }
            Op::Stop => {
                cloudtrail
                    .stop_logging()
                    .name(name)
                    .send()
                    .await
                    .map_err(call("cloudtrail.StopLogging"))?;
            }
        }
        Ok(())
    }
}

fn trail_tags(spec: &TrailSpec) -> Result<Vec<aws_sdk_cloudtrail::types::Tag>, StepError> {
    spec.tags
        .iter()
        .map(|(k, v)| {
            Ok(aws_sdk_cloudtrail::types::Tag::builder()
                .key(k)
                .value(v)
                .build()?)
        })
        .collect()
}

/// The organization trail, read in the management account.
async fn read_trail(
    aws: &Aws,
    blueprint: &Blueprint,
) -> Result<Option<Found<TrailSpec>>, DiscoverError> {
    let cloudtrail = &aws.cloudtrail(&blueprint.home_region);
    let name = blueprint.trail_name();
    let trails = cloudtrail
        .describe_trails()
        .trail_name_list(&name)
        .include_shadow_trails(false)
        .send()
        .await
        .map_err(call("cloudtrail.DescribeTrails"))?;
    let Some(trail) = trails
        .trail_list()
        .iter()
        .find(|t| t.name() == Some(name.as_str()))
    else {
        return Ok(None);
    };
    let arn = trail.trail_arn().unwrap_or_default();
    let status = cloudtrail
        .get_trail_status()
        .name(arn)
        .send()
        .await
        .map_err(call("cloudtrail.GetTrailStatus"))?;
    let tags = cloudtrail
        .list_tags()
        .resource_id_list(arn)
        .send()
        .await
        .map_err(call("cloudtrail.ListTags"))?;
    let tags = tag_map(
        tags.resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .map(|t| (t.key(), t.value().unwrap_or_default())),
    );
    let spec = TrailSpec {
        name,
        bucket: trail.s3_bucket_name().unwrap_or_default().to_owned(),
        kms_key: trail.kms_key_id().unwrap_or_default().to_owned(),
        multi_region: trail.is_multi_region_trail() == Some(true),
        organization: trail.is_organization_trail() == Some(true),
        log_validation: trail.log_file_validation_enabled() == Some(true),
        global_events: trail.include_global_service_events() == Some(true),
        logging: status.is_logging() == Some(true),
        tags,
    };
    Ok(Some(Found {
        id: Some(arn.to_owned()),
        spec,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec() -> TrailSpec {
        TrailSpec {
            name: "lz-organization".to_owned(),
            bucket: "audit".to_owned(),
            kms_key: "arn:aws:kms:eu-west-3:111122223333:key/1".to_owned(),
            multi_region: true,
            organization: true,
            log_validation: true,
            global_events: true,
            logging: true,
            tags: Tags::new(),
        }
    }

    #[test]
    fn a_new_trail_is_created_then_started() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let ops = TrailSpec::decide(&step(&change, Some(&want), None), &Seen::default());
        assert_eq!(ops.unwrap(), [Op::Create, Op::Start]);
    }

    #[test]
    fn a_stopped_trail_is_started_and_a_changed_setting_updated() {
        let want = spec();
        let seen = Seen {
            arn: Some("arn:aws:cloudtrail:eu-west-3:1:trail/lz-organization".to_owned()),
        };
        let stopped = change(Action::Update, &["logging"]);
        let ops = TrailSpec::decide(&step(&stopped, Some(&want), None), &seen);
        assert_eq!(ops.unwrap(), [Op::Start]);
        let narrowed = change(Action::Update, &["multi_region"]);
        let ops = TrailSpec::decide(&step(&narrowed, Some(&want), None), &seen);
        assert_eq!(ops.unwrap(), [Op::Update]);
    }
}
