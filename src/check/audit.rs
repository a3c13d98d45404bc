//! Can the audit trail be erased or silenced? For each thing that would (a bucket setting, a
//! log object, the key), every principal of the log-archive account and a set of stand-ins
//! (an administrator of that account that lz did not make, its root user, an administrator of
//! another account of the organization, one outside it) is evaluated against the identity,
//! bucket and key policies. Only lz's own access role may.

use std::sync::Arc;

use super::eval::{Caller, Compiled, Context, Policies, Request, ResourcePolicyKind, evaluate};
use super::inventory::{AuditFacts, Inventory};
use super::managed::{Resolver, allow_everything};
use super::{Property, Status};

/// Bucket settings whose change would silence or weaken the trail.
pub const BUCKET_SETTINGS: &[&str] = &[
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketLogging",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketAcl",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketNotification",
    "s3:PutBucketRequestPayment",
    "s3:DeleteBucket",
];

/// Writes on log objects that would erase or replace them.
pub const OBJECT_WRITES: &[&str] = &[
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObject",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
];

/// Key operations that would stop the trail's encryption or open the logs.
pub const KEY_OPERATIONS: &[&str] = &[
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "kms:DisableKeyRotation",
    "kms:CreateGrant",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
];

/// Why the root user's right to change a bucket policy is residual.
pub const ROOT_RESIDUAL: &str = "AWS always lets the bucket owner's root user change or delete the bucket policy, whatever it says, and with it everything else: only a service control policy on member accounts' root users (lz's baseline guardrail denies the root user all but that, and its log-archive guardrail that too on the audit buckets; this property does not yet take SCPs into account) or removing the root user's credentials (centralized root access) closes it; keep the log-archive root user's credentials locked away";

/// A caller with its policies.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Who, in words.
    pub label: String,
    /// The caller.
    pub caller: Caller,
    /// Its identity policies.
    pub identity: Vec<Arc<Compiled>>,
    /// Its boundary.
    pub boundary: Option<Arc<Compiled>>,
}

impl Probe {
    fn administrator(label: String, account: &str, name: &str) -> Probe {
        Probe {
            label,
            caller: Caller::role(account, format!("arn:aws:iam::{account}:role/{name}")),
            identity: vec![allow_everything()],
            boundary: None,
        }
    }
}

