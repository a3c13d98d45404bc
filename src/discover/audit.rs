//! Reading the audit log's key and buckets in the log-archive account, as plain data the
//! kinds name. Names are deterministic, so each is read directly, never searched for.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{BucketVersioningStatus, ExpirationStatus, ObjectLockEnabled};

use super::{DiscoverError, Found, tag_map};
use crate::aws::{CallError, Member, call};
use crate::blueprint::Blueprint;
use crate::desired::audit::{ACCESS_LOGS, AUDIT};
use crate::desired::{BucketSpec, Encryption, KeySpec, ObjectLockSpec};
use crate::policy::PolicyDocument;

/// The mode shown for a bucket whose object lock is on without a default retention.
const NO_RETENTION: &str = "(no default retention)";

/// Whether an S3 or KMS error says the thing asked about is not configured.
fn absent<E: ProvideErrorMetadata>(error: &E, codes: &[&str]) -> bool {
    error.code().is_some_and(|c| codes.contains(&c))
}

/// The audit key and both buckets, as read in the log-archive account.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogArchiveRead {
    /// The key the audit alias points at.
    pub key: Option<Found<KeySpec>>,
    /// The buckets that exist, each with its short name ([`AUDIT`], [`ACCESS_LOGS`]).
    pub buckets: Vec<(&'static str, Found<BucketSpec>)>,
}

/// Reads the audit key and both buckets in the log-archive account.
pub(crate) async fn read_log_archive(
    member: &Member,
    blueprint: &Blueprint,
    log_archive_id: &str,
) -> Result<LogArchiveRead, DiscoverError> {
    let mut read = LogArchiveRead {
        key: read_key(member, blueprint).await?,
        buckets: Vec::new(),
    };
    let buckets = [
        (
            ACCESS_LOGS,
            blueprint.access_log_bucket_name(log_archive_id),
        ),
        (AUDIT, blueprint.audit_bucket_name(log_archive_id)),
    ];
    let existing = member
        .s3
        .list_buckets()
        .send()
        .await
        .map_err(call("s3.ListBuckets"))?;
    for (short, name) in buckets {
        if existing
            .buckets()
            .iter()
            .any(|b| b.name() == Some(name.as_str()))
        {
            read.buckets.push((
                short,
                read_bucket(member, &name, &blueprint.home_region).await?,
            ));
        }
    }
    Ok(read)
}

/// Every alias in the account (the 14 `aws/*` ones among them).
pub(crate) async fn list_aliases(
    kms: &aws_sdk_kms::Client,
) -> Result<Vec<aws_sdk_kms::types::AliasListEntry>, CallError> {
    kms.list_aliases()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(call("kms.ListAliases"))
}

async fn read_key(
    member: &Member,
    blueprint: &Blueprint,
) -> Result<Option<Found<KeySpec>>, DiscoverError> {
    let kms = &member.kms;
    let alias = format!("alias/{}", blueprint.audit_key_alias());
    let aliases = list_aliases(kms).await?;
    let Some(key_id) = aliases
        .iter()
        .find(|a| a.alias_name() == Some(alias.as_str()))
        .and_then(|a| a.target_key_id())
    else {
        return Ok(None);
    };
    let described = kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(call("kms.DescribeKey"))?;
    let metadata = described.key_metadata();
    let rotation = kms
        .get_key_rotation_status()
        .key_id(key_id)
        .send()
        .await
        .map_err(call("kms.GetKeyRotationStatus"))?
        .key_rotation_enabled();
    let policy = kms
        .get_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .send()
        .await
        .map_err(call("kms.GetKeyPolicy"))?;
    let tags = kms
        .list_resource_tags()
        .key_id(key_id)
        .send()
        .await
        .map_err(call("kms.ListResourceTags"))?;
    let spec = KeySpec {
        alias,
        description: metadata
            .and_then(|m| m.description())
            .unwrap_or_default()
            .to_owned(),
        rotation,
        policy: policy
            .policy()
            .and_then(|p| PolicyDocument::parse(p).ok())
            .unwrap_or_else(|| PolicyDocument::new(Vec::new())),
        tags: tag_map(tags.tags().iter().map(|t| (t.tag_key(), t.tag_value()))),
    };
    Ok(Some(Found {
        id: metadata.and_then(|m| m.arn()).map(str::to_owned),
        spec,
    }))
}

