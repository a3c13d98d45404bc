//! Lockout analysis: the guardrails must not deny what the landing zone depends on. For each
//! shape of member account (the security account, the log-archive account, one workload
//! account per environment, and every account a guardrail is attached to by name), the chains
//! of service control policies (for what the account's principals do) and resource control
//! policies (for what is done to the account's resources), from the root down to the account,
//! with AWS's `FullAWSAccess` and `RCPFullAWSAccess` at every level, are evaluated with the
//! policy evaluator against:
//! - every write lz sends into member accounts through its access role, and the same for
//!   break-glass where it is enabled; keeper's writes under its path;
//! - lz assuming its access role from the management account, and people assuming tier roles
//!   from the security account;
//! - CloudTrail, the service principal, writing the audit bucket and using the audit key.
//!
//! A denial is a problem at the blueprint field that asks for the guardrail, naming the
//! policy, the statement, the account, the caller and the action.
//!
//! Not covered offline: policies lz does not own, which only the live organization shows
//! (`lz check` reads them); condition keys the evaluator does not model count as not denying
//! (see `crate::check::eval`).

use std::sync::Arc;

use super::{FieldPath, Problem};
use crate::blueprint::{Blueprint, TierName};
use crate::check::eval::{
    Caller, Compiled, Context, Policies, Request, ResourcePolicyKind, evaluate,
};
use crate::desired::guardrails::{self, Guardrail, Source, Target};
use crate::desired::tiers::BOUNDARY;
use crate::kinds::organizations_policy::OrgPolicyType;
use crate::policy::{AnyPrincipal, PolicyDocument, Principal, Statement};

/// What lz writes into a member account, by IAM action, and what it writes it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
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
    /// The account itself (its S3 Block Public Access).
    Account,
}

/// Every write lz sends into member accounts, as IAM actions: `crate::kinds`' IAM, KMS and S3
/// writes.
const LZ_WRITES: &[(&str, Object)] = &[
    ("iam:CreateRole", Object::Role),
    ("iam:UpdateRole", Object::Role),
    ("iam:UpdateAssumeRolePolicy", Object::Role),
    ("iam:PutRolePolicy", Object::Role),
    ("iam:DeleteRolePolicy", Object::Role),
    ("iam:AttachRolePolicy", Object::Role),
    ("iam:DetachRolePolicy", Object::Role),
    ("iam:PutRolePermissionsBoundary", Object::Role),
    ("iam:TagRole", Object::Role),
    ("iam:UntagRole", Object::Role),
    ("iam:DeleteRole", Object::Role),
    ("iam:CreatePolicy", Object::Boundary),
    ("iam:CreatePolicyVersion", Object::Boundary),
    ("iam:DeletePolicyVersion", Object::Boundary),
    ("iam:TagPolicy", Object::Boundary),
    ("iam:CreateGroup", Object::Group),
    ("iam:PutGroupPolicy", Object::Group),
    ("iam:DeleteGroupPolicy", Object::Group),
    ("iam:DeleteGroup", Object::Group),
    ("kms:CreateKey", Object::Key),
    ("kms:CreateAlias", Object::Key),
    ("kms:PutKeyPolicy", Object::Key),
    ("kms:EnableKeyRotation", Object::Key),
    ("kms:TagResource", Object::Key),
    ("s3:CreateBucket", Object::Buckets),
    ("s3:PutBucketPolicy", Object::Buckets),
    ("s3:PutEncryptionConfiguration", Object::Buckets),
    ("s3:PutBucketVersioning", Object::Buckets),
    ("s3:PutLifecycleConfiguration", Object::Buckets),
    ("s3:PutBucketObjectLockConfiguration", Object::Buckets),
    ("s3:PutBucketLogging", Object::Buckets),
    ("s3:PutBucketTagging", Object::Buckets),
    ("s3:PutBucketPublicAccessBlock", Object::Buckets),
    ("s3:PutBucketOwnershipControls", Object::Buckets),
    ("s3:DeleteBucketPolicy", Object::Buckets),
    ("s3:PutAccountPublicAccessBlock", Object::Account),
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
/// The security account, where people sign in.
const SECURITY: &str = "222222222222";
/// The management account, where lz runs and the organization trail lives.
const MANAGEMENT: &str = "333333333333";
/// The organization.
const ORG: &str = "o-aaaaaaaaaa";
/// The region of IAM's, STS's and Organizations' endpoints.
const GLOBAL_REGION: &str = "us-east-1";

/// One denial found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lockout {
    pub policy: String,
    pub statement: String,
    pub source: Source,
    pub account: String,
    pub caller: String,
    pub action: String,
    pub resource: String,
}

