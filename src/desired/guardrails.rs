//! The guardrails: Organizations policies that bind every member account whatever its own
//! IAM says. Each is planned with where it is attached; `crate::validate::lockout` evaluates
//! the same values before anything is applied.
//!
//! - `lz-<blueprint>-baseline` (SCP, root): no account leaves the organization; member
//!   accounts' root users do nothing but unlock a bucket or queue policy; the landing zone's
//!   roles, policies and groups (under its IAM path) and the access role are changed only by
//!   the access role and break-glass.
//! - `lz-<blueprint>-log-archive` (SCP, log-archive account): the audit buckets' settings,
//!   policies and objects, and the account's KMS keys' policies, rotation and life, are changed
//!   only by them. Unlike a bucket policy, an SCP also binds the account's root user.
//! - `lz-<blueprint>-regions` (SCP, root or the listed environments' units): requests to
//!   regions not allowed are denied, save global services' ([`GLOBAL_SERVICES`]).
//! - `lz-<blueprint>-data-perimeter` (RCP, root): the member accounts' buckets, keys, roles,
//!   queues and secrets are out of reach of principals outside the organization, and of AWS
//!   services acting for someone outside it; S3 only over TLS.
//! - `lz-<blueprint>-tags` (tag policy, root): the tag keys lz puts on accounts, with their
//!   allowed values.
//! - the blueprint's own policies, from their files;
//! - S3 Block Public Access at the level of every member account.
//!
//! SCPs and RCPs bind nothing in the management account; SCPs bind no AWS service principal.

use std::collections::{BTreeMap, BTreeSet};

use super::{Address, Expansion, Spec};
use crate::blueprint::{Blueprint, Scope, TierName, UserPolicyType};
use crate::kinds::organizations_policy::{Content, OrgPolicySpec, OrgPolicyType};
use crate::kinds::s3_account_public_access_block::PublicAccessBlockSpec;
use crate::policy::{PolicyDocument, Principal, Statement};

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

/// Services whose requests a region deny lets through: global services, whose requests AWS
/// sends to `us-east-1` whatever region the caller works in, after AWS's documented example
/// ("Deny access to AWS based on the requested AWS Region", Organizations User Guide).
pub(crate) const GLOBAL_SERVICES: &[&str] = &[
    "a4b:*",
    "access-analyzer:*",
    "account:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "shield:*",
    "sso:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
];

/// What a member account's root user may still do: the privileged tasks AWS documents for a
/// root session (unlocking a bucket policy or a queue policy that denies everyone), as in
/// AWS's example SCP "Deny the root user from performing actions except S3 bucket policy
/// changes". Whatever an SCP says, AWS also lets the root user manage its own credentials.
pub(crate) const ROOT_USER_TASKS: &[&str] = &[
    "s3:DeleteBucketPolicy",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "sqs:GetQueueAttributes",
    "sqs:SetQueueAttributes",
];

/// The services whose resources the data perimeter covers.
pub(crate) const PERIMETER_ACTIONS: &[&str] = &[
    "kms:*",
    "s3:*",
    "secretsmanager:*",
    "sqs:*",
    "sts:AssumeRole",
    "sts:SetContext",
    "sts:SetSourceIdentity",
    "sts:TagSession",
];

/// Where a guardrail is attached, before ids are known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// The organization's root.
    Root,
    /// An organizational unit, by name.
    Unit(String),
    /// An account, by name.
    Account(String),
}

impl Target {
    /// The blueprint's target that the live id `id` is, if it is one: the root, one of its
    /// units, one of its accounts.
    pub(crate) fn of_id(actual: &crate::Actual, known: &super::Known, id: &str) -> Option<Target> {
        if actual.root_id.as_deref() == Some(id) {
            return Some(Target::Root);
        }
        let named = |ids: &std::collections::HashMap<String, String>| {
            ids.iter()
                .find(|(_, v)| *v == id)
                .map(|(name, _)| name.clone())
        };
        named(&known.ou_ids)
            .map(Target::Unit)
            .or_else(|| named(&known.account_ids).map(Target::Account))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Root => f.write_str("the root"),
            Target::Unit(ou) => write!(f, "unit `{ou}`"),
            Target::Account(a) => write!(f, "account `{a}`"),
        }
    }
}

