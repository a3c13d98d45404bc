//! The role tiers: one role per tier in each member account where the tier applies, the
//! permissions boundary that keeps `keeper` from escalating, and one group per tier in the
//! security account that may assume exactly those roles.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{Address, Expansion, GroupSpec, PlannedAccount, PolicySpec, RoleSpec, Spec};
use crate::blueprint::{Mfa, ResolvedTier, TierName};
use crate::policy::{PolicyDocument, Principal, Statement};

/// The name of the permissions boundary policy.
pub const BOUNDARY: &str = "lz-boundary";

pub(super) fn expand(x: &mut Expansion<'_>, accounts: &[PlannedAccount<'_>]) {
    let bp = x.bp;
    let path = bp.organization.iam_path.clone();
    let tiers = bp.role_tiers.resolved();
    let security = bp.accounts.security.name.clone();
    // The documents are the same in every account (see `THIS_ACCOUNT`), so each is built
    // once and shared.
    let security_id = x.ids.account(&security);
    let org_id = x.ids.organization();
    let trust_unknown = x.ids.take_unknown();
    let trusts: BTreeMap<TierName, Arc<PolicyDocument>> = tiers
        .iter()
        .map(|t| (t.tier, Arc::new(trust(t, &security_id, &org_id))))
        .collect();
    let access_role = bp.organization.access_role.as_str();
    let keeper_path = &bp.organization.keeper_path;
    let guardrails = Arc::new(guardrails(&path, keeper_path, access_role));
    // Twelve `?` for the account, not `*`: IAM paths may hold colons, and a `*` would match a
    // policy keeper makes at `/keeper/x:policy/landing-zone/` named `lz-boundary`.
    let boundary_arn = format!("arn:aws:iam::????????????:policy{path}{BOUNDARY}");
    let keeper = Arc::new(keeper(&path, keeper_path, access_role, &boundary_arn));
    let boundary_document = Arc::new(boundary_document(&path, keeper_path, access_role));
    // Per tier, the units holding the accounts where it applies.
    let mut grants: BTreeMap<TierName, BTreeSet<&str>> = BTreeMap::new();
    for account in accounts {
        let Some(env) = account.environment else {
            continue;
        };
        let applying: Vec<&ResolvedTier> = tiers.iter().filter(|t| t.scope.includes(env)).collect();
        let boundary = Address::policy(&account.name, BOUNDARY);
        if applying.iter().any(|t| t.tier == TierName::Keeper) {
            let tags = x.tags(&[]);
            x.push(
                boundary.clone(),
                Some(&account.name),
                Spec::IamPolicy(PolicySpec {
                    name: BOUNDARY.to_owned(),
                    path: path.clone(),
                    document: boundary_document.clone(),
                    tags,
                }),
                vec![Address::account(&account.name)],
            );
        }
        for tier in applying {
            let mut depends_on = vec![Address::account(&account.name), Address::account(&security)];
            let mut inline = BTreeMap::new();
            match tier.tier {
                TierName::Tinker => {
                    inline.insert("lz-guardrails".to_owned(), guardrails.clone());
                }
                TierName::Keeper => {
                    inline.insert("lz-keeper".to_owned(), keeper.clone());
                    depends_on.push(boundary.clone());
                }
                _ => {}
            }
            let mut tags = x.tags(&[]);
            tags.insert("lz:tier".to_owned(), tier.tier.key().to_owned());
            x.ids.note(&trust_unknown);
            x.push(
                Address::role(&account.name, &tier.role_name),
                Some(&account.name),
                Spec::IamRole(RoleSpec {
                    name: tier.role_name.clone(),
                    path: path.clone(),
                    trust_policy: trusts[&tier.tier].clone(),
                    managed_policies: tier.managed_policies.iter().cloned().collect(),
                    inline_policies: inline,
                    permissions_boundary: None,
                    max_session_secs: tier.max_session_secs,
                    tags,
                }),
                depends_on,
            );
            grants.entry(tier.tier).or_default().insert(account.ou);
        }
    }
    for tier in &tiers {
        let Some(ous) = grants.get(&tier.tier) else {
            continue;
        };
        // The tier's role in any account of the units where it applies: the same size however
        // many accounts there are (IAM allows a group 5,120 characters of policy).
        let org = x.ids.organization();
        let root = x.ids.root();
        let paths: Vec<String> = ous
            .iter()
            .map(|ou| format!("{org}/{root}/{}/", x.ids.ou(ou)))
            .collect();
        let mut depends_on = vec![Address::account(&security)];
        depends_on.extend(ous.iter().map(|ou| Address::ou(ou)));
        let mut allow = Statement::allow()
            .sid("AssumeTierRole")
            .actions(["sts:AssumeRole", "sts:TagSession"])
            .resources([format!("arn:aws:iam::*:role{path}{}", tier.role_name)])
            .condition("ForAnyValue:StringEquals", "aws:ResourceOrgPaths", paths);
        if tier.mfa == Mfa::Required {
            allow = allow.condition("Bool", "aws:MultiFactorAuthPresent", ["true"]);
        }
        x.push(
            Address::group(&tier.role_name),
            Some(&security),
            Spec::IamGroup(GroupSpec {
                name: tier.role_name.clone(),
                path: path.clone(),
                inline_policies: BTreeMap::from([(
                    "lz-assume".to_owned(),
                    Arc::new(PolicyDocument::new(vec![allow])),
                )]),
            }),
            depends_on,
        );
    }
}