/// The blueprint field that asks for a guardrail.
pub(crate) fn field_of(_bp: &Blueprint, source: Source) -> FieldPath {
    let g = FieldPath::root().key("guardrails");
    match source {
        Source::Baseline => g.key("baseline"),
        Source::Regions => g.key("regions").key("allowed"),
        Source::DataPerimeter => g.key("data_perimeter"),
        Source::TagPolicy => g.key("tag_policy"),
        Source::User(i) => g.key("policies").index(i).key("file"),
        Source::Foreign(_) => g,
    }
}

/// Every guardrail to evaluate: lz's as planned (with the organization's and the log-archive
/// account's ids where known), and, live, the organization's SCPs and RCPs that lz does not
/// own, at the targets lz knows (the root, its units, its accounts).
fn in_force(bp: &Blueprint, actual: Option<&crate::Actual>) -> (Vec<Guardrail>, Ids) {
    let Some(actual) = actual else {
        return (guardrails::planned(bp, ORG, ACCOUNT), Ids::stand_ins());
    };
    let known = actual.known();
    let org_id = known
        .organization_id
        .clone()
        .unwrap_or_else(|| ORG.to_owned());
    let la_id = known
        .account_ids
        .get(&bp.accounts.log_archive.name)
        .cloned()
        .unwrap_or_else(|| ACCOUNT.to_owned());
    let mut all = guardrails::planned(bp, &org_id, &la_id);
    for (i, p) in actual.foreign_policies.iter().enumerate() {
        let Some(document) = &p.document else {
            continue;
        };
        let targets: Vec<Target> = p
            .targets
            .iter()
            .filter_map(|id| Target::of_id(actual, &known, id))
            .collect();
        all.push(Guardrail {
            name: p.name.clone(),
            policy_type: p.policy_type,
            description: String::new(),
            document: document.clone().into(),
            targets,
            source: Source::Foreign(i),
        });
    }
    (
        all,
        Ids {
            org: org_id,
            log_archive: la_id,
        },
    )
}

/// The ids the guardrails' documents name, which the requests must name too.
pub(crate) struct Ids {
    org: String,
    log_archive: String,
}

impl Ids {
    /// Stand-ins, for a blueprint on its own.
    fn stand_ins() -> Ids {
        Ids {
            org: ORG.to_owned(),
            log_archive: ACCOUNT.to_owned(),
        }
    }
}

/// What `lz check` reports: every denial of what the landing zone needs, one per statement,
/// offline (lz's guardrails) or live (with the organization's other policies).
pub(crate) fn findings(bp: &Blueprint, actual: Option<&crate::Actual>) -> Vec<String> {
    let (all, ids) = in_force(bp, actual);
    summarize(analyze(bp, &all, &ids))
        .into_iter()
        .map(|(_, message)| message)
        .collect()
}

/// The lockouts the live organization's policies that lz does not own would cause, with lz's
/// guardrails as planned, as plan conflicts: one per denying statement, at the policy.
pub(crate) fn conflicts(bp: &Blueprint, actual: &crate::Actual) -> Vec<crate::plan::Conflict> {
    if actual.foreign_policies.is_empty() {
        return Vec::new();
    }
    let (all, ids) = in_force(bp, Some(actual));
    summarize(analyze(bp, &all, &ids))
        .into_iter()
        .filter_map(|(l, message)| {
            let Source::Foreign(i) = l.source else {
                return None;
            };
            let p = &actual.foreign_policies[i];
            Some(crate::plan::Conflict {
                address: crate::desired::Address::org_policy(p.policy_type, &p.name),
                message: format!(
                    "{message}; lz applies nothing while it is attached (detach it, or exempt lz's access role)"
                ),
            })
        })
        .collect()
}