/// Which part of the blueprint asks for a guardrail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `guardrails.baseline`.
    Baseline,
    /// `guardrails.regions`.
    Regions,
    /// `guardrails.data_perimeter`.
    DataPerimeter,
    /// `guardrails.tag_policy`.
    TagPolicy,
    /// `guardrails.policies[i]`.
    User(usize),
    /// A policy lz does not own, found in the live organization (its index there).
    Foreign(usize),
}

/// One guardrail as planned.
#[derive(Debug, Clone)]
pub(crate) struct Guardrail {
    pub name: String,
    pub policy_type: OrgPolicyType,
    pub description: String,
    pub document: Content,
    pub targets: Vec<Target>,
    pub source: Source,
}

/// The names of lz's own guardrails, with their types.
pub(crate) fn own_names(bp: &Blueprint) -> Vec<(OrgPolicyType, String)> {
    vec![
        (OrgPolicyType::ServiceControlPolicy, baseline_name(bp)),
        (OrgPolicyType::ServiceControlPolicy, log_archive_name(bp)),
        (OrgPolicyType::ServiceControlPolicy, regions_name(bp)),
        (OrgPolicyType::ResourceControlPolicy, perimeter_name(bp)),
        (OrgPolicyType::TagPolicy, tags_name(bp)),
    ]
}

/// The names of the policies the blueprint's guardrails use, with their types (whether on or
/// not: discovery reads them either way, so that turning one off shows what stays).
pub(crate) fn names(bp: &Blueprint) -> Vec<(OrgPolicyType, String)> {
    let mut names = own_names(bp);
    names.extend(
        bp.guardrails
            .policies
            .iter()
            .map(|p| (user_type(p.policy_type), p.name.clone())),
    );
    names
}

pub(crate) fn baseline_name(bp: &Blueprint) -> String {
    format!("lz-{}-baseline", bp.name)
}

pub(crate) fn log_archive_name(bp: &Blueprint) -> String {
    format!("lz-{}-log-archive", bp.name)
}

pub(crate) fn regions_name(bp: &Blueprint) -> String {
    format!("lz-{}-regions", bp.name)
}

pub(crate) fn perimeter_name(bp: &Blueprint) -> String {
    format!("lz-{}-data-perimeter", bp.name)
}

pub(crate) fn tags_name(bp: &Blueprint) -> String {
    format!("lz-{}-tags", bp.name)
}

pub(crate) fn user_type(t: UserPolicyType) -> OrgPolicyType {
    match t {
        UserPolicyType::ServiceControl => OrgPolicyType::ServiceControlPolicy,
        UserPolicyType::ResourceControl => OrgPolicyType::ResourceControlPolicy,
    }
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
            .sid("DenyMemberRootUsers")
            .not_actions(ROOT_USER_TASKS.iter().copied())
            .resources(["*"])
            .condition("ArnLike", "aws:PrincipalArn", ["arn:aws:iam::*:root"]),
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

/// The region deny's document.
pub(crate) fn regions(allowed: &[String]) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::deny()
            .sid("DenyRegionsNotAllowed")
            .not_actions(GLOBAL_SERVICES.iter().copied())
            .resources(["*"])
            .condition("StringNotEquals", "aws:RequestedRegion", allowed.to_vec()),
    ])
}

