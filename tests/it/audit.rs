//! The audit log against moto (issue 6's list): key, buckets and trail, their drift.

use std::collections::BTreeSet;

use aws_sdk_s3::types::{BucketVersioningStatus, MfaDelete, VersioningConfiguration};
use landing_zone::policy::{Effect, PolicyDocument};

use crate::support::{SMALL, Zone, changed, pairs};

struct Audit {
    kms: aws_sdk_kms::Client,
    s3: aws_sdk_s3::Client,
    bucket: String,
    logs: String,
}

async fn audit(zone: &Zone) -> Audit {
    let id = zone.account_id("log-archive").await;
    let config = zone.config_in(&id).await;
    Audit {
        kms: aws_sdk_kms::Client::new(&config),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        ),
        bucket: format!("test-audit-{id}"),
        logs: format!("test-audit-{id}-logs"),
    }
}

async fn key_id(kms: &aws_sdk_kms::Client) -> String {
    let aliases = kms.list_aliases().send().await.unwrap();
    aliases
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some("alias/lz-audit"))
        .and_then(|a| a.target_key_id())
        .expect("the audit alias")
        .to_owned()
}

#[tokio::test]
async fn key_buckets_and_trail_are_in_place_setting_by_setting() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let a = audit(&zone).await;

    let key = key_id(&a.kms).await;
    let rotation = a
        .kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled());
    let key_arn = a
        .kms
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();

    let s3 = &a.s3;
    let encryption = s3
        .get_bucket_encryption()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(default.kms_master_key_id(), Some(key_arn.as_str()));
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    let block = s3
        .get_public_access_block()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let rule = &lifecycle.rules()[0];
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(30));
    assert_eq!(
        rule.noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days()),
        Some(30)
    );
    let lock = s3
        .get_object_lock_configuration()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let retention = lock
        .object_lock_configuration()
        .unwrap()
        .rule()
        .unwrap()
        .default_retention()
        .unwrap();
    assert_eq!(
        (retention.mode().map(|m| m.as_str()), retention.days()),
        (Some("GOVERNANCE"), Some(10))
    );
    let logging = s3
        .get_bucket_logging()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        logging.logging_enabled().map(|l| l.target_bucket()),
        Some(a.logs.as_str())
    );
    let policy = s3
        .get_bucket_policy()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let policy = PolicyDocument::parse(policy.policy().unwrap()).unwrap();
    let sids: BTreeSet<&str> = policy.iter().filter_map(|s| s.sid.as_deref()).collect();
    assert!(
        sids.contains("DenyInsecureTransport") && sids.contains("CloudTrailWrites"),
        "{sids:?}"
    );
    let logs_encryption = s3
        .get_bucket_encryption()
        .bucket(&a.logs)
        .send()
        .await
        .unwrap();
    assert_eq!(
        logs_encryption
            .server_side_encryption_configuration()
            .unwrap()
            .rules()[0]
            .apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256",
        "server access logs need SSE-S3 on their target"
    );

    let cloudtrail = aws_sdk_cloudtrail::Client::new(&zone.config);
    let trails = cloudtrail
        .describe_trails()
        .trail_name_list("test-org-trail")
        .send()
        .await
        .unwrap();
    let trail = &trails.trail_list()[0];
    assert_eq!(trail.s3_bucket_name(), Some(a.bucket.as_str()));
    assert_eq!(trail.kms_key_id(), Some(key_arn.as_str()));
    assert_eq!(trail.is_organization_trail(), Some(true));
    assert_eq!(trail.is_multi_region_trail(), Some(true));
    assert_eq!(trail.log_file_validation_enabled(), Some(true));
    let status = cloudtrail
        .get_trail_status()
        .name("test-org-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(status.is_logging(), Some(true));
}

