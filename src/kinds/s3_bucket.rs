//! The audit and access-log buckets, in the log-archive account. Never deleted. Every
//! setting is written whole, so repeating a write is harmless; the policy goes last, since it
//! denies what a misconfigured request would do.

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
use serde::{Deserialize, Serialize};

use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::desired::{Address, Spec, Tags};
use crate::discover::Read;
use crate::policy::PolicyDocument;

/// An S3 bucket with its security settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BucketSpec {
    /// Its name.
    pub name: String,
    /// The region.
    pub region: String,
    /// Default encryption: `aws:kms` with a key, or `AES256`.
    pub encryption: Encryption,
    /// Whether versioning is enabled.
    pub versioning: bool,
    /// Whether all four public access blocks are on.
    pub block_public_access: bool,
    /// Object ownership (`BucketOwnerEnforced`: ACLs disabled).
    pub object_ownership: String,
    /// Days after which objects and noncurrent versions expire.
    pub expire_after_days: i64,
    /// Object Lock default retention, if any.
    pub object_lock: Option<ObjectLockSpec>,
    /// The bucket receiving this bucket's server access logs.
    pub access_log_bucket: Option<String>,
    /// The bucket policy.
    pub policy: PolicyDocument,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// A bucket's default encryption.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Encryption {
    /// SSE-KMS with this key (an ARN, or an alias until the key exists), bucket key on.
    Kms {
        /// The key.
        key: String,
    },
    /// SSE-S3.
    S3,
    /// No default encryption (only ever found, never desired).
    None,
}

/// Object Lock default retention.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectLockSpec {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    /// Default retention in days.
    pub days: i64,
}

/// What apply finds of the bucket.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    exists: bool,
}

/// One write to a bucket, each setting written whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateBucket, with object lock when wanted (S3 allows it only then).
    Create,
    /// PutPublicAccessBlock, all four on.
    BlockPublicAccess,
    /// PutBucketOwnershipControls.
    Ownership,
    /// PutBucketEncryption.
    Encryption,
    /// PutBucketVersioning.
    Versioning,
    /// PutBucketLifecycleConfiguration.
    Lifecycle,
    /// PutObjectLockConfiguration.
    ObjectLock,
    /// PutBucketLogging.
    Logging,
    /// PutBucketTagging.
    Tags,
    /// PutBucketPolicy.
    Policy,
}

/// The settings in the order they are written, with the attribute each one sets.
const SETTINGS: [(&str, Op); 9] = [
    ("block_public_access", Op::BlockPublicAccess),
    ("object_ownership", Op::Ownership),
    ("encryption", Op::Encryption),
    ("versioning", Op::Versioning),
    ("expire_after_days", Op::Lifecycle),
    ("object_lock", Op::ObjectLock),
    ("access_log_bucket", Op::Logging),
    ("tags", Op::Tags),
    // Last: the policy denies what a misconfigured request would do.
    ("policy", Op::Policy),
];