/// The account part of the IAM ARNs in tier policies. IAM calls only ever act on the
/// caller's own account, and a permissions boundary must be a policy of that account, so `*`
/// means "this account" here, and one document serves every account.
const THIS_ACCOUNT: &str = "*";

/// The trust policy of a tier role: only the security account, only from this organization,
/// with MFA (no older than the session may last) where the tier requires it.
pub(crate) fn trust(tier: &ResolvedTier, security_id: &str, org_id: &str) -> PolicyDocument {
    let mut statement = Statement::allow()
        .sid("TrustSecurityAccount")
        .principal(Principal::aws([format!("arn:aws:iam::{security_id}:root")]))
        .actions(["sts:AssumeRole", "sts:TagSession"])
        .condition("StringEquals", "aws:PrincipalOrgID", [org_id.to_owned()]);
    if tier.mfa == Mfa::Required {
        statement = statement
            .condition("Bool", "aws:MultiFactorAuthPresent", ["true"])
            .condition(
                "NumericLessThan",
                "aws:MultiFactorAuthAge",
                [tier.max_session_secs.to_string()],
            );
    }
    PolicyDocument::new(vec![statement])
}

/// What the landing zone holds in a member account, for denies: its roles and policies, and
/// the access role lz itself comes in through (an administrator: whoever could change its
/// trust could take the account over, or lock lz out).
fn protected(path: &str, access_role: &str) -> Vec<String> {
    vec![
        format!("arn:aws:iam::{THIS_ACCOUNT}:role{path}*"),
        format!("arn:aws:iam::{THIS_ACCOUNT}:policy{path}*"),
        format!("arn:aws:iam::{THIS_ACCOUNT}:role/{access_role}"),
    ]
}

/// Roles may be assumed only under keeper's path (in any account): an administrator role that
/// trusts its account would otherwise be one `sts:AssumeRole` away.
fn assume_only_keeper_roles(keeper_path: &str) -> Statement {
    Statement::deny()
        .sid("DenyAssumingRolesButKeepers")
        .actions(["sts:AssumeRole"])
        .not_resources([format!("arn:aws:iam::*:role{keeper_path}*")])
}