#[tokio::test]
async fn audit_drift_is_planned_repaired_and_then_quiet() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let a = audit(&zone).await;
    let s3 = &a.s3;
    // Out of band, each kind of drift.
    s3.delete_bucket_encryption()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    s3.put_bucket_versioning()
        .bucket(&a.bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .mfa_delete(MfaDelete::Disabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.delete_public_access_block()
        .bucket(&a.logs)
        .send()
        .await
        .unwrap();
    let mut policy = {
        let out = s3
            .get_bucket_policy()
            .bucket(&a.bucket)
            .send()
            .await
            .unwrap();
        PolicyDocument::parse(out.policy().unwrap()).unwrap()
    };
    policy
        .statements
        .retain(|s| s.sid.as_deref() != Some("DenyInsecureTransport"));
    s3.put_bucket_policy()
        .bucket(&a.bucket)
        .policy(policy.to_json())
        .send()
        .await
        .unwrap();
    a.kms
        .disable_key_rotation()
        .key_id(key_id(&a.kms).await)
        .send()
        .await
        .unwrap();
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&zone.config);
    cloudtrail
        .stop_logging()
        .name("test-org-trail")
        .send()
        .await
        .unwrap();
    cloudtrail
        .update_trail()
        .name("test-org-trail")
        .enable_log_file_validation(false)
        .send()
        .await
        .unwrap();

    let plan = zone.plan().await;
    assert_eq!(
        changed(&plan),
        pairs(&[
            ("bucket.audit", "encryption"),
            ("bucket.audit", "versioning"),
            ("bucket.audit", "policy"),
            ("bucket.access-logs", "block_public_access"),
            ("kms.audit", "rotation"),
            ("trail.org", "logging"),
            ("trail.org", "log_validation"),
        ])
    );
    assert!(
        plan.changes()
            .all(|c| c.action == landing_zone::plan::Action::Update)
    );

    zone.apply().await;
    zone.log.reset();
    let report = zone.apply().await;
    assert!(report.applied.is_empty());
    assert_eq!(zone.log.writes().len(), 0, "{:?}", zone.log.writes());
}

#[tokio::test]
async fn object_lock_asked_of_an_existing_bucket_is_a_plan_error() {
    let without = SMALL.replace("  object_lock: governance\n  object_lock_days: 10\n", "");
    let zone = Zone::new(&without).await;
    zone.apply().await;
    let file = std::env::temp_dir().join(format!("lz-lock-{}.yaml", std::process::id()));
    std::fs::write(&file, SMALL).unwrap();
    zone.log.reset();
    for command in [vec!["plan"], vec!["apply", "--auto-approve"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lz"))
            .args(&command)
            .arg(&file)
            .envs(zone.env())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {stdout}{stderr}");
        assert!(
            stdout.contains("turns on only when a bucket is created"),
            "{stdout}"
        );
    }
    let a = audit(&zone).await;
    let lock =
        a.s3.get_object_lock_configuration()
            .bucket(&a.bucket)
            .send()
            .await;
    assert!(lock.is_err() || lock.unwrap().object_lock_configuration().is_none());
}

#[test]
fn no_policy_allows_everyone_without_a_condition() {
    let blueprint = landing_zone::Blueprint::parse("test.yaml", SMALL).unwrap();
    let desired = landing_zone::expand(&blueprint, &Default::default());
    for resource in &desired.resources {
        let document = match resource.spec.as_ref() {
            landing_zone::desired::Spec::KmsKey(k) => &k.policy,
            landing_zone::desired::Spec::S3Bucket(b) => &b.policy,
            _ => continue,
        };
        for statement in document.iter() {
            let everyone = matches!(
                serde_json::to_value(&statement.principal).unwrap(),
                serde_json::Value::String(ref s) if s == "*"
            ) || serde_json::to_value(&statement.principal).unwrap()["AWS"] == "*";
            if everyone && statement.effect == Effect::Allow {
                assert!(
                    !statement.condition.is_empty(),
                    "{}: {:?}",
                    resource.address,
                    statement.sid
                );
            }
        }
    }
}

/// A run stopped between creating the locked audit bucket and writing its default retention
/// leaves object lock on without a rule: that is drift lz repairs, not a conflict forever.
#[tokio::test]
async fn object_lock_without_its_rule_is_repaired() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let a = audit(&zone).await;
    a.s3.put_object_lock_configuration()
        .bucket(&a.bucket)
        .object_lock_configuration(
            aws_sdk_s3::types::ObjectLockConfiguration::builder()
                .object_lock_enabled(aws_sdk_s3::types::ObjectLockEnabled::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = zone.plan().await;
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(
        changed(&plan),
        pairs(&[("bucket.audit", "object_lock")]),
        "{}",
        landing_zone::render::human(&plan, Default::default())
    );
    zone.apply().await;
    assert!(!zone.plan().await.has_changes());
}