/// One message per denying statement: its first denial, and how many more it causes.
fn summarize(found: Vec<Lockout>) -> Vec<(Lockout, String)> {
    let mut firsts: Vec<(Lockout, usize)> = Vec::new();
    for l in found {
        match firsts
            .iter_mut()
            .find(|(f, _)| f.policy == l.policy && f.statement == l.statement)
        {
            Some((_, more)) => *more += 1,
            None => firsts.push((l, 0)),
        }
    }
    firsts
        .into_iter()
        .map(|(l, more)| {
            let more = match more {
                0 => String::new(),
                1 => ", and 1 more request".to_owned(),
                n => format!(", and {n} more requests"),
            };
            let message = format!(
                "guardrail `{}` (statement `{}`) would deny {} `{}` on `{}` in account `{}`, which the landing zone needs{more}",
                l.policy, l.statement, l.caller, l.action, l.resource, l.account
            );
            (l, message)
        })
        .collect()
}

pub(super) fn check(bp: &Blueprint) -> Vec<Problem> {
    let planned = guardrails::planned(bp, ORG, ACCOUNT);
    summarize(analyze(bp, &planned, &Ids::stand_ins()))
        .into_iter()
        .map(|(l, message)| {
            Problem::at_value(field_of(bp, l.source), message)
            .hint("a guardrail must exempt lz's access role and break-glass, and spare keeper's path, the home region and AWS services acting for the organization")
        })
        .collect()
}

/// One SCP or RCP statement, compiled once, with the policy and `Sid` it came from.
struct Judged {
    policy: String,
    sid: String,
    source: Source,
    compiled: Arc<Compiled>,
}

/// The statements of each level (root, unit, account) of one account's chain, by type.
#[derive(Default)]
struct Chain<'a> {
    scps: Vec<&'a Judged>,
    rcps: Vec<&'a Judged>,
}

/// One request the landing zone depends on.
struct Need {
    caller: Caller,
    /// The caller's account is a member account whose SCPs bind it: the one probed, or the
    /// security account; `None` for the management account and services.
    caller_chain: Option<Probe>,
    action: &'static str,
    resource: String,
    /// The resource is in another account than the caller's.
    cross_account: bool,
    context: Context,
}

/// Which member account's chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    This,
    Security,
}

