//! Changes to the audit log: the KMS key and the buckets in the log-archive account, the
//! organization trail in the management account. The key and the buckets are never deleted,
//! and the key is never scheduled for deletion.

use aws_sdk_kms::types::{KeySpec as KmsKeySpec, KeyUsageType, Tag as KmsTag};
use aws_sdk_s3::error::{BuildError, ProvideErrorMetadata};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketLoggingStatus,
    BucketVersioningStatus, CreateBucketConfiguration, DefaultRetention, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, LoggingEnabled,
    NoncurrentVersionExpiration, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockRetentionMode, ObjectLockRule, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag as S3Tag, Tagging, VersioningConfiguration,
};

use super::{Live, StepError};
use crate::aws::{Aws, Member, call};
use crate::desired::{BucketSpec, Encryption, KeySpec, Spec, TrailSpec};
use crate::discover::list_aliases;
use crate::plan::{Action, Change};

fn built<T>(result: Result<T, BuildError>) -> Result<T, StepError> {
    Ok(result?)
}

fn touches(change: &Change, attribute: &str) -> bool {
    change.action == Action::Create || change.attributes.iter().any(|a| a.name == attribute)
}

fn refuse_delete(change: &Change) -> Result<(), StepError> {
    if change.action == Action::Delete {
        return Err(StepError::NeverDeleted {
            address: change.address.clone(),
            why: "it is part of the audit log",
        });
    }
    Ok(())
}

async fn log_archive(
    aws: &Aws,
    live: &Live,
    change: &Change,
) -> Result<std::sync::Arc<Member>, StepError> {
    let account = change
        .account
        .as_deref()
        .ok_or_else(|| StepError::NoAccount {
            address: change.address.clone(),
        })?;
    live.member(aws, account).await
}

