//! The audit log: a KMS key and two buckets in the log-archive account, and the organization
//! trail in the management account that writes into them.

use super::{Address, BucketSpec, Encryption, Expansion, KeySpec, ObjectLockSpec, Spec, TrailSpec};
use crate::blueprint::ObjectLock;
use crate::policy::{AnyPrincipal, PolicyDocument, Principal, Statement};

/// The address name of the audit key, bucket and the access-log bucket.
pub const AUDIT: &str = "audit";
/// The address name of the bucket receiving the audit bucket's access logs.
pub const ACCESS_LOGS: &str = "access-logs";
/// The address name of the organization trail.
pub const ORG_TRAIL: &str = "org";
/// The tag naming which of lz's keys a KMS key is.
pub const KEY_TAG: &str = "lz:key";

pub(super) fn expand(x: &mut Expansion<'_>) {
    let bp = x.bp;
    let log_archive = bp.accounts.log_archive.name.clone();
    let region = bp.home_region.clone();
    let la_id = x.ids.account(&log_archive);
    let mgmt_id = x.ids.management();
    let trail_name = bp.trail_name();
    let trail_arn = format!("arn:aws:cloudtrail:{region}:{mgmt_id}:trail/{trail_name}");
    let alias = format!("alias/{}", bp.audit_key_alias());
    let access_role_arn = format!("arn:aws:iam::{la_id}:role/{}", bp.organization.access_role);
    let key_policy = key_policy(&la_id, &access_role_arn, &mgmt_id, &trail_arn);
    let mut tags = x.tags(&[]);
    // Finds a key whose alias was never made (a run stopped between the two calls).
    tags.insert(KEY_TAG.to_owned(), AUDIT.to_owned());
    x.push(
        Address::key(AUDIT),
        Some(&log_archive),
        Spec::KmsKey(KeySpec {
            alias: alias.clone(),
            description: format!("{}: encrypts the organization audit trail", bp.name),
            rotation: true,
            policy: key_policy,
            tags,
        }),
        vec![Address::account(&log_archive), Address::organization()],
    );

    let la_id = x.ids.account(&log_archive);
    let logs = bp.access_log_bucket_name(&la_id);
    let tags = x.tags(&[]);
    x.push(
        Address::bucket(ACCESS_LOGS),
        Some(&log_archive),
        Spec::S3Bucket(BucketSpec {
            name: logs.clone(),
            region: region.clone(),
            encryption: Encryption::S3,
            versioning: true,
            block_public_access: true,
            object_ownership: "BucketOwnerEnforced".to_owned(),
            expire_after_days: bp.audit_log.retention_days,
            object_lock: None,
            access_log_bucket: None,
            policy: access_log_policy(&logs, &la_id, &bp.organization.access_role),
            tags,
        }),
        vec![Address::account(&log_archive)],
    );

    let la_id = x.ids.account(&log_archive);
    let mgmt_id = x.ids.management();
    let org_id = x.ids.organization();
    let bucket = bp.audit_bucket_name(&la_id);
    let key_arn = x.ids.key(&Address::key(AUDIT));
    let object_lock = match bp.audit_log.object_lock {
        ObjectLock::Off => None,
        mode => Some(ObjectLockSpec {
            mode: if mode == ObjectLock::Compliance {
                "COMPLIANCE"
            } else {
                "GOVERNANCE"
            }
            .to_owned(),
            days: bp
                .audit_log
                .object_lock_days
                .unwrap_or(bp.audit_log.retention_days),
        }),
    };
    let policy = audit_bucket_policy(
        &bucket,
        &la_id,
        &bp.organization.access_role,
        &mgmt_id,
        &org_id,
        &trail_arn,
        &key_arn,
    );
    let tags = x.tags(&[]);
    x.push(
        Address::bucket(AUDIT),
        Some(&log_archive),
        Spec::S3Bucket(BucketSpec {
            name: bucket.clone(),
            region: region.clone(),
            encryption: Encryption::Kms {
                key: key_arn.clone(),
            },
            versioning: true,
            block_public_access: true,
            object_ownership: "BucketOwnerEnforced".to_owned(),
            expire_after_days: bp.audit_log.retention_days,
            object_lock,
            access_log_bucket: Some(logs),
            policy,
            tags,
        }),
        vec![Address::key(AUDIT), Address::bucket(ACCESS_LOGS)],
    );

    let key_arn = x.ids.key(&Address::key(AUDIT));
    let tags = x.tags(&[]);
    x.push(
        Address::trail(ORG_TRAIL),
        None,
        Spec::CloudtrailTrail(TrailSpec {
            name: trail_name,
            bucket,
            kms_key: key_arn,
            multi_region: true,
            organization: true,
            log_validation: true,
            global_events: true,
            logging: true,
            tags,
        }),
        vec![
            Address::bucket(AUDIT),
            Address::key(AUDIT),
            Address::organization(),
        ],
    );
}