/// The denials the planned guardrails would cause.
pub(crate) fn analyze(bp: &Blueprint, planned: &[Guardrail], ids: &Ids) -> Vec<Lockout> {
    let judged: Vec<(OrgPolicyType, &Target, Judged)> = planned
        .iter()
        .filter(|g| g.policy_type.is_iam())
        .flat_map(|g| {
            let document = g
                .document
                .iam()
                .cloned()
                .unwrap_or_else(|| PolicyDocument::new(Vec::new()));
            let statements: Vec<Statement> = document.iter().cloned().collect();
            g.targets.iter().flat_map(move |t| {
                statements.clone().into_iter().map(move |statement| {
                    (
                        g.policy_type,
                        t,
                        Judged {
                            policy: g.name.clone(),
                            sid: statement.sid.as_deref().unwrap_or("(no Sid)").to_owned(),
                            source: g.source,
                            compiled: Arc::new(Compiled::new(&PolicyDocument::new(vec![
                                statement,
                            ]))),
                        },
                    )
                })
            })
        })
        .collect();
    let chain = |account: &str, ou: &str| -> Chain<'_> {
        let mut chain = Chain::default();
        for (policy_type, target, j) in &judged {
            let applies = match target {
                Target::Root => true,
                Target::Unit(u) => u == ou,
                Target::Account(a) => a == account,
            };
            if !applies {
                continue;
            }
            match policy_type {
                OrgPolicyType::ResourceControlPolicy => chain.rcps.push(j),
                _ => chain.scps.push(j),
            }
        }
        chain
    };
    let full = Arc::new(Compiled::new(&PolicyDocument::new(vec![
        Statement::allow().actions(["*"]).resources(["*"]),
    ])));
    let rcp_full = Arc::new(Compiled::new(&PolicyDocument::new(vec![
        Statement::allow()
            .principal(Principal::Any(AnyPrincipal::Everyone))
            .actions(["*"])
            .resources(["*"]),
    ])));
    let open = Compiled::new(&PolicyDocument::new(vec![
        Statement::allow()
            .principal(Principal::Any(AnyPrincipal::Everyone))
            .actions(["*"])
            .resources(["*"]),
    ]));
    let security = &bp.accounts.security;
    let security_chain = chain(&security.name, &security.ou);
    let mut out = Vec::new();
    for (account, ou, role) in probes(bp, planned) {
        let this = chain(&account, &ou);
        for need in needs(bp, role, ids) {
            let scps = match need.caller_chain {
                Some(Probe::This) => &this.scps,
                Some(Probe::Security) => &security_chain.scps,
                None => &Vec::new(),
            };
            let found = scps
                .iter()
                .map(|j| (j, true))
                .chain(this.rcps.iter().map(|j| (j, false)))
                .find(|(j, scp)| {
                    let with = [vec![
                        if *scp { full.clone() } else { rcp_full.clone() },
                        j.compiled.clone(),
                    ]];
                    let policies = Policies {
                        identity: std::slice::from_ref(&full),
                        scps: if *scp { &with } else { &[] },
                        rcps: if *scp { &[] } else { &with },
                        resource: Some((&open, ResourcePolicyKind::Optional)),
                        ..Policies::default()
                    };
                    let request = Request {
                        caller: &need.caller,
                        action: need.action,
                        resource: Some(&need.resource),
                        resource_account: need.cross_account.then_some(ACCOUNT),
                        context: &need.context,
                    };
                    !evaluate(&request, &policies).allowed()
                });
            if let Some((j, _)) = found {
                out.push(Lockout {
                    policy: j.policy.clone(),
                    statement: j.sid.clone(),
                    source: j.source,
                    account: account.clone(),
                    caller: need.caller.arn.clone(),
                    action: need.action.to_owned(),
                    resource: need.resource.clone(),
                });
            }
        }
    }
    out
}

/// What an account is to the landing zone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Security,
    LogArchive,
    Workload,
}

/// The accounts evaluated, with their units: every account of the same unit and role has the
/// same chains and needs, so one per environment stands for all, and each account a guardrail
/// names is evaluated itself.
fn probes(bp: &Blueprint, planned: &[Guardrail]) -> Vec<(String, String, Role)> {
    let named: Vec<&str> = planned
        .iter()
        .flat_map(|g| g.targets.iter())
        .filter_map(|t| match t {
            Target::Account(a) => Some(a.as_str()),
            _ => None,
        })
        .collect();
    let mut environments: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for account in crate::desired::accounts(bp) {
        let role = if account.name == bp.accounts.security.name {
            Role::Security
        } else if account.name == bp.accounts.log_archive.name {
            Role::LogArchive
        } else {
            Role::Workload
        };
        let first_of_environment = account
            .environment
            .is_some_and(|e| !environments.contains(&e));
        if let Some(e) = account.environment {
            environments.push(e);
        }
        if role != Role::Workload || first_of_environment || named.contains(&account.name.as_str())
        {
            out.push((account.name.clone(), account.ou.to_owned(), role));
        }
    }
    out
}