pub(super) async fn key(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    refuse_delete(change)?;
    let Some(Spec::KmsKey(spec)) = change.after.as_deref() else {
        return Ok(());
    };
    let member = log_archive(aws, live, change).await?;
    let kms = &member.kms;
    let full = change.action == Action::Create;
    let key_id = match &change.id {
        Some(arn) => arn.clone(),
        None => create_key(kms, spec).await?,
    };
    if change.id.is_none() {
        let aliased = kms
            .create_alias()
            .alias_name(&spec.alias)
            .target_key_id(&key_id)
            .send()
            .await;
        // A retried alias whose first try went through; any other refusal is an error.
        if !matches!(&aliased, Err(e) if e.code() == Some("AlreadyExistsException")) {
            aliased.map_err(call("kms.CreateAlias"))?;
        }
    }
    if full || touches(change, "rotation") {
        kms.enable_key_rotation()
            .key_id(&key_id)
            .send()
            .await
            .map_err(call("kms.EnableKeyRotation"))?;
    }
    if !full && touches(change, "policy") {
        kms.put_key_policy()
            .key_id(&key_id)
            .policy_name("default")
            .policy(spec.policy.to_json())
            .send()
            .await
            .map_err(call("kms.PutKeyPolicy"))?;
    }
    if !full && touches(change, "description") {
        kms.update_key_description()
            .key_id(&key_id)
            .description(&spec.description)
            .send()
            .await
            .map_err(call("kms.UpdateKeyDescription"))?;
    }
    if !full && touches(change, "tags") {
        let tags = key_tags(spec)?;
        kms.tag_resource()
            .key_id(&key_id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(call("kms.TagResource"))?;
    }
    Ok(())
}

fn key_tags(spec: &KeySpec) -> Result<Vec<KmsTag>, StepError> {
    spec.tags
        .iter()
        .map(|(k, v)| built(KmsTag::builder().tag_key(k).tag_value(v).build()))
        .collect()
}

/// Creates the key, once. CreateKey has no idempotency token, so the SDK must not retry it (a
/// lost answer would leave a second key); after a failure lz looks for the key by its tags
/// before trying again.
async fn create_key(kms: &aws_sdk_kms::Client, spec: &KeySpec) -> Result<String, StepError> {
    let mut pause = std::time::Duration::from_millis(200);
    for attempt in 1.. {
        if let Some(id) = orphan_key(kms, spec).await? {
            return Ok(id);
        }
        let created = kms
            .create_key()
            .description(&spec.description)
            .key_usage(KeyUsageType::EncryptDecrypt)
            .key_spec(KmsKeySpec::SymmetricDefault)
            .policy(spec.policy.to_json())
            .set_tags(Some(key_tags(spec)?))
            .customize()
            .config_override(
                aws_sdk_kms::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match created {
            Ok(out) => {
                return out.key_metadata().map(|m| m.key_id().to_owned()).ok_or(
                    StepError::IncompleteAnswer {
                        operation: "kms.CreateKey",
                        missing: "key",
                    },
                );
            }
            Err(e)
                if !matches!(e, aws_sdk_kms::error::SdkError::ServiceError(_))
                    && attempt < crate::aws::MAX_ATTEMPTS =>
            {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(aws_sdk_kms::error::SdkError::ServiceError(e))
                if e.raw().status().is_server_error() && attempt < crate::aws::MAX_ATTEMPTS =>
            {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(e) => return Err(call("kms.CreateKey")(e).into()),
        }
    }
    unreachable!("the loop returns")
}

/// A key of ours whose alias was never made: a run stopped between CreateKey and CreateAlias.
/// Reusing it keeps a crash from leaving one more key behind each time.
async fn orphan_key(
    kms: &aws_sdk_kms::Client,
    spec: &KeySpec,
) -> Result<Option<String>, StepError> {
    let keys = kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(call("kms.ListKeys"))?;
    let aliases = list_aliases(kms).await?;
    for key in keys {
        let Some(id) = key.key_id() else { continue };
        if aliases.iter().any(|a| a.target_key_id() == Some(id)) {
            continue;
        }
        let tags = kms
            .list_resource_tags()
            .key_id(id)
            .send()
            .await
            .map_err(call("kms.ListResourceTags"))?;
        // Its tags include `lz:key`, naming which of lz's keys it is.
        let ours = spec.tags.iter().all(|(k, v)| {
            tags.tags()
                .iter()
                .any(|t| t.tag_key() == k && t.tag_value() == v)
        });
        if ours {
            return Ok(Some(id.to_owned()));
        }
    }
    Ok(None)
}

pub(super) async fn bucket(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    refuse_delete(change)?;
    let Some(Spec::S3Bucket(spec)) = change.after.as_deref() else {
        return Ok(());
    };
    let member = log_archive(aws, live, change).await?;
    let s3 = &member.s3;
    let exists = match s3.head_bucket().bucket(&spec.name).send().await {
        Ok(_) => true,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => false,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
            return Err(StepError::BucketNameTaken {
                bucket: spec.name.clone(),
            });
        }
        Err(e) => return Err(call("s3.HeadBucket")(e).into()),
    };
    // A bucket found where the plan expected none (made by an interrupted run), or gone since
    // the plan: set it all.
    let full = change.action == Action::Create || !exists;
    if !exists {
        let mut create = s3
            .create_bucket()
            .bucket(&spec.name)
            .object_lock_enabled_for_bucket(spec.object_lock.is_some());
        if spec.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(spec.region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {}
            // A retried create whose first try went through.
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(call("s3.CreateBucket")(e).into()),
        }
    }
    if full || touches(change, "block_public_access") {
        s3.put_public_access_block()
            .bucket(&spec.name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(call("s3.PutPublicAccessBlock"))?;
    }
    if full || touches(change, "object_ownership") {
        s3.put_bucket_ownership_controls()
            .bucket(&spec.name)
            .ownership_controls(built(
                OwnershipControls::builder()
                    .rules(built(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::from(spec.object_ownership.as_str()))
                            .build(),
                    )?)
                    .build(),
            )?)
            .send()
            .await
            .map_err(call("s3.PutBucketOwnershipControls"))?;
    }
    if full || touches(change, "encryption") {
        put_encryption(s3, spec).await?;
    }
    if full || touches(change, "versioning") {
        s3.put_bucket_versioning()
            .bucket(&spec.name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(call("s3.PutBucketVersioning"))?;
    }
    if full || touches(change, "expire_after_days") {
        let days = i32::try_from(spec.expire_after_days).unwrap_or(i32::MAX);
        let rule = built(
            LifecycleRule::builder()
                .id("lz-retention")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .expiration(LifecycleExpiration::builder().days(days).build())
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(days)
                        .build(),
                )
                .build(),
        )?;
        s3.put_bucket_lifecycle_configuration()
            .bucket(&spec.name)
            .lifecycle_configuration(built(
                BucketLifecycleConfiguration::builder().rules(rule).build(),
            )?)
            .send()
            .await
            .map_err(call("s3.PutBucketLifecycleConfiguration"))?;
    }
    if (full || touches(change, "object_lock"))
        && let Some(lock) = &spec.object_lock
    {
        s3.put_object_lock_configuration()
            .bucket(&spec.name)
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(
                                DefaultRetention::builder()
                                    .mode(ObjectLockRetentionMode::from(lock.mode.as_str()))
                                    .days(i32::try_from(lock.days).unwrap_or(i32::MAX))
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(call("s3.PutObjectLockConfiguration"))?;
    }
    if full || touches(change, "access_log_bucket") {
        let status = match &spec.access_log_bucket {
            Some(target) => BucketLoggingStatus::builder()
                .logging_enabled(built(
                    LoggingEnabled::builder()
                        .target_bucket(target)
                        .target_prefix(format!("{}/", spec.name))
                        .build(),
                )?)
                .build(),
            None => BucketLoggingStatus::builder().build(),
        };
        s3.put_bucket_logging()
            .bucket(&spec.name)
            .bucket_logging_status(status)
            .send()
            .await
            .map_err(call("s3.PutBucketLogging"))?;
    }
    if full || touches(change, "tags") {
        let tags: Vec<S3Tag> = spec
            .tags
            .iter()
            .map(|(k, v)| built(S3Tag::builder().key(k).value(v).build()))
            .collect::<Result<_, _>>()?;
        s3.put_bucket_tagging()
            .bucket(&spec.name)
            .tagging(built(Tagging::builder().set_tag_set(Some(tags)).build())?)
            .send()
            .await
            .map_err(call("s3.PutBucketTagging"))?;
    }
    // Last: the policy denies what a misconfigured request would do, so set it once the rest is.
    if full || touches(change, "policy") {
        s3.put_bucket_policy()
            .bucket(&spec.name)
            .policy(spec.policy.to_json())
            .send()
            .await
            .map_err(call("s3.PutBucketPolicy"))?;
    }
    Ok(())
}

async fn put_encryption(s3: &aws_sdk_s3::Client, spec: &BucketSpec) -> Result<(), StepError> {
    let (default, bucket_key) = match &spec.encryption {
        Encryption::Kms { key } => (
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(key)
                .build(),
            true,
        ),
        Encryption::S3 | Encryption::None => (
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build(),
            false,
        ),
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(built(default)?)
        .bucket_key_enabled(bucket_key)
        .build();
    s3.put_bucket_encryption()
        .bucket(&spec.name)
        .server_side_encryption_configuration(built(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build(),
        )?)
        .send()
        .await
        .map_err(call("s3.PutBucketEncryption"))?;
    Ok(())
}

pub(super) async fn trail(aws: &Aws, live: &Live, change: &Change) -> Result<(), StepError> {
    refuse_delete(change)?;
    let Some(Spec::CloudtrailTrail(spec)) = change.after.as_deref() else {
        return Ok(());
    };
    let cloudtrail = &aws.cloudtrail(live.home_region());
    let mut exists = cloudtrail
        .describe_trails()
        .trail_name_list(&spec.name)
        .send()
        .await
        .map_err(call("cloudtrail.DescribeTrails"))?
        .trail_list()
        .iter()
        .any(|t| t.name() == Some(spec.name.as_str()));
    let full = change.action == Action::Create;
    let settings = [
        "bucket",
        "kms_key",
        "multi_region",
        "organization",
        "log_validation",
        "global_events",
    ];
    if !exists {
        let tags = trail_tags(spec)?;
        let created = cloudtrail
            .create_trail()
            .name(&spec.name)
            .s3_bucket_name(&spec.bucket)
            .kms_key_id(&spec.kms_key)
            .is_multi_region_trail(spec.multi_region)
            .is_organization_trail(spec.organization)
            .enable_log_file_validation(spec.log_validation)
            .include_global_service_events(spec.global_events)
            .set_tags_list(Some(tags))
            .send()
            .await;
        match created {
            Ok(_) => {}
            // A retried create whose first try went through: set it all as an update.
            Err(e) if e.code() == Some("TrailAlreadyExistsException") => exists = true,
            Err(e) => return Err(call("cloudtrail.CreateTrail")(e).into()),
        }
    }
    if exists && (full || settings.iter().any(|s| touches(change, s))) {
        cloudtrail
            .update_trail()
            .name(&spec.name)
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
    if exists && (full || touches(change, "tags")) {
        let tags = trail_tags(spec)?;
        cloudtrail
            .add_tags()
            .resource_id(trail_arn(cloudtrail, spec).await?)
            .set_tags_list(Some(tags))
            .send()
            .await
            .map_err(call("cloudtrail.AddTags"))?;
    }
    if full || touches(change, "logging") {
        if spec.logging {
            cloudtrail
                .start_logging()
                .name(&spec.name)
                .send()
                .await
                .map_err(call("cloudtrail.StartLogging"))?;
        } else {
            cloudtrail
                .stop_logging()
                .name(&spec.name)
                .send()
                .await
                .map_err(call("cloudtrail.StopLogging"))?;
        }
    }
    Ok(())
}

fn trail_tags(spec: &TrailSpec) -> Result<Vec<aws_sdk_cloudtrail::types::Tag>, StepError> {
    spec.tags
        .iter()
        .map(|(k, v)| {
            built(
                aws_sdk_cloudtrail::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build(),
            )
        })
        .collect()
}

async fn trail_arn(
    cloudtrail: &aws_sdk_cloudtrail::Client,
    spec: &TrailSpec,
) -> Result<String, StepError> {
    let trails = cloudtrail
        .describe_trails()
        .trail_name_list(&spec.name)
        .send()
        .await
        .map_err(call("cloudtrail.DescribeTrails"))?;
    trails
        .trail_list()
        .iter()
        .find_map(|t| t.trail_arn().map(str::to_owned))
        .ok_or_else(|| StepError::NotFound {
            what: "trail",
            name: spec.name.clone(),
        })
}
