//! Lockout analysis: the service control policies in force must not deny what the landing zone
//! depends on. For each shape of member account (its unit, and whether it is the log-archive
//! account), the chain of SCPs from the root down to the account (`FullAWSAccess` at every
//! level, as AWS attaches it, and lz's guardrails) is evaluated with the policy evaluator
//! against every write lz sends into member accounts through its access role, the same for
//! break-glass where it is enabled, and keeper's writes under its path. A denial is a problem
//! naming the policy, the statement, the account, the caller and the action.
//!
//! Not covered: AWS service principals (CloudTrail writing the audit bucket), which SCPs do not
//! bind; policies lz does not own (offline, they are not known).

use std::sync::Arc;

use super::{FieldPath, Problem};
use crate::blueprint::{Blueprint, TierName};
use crate::check::eval::{Caller, Compiled, Policies, Request, evaluate};
use crate::desired::guardrails;
use crate::desired::tiers::BOUNDARY;
use crate::policy::{PolicyDocument, Statement};

/// What lz writes into a member account, by IAM action, and what it writes it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A tier role.
    Role,
    /// The permissions boundary, a customer managed policy.
    Boundary,
    /// A tier group (in the security account).
    Group,
    /// The audit bucket and the access-log bucket (in the log-archive account).
    Buckets,
    /// The audit key (in the log-archive account).
    Key,
}

/// Every write lz sends into member accounts, as IAM actions: `crate::kinds`' IAM, KMS and S3
/// writes.
const LZ_WRITES: &[(&str, Target)] = &[
    ("iam:CreateRole", Target::Role),
    ("iam:UpdateRole", Target::Role),
    ("iam:UpdateAssumeRolePolicy", Target::Role),
    ("iam:PutRolePolicy", Target::Role),
    ("iam:DeleteRolePolicy", Target::Role),
    ("iam:AttachRolePolicy", Target::Role),
    ("iam:DetachRolePolicy", Target::Role),
    ("iam:PutRolePermissionsBoundary", Target::Role),
    ("iam:TagRole", Target::Role),
    ("iam:UntagRole", Target::Role),
    ("iam:DeleteRole", Target::Role),
    ("iam:CreatePolicy", Target::Boundary),
    ("iam:CreatePolicyVersion", Target::Boundary),
    ("iam:DeletePolicyVersion", Target::Boundary),
    ("iam:TagPolicy", Target::Boundary),
    ("iam:CreateGroup", Target::Group),
    ("iam:PutGroupPolicy", Target::Group),
    ("iam:DeleteGroupPolicy", Target::Group),
    ("iam:DeleteGroup", Target::Group),
    ("kms:CreateKey", Target::Key),
    ("kms:CreateAlias", Target::Key),
    ("kms:PutKeyPolicy", Target::Key),
    ("kms:EnableKeyRotation", Target::Key),
    ("kms:TagResource", Target::Key),
    ("s3:CreateBucket", Target::Buckets),
    ("s3:PutBucketPolicy", Target::Buckets),
    ("s3:PutEncryptionConfiguration", Target::Buckets),
    ("s3:PutBucketVersioning", Target::Buckets),
    ("s3:PutLifecycleConfiguration", Target::Buckets),
    ("s3:PutBucketObjectLockConfiguration", Target::Buckets),
    ("s3:PutBucketLogging", Target::Buckets),
    ("s3:PutBucketTagging", Target::Buckets),
    ("s3:PutBucketPublicAccessBlock", Target::Buckets),
    ("s3:PutBucketOwnershipControls", Target::Buckets),
    ("s3:DeleteBucketPolicy", Target::Buckets),
];

/// What keeper does under its own path, in the accounts where it applies.
const KEEPER_WRITES: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRole",
];

/// An account id standing for every member account (the documents name none).
const ACCOUNT: &str = "111111111111";

/// One SCP in force, by name.
pub(crate) struct Scp {
    pub name: String,
    pub document: PolicyDocument,
}

/// One denial found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lockout {
    pub policy: String,
    pub statement: String,
    pub account: String,
    pub caller: String,
    pub action: String,
    pub resource: String,
}

pub(super) fn check(bp: &Blueprint) -> Vec<Problem> {
    if !bp.guardrails.baseline {
        return Vec::new();
    }
    let la_id = ACCOUNT;
    let buckets = [
        bp.audit_bucket_name(la_id),
        bp.access_log_bucket_name(la_id),
    ];
    let root = vec![Scp {
        name: guardrails::baseline_name(bp),
        document: guardrails::baseline(bp),
    }];
    let log_archive = vec![Scp {
        name: guardrails::log_archive_name(bp),
        document: guardrails::log_archive(bp, &buckets),
    }];
    analyze(bp, &root, &log_archive)
        .into_iter()
        .map(|l| {
            Problem::at_value(
                FieldPath::root().key("guardrails").key("baseline"),
                format!(
                    "guardrail `{}` (statement `{}`) would deny {} `{}` on `{}` in account `{}`, which the landing zone needs",
                    l.policy, l.statement, l.caller, l.action, l.resource, l.account
                ),
            )
            .hint("a guardrail must exempt lz's access role and break-glass, and leave keeper's path alone")
        })
        .collect()
}

