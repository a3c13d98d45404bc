//! The baseline service control policies: what no one in a member account may do, whatever
//! their IAM permissions say, save lz's access role (and break-glass, where enabled).
//!
//! - `lz-<blueprint>-baseline`, on the root: no account leaves the organization; the landing
//!   zone's roles, policies and groups (under its IAM path) and the access role are changed
//!   only by the access role and break-glass.
//! - `lz-<blueprint>-log-archive`, on the log-archive account: the audit buckets' settings,
//!   policies and objects, and the account's KMS keys' policies, rotation and life, are changed
//!   only by them. Unlike a bucket policy, an SCP also binds the account's root user.
//!
//! SCPs bind no principal of the management account and no AWS service principal.

use super::{Address, Expansion, Spec};
use crate::blueprint::{Blueprint, TierName};
use crate::kinds::organizations_policy::{OrgPolicySpec, SERVICE_CONTROL_POLICY};
use crate::policy::{PolicyDocument, Statement};

/// IAM writes that change a role, policy or group, or what it grants.
pub(crate) const IAM_WRITES: &[&str] = &[
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:CreateGroup",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:DeleteGroup",
    "iam:DeleteGroupPolicy",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachGroupPolicy",
    "iam:DetachRolePolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:TagRole",
    "iam:UntagPolicy",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateGroup",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
];

/// S3 writes that weaken a bucket or erase what it holds.
pub(crate) const S3_WRITES: &[&str] = &[
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutBucketAcl",
    "s3:PutBucketLogging",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutObjectRetention",
];

/// KMS writes that disable a key, end it, or change who may use it.
pub(crate) const KMS_WRITES: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:UpdateAlias",
];

/// The names of the policies the blueprint's guardrails use (whether on or not: discovery
/// reads them either way, so that turning them off shows what stays).
pub(crate) fn names(bp: &Blueprint) -> Vec<String> {
    vec![baseline_name(bp), log_archive_name(bp)]
}

pub(crate) fn baseline_name(bp: &Blueprint) -> String {
    format!("lz-{}-baseline", bp.name)
}

pub(crate) fn log_archive_name(bp: &Blueprint) -> String {
    format!("lz-{}-log-archive", bp.name)
}

/// Who the guardrails let through: the access role lz comes in with, and break-glass.
pub(crate) fn exempt(bp: &Blueprint) -> Vec<String> {
    let mut arns = vec![format!(
        "arn:aws:iam::*:role/{}",
        bp.organization.access_role
    )];
    if let Some(glass) = bp
        .role_tiers
        .resolved()
        .into_iter()
        .find(|t| t.tier == TierName::BreakGlass)
    {
        arns.push(format!(
            "arn:aws:iam::*:role{}{}",
            bp.organization.iam_path, glass.role_name
        ));
    }
    arns
}

/// The baseline policy's document.
pub(crate) fn baseline(bp: &Blueprint) -> PolicyDocument {
    let path = &bp.organization.iam_path;
    PolicyDocument::new(vec![
        Statement::deny()
            .sid("DenyLeavingTheOrganization")
            .actions(["organizations:LeaveOrganization"])
            .resources(["*"]),
        Statement::deny()
            .sid("ProtectLandingZoneIam")
            .actions(IAM_WRITES.iter().copied())
            .resources([
                format!("arn:aws:iam::*:role{path}*"),
                format!("arn:aws:iam::*:policy{path}*"),
                format!("arn:aws:iam::*:group{path}*"),
                format!("arn:aws:iam::*:role/{}", bp.organization.access_role),
            ])
            .condition("ArnNotLike", "aws:PrincipalArn", exempt(bp)),
    ])
}

/// The log-archive policy's document, for the audit buckets `buckets`.
pub(crate) fn log_archive(bp: &Blueprint, buckets: &[String]) -> PolicyDocument {
    let resources = buckets
        .iter()
        .flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")]);
    PolicyDocument::new(vec![
        Statement::deny()
            .sid("ProtectAuditBuckets")
            .actions(S3_WRITES.iter().copied())
            .resources(resources)
            .condition("ArnNotLike", "aws:PrincipalArn", exempt(bp)),
        Statement::deny()
            .sid("ProtectAuditKeys")
            .actions(KMS_WRITES.iter().copied())
            .resources(["*"])
            .condition("ArnNotLike", "aws:PrincipalArn", exempt(bp)),
    ])
}

pub(super) fn expand(x: &mut Expansion<'_>) {
    let bp = x.bp;
    if !bp.guardrails.baseline {
        return;
    }
    let root = x.ids.root();
    let tags = x.tags(&[]);
    x.push(
        Address::scp(&baseline_name(bp)),
        None,
        Spec::OrganizationsPolicy(OrgPolicySpec {
            name: baseline_name(bp),
            policy_type: SERVICE_CONTROL_POLICY.to_owned(),
            description: format!(
                "landing zone {}: no leaving the organization; its IAM changed only by lz",
                bp.name
            ),
            document: baseline(bp).into(),
            targets: vec![root],
            tags: tags.clone(),
        }),
        vec![Address::organization()],
    );
    let log_archive_account = &bp.accounts.log_archive.name;
    let la_id = x.ids.account(log_archive_account);
    let audit = bp.audit_bucket_name(&la_id);
    let buckets = [bp.access_log_bucket_name(&la_id), audit];
    x.push(
        Address::scp(&log_archive_name(bp)),
        None,
        Spec::OrganizationsPolicy(OrgPolicySpec {
            name: log_archive_name(bp),
            policy_type: SERVICE_CONTROL_POLICY.to_owned(),
            description: format!(
                "landing zone {}: audit buckets and keys changed only by lz",
                bp.name
            ),
            document: log_archive(bp, &buckets).into(),
            targets: vec![la_id],
            tags,
        }),
        vec![
            Address::organization(),
            Address::account(log_archive_account),
        ],
    );
}