impl ResourceKind for BucketSpec {
    const NAME: &'static str = "s3_bucket";
    const RANK: u8 = 4;
    const DELETABLE_WITH: Option<DeletableKind> = None;

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("encryption", Attr::Exact(json(&self.encryption))),
            ("versioning", Attr::Exact(json(&self.versioning))),
            (
                "block_public_access",
                Attr::Exact(json(&self.block_public_access)),
            ),
            ("object_ownership", Attr::Exact(json(&self.object_ownership))),
            ("expire_after_days", Attr::Exact(json(&self.expire_after_days))),
            ("object_lock", Attr::Exact(json(&self.object_lock))),
            ("access_log_bucket", Attr::Exact(json(&self.access_log_bucket))),
            ("policy", Attr::Policy(&self.policy)),
            ("tags", Attr::Tags(&self.tags)),
        ]
    }

    fn impossible(&self, found: &BucketSpec) -> Option<String> {
        (self.object_lock.is_some() && found.object_lock.is_none()).then(|| {
            format!(
                "bucket {} exists without object lock, which S3 turns on only when a bucket is created; lz will not replace an audit bucket. Set audit_log.object_lock to off, or audit_log.bucket_name to a new bucket",
                self.name
            )
        })
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        let account = read.blueprint.accounts.log_archive.name.as_str();
        read.log_archive
            .iter()
            .flat_map(|audit| &audit.buckets)
            .map(|(short, bucket)| {
                (
                    Address::bucket(short),
                    observed(
                        bucket.id.clone(),
                        Spec::S3Bucket(bucket.spec.clone()),
                        Some(account),
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
        let member = ctx.member(step.account()?).await?;
        let exists = match member.s3.head_bucket().bucket(&want.name).send().await {
            Ok(_) => true,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => false,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                return Err(StepError::BucketNameTaken {
                    bucket: want.name.clone(),
                });
            }
            Err(e) => return Err(call("s3.HeadBucket")(e).into()),
        };
        Ok(Seen { exists })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        let Some(want) = step.want else {
            return Err(step.never_deleted("it is part of the audit log"));
        };
        // A bucket found where the plan expected none (made by an interrupted run), or gone
        // since the plan: set it all.
        let full = step.full() || !seen.exists;
        let mut ops = Vec::new();
        if !seen.exists {
            ops.push(Op::Create);
        }
        for (attribute, op) in SETTINGS {
            if op == Op::ObjectLock && want.object_lock.is_none() {
                continue;
            }
            if full || step.touches(attribute) {
                ops.push(op);
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
        let Some(spec) = step.want else {
            return Ok(());
        };
        let member = ctx.member(step.account()?).await?;
        let s3 = &member.s3;
        let bucket = &spec.name;
        match op {
            Op::Create => {
                let mut create = s3
                    .create_bucket()
                    .bucket(bucket)
                    .object_lock_enabled_for_bucket(spec.object_lock.is_some());
                if spec.region != "us-east-1" {
                    create = create.create_bucket_configuration(
                        CreateBucketConfiguration::builder()
                            .location_constraint(BucketLocationConstraint::from(
                                spec.region.as_str(),
                            ))
                            .build(),
                    );
                }
                create.send().await.map_err(call("s3.CreateBucket"))?;
            }
            Op::BlockPublicAccess => {
                s3.put_public_access_block()
                    .bucket(bucket)
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
            Op::Ownership => {
                let rule = OwnershipControlsRule::builder()
                    .object_ownership(ObjectOwnership::from(spec.object_ownership.as_str()))
                    .build()?;
                s3.put_bucket_ownership_controls()
                    .bucket(bucket)
                    .ownership_controls(OwnershipControls::builder().rules(rule).build()?)
                    .send()
                    .await
                    .map_err(call("s3.PutBucketOwnershipControls"))?;
            }
            Op::Encryption => put_encryption(s3, spec).await?,
            Op::Versioning => {
                s3.put_bucket_versioning()
                    .bucket(bucket)
                    .versioning_configuration(
                        VersioningConfiguration::builder()
                            .status(BucketVersioningStatus::Enabled)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(call("s3.PutBucketVersioning"))?;
            }
            Op::Lifecycle => {
                let days = i32::try_from(spec.expire_after_days).unwrap_or(i32::MAX);
                let rule = LifecycleRule::builder()
                    .id("lz-retention")
                    .status(ExpirationStatus::Enabled)
                    .filter(LifecycleRuleFilter::builder().prefix("").build())
                    .expiration(LifecycleExpiration::builder().days(days).build())
                    .noncurrent_version_expiration(
                        NoncurrentVersionExpiration::builder()
                            .noncurrent_days(days)
                            .build(),
                    )
                    .build()?;
                s3.put_bucket_lifecycle_configuration()
                    .bucket(bucket)
                    .lifecycle_configuration(
                        BucketLifecycleConfiguration::builder().rules(rule).build()?,
                    )
                    .send()
                    .await
                    .map_err(call("s3.PutBucketLifecycleConfiguration"))?;
            }
            Op::ObjectLock => {
                let Some(lock) = &spec.object_lock else {
                    return Ok(());
                };
                s3.put_object_lock_configuration()
                    .bucket(bucket)
                    .object_lock_configuration(
                        ObjectLockConfiguration::builder()
                            .object_lock_enabled(ObjectLockEnabled::Enabled)
                            .rule(
                                ObjectLockRule::builder()
                                    .default_retention(
                                        DefaultRetention::builder()
                                            .mode(ObjectLockRetentionMode::from(
                                                lock.mode.as_str(),
                                            ))
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
            Op::Logging => {
                let status = match &spec.access_log_bucket {
                    Some(target) => BucketLoggingStatus::builder()
                        .logging_enabled(
                            LoggingEnabled::builder()
                                .target_bucket(target)
                                .target_prefix(format!("{bucket}/"))
                                .build()?,
                        )
                        .build(),
                    None => BucketLoggingStatus::builder().build(),
                };
                s3.put_bucket_logging()
                    .bucket(bucket)
                    .bucket_logging_status(status)
                    .send()
                    .await
                    .map_err(call("s3.PutBucketLogging"))?;
            }
            Op::Tags => {
                let tags: Vec<S3Tag> = spec
                    .tags
                    .iter()
                    .map(|(k, v)| S3Tag::builder().key(k).value(v).build())
                    .collect::<Result<_, _>>()?;
                s3.put_bucket_tagging()
                    .bucket(bucket)
                    .tagging(Tagging::builder().set_tag_set(Some(tags)).build()?)
                    .send()
                    .await
                    .map_err(call("s3.PutBucketTagging"))?;
            }
            Op::Policy => {
                s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(spec.policy.to_json())
                    .send()
                    .await
                    .map_err(call("s3.PutBucketPolicy"))?;
            }
        }
        Ok(())
    }
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
        .apply_server_side_encryption_by_default(default?)
        .bucket_key_enabled(bucket_key)
        .build();
    s3.put_bucket_encryption()
        .bucket(&spec.name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?,
        )
        .send()
        .await
        .map_err(call("s3.PutBucketEncryption"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec(lock: bool) -> BucketSpec {
        BucketSpec {
            name: "audit".to_owned(),
            region: "eu-west-3".to_owned(),
            encryption: Encryption::S3,
            versioning: true,
            block_public_access: true,
            object_ownership: "BucketOwnerEnforced".to_owned(),
            expire_after_days: 400,
            object_lock: lock.then(|| ObjectLockSpec {
                mode: "GOVERNANCE".to_owned(),
                days: 30,
            }),
            access_log_bucket: None,
            policy: PolicyDocument::new(Vec::new()),
            tags: Tags::new(),
        }
    }

    #[test]
    fn a_new_bucket_is_locked_down_before_its_policy_is_set() {
        let (want, change) = (spec(true), change(Action::Create, &[]));
        let ops = BucketSpec::decide(&step(&change, Some(&want), None), &Seen::default()).unwrap();
        assert_eq!(ops.first(), Some(&Op::Create));
        assert_eq!(ops.last(), Some(&Op::Policy));
        assert_eq!(ops.len(), 10);
        let unlocked = spec(false);
        let ops = BucketSpec::decide(&step(&change, Some(&unlocked), None), &Seen::default());
        assert!(!ops.unwrap().contains(&Op::ObjectLock));
    }

    #[test]
    fn a_bucket_gone_since_the_plan_is_set_in_full() {
        let (want, change) = (spec(false), change(Action::Update, &["versioning"]));
        let ops = BucketSpec::decide(&step(&change, Some(&want), None), &Seen { exists: true });
        assert_eq!(ops.unwrap(), [Op::Versioning]);
        let ops = BucketSpec::decide(&step(&change, Some(&want), None), &Seen { exists: false });
        assert_eq!(ops.unwrap().len(), 9);
    }

    #[test]
    fn object_lock_cannot_be_added_to_a_bucket_in_place() {
        assert!(spec(true).impossible(&spec(false)).is_some());
        assert!(spec(false).impossible(&spec(true)).is_none());
    }
}