/// The denials `root` (the SCPs on the root) and `log_archive` (those on the log-archive
/// account) would cause; every unit and account also has `FullAWSAccess`.
pub(crate) fn analyze(bp: &Blueprint, root: &[Scp], log_archive: &[Scp]) -> Vec<Lockout> {
    let full_access = PolicyDocument::new(vec![Statement::allow().actions(["*"]).resources(["*"])]);
    let mut out = Vec::new();
    let probes = [
        (bp.accounts.security.name.as_str(), false),
        (bp.accounts.log_archive.name.as_str(), true),
    ];
    // Every workload account of an environment has the same chain (lz attaches nothing to a
    // unit or a workload account) and the same writes: one per environment stands for all.
    let mut environments = Vec::new();
    let workloads = bp
        .customers
        .iter()
        .flat_map(|(c, spec)| spec.environments.iter().map(move |e| (c, e)))
        .filter(|(_, e)| {
            let first = !environments.contains(e);
            environments.push(*e);
            first
        })
        .map(|(c, e)| (Blueprint::workload_account_name(c, e), false))
        .collect::<Vec<_>>();
    let full = Arc::new(Compiled::new(&full_access));
    let compile = |scps: &[Scp]| -> Vec<Judged> {
        scps.iter()
            .flat_map(|scp| {
                scp.document.iter().map(|statement| Judged {
                    policy: scp.name.clone(),
                    sid: statement.sid.as_deref().unwrap_or("(no Sid)").to_owned(),
                    compiled: Arc::new(Compiled::new(&PolicyDocument::new(vec![
                        statement.clone(),
                    ]))),
                })
            })
            .collect()
    };
    let (at_root, at_log_archive) = (compile(root), compile(log_archive));
    for (account, is_log_archive) in probes
        .iter()
        .map(|(a, l)| ((*a).to_owned(), *l))
        .chain(workloads)
    {
        let levels: Vec<&[Judged]> = if is_log_archive {
            vec![&at_root, &at_log_archive]
        } else {
            vec![&at_root]
        };
        for (caller, action, resource) in requests(bp, &account, is_log_archive) {
            if let Some(judged) = denied_by(&levels, &full, &caller, action, &resource) {
                out.push(Lockout {
                    policy: judged.policy.clone(),
                    statement: judged.sid.clone(),
                    account: account.clone(),
                    caller: caller.arn.clone(),
                    action: action.to_owned(),
                    resource,
                });
            }
        }
    }
    out.dedup_by(|a, b| a.policy == b.policy && a.statement == b.statement && a.action == b.action);
    out
}

/// What must stay allowed in `account`: lz's writes through its access role and break-glass's,
/// and keeper's under its path.
fn requests<'a>(
    bp: &'a Blueprint,
    account: &str,
    is_log_archive: bool,
) -> Vec<(Caller, &'a str, String)> {
    let path = &bp.organization.iam_path;
    let tiers = bp.role_tiers.resolved();
    let mut callers = vec![Caller::role(
        ACCOUNT,
        format!(
            "arn:aws:iam::{ACCOUNT}:role/{}",
            bp.organization.access_role
        ),
    )];
    if let Some(glass) = tiers.iter().find(|t| t.tier == TierName::BreakGlass) {
        callers.push(Caller::role(
            ACCOUNT,
            format!("arn:aws:iam::{ACCOUNT}:role{path}{}", glass.role_name),
        ));
    }
    let role = tiers
        .first()
        .map(|t| t.role_name.as_str())
        .unwrap_or("lz-watcher");
    let mut out = Vec::new();
    for caller in &callers {
        for (action, target) in LZ_WRITES {
            let resources: Vec<String> = match target {
                Target::Role => vec![
                    format!("arn:aws:iam::{ACCOUNT}:role{path}{role}"),
                    format!(
                        "arn:aws:iam::{ACCOUNT}:role/{}",
                        bp.organization.access_role
                    ),
                ],
                Target::Boundary => vec![format!("arn:aws:iam::{ACCOUNT}:policy{path}{BOUNDARY}")],
                Target::Group if account == bp.accounts.security.name => {
                    vec![format!("arn:aws:iam::{ACCOUNT}:group{path}{role}")]
                }
                Target::Buckets if is_log_archive => [
                    bp.audit_bucket_name(ACCOUNT),
                    bp.access_log_bucket_name(ACCOUNT),
                ]
                .into_iter()
                .flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")])
                .collect(),
                Target::Key if is_log_archive => vec![format!(
                    "arn:aws:kms:{}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000",
                    bp.home_region
                )],
                Target::Group | Target::Buckets | Target::Key => Vec::new(),
            };
            out.extend(resources.into_iter().map(|r| (caller.clone(), *action, r)));
        }
    }
    let keeper = Caller::role(
        ACCOUNT,
        format!(
            "arn:aws:iam::{ACCOUNT}:role{path}{}",
            tiers
                .iter()
                .find(|t| t.tier == TierName::Keeper)
                .map(|t| t.role_name.as_str())
                .unwrap_or("lz-keeper")
        ),
    );
    let keeper_path = &bp.organization.keeper_path;
    out.extend(KEEPER_WRITES.iter().map(|action| {
        (
            keeper.clone(),
            *action,
            format!("arn:aws:iam::{ACCOUNT}:role{keeper_path}app-deployer"),
        )
    }));
    out
}