/// The audit key's policy: the log-archive account administers it (so only its principals
/// may decrypt); CloudTrail may encrypt only for this organization's trail; no one but lz's
/// access role may disable it, schedule its deletion, change its policy or rotation, or grant
/// its use.
pub(crate) fn key_policy(
    la_id: &str,
    access_role_arn: &str,
    mgmt_id: &str,
    trail_arn: &str,
) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::allow()
            .sid("LogArchiveAdministers")
            .principal(Principal::aws([format!("arn:aws:iam::{la_id}:root")]))
            .actions(["kms:*"])
            .resources(["*"]),
        Statement::allow()
            .sid("CloudTrailEncrypts")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["kms:GenerateDataKey*"])
            .resources(["*"])
            .condition(
                "StringLike",
                "kms:EncryptionContext:aws:cloudtrail:arn",
                [format!("arn:aws:cloudtrail:*:{mgmt_id}:trail/*")],
            )
            .condition("StringEquals", "aws:SourceArn", [trail_arn.to_owned()]),
        Statement::allow()
            .sid("CloudTrailDescribes")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["kms:DescribeKey"])
            .resources(["*"])
            .condition("StringEquals", "aws:SourceArn", [trail_arn.to_owned()]),
        Statement::deny()
            .sid("DenyKeyChangesButLandingZone")
            .principal(everyone())
            .actions(crate::check::audit::KEY_OPERATIONS.iter().copied())
            .resources(["*"])
            .condition(
                "ArnNotLike",
                "aws:PrincipalArn",
                [access_role_arn.to_owned()],
            ),
    ])
}

fn everyone() -> Principal {
    Principal::Any(AnyPrincipal::Everyone)
}

fn deny_insecure_transport(bucket: &str) -> Statement {
    Statement::deny()
        .sid("DenyInsecureTransport")
        .principal(everyone())
        .actions(["s3:*"])
        .resources([
            format!("arn:aws:s3:::{bucket}"),
            format!("arn:aws:s3:::{bucket}/*"),
        ])
        .condition("Bool", "aws:SecureTransport", ["false"])
}

/// Only lz's access role may change the bucket's settings or erase what it holds; nothing but
/// an AWS service (CloudTrail, S3's log delivery) writes into it.
fn deny_tampering(bucket: &str, la_id: &str, access_role: &str) -> [Statement; 2] {
    let access_role_arn = format!("arn:aws:iam::{la_id}:role/{access_role}");
    let erase = crate::check::audit::OBJECT_WRITES
        .iter()
        .filter(|a| **a != "s3:PutObject");
    [
        Statement::deny()
            .sid("DenyChangesButLandingZone")
            .principal(everyone())
            .actions(
                crate::check::audit::BUCKET_SETTINGS
                    .iter()
                    .chain(erase)
                    .copied(),
            )
            .resources([
                format!("arn:aws:s3:::{bucket}"),
                format!("arn:aws:s3:::{bucket}/*"),
            ])
            .condition("ArnNotLike", "aws:PrincipalArn", [access_role_arn.clone()]),
        Statement::deny()
            .sid("DenyWritesButServices")
            .principal(everyone())
            .actions(["s3:PutObject"])
            .resources([format!("arn:aws:s3:::{bucket}/*")])
            .condition("ArnNotLike", "aws:PrincipalArn", [access_role_arn])
            .condition("Bool", "aws:PrincipalIsAWSService", ["false"]),
    ]
}

/// The audit bucket's policy.
pub(crate) fn audit_bucket_policy(
    bucket: &str,
    la_id: &str,
    access_role: &str,
    mgmt_id: &str,
    org_id: &str,
    trail_arn: &str,
    key_arn: &str,
) -> PolicyDocument {
    let mut statements = vec![
        deny_insecure_transport(bucket),
        Statement::deny()
            .sid("DenyUploadsNotEncryptedWithAuditKey")
            .principal(everyone())
            .actions(["s3:PutObject"])
            .resources([format!("arn:aws:s3:::{bucket}/*")])
            .condition(
                "StringNotEqualsIfExists",
                "s3:x-amz-server-side-encryption-aws-kms-key-id",
                [key_arn.to_owned()],
            ),
        Statement::allow()
            .sid("CloudTrailChecksAcl")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["s3:GetBucketAcl"])
            .resources([format!("arn:aws:s3:::{bucket}")])
            .condition("StringEquals", "aws:SourceArn", [trail_arn.to_owned()]),
        Statement::allow()
            .sid("CloudTrailWrites")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["s3:PutObject"])
            .resources([
                format!("arn:aws:s3:::{bucket}/AWSLogs/{mgmt_id}/*"),
                format!("arn:aws:s3:::{bucket}/AWSLogs/{org_id}/*"),
            ])
            .condition(
                "StringEquals",
                "s3:x-amz-acl",
                ["bucket-owner-full-control"],
            )
            .condition("StringEquals", "aws:SourceArn", [trail_arn.to_owned()]),
    ];
    statements.extend(deny_tampering(bucket, la_id, access_role));
    PolicyDocument::new(statements)
}

/// The access-log bucket's policy: TLS only; S3's logging service writes into it.
pub(crate) fn access_log_policy(bucket: &str, la_id: &str, access_role: &str) -> PolicyDocument {
    // The grant comes first: moto (5.2.x) reads a bucket policy for this grant and fails on
    // any statement before it whose principal is `"*"`. Order means nothing to AWS.
    let mut statements = vec![
        Statement::allow()
            .sid("S3ServerAccessLogs")
            .principal(Principal::service("logging.s3.amazonaws.com"))
            .actions(["s3:PutObject"])
            .resources([format!("arn:aws:s3:::{bucket}/*")])
            .condition("StringEquals", "aws:SourceAccount", [la_id.to_owned()]),
        deny_insecure_transport(bucket),
    ];
    statements.extend(deny_tampering(bucket, la_id, access_role));
    PolicyDocument::new(statements)
}