async fn read_bucket(
    member: &Member,
    name: &str,
    region: &str,
) -> Result<Found<BucketSpec>, DiscoverError> {
    let s3 = &member.s3;
    let encryption = match s3.get_bucket_encryption().bucket(name).send().await {
        Ok(out) => out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| {
                let default = r.apply_server_side_encryption_by_default()?;
                Some(match default.kms_master_key_id() {
                    Some(key) if r.bucket_key_enabled() == Some(true) => Encryption::Kms {
                        key: key.to_owned(),
                    },
                    Some(key) => Encryption::Kms {
                        key: format!("{key} (bucket key off)"),
                    },
                    None => Encryption::S3,
                })
            }),
        Err(e) if absent(&e, &["ServerSideEncryptionConfigurationNotFoundError"]) => None,
        Err(e) => return Err(call("s3.GetBucketEncryption")(e).into()),
    };
    let versioning = match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(out) => out.status() == Some(&BucketVersioningStatus::Enabled),
        Err(e) => match misnamed_versioning(&e) {
            Some(enabled) => enabled,
            None => return Err(call("s3.GetBucketVersioning")(e).into()),
        },
    };
    let block_public_access = match s3.get_public_access_block().bucket(name).send().await {
        Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(e) if absent(&e, &["NoSuchPublicAccessBlockConfiguration"]) => false,
        Err(e) => return Err(call("s3.GetPublicAccessBlock")(e).into()),
    };
    let object_ownership = match s3.get_bucket_ownership_controls().bucket(name).send().await {
        Ok(out) => out
            .ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str().to_owned())
            .unwrap_or_default(),
        Err(e) if absent(&e, &["OwnershipControlsNotFoundError"]) => String::new(),
        Err(e) => return Err(call("s3.GetBucketOwnershipControls")(e).into()),
    };
    let expire_after_days = match s3
        .get_bucket_lifecycle_configuration()
        .bucket(name)
        .send()
        .await
    {
        Ok(out) => out
            .rules()
            .iter()
            .find(|r| r.status() == &ExpirationStatus::Enabled)
            .and_then(|r| {
                let current = r.expiration()?.days()?;
                let noncurrent = r.noncurrent_version_expiration()?.noncurrent_days()?;
                (current == noncurrent).then_some(i64::from(current))
            })
            .unwrap_or(0),
        Err(e) if absent(&e, &["NoSuchLifecycleConfiguration"]) => 0,
        Err(e) => return Err(call("s3.GetBucketLifecycleConfiguration")(e).into()),
    };
    let object_lock = match s3.get_object_lock_configuration().bucket(name).send().await {
        Ok(out) => out.object_lock_configuration().and_then(|c| {
            if c.object_lock_enabled() != Some(&ObjectLockEnabled::Enabled) {
                return None;
            }
            // Enabled without a default retention (a run stopped between creating the bucket
            // and writing its rule): object lock is on, and only the rule differs.
            let retention = c.rule().and_then(|r| r.default_retention());
            let mode = retention
                .and_then(|r| r.mode())
                .map(|m| m.as_str().to_owned());
            let days = retention.and_then(|r| r.days()).map(i64::from);
            Some(ObjectLockSpec {
                mode: mode.unwrap_or_else(|| NO_RETENTION.to_owned()),
                days: days.unwrap_or(0),
            })
        }),
        Err(e) if absent(&e, &["ObjectLockConfigurationNotFoundError"]) => None,
        Err(e) => return Err(call("s3.GetObjectLockConfiguration")(e).into()),
    };
    let access_log_bucket = s3
        .get_bucket_logging()
        .bucket(name)
        .send()
        .await
        .map_err(call("s3.GetBucketLogging"))?
        .logging_enabled()
        .map(|l| l.target_bucket().to_owned());
    let policy = match s3.get_bucket_policy().bucket(name).send().await {
        Ok(out) => out.policy().and_then(|p| PolicyDocument::parse(p).ok()),
        Err(e) if absent(&e, &["NoSuchBucketPolicy"]) => None,
        Err(e) => return Err(call("s3.GetBucketPolicy")(e).into()),
    };
    let tags = match s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => tag_map(out.tag_set().iter().map(|t| (t.key(), t.value()))),
        Err(e) if absent(&e, &["NoSuchTagSet"]) => Default::default(),
        Err(e) => return Err(call("s3.GetBucketTagging")(e).into()),
    };
    Ok(Found {
        id: Some(format!("arn:aws:s3:::{name}")),
        spec: BucketSpec {
            name: name.to_owned(),
            region: region.to_owned(),
            encryption: encryption.unwrap_or(Encryption::None),
            versioning,
            block_public_access,
            object_ownership,
            expire_after_days,
            object_lock,
            access_log_bucket,
            policy: policy.unwrap_or_else(|| PolicyDocument::new(Vec::new())),
            tags,
        },
    })
}

/// moto (5.2.x) answers GetBucketVersioning with a `GetBucketVersioningResponse` root where S3
/// sends `VersioningConfiguration`, which the SDK refuses to parse. The raw answer is still
/// in the error: read the status from it. Any other unparsable answer stays an error.
fn misnamed_versioning<E>(
    error: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<bool> {
    let text = std::str::from_utf8(error.raw_response()?.body().bytes()?).ok()?;
    text.contains("<GetBucketVersioningResponse")
        .then(|| text.contains("<Status>Enabled</Status>"))
}