/// One SCP statement, compiled once, with the policy and `Sid` it came from.
struct Judged {
    policy: String,
    sid: String,
    compiled: Arc<Compiled>,
}

/// The statement that denies `action` on `resource` to `caller`, if one does. Each level holds
/// `FullAWSAccess` besides the statements given.
fn denied_by<'a>(
    levels: &[&'a [Judged]],
    full: &Arc<Compiled>,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Option<&'a Judged> {
    let context = caller.context(Some("o-aaaaaaaaaa"));
    let request = Request {
        caller,
        action,
        resource: Some(resource),
        resource_account: None,
        context: &context,
    };
    levels.iter().flat_map(|level| level.iter()).find(|judged| {
        let scps = [vec![full.clone(), judged.compiled.clone()]];
        let policies = Policies {
            identity: std::slice::from_ref(full),
            scps: &scps,
            ..Policies::default()
        };
        !evaluate(&request, &policies).allowed()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> Blueprint {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml"))
                .unwrap();
        Blueprint::parse("acme.yaml", &text).unwrap()
    }

    fn baseline_of(bp: &Blueprint) -> Vec<Scp> {
        vec![Scp {
            name: "lz-acme-baseline".to_owned(),
            document: guardrails::baseline(bp),
        }]
    }

    #[test]
    fn the_baseline_locks_out_neither_lz_nor_break_glass_nor_keeper() {
        let mut bp = acme();
        bp.role_tiers.break_glass.enabled = Some(true);
        let la = [
            bp.audit_bucket_name(ACCOUNT),
            bp.access_log_bucket_name(ACCOUNT),
        ];
        let log_archive = vec![Scp {
            name: "lz-acme-log-archive".to_owned(),
            document: guardrails::log_archive(&bp, &la),
        }];
        assert_eq!(analyze(&bp, &baseline_of(&bp), &log_archive), []);
    }

    #[test]
    fn a_guardrail_without_the_access_role_exempt_is_a_named_lockout() {
        let bp = acme();
        // The baseline's IAM statement, with the exemption of the access role removed.
        let strict = PolicyDocument::new(vec![
            Statement::deny()
                .sid("NoIamChanges")
                .actions(["iam:PutRolePolicy"])
                .resources(["arn:aws:iam::*:role/landing-zone/*"]),
        ]);
        let root = vec![Scp {
            name: "strict".to_owned(),
            document: strict,
        }];
        let found = analyze(&bp, &root, &[]);
        let first = &found[0];
        assert_eq!(
            (
                first.policy.as_str(),
                first.statement.as_str(),
                first.action.as_str()
            ),
            ("strict", "NoIamChanges", "iam:PutRolePolicy")
        );
        assert_eq!(first.account, "security");
        assert!(
            first
                .caller
                .ends_with(":role/OrganizationAccountAccessRole")
        );
    }

    #[test]
    fn settler_cannot_edit_keeper_or_leave_the_organization_under_the_baseline() {
        let bp = acme();
        let judged: Vec<Judged> = baseline_of(&bp)[0]
            .document
            .iter()
            .map(|statement| Judged {
                policy: "lz-acme-baseline".to_owned(),
                sid: statement.sid.as_deref().unwrap_or_default().to_owned(),
                compiled: Arc::new(Compiled::new(&PolicyDocument::new(vec![statement.clone()]))),
            })
            .collect();
        let levels = [judged.as_slice()];
        let full = Arc::new(Compiled::new(&PolicyDocument::new(vec![
            Statement::allow().actions(["*"]).resources(["*"]),
        ])));
        let settler = Caller::role(
            ACCOUNT,
            format!("arn:aws:iam::{ACCOUNT}:role/landing-zone/lz-settler"),
        );
        let keeper_role = format!("arn:aws:iam::{ACCOUNT}:role/landing-zone/lz-keeper");
        let sid = |action: &str, resource: &str| {
            denied_by(&levels, &full, &settler, action, resource).map(|j| j.sid.as_str())
        };
        assert_eq!(
            sid("iam:UpdateAssumeRolePolicy", &keeper_role),
            Some("ProtectLandingZoneIam")
        );
        assert_eq!(
            sid("organizations:LeaveOrganization", "*"),
            Some("DenyLeavingTheOrganization")
        );
        // Settler still changes infrastructure, and roles outside the landing zone's path.
        let other = format!("arn:aws:iam::{ACCOUNT}:role/app/service");
        assert_eq!(sid("iam:PutRolePolicy", &other), None);
        assert_eq!(sid("ec2:RunInstances", "*"), None);
    }
}