pub(super) fn properties(
    inventory: &Inventory,
    audit: &AuditFacts,
    resolver: &mut Resolver,
) -> Vec<Property> {
    let la = &audit.principals;
    let access_role = format!("arn:aws:iam::{}:role/{}", la.id, inventory.access_role);
    let mut probes: Vec<Probe> = super::escalation::probes(inventory, la, resolver)
        .into_iter()
        .filter(|p| p.caller.arn != access_role)
        .collect();
    probes.push(Probe::administrator(
        "an administrator of the log-archive account that lz did not make".to_owned(),
        &la.id,
        "lz-check-administrator",
    ));
    probes.push(Probe {
        label: "the log-archive account's root user".to_owned(),
        caller: Caller::root(&la.id),
        identity: Vec::new(),
        boundary: None,
    });
    probes.push(Probe::administrator(
        "an administrator of the security account".to_owned(),
        &inventory.security_account_id,
        "lz-check-administrator",
    ));
    let outsider = Probe::administrator(
        "an administrator of an account outside the organization".to_owned(),
        "210987654321",
        "lz-check-administrator",
    );
    probes.push(outsider);
    let org = inventory.organization_id.as_str();
    let root = Caller::root(&la.id);
    // Each finding with whether it is the root user's right AWS grants whatever the policy
    // says (changing the bucket policy), which only an SCP can take away: residual.
    let property = |claim: String, found: Vec<(bool, String)>| {
        let residual = !found.is_empty() && found.iter().all(|(root, _)| *root);
        let mut evidence: Vec<String> = found.into_iter().map(|(_, e)| e).collect();
        if residual {
            evidence.push(ROOT_RESIDUAL.to_owned());
        }
        Property {
            account: la.name.clone(),
            tier: None,
            claim,
            status: if evidence.is_empty() {
                Status::Holds
            } else if residual {
                Status::Residual
            } else {
                Status::Fails
            },
            evidence,
        }
    };
    let mut out = Vec::new();
    // Whoever else can become an administrator here can take over lz's access role too.
    let takeovers = super::escalation::paths_to_admin(inventory, la, resolver, &access_role);
    out.push(property(
        "no principal of the log-archive account but lz's access role reaches administrator (and with it the access role)".to_owned(),
        takeovers.into_iter().map(|steps| (false, steps.join("; "))).collect(),
    ));
    let key_arn = audit.key.as_ref().map(|(arn, _)| arn.as_str());
    for (which, bucket) in [
        ("the audit bucket", &audit.bucket),
        ("the access-log bucket", &audit.access_log_bucket),
    ] {
        let Some((name, policy)) = bucket else {
            continue;
        };
        let policy = Compiled::new(policy);
        let bucket_arn = format!("arn:aws:s3:::{name}");
        let object = format!(
            "arn:aws:s3:::{name}/AWSLogs/{}/CloudTrail/log.json.gz",
            inventory.management_account_id
        );
        let mut settings = Vec::new();
        let mut objects = Vec::new();
        for probe in &probes {
            let is_root = probe.caller == root;
            for action in BUCKET_SETTINGS {
                if allowed(
                    probe,
                    org,
                    action,
                    &bucket_arn,
                    &la.id,
                    &policy,
                    ResourcePolicyKind::Optional,
                    &[],
                ) {
                    let right =
                        is_root && ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"].contains(action);
                    settings.push((right, format!("{} may {action}", probe.label)));
                }
            }
            for action in OBJECT_WRITES {
                let kms_key =
                    key_arn.map(|k| ("s3:x-amz-server-side-encryption-aws-kms-key-id", k));
                if allowed(
                    probe,
                    org,
                    action,
                    &object,
                    &la.id,
                    &policy,
                    ResourcePolicyKind::Optional,
                    kms_key.as_slice(),
                ) {
                    objects.push((false, format!("{} may {action}", probe.label)));
                }
            }
        }
        out.push(property(
            format!("{which}: only lz's access role may change its policy, versioning, lifecycle, encryption, logging, object lock, public access or ownership, or delete it"),
            settings,
        ));
        out.push(property(
            format!("{which}: only lz's access role may delete, overwrite or unlock log objects or their versions"),
            objects,
        ));
    }
    if let Some((key, policy)) = &audit.key {
        let policy = Compiled::new(policy);
        let mut changes = Vec::new();
        let mut decrypts = Vec::new();
        for probe in &probes {
            for action in KEY_OPERATIONS {
                if allowed(
                    probe,
                    org,
                    action,
                    key,
                    &la.id,
                    &policy,
                    ResourcePolicyKind::Required,
                    &[],
                ) {
                    changes.push((false, format!("{} may {action}", probe.label)));
                }
            }
            let via = format!("s3.{}.amazonaws.com", audit.region);
            let keys = [
                ("kms:ViaService", via.as_str()),
                ("kms:CallerAccount", probe.caller.account.as_str()),
            ];
            if probe.caller.account != la.id
                && allowed(
                    probe,
                    org,
                    "kms:Decrypt",
                    key,
                    &la.id,
                    &policy,
                    ResourcePolicyKind::Required,
                    &keys,
                )
            {
                decrypts.push((false, format!("{} may kms:Decrypt", probe.label)));
            }
        }
        out.push(property(
            "the audit key: only lz's access role may disable it, schedule its deletion, change its policy or rotation, or grant its use".to_owned(),
            changes,
        ));
        out.push(property(
            "the audit key: only principals of the log-archive account may decrypt".to_owned(),
            decrypts,
        ));
    }
    out.push(Property {
        account: la.name.clone(),
        tier: None,
        claim: "the organization trail: only the management account may stop, delete or change it".to_owned(),
        status: Status::Residual,
        evidence: vec![
            "member accounts cannot change an organization trail (AWS); the management account's own principals are not evaluated, and SCPs do not bind them".to_owned(),
        ],
    });
    out
}

#[allow(clippy::too_many_arguments)]
fn allowed(
    probe: &Probe,
    org: &str,
    action: &str,
    resource: &str,
    resource_account: &str,
    policy: &Compiled,
    kind: ResourcePolicyKind,
    keys: &[(&str, &str)],
) -> bool {
    let org = (probe.caller.account != "210987654321").then_some(org);
    let mut context: Context = probe
        .caller
        .context(org)
        .with("aws:SecureTransport", "true")
        .with("aws:MultiFactorAuthPresent", "true")
        .with("aws:MultiFactorAuthAge", "0");
    for (key, value) in keys {
        context = context.with(key, *value);
    }
    evaluate(
        &Request {
            caller: &probe.caller,
            action,
            resource: Some(resource),
            resource_account: Some(resource_account),
            context: &context,
        },
        &Policies {
            identity: &probe.identity,
            boundary: probe.boundary.as_deref(),
            scps: &[],
            rcps: &[],
            resource: Some((policy, kind)),
        },
    )
    .allowed()
}