/// The data perimeter's document, for the organization `org_id`.
pub(crate) fn perimeter(org_id: &str) -> PolicyDocument {
    let everyone = || Principal::Any(crate::policy::AnyPrincipal::Everyone);
    PolicyDocument::new(vec![
        Statement::deny()
            .sid("EnforceOrganizationIdentities")
            .principal(everyone())
            .actions(PERIMETER_ACTIONS.iter().copied())
            .resources(["*"])
            .condition(
                "StringNotEqualsIfExists",
                "aws:PrincipalOrgID",
                [org_id.to_owned()],
            )
            .condition("BoolIfExists", "aws:PrincipalIsAWSService", ["false"]),
        Statement::deny()
            .sid("EnforceConfusedDeputyProtection")
            .principal(everyone())
            .actions(PERIMETER_ACTIONS.iter().copied())
            .resources(["*"])
            .condition(
                "StringNotEqualsIfExists",
                "aws:SourceOrgID",
                [org_id.to_owned()],
            )
            .condition("Null", "aws:SourceAccount", ["false"])
            .condition("Bool", "aws:PrincipalIsAWSService", ["true"]),
        Statement::deny()
            .sid("EnforceSecureTransport")
            .principal(everyone())
            .actions(["s3:*"])
            .resources(["*"])
            .condition("BoolIfExists", "aws:SecureTransport", ["false"]),
    ])
}

/// The tag policy's document: every tag key lz puts on accounts but its ownership tags (other
/// tools write `managed-by` too), with the values the blueprint gives it. A tag policy holds at most 10,000 characters: past that, the keys with
/// the most values are declared without their values (any value complies), largest first.
pub(crate) fn tag_policy(bp: &Blueprint) -> String {
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |k: &str, v: &str| {
        keys.entry(k.to_owned()).or_default().insert(v.to_owned());
    };
    for account in super::accounts(bp) {
        for (k, v) in bp.organization.tags.iter().chain(&account.tags) {
            add(k, v);
        }
    }
    let mut open: BTreeSet<String> = BTreeSet::new();
    loop {
        let tags: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|(key, values)| {
                let mut rule = serde_json::json!({ "tag_key": { "@@assign": key } });
                if !open.contains(key) {
                    rule["tag_value"] = serde_json::json!({ "@@assign": values });
                }
                (key.clone(), rule)
            })
            .collect();
        let text = serde_json::json!({ "tags": tags }).to_string();
        let widest = keys
            .iter()
            .filter(|(k, _)| !open.contains(*k))
            .max_by_key(|(_, v)| v.len())
            .map(|(k, _)| k.clone());
        match widest {
            Some(key) if text.len() > 10_000 => {
                open.insert(key);
            }
            _ => return text,
        }
    }
}