/// `tinker` deploys with PowerUserAccess; this keeps it off the landing zone's own roles and
/// policies, out of roles other than keeper's, and in the organization.
fn guardrails(path: &str, keeper_path: &str, access_role: &str) -> PolicyDocument {
    PolicyDocument::new(vec![
        assume_only_keeper_roles(keeper_path),
        Statement::deny()
            .sid("DenyLandingZoneIam")
            .actions(["iam:*"])
            .resources(protected(path, access_role)),
        Statement::deny()
            .sid("DenyLeavingOrganization")
            .actions(["organizations:LeaveOrganization"])
            .resources(["*"]),
        Statement::deny()
            .sid("DenyTrailTampering")
            .actions([
                "cloudtrail:DeleteTrail",
                "cloudtrail:StopLogging",
                "cloudtrail:UpdateTrail",
                "cloudtrail:PutEventSelectors",
            ])
            .resources(["*"]),
    ])
}

/// `keeper` manages roles, instance profiles and policies under its own path only: every write
/// that shapes a role's permissions needs the boundary attached, and it may pass only those
/// roles. Roles and policies anywhere else, the landing zone's and the access role among them,
/// are out of its reach.
fn keeper(path: &str, keeper_path: &str, access_role: &str, boundary_arn: &str) -> PolicyDocument {
    let own = |kind: &str| format!("arn:aws:iam::{THIS_ACCOUNT}:{kind}{keeper_path}*");
    PolicyDocument::new(vec![
        Statement::allow()
            .sid("ReadIam")
            .actions([
                "iam:Get*",
                "iam:List*",
                "iam:GenerateServiceLastAccessedDetails",
            ])
            .resources(["*"]),
        Statement::allow()
            .sid("ShapeOwnRolesWithBoundary")
            .actions([
                "iam:CreateRole",
                "iam:PutRolePermissionsBoundary",
                "iam:AttachRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
            ])
            .resources([own("role")])
            .condition(
                "StringLike",
                "iam:PermissionsBoundary",
                [boundary_arn.to_owned()],
            ),
        Statement::allow()
            .sid("ManageOwnRoles")
            .actions([
                "iam:DeleteRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
            ])
            .resources([own("role")]),
        Statement::allow()
            .sid("ManageOwnPolicies")
            .actions([
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion",
                "iam:TagPolicy",
                "iam:UntagPolicy",
            ])
            .resources([own("policy")]),
        Statement::allow()
            .sid("ManageOwnInstanceProfiles")
            .actions([
                "iam:CreateInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:TagInstanceProfile",
                "iam:UntagInstanceProfile",
            ])
            .resources([own("instance-profile")]),
        Statement::allow()
            .sid("PassOwnRoles")
            .actions(["iam:PassRole"])
            .resources([own("role")]),
        Statement::deny()
            .sid("DenyLandingZoneIam")
            .actions(["iam:*"])
            .resources(protected(path, access_role)),
        Statement::deny()
            .sid("DenyRemovingBoundary")
            .actions([
                "iam:DeleteRolePermissionsBoundary",
                "iam:DeleteUserPermissionsBoundary",
            ])
            .resources(["*"]),
    ])
}

/// The boundary every role `keeper` makes must carry: everything but IAM, Organizations and
/// account administration, never the landing zone's own resources, no role but keeper's to
/// assume, and never running code on compute that already exists (an instance, a function, a
/// stack, a build project), which would act as whatever role that compute carries, bounded or
/// not.
fn boundary_document(path: &str, keeper_path: &str, access_role: &str) -> PolicyDocument {
    let denied: BTreeSet<&str> = ["iam:*", "organizations:*", "account:*"].into();
    PolicyDocument::new(vec![
        Statement::allow()
            .sid("AllowOutsideIdentityAdministration")
            .not_actions(denied.iter().copied())
            .resources(["*"]),
        Statement::allow()
            .sid("AllowReadingIam")
            .actions(["iam:Get*", "iam:List*"])
            .resources(["*"]),
        Statement::deny()
            .sid("DenyLandingZoneIam")
            .actions(["iam:*"])
            .resources(protected(path, access_role)),
        assume_only_keeper_roles(keeper_path),
        Statement::deny()
            .sid("DenyRunningCodeOnExistingCompute")
            .actions(crate::check::techniques::existing_compute_actions())
            .resources(["*"]),
    ])
}