/// What must stay allowed in `account`.
fn needs(bp: &Blueprint, role: Role, ids: &Ids) -> Vec<Need> {
    let org = ids.org.as_str();
    let path = &bp.organization.iam_path;
    let tiers = bp.role_tiers.resolved();
    let home = bp.home_region.as_str();
    let member = |caller: &Caller, region: &str| {
        caller
            .context(Some(org))
            .with("aws:RequestedRegion", region)
            .with("aws:SecureTransport", "true")
    };
    let region_of = |action: &str| {
        if action.starts_with("iam:") || action.starts_with("sts:") {
            GLOBAL_REGION
        } else {
            home
        }
    };
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
    let role_name = tiers
        .first()
        .map(|t| t.role_name.as_str())
        .unwrap_or("lz-watcher");
    let la = ids.log_archive.as_str();
    let buckets: Vec<String> = [bp.audit_bucket_name(la), bp.access_log_bucket_name(la)]
        .into_iter()
        .flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")])
        .collect();
    let key = format!("arn:aws:kms:{home}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000");
    let mut out = Vec::new();
    for caller in &callers {
        for (action, object) in LZ_WRITES {
            let resources: Vec<String> = match object {
                Object::Role => vec![
                    format!("arn:aws:iam::{ACCOUNT}:role{path}{role_name}"),
                    format!(
                        "arn:aws:iam::{ACCOUNT}:role/{}",
                        bp.organization.access_role
                    ),
                ],
                Object::Boundary => vec![format!("arn:aws:iam::{ACCOUNT}:policy{path}{BOUNDARY}")],
                Object::Group if role == Role::Security => {
                    vec![format!("arn:aws:iam::{ACCOUNT}:group{path}{role_name}")]
                }
                Object::Buckets if role == Role::LogArchive => buckets.clone(),
                Object::Key if role == Role::LogArchive => vec![key.clone()],
                Object::Account => vec!["*".to_owned()],
                Object::Group | Object::Buckets | Object::Key => Vec::new(),
            };
            out.extend(resources.into_iter().map(|resource| Need {
                caller: caller.clone(),
                caller_chain: Some(Probe::This),
                action,
                resource,
                cross_account: false,
                context: member(caller, region_of(action)),
            }));
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
    out.extend(KEEPER_WRITES.iter().map(|action| Need {
        context: member(&keeper, GLOBAL_REGION),
        caller: keeper.clone(),
        caller_chain: Some(Probe::This),
        action,
        resource: format!("arn:aws:iam::{ACCOUNT}:role{keeper_path}app-deployer"),
        cross_account: false,
    }));
    // Into the account: lz from the management account, people from the security account.
    let lz = Caller::role(MANAGEMENT, format!("arn:aws:iam::{MANAGEMENT}:role/lz"));
    out.push(Need {
        context: member(&lz, GLOBAL_REGION),
        caller: lz,
        caller_chain: None,
        action: "sts:AssumeRole",
        resource: format!(
            "arn:aws:iam::{ACCOUNT}:role/{}",
            bp.organization.access_role
        ),
        cross_account: true,
    });
    let person = Caller::role(SECURITY, format!("arn:aws:iam::{SECURITY}:role/person"));
    for tier in &tiers {
        out.push(Need {
            context: member(&person, GLOBAL_REGION),
            caller: person.clone(),
            caller_chain: Some(Probe::Security),
            action: "sts:AssumeRole",
            resource: format!("arn:aws:iam::{ACCOUNT}:role{path}{}", tier.role_name),
            cross_account: true,
        });
    }
    if role == Role::LogArchive {
        // The organization trail, from the management account, delivering to the bucket.
        let trail = Caller::service("cloudtrail.amazonaws.com");
        let context = trail
            .context(Some(org))
            .with("aws:SourceOrgID", org)
            .with("aws:SourceAccount", MANAGEMENT)
            .with(
                "aws:SourceArn",
                format!(
                    "arn:aws:cloudtrail:{home}:{MANAGEMENT}:trail/{}",
                    bp.trail_name()
                ),
            )
            .with("aws:RequestedRegion", home)
            .with("aws:SecureTransport", "true");
        let audit = bp.audit_bucket_name(la);
        for (action, resource) in [
            ("s3:GetBucketAcl", format!("arn:aws:s3:::{audit}")),
            (
                "s3:PutObject",
                format!("arn:aws:s3:::{audit}/AWSLogs/{org}/{MANAGEMENT}/x"),
            ),
            ("kms:GenerateDataKey", key.clone()),
            ("kms:DescribeKey", key.clone()),
        ] {
            out.push(Need {
                caller: trail.clone(),
                caller_chain: None,
                action,
                resource,
                cross_account: true,
                context: context.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::Regions;

    fn acme() -> Blueprint {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml"))
                .unwrap();
        Blueprint::parse("acme.yaml", &text).unwrap()
    }

    fn planned(bp: &Blueprint) -> Vec<Guardrail> {
        guardrails::planned(bp, ORG, ACCOUNT)
    }

    fn analyze(bp: &Blueprint, planned: &[Guardrail]) -> Vec<Lockout> {
        super::analyze(bp, planned, &Ids::stand_ins())
    }

    /// A guardrail of the blueprint's own, on the root.
    fn own(policy_type: OrgPolicyType, statements: Vec<Statement>) -> Guardrail {
        Guardrail {
            name: "own".to_owned(),
            policy_type,
            description: String::new(),
            document: PolicyDocument::new(statements).into(),
            targets: vec![Target::Root],
            source: Source::User(0),
        }
    }

    #[test]
    fn every_guardrail_of_acme_locks_out_neither_lz_nor_break_glass_nor_keeper_nor_cloudtrail() {
        let mut bp = acme();
        bp.role_tiers.break_glass.enabled = Some(true);
        bp.guardrails.regions = Some(Regions {
            allowed: vec![bp.home_region.clone()],
            environments: None,
        });
        let all = planned(&bp);
        let names: Vec<&str> = all.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lz-acme-baseline",
                "lz-acme-log-archive",
                "lz-acme-regions",
                "lz-acme-data-perimeter",
                "lz-acme-tags"
            ]
        );
        assert_eq!(analyze(&bp, &all), []);
    }

    #[test]
    fn both_shipped_blueprints_pass_the_analysis_with_break_glass_and_a_region_deny() {
        for name in ["acme", "northwind"] {
            let path = format!("{}/blueprints/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
            let mut bp = Blueprint::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(findings(&bp, None), Vec::<String>::new(), "{name}");
            bp.role_tiers.break_glass.enabled = Some(true);
            bp.guardrails.regions = Some(Regions {
                allowed: vec![bp.home_region.clone()],
                environments: None,
            });
            assert_eq!(findings(&bp, None), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn a_guardrail_without_the_access_role_exempt_is_a_named_lockout() {
        let bp = acme();
        let mut all = planned(&bp);
        all.push(own(
            OrgPolicyType::ServiceControlPolicy,
            vec![
                Statement::deny()
                    .sid("NoIamChanges")
                    .actions(["iam:*"])
                    .resources(["*"]),
            ],
        ));
        let found = analyze(&bp, &all);
        let first = &found[0];
        assert_eq!(
            (
                first.policy.as_str(),
                first.statement.as_str(),
                first.action.as_str()
            ),
            ("own", "NoIamChanges", "iam:CreateRole")
        );
        assert_eq!(first.source, Source::User(0));
        assert_eq!(first.account, "security");
        assert!(
            first
                .caller
                .ends_with(":role/OrganizationAccountAccessRole")
        );
    }

    #[test]
    fn a_region_deny_without_the_home_region_locks_lz_out_of_its_buckets_and_keys() {
        let mut bp = acme();
        bp.guardrails.regions = Some(Regions {
            allowed: vec!["us-west-2".to_owned()],
            environments: None,
        });
        let found = analyze(&bp, &planned(&bp));
        assert!(found.iter().all(|l| l.policy == "lz-acme-regions"));
        assert!(found.iter().all(|l| l.source == Source::Regions));
        let actions: Vec<&str> = found.iter().map(|l| l.action.as_str()).collect();
        // IAM is global and exempt; what lz does in the home region is not.
        assert!(actions.contains(&"s3:CreateBucket"), "{actions:?}");
        assert!(!actions.iter().any(|a| a.starts_with("iam:")));
        // Attached to another environment only, it spares the log-archive account.
        bp.guardrails.regions.as_mut().unwrap().environments =
            Some(crate::blueprint::Scope::Only(vec!["dev".to_owned()]));
        let found = analyze(&bp, &planned(&bp));
        assert!(found.iter().all(|l| l.account == "lumo-dev"), "{found:?}");
    }

    #[test]
    fn a_perimeter_without_the_service_exemption_locks_cloudtrail_out_of_the_audit_bucket() {
        let bp = acme();
        let mut all = planned(&bp);
        all.push(own(
            OrgPolicyType::ResourceControlPolicy,
            vec![
                Statement::deny()
                    .sid("OnlyTheOrganization")
                    .principal(Principal::Any(AnyPrincipal::Everyone))
                    .actions(["s3:*"])
                    .resources(["*"])
                    .condition("StringNotEqualsIfExists", "aws:PrincipalOrgID", [ORG]),
            ],
        ));
        let found = analyze(&bp, &all);
        let denied: Vec<(&str, &str)> = found
            .iter()
            .map(|l| (l.caller.as_str(), l.action.as_str()))
            .collect();
        // lz's own S3 writes come from inside the organization and pass.
        assert_eq!(
            denied,
            [
                ("cloudtrail.amazonaws.com", "s3:GetBucketAcl"),
                ("cloudtrail.amazonaws.com", "s3:PutObject")
            ]
        );
        assert_eq!(found[0].account, "log-archive");
    }

    #[test]
    fn settler_cannot_edit_keeper_nor_leave_and_a_member_root_user_does_nothing() {
        let bp = acme();
        let baseline = Compiled::new(&guardrails::baseline(&bp));
        let scps = [vec![
            Arc::new(Compiled::new(&PolicyDocument::new(vec![
                Statement::allow().actions(["*"]).resources(["*"]),
            ]))),
            Arc::new(baseline),
        ]];
        let everything = scps[0][0].clone();
        let allowed = |caller: &Caller, action: &str, resource: &str| {
            let context = caller.context(Some(ORG));
            let request = Request {
                caller,
                action,
                resource: Some(resource),
                resource_account: None,
                context: &context,
            };
            let policies = Policies {
                identity: std::slice::from_ref(&everything),
                scps: &scps,
                ..Policies::default()
            };
            evaluate(&request, &policies).allowed()
        };
        let settler = Caller::role(
            ACCOUNT,
            format!("arn:aws:iam::{ACCOUNT}:role/landing-zone/lz-settler"),
        );
        let keeper_role = format!("arn:aws:iam::{ACCOUNT}:role/landing-zone/lz-keeper");
        assert!(!allowed(
            &settler,
            "iam:UpdateAssumeRolePolicy",
            &keeper_role
        ));
        assert!(!allowed(&settler, "organizations:LeaveOrganization", "*"));
        // Settler still changes infrastructure, and roles outside the landing zone's path.
        let other = format!("arn:aws:iam::{ACCOUNT}:role/app/service");
        assert!(allowed(&settler, "iam:PutRolePolicy", &other));
        assert!(allowed(&settler, "ec2:RunInstances", "*"));
        // The access role still changes keeper.
        let access = Caller::role(
            ACCOUNT,
            format!("arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"),
        );
        assert!(allowed(&access, "iam:UpdateAssumeRolePolicy", &keeper_role));
        // A member account's root user: nothing but unlocking a bucket policy.
        let root = Caller::root(ACCOUNT);
        assert!(!allowed(&root, "ec2:RunInstances", "*"));
        assert!(!allowed(&root, "iam:CreateAccessKey", "*"));
        assert!(allowed(
            &root,
            "s3:DeleteBucketPolicy",
            "arn:aws:s3:::locked"
        ));
    }
}