/// Every guardrail the blueprint asks for, with the organization's id and the log-archive
/// account's as known (or placeholders).
pub(crate) fn planned(bp: &Blueprint, org_id: &str, log_archive_id: &str) -> Vec<Guardrail> {
    let g = &bp.guardrails;
    let scp = OrgPolicyType::ServiceControlPolicy;
    let mut out = Vec::new();
    if g.baseline {
        out.push(Guardrail {
            name: baseline_name(bp),
            policy_type: scp,
            description: format!(
                "landing zone {}: no leaving the organization, no member root user; its IAM changed only by lz",
                bp.name
            ),
            document: baseline(bp).into(),
            targets: vec![Target::Root],
            source: Source::Baseline,
        });
        let buckets = [
            bp.access_log_bucket_name(log_archive_id),
            bp.audit_bucket_name(log_archive_id),
        ];
        out.push(Guardrail {
            name: log_archive_name(bp),
            policy_type: scp,
            description: format!(
                "landing zone {}: audit buckets and keys changed only by lz",
                bp.name
            ),
            document: log_archive(bp, &buckets).into(),
            targets: vec![Target::Account(bp.accounts.log_archive.name.clone())],
            source: Source::Baseline,
        });
    }
    if let Some(r) = &g.regions {
        let targets = match &r.environments {
            None | Some(Scope::All(_)) => vec![Target::Root],
            Some(Scope::Only(envs)) => units(bp, envs),
        };
        out.push(Guardrail {
            name: regions_name(bp),
            policy_type: scp,
            description: format!(
                "landing zone {}: only regions {}, save global services",
                bp.name,
                r.allowed.join(", ")
            ),
            document: regions(&r.allowed).into(),
            targets,
            source: Source::Regions,
        });
    }
    if g.data_perimeter {
        out.push(Guardrail {
            name: perimeter_name(bp),
            policy_type: OrgPolicyType::ResourceControlPolicy,
            description: format!(
                "landing zone {}: resources reached only from the organization; S3 over TLS",
                bp.name
            ),
            document: perimeter(org_id).into(),
            targets: vec![Target::Root],
            source: Source::DataPerimeter,
        });
    }
    if g.tag_policy {
        out.push(Guardrail {
            name: tags_name(bp),
            policy_type: OrgPolicyType::TagPolicy,
            description: format!("landing zone {}: the tags of its accounts", bp.name),
            document: Content::Json(tag_policy(bp)),
            targets: vec![Target::Root],
            source: Source::TagPolicy,
        });
    }
    for (i, p) in g.policies.iter().enumerate() {
        let Some(document) = &p.document else {
            continue;
        };
        let mut targets = Vec::new();
        if p.attach.organization {
            targets.push(Target::Root);
        }
        targets.extend(units(bp, &p.attach.environments));
        targets.extend(p.attach.accounts.iter().cloned().map(Target::Account));
        out.push(Guardrail {
            name: p.name.clone(),
            policy_type: user_type(p.policy_type),
            description: format!("landing zone {}: from {}", bp.name, p.file),
            document: document.clone().into(),
            targets,
            source: Source::User(i),
        });
    }
    out
}

/// The units of the environments `envs`, each once.
fn units(bp: &Blueprint, envs: &[String]) -> Vec<Target> {
    let mut out = Vec::new();
    for env in envs {
        if let Some(e) = bp.environments.get(env) {
            let unit = Target::Unit(e.ou.clone());
            if !out.contains(&unit) {
                out.push(unit);
            }
        }
    }
    out
}

pub(super) fn expand(x: &mut Expansion<'_>) {
    let bp = x.bp;
    if bp.guardrails.block_public_access {
        for account in super::accounts(bp) {
            x.push(
                Address::public_access_block(&account.name),
                Some(&account.name),
                Spec::S3AccountPublicAccessBlock(PublicAccessBlockSpec::ALL_ON),
                vec![Address::account(&account.name)],
            );
        }
    }
    let org_id = x.ids.organization();
    let la_id = x.ids.account(&bp.accounts.log_archive.name);
    x.ids.take_unknown();
    for g in planned(bp, &org_id, &la_id) {
        let mut depends_on = vec![Address::organization()];
        let mut targets: Vec<String> = g
            .targets
            .iter()
            .map(|t| match t {
                Target::Root => x.ids.root(),
                Target::Unit(ou) => {
                    depends_on.push(Address::ou(ou));
                    x.ids.ou(ou)
                }
                Target::Account(name) => {
                    depends_on.push(Address::account(name));
                    x.ids.account(name)
                }
            })
            .collect();
        targets.sort();
        // The ids a document names, looked up again so that the policy waits for them.
        if g.name == log_archive_name(bp) {
            x.ids.account(&bp.accounts.log_archive.name);
        }
        if g.policy_type == OrgPolicyType::ResourceControlPolicy {
            x.ids.organization();
        }
        let tags = x.tags(&[]);
        x.push(
            Address::org_policy(g.policy_type, &g.name),
            None,
            Spec::OrganizationsPolicy(OrgPolicySpec {
                name: g.name,
                policy_type: g.policy_type,
                description: g.description,
                document: g.document,
                targets,
                tags,
            }),
            depends_on,
        );
    }
}
