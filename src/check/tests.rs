use std::sync::Arc;

use super::*;
use crate::Blueprint;
use crate::blueprint::TierName;
use crate::policy::{PolicyDocument, Principal, Statement};

const ID: &str = "123456789012";

fn blueprint(name: &str) -> Blueprint {
    Blueprint::load(format!(
        "{}/blueprints/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("valid")
}

fn document(json: &str) -> Arc<PolicyDocument> {
    Arc::new(PolicyDocument::parse(json).expect("test documents parse"))
}

fn trusting_service(service: &'static str) -> Arc<PolicyDocument> {
    Arc::new(PolicyDocument::new(vec![
        Statement::allow()
            .principal(Principal::service(service))
            .actions(["sts:AssumeRole"]),
    ]))
}

fn role(name: &str, trust: Arc<PolicyDocument>, managed: &[&str]) -> RoleFacts {
    RoleFacts {
        name: name.to_owned(),
        path: "/".to_owned(),
        trust,
        inline: Vec::new(),
        managed: managed.iter().map(|s| s.to_string()).collect(),
        boundary: None,
    }
}

/// A role someone else made: `AdministratorAccess`, trusting EC2.
fn app_admin() -> RoleFacts {
    role(
        "app-admin",
        trusting_service("ec2.amazonaws.com"),
        &[managed::ADMINISTRATOR_ACCESS],
    )
}

/// An account holding `app-admin` and an `attacker` role with exactly `policy`.
fn account_with(policy: &str, setup: fn(&mut AccountIam)) -> AccountIam {
    let mut attacker = role("attacker", trusting_service("ec2.amazonaws.com"), &[]);
    attacker.inline = vec![document(policy)];
    let mut account = AccountIam {
        name: "target".to_owned(),
        id: ID.to_owned(),
        roles: vec![attacker, app_admin()],
        ..AccountIam::default()
    };
    setup(&mut account);
    account
}

fn inventory(accounts: Vec<AccountIam>) -> Inventory {
    Inventory {
        blueprint: "test".to_owned(),
        source: "offline",
        organization_id: "o-test".to_owned(),
        management_account_id: "100000000000".to_owned(),
        security_account_id: "100000000001".to_owned(),
        access_role: "OrganizationAccountAccessRole".to_owned(),
        iam_path: "/landing-zone/".to_owned(),
        keeper_path: "/keeper/".to_owned(),
        tiers: Vec::new(),
        entries: Vec::new(),
        accounts,
        audit: None,
        uncovered: Vec::new(),
        lockouts: Vec::new(),
    }
}

fn allow(actions: &[&str], resource: &str) -> String {
    let actions = serde_json::to_string(actions).unwrap();
    format!(r#"{{"Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"{resource}"}}]}}"#)
}

/// Changes a fixture account for one technique.
type Setup = fn(&mut AccountIam);

fn no_setup(_: &mut AccountIam) {}

/// One fixture per technique: the attacker holds exactly that permission and finds the path;
/// with an unrelated permission instead, it finds none.
#[test]
fn each_escalation_technique_is_found_and_only_with_its_permission() {
    let admin = "arn:aws:iam::123456789012:role/app-admin";
    let cases: Vec<(&str, String, Setup, &str)> = vec![
        (
            "trust rewrite",
            allow(&["iam:UpdateAssumeRolePolicy"], admin),
            no_setup,
            "rewrites the trust policy of role /app-admin",
        ),
        (
            "assume a role that trusts the account",
            allow(&["sts:AssumeRole"], admin),
            |a| {
                a.roles[1].trust = Arc::new(PolicyDocument::new(vec![
                    Statement::allow()
                        .principal(Principal::aws([format!("arn:aws:iam::{ID}:root")]))
                        .actions(["sts:AssumeRole"]),
                ]))
            },
            "role /attacker assumes role /app-admin",
        ),
        (
            "inline policy on itself",
            allow(&["iam:PutRolePolicy"], "arn:aws:iam::123456789012:role/attacker"),
            no_setup,
            "grants administrator to role /attacker (iam:PutRolePolicy)",
        ),
        (
            "managed policy on itself",
            allow(&["iam:AttachRolePolicy"], "arn:aws:iam::123456789012:role/attacker"),
            no_setup,
            "(iam:AttachRolePolicy AdministratorAccess)",
        ),
        (
            "new version of its own policy",
            allow(&["iam:CreatePolicyVersion"], "arn:aws:iam::123456789012:policy/mine"),
            |a| {
                let arn = format!("arn:aws:iam::{ID}:policy/mine");
                a.policies.insert(arn.clone(), document(r#"{"Statement":[]}"#));
                a.roles[0].managed.push(arn);
            },
            "iam:CreatePolicyVersion on its policy",
        ),
        (
            "default version of its own policy",
            allow(&["iam:SetDefaultPolicyVersion"], "arn:aws:iam::123456789012:policy/mine"),
            |a| {
                let arn = format!("arn:aws:iam::{ID}:policy/mine");
                a.policies.insert(arn.clone(), document(r#"{"Statement":[]}"#));
                a.roles[0].managed.push(arn);
            },
            "iam:SetDefaultPolicyVersion on its policy",
        ),
        (
            "access key for an administrator user",
            allow(&["iam:CreateAccessKey"], "arn:aws:iam::123456789012:user/ops"),
            add_admin_user,
            "signs in as user /ops (iam:CreateAccessKey)",
        ),
        (
            "login profile for an administrator user",
            allow(&["iam:CreateLoginProfile"], "*"),
            add_admin_user,
            "(iam:CreateLoginProfile)",
        ),
        (
            "password of an administrator user",
            allow(&["iam:UpdateLoginProfile"], "*"),
            add_admin_user,
            "(iam:UpdateLoginProfile)",
        ),
        (
            "pass a role to EC2",
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Action":"iam:PassRole","Resource":"{admin}"}},{{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}}]}}"#
            ),
            no_setup,
            "passes role /app-admin to ec2.amazonaws.com",
        ),
        (
            "pass a role to Lambda",
            r#"{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}"#.to_owned(),
            |a| a.roles.push(role("fn-admin", trusting_service("lambda.amazonaws.com"), &[managed::ADMINISTRATOR_ACCESS])),
            "passes role /fn-admin to lambda.amazonaws.com",
        ),
        (
            "pass a role to CloudFormation",
            allow(&["iam:PassRole", "cloudformation:CreateStack"], "*"),
            |a| a.roles.push(role("cfn-admin", trusting_service("cloudformation.amazonaws.com"), &[managed::ADMINISTRATOR_ACCESS])),
            "passes role /cfn-admin to cloudformation.amazonaws.com",
        ),
        (
            "create a role of its own",
            format!(
                "{{\"Statement\":[{}, {}]}}",
                r#"{"Effect":"Allow","Action":["iam:CreateRole","iam:PutRolePolicy"],"Resource":"arn:aws:iam::123456789012:role/new/*"}"#,
                r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#
            ),
            no_setup,
            "creates a role without a boundary",
        ),
        (
            "create a user of its own",
            allow(&["iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey"], "*"),
            no_setup,
            "creates a user without a boundary",
        ),
        (
            "remove its own boundary",
            allow(&["iam:DeleteRolePermissionsBoundary"], "arn:aws:iam::123456789012:role/attacker"),
            |a| {
                a.roles[0].managed.push(managed::ADMINISTRATOR_ACCESS.to_owned());
                a.roles[0].boundary = Some(format!("arn:aws:iam::{ID}:policy/narrow"));
                a.policies.insert(
                    format!("arn:aws:iam::{ID}:policy/narrow"),
                    document(&allow(&["iam:DeleteRolePermissionsBoundary"], "*")),
                );
            },
            "after removing its boundary",
        ),
        (
            "replace its own boundary",
            allow(&["iam:PutRolePermissionsBoundary"], "arn:aws:iam::123456789012:role/attacker"),
            |a| {
                a.roles[0].managed.push(managed::ADMINISTRATOR_ACCESS.to_owned());
                a.roles[0].boundary = Some(format!("arn:aws:iam::{ID}:policy/narrow"));
                a.policies.insert(
                    format!("arn:aws:iam::{ID}:policy/narrow"),
                    document(&allow(&["iam:PutRolePermissionsBoundary"], "*")),
                );
            },
            "after replacing its boundary",
        ),
    ];
    let harmless = allow(&["s3:GetObject"], "*");
    for (name, policy, setup, expected) in cases {
        let account = account_with(&policy, setup);
        let found = escalation::reach(&inventory(vec![]), &account, "role /attacker", false)
            .unwrap_or_else(|| panic!("{name}: no path found"));
        assert!(
            found.iter().any(|step| step.contains(expected)),
            "{name}: {found:#?}"
        );
        let account = account_with(&harmless, setup);
        let without = escalation::reach(&inventory(vec![]), &account, "role /attacker", true);
        assert!(
            without.is_none() || name.contains("boundary"),
            "{name}: a path without the permission: {without:#?}"
        );
    }
}

fn add_admin_user(account: &mut AccountIam) {
    account.users.push(UserFacts {
        name: "ops".to_owned(),
        path: "/".to_owned(),
        inline: Vec::new(),
        managed: vec![managed::ADMINISTRATOR_ACCESS.to_owned()],
        groups: Vec::new(),
        boundary: None,
    });
}

#[test]
fn code_on_existing_compute_is_a_residual_path() {
    let account = account_with(&allow(&["ssm:SendCommand"], "*"), no_setup);
    let inventory = inventory(vec![]);
    assert_eq!(
        escalation::reach(&inventory, &account, "role /attacker", false),
        None
    );
    let residual = escalation::reach(&inventory, &account, "role /attacker", true).unwrap();
    assert!(
        residual[0].contains("ssm:SendCommand; residual"),
        "{residual:#?}"
    );
}

/// The finding that opened the security issue: the keeper policy lz used to write, with an
/// administrator role someone else made, escalates; the keeper policy lz writes now does not.
#[test]
fn the_old_keeper_policy_escalates_and_the_new_one_does_not() {
    let old_keeper = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"ReadIam","Effect":"Allow","Action":["iam:Get*","iam:List*","iam:GenerateServiceLastAccessedDetails"],"Resource":"*"},
      {"Sid":"ManageWithBoundary","Effect":"Allow","Action":["iam:CreateRole","iam:CreateUser","iam:PutRolePermissionsBoundary","iam:PutUserPermissionsBoundary","iam:AttachRolePolicy","iam:DetachRolePolicy","iam:PutRolePolicy","iam:DeleteRolePolicy","iam:AttachUserPolicy","iam:DetachUserPolicy","iam:PutUserPolicy","iam:DeleteUserPolicy"],"Resource":["arn:aws:iam::*:role/*","arn:aws:iam::*:user/*"],"Condition":{"StringLike":{"iam:PermissionsBoundary":"arn:aws:iam::*:policy/landing-zone/lz-boundary"}}},
      {"Sid":"ManageUnboundedAttributes","Effect":"Allow","Action":["iam:DeleteRole","iam:DeleteUser","iam:TagRole","iam:UntagRole","iam:TagUser","iam:UntagUser","iam:UpdateRole","iam:UpdateRoleDescription","iam:UpdateAssumeRolePolicy","iam:CreatePolicy","iam:CreatePolicyVersion","iam:DeletePolicy","iam:DeletePolicyVersion"],"Resource":["arn:aws:iam::*:role/*","arn:aws:iam::*:user/*","arn:aws:iam::*:policy/*"]},
      {"Sid":"PassOwnRoles","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/*"},
      {"Sid":"DenyLandingZoneIam","Effect":"Deny","Action":"iam:*","Resource":["arn:aws:iam::*:role/landing-zone/*","arn:aws:iam::*:policy/landing-zone/*","arn:aws:iam::*:role/OrganizationAccountAccessRole"]}
    ]}"#;
    let bp = blueprint("acme");
    let mut inventory = Inventory::offline(&bp);
    for account in &mut inventory.accounts {
        account.roles.push(app_admin());
    }
    let keeper_fails = |inventory: &Inventory| {
        check(inventory)
            .failures()
            .filter(|p| p.tier == Some(TierName::Keeper))
            .map(|p| p.evidence.join(" / "))
            .collect::<Vec<_>>()
    };
    assert_eq!(keeper_fails(&inventory), Vec::<String>::new());
    for account in &mut inventory.accounts {
        let keeper = account
            .roles
            .iter_mut()
            .find(|r| r.name == "lz-keeper")
            .unwrap();
        keeper.inline = vec![document(old_keeper)];
    }
    let found = keeper_fails(&inventory);
    assert!(!found.is_empty());
    assert!(
        found[0].contains("rewrites the trust policy of role /app-admin"),
        "{found:#?}"
    );
}

/// Every tier of both shipped blueprints, offline, with an administrator role someone else
/// made trusting each compute service and the account (the check's stand-ins): nothing fails;
/// watcher and keeper reach no administrator at all, tinker only through the documented
/// residual; settler and break-glass only with MFA.
#[test]
fn both_shipped_blueprints_hold_offline() {
    for name in ["acme", "northwind"] {
        let report = check(&Inventory::offline(&blueprint(name)));
        assert!(
            report.passed(),
            "{name}: {:#?}",
            report.failures().collect::<Vec<_>>()
        );
        for (tier, expected) in [
            (TierName::Watcher, Status::Holds),
            (TierName::Keeper, Status::Holds),
            (TierName::Tinker, Status::Residual),
        ] {
            for claim in [
                "reaches no administrator",
                "reaches no administrator when entered without MFA",
            ] {
                let checked = report
                    .properties
                    .iter()
                    .filter(|p| p.tier == Some(tier) && p.claim == claim)
                    .inspect(|p| assert_eq!(p.status, expected, "{name} {tier} {p:?}"))
                    .count();
                assert!(checked > 0, "{name}: {tier} {claim} was checked");
            }
        }
        for tier in [TierName::Settler, TierName::BreakGlass] {
            for p in report.properties.iter().filter(|p| p.tier == Some(tier)) {
                assert_eq!(p.status, Status::Holds, "{name}: {p:?}");
            }
        }
    }
}

/// With an administrator role lz did not make in every account (trusting EC2), keeper and
/// watcher still reach none; tinker reaches it only by running code on an instance that
/// carries it, the documented residual.
#[test]
fn an_administrator_role_made_by_someone_else_is_out_of_reach() {
    for name in ["acme", "northwind"] {
        let mut inventory = Inventory::offline(&blueprint(name));
        for account in &mut inventory.accounts {
            account.roles.push(app_admin());
        }
        let report = check(&inventory);
        assert!(
            report.passed(),
            "{name}: {:#?}",
            report.failures().collect::<Vec<_>>()
        );
        let tinker: Vec<&Property> = report
            .properties
            .iter()
            .filter(|p| p.tier == Some(TierName::Tinker) && p.claim == "reaches no administrator")
            .collect();
        assert!(!tinker.is_empty());
        for p in tinker {
            assert_eq!(p.status, Status::Residual, "{name}: {p:?}");
            assert!(p.evidence[0].contains("ssm:SendCommand"), "{p:?}");
        }
    }
}

#[test]
fn a_managed_policy_lz_does_not_know_is_taken_to_allow_everything() {
    let mut inventory = Inventory::offline(&blueprint("acme"));
    let watcher = inventory.accounts[0]
        .roles
        .iter_mut()
        .find(|r| r.name == "lz-watcher")
        .unwrap();
    watcher.managed = vec!["arn:aws:iam::aws:policy/SomethingNew".to_owned()];
    let report = check(&inventory);
    let failure = report.failures().next().expect("the watcher fails");
    assert_eq!(failure.tier, Some(TierName::Watcher));
    assert!(
        failure
            .evidence
            .join(" ")
            .contains("lz does not know the policies")
    );
    assert!(report.notes.iter().any(|n| n.contains("SomethingNew")));
}

/// The audit trail: with object lock off, the bucket and key policies alone keep an
/// administrator of the log-archive account out; without lz's deny statement they do not.
#[test]
fn the_audit_trail_resists_a_log_archive_administrator() {
    let mut bp = blueprint("acme");
    bp.audit_log.object_lock = crate::blueprint::ObjectLock::Off;
    let inventory = Inventory::offline(&bp);
    let report = check(&inventory);
    let audit: Vec<&Property> = report
        .properties
        .iter()
        .filter(|p| p.account == "log-archive")
        .collect();
    assert!(audit.len() >= 6);
    assert!(
        audit.iter().all(|p| p.status != Status::Fails),
        "{audit:#?}"
    );

    let mut weakened = inventory.clone();
    let facts = weakened.audit.as_mut().unwrap();
    let (_, policy) = facts.bucket.as_mut().unwrap();
    policy
        .statements
        .retain(|s| s.sid.as_deref() != Some("DenyChangesButLandingZone"));
    let (_, key) = facts.key.as_mut().unwrap();
    key.statements
        .retain(|s| s.sid.as_deref() != Some("DenyKeyChangesButLandingZone"));
    key.statements.push(
        Statement::allow()
            .sid("OrganizationDecryptsThroughS3")
            .principal(Principal::aws(["*"]))
            .actions(["kms:Decrypt"])
            .resources(["*"])
            .condition(
                "StringEquals",
                "aws:PrincipalOrgID",
                [weakened.organization_id.clone()],
            ),
    );
    let report = check(&weakened);
    let failing: Vec<String> = report
        .failures()
        .map(|p| format!("{} {:?}", p.claim, p.evidence))
        .collect();
    for expected in [
        "an administrator of the log-archive account that lz did not make may s3:PutBucketVersioning",
        "the log-archive account's root user may s3:DeleteObjectVersion",
        "an administrator of the log-archive account that lz did not make may kms:ScheduleKeyDeletion",
        "an administrator of the security account may kms:Decrypt",
    ] {
        assert!(
            failing.iter().any(|f| f.contains(expected)),
            "{expected}: {failing:#?}"
        );
    }
}

/// Accounts that differ share no results; accounts alike do.
#[test]
fn results_are_per_account() {
    let mut inventory = Inventory::offline(&blueprint("acme"));
    inventory.accounts[0]
        .roles
        .iter_mut()
        .find(|r| r.name == "lz-keeper")
        .unwrap()
        .inline = vec![document(&allow(&["iam:*"], "*"))];
    let report = check(&inventory);
    let failing: Vec<&str> = report.failures().map(|p| p.account.as_str()).collect();
    assert!(!failing.is_empty());
    assert!(
        failing.iter().all(|a| *a == inventory.accounts[0].name),
        "{failing:?}"
    );
}

/// IAM paths may hold colons: with `*` for the account, keeper's boundary condition would
/// accept a policy keeper itself makes at `/keeper/x:policy/landing-zone/`, named
/// `lz-boundary`. The condition lz writes requires exactly twelve characters there.
#[test]
fn a_boundary_forged_through_a_colon_in_a_path_is_refused() {
    let inventory = Inventory::offline(&blueprint("acme"));
    let account = &inventory.accounts[0];
    let keeper = account
        .roles
        .iter()
        .find(|r| r.name == "lz-keeper")
        .unwrap();
    let caller = eval::Caller::role(&account.id, account.role_arn(keeper));
    let forged = format!(
        "arn:aws:iam::{}:policy/keeper/x:policy/landing-zone/lz-boundary",
        account.id
    );
    let real = format!(
        "arn:aws:iam::{}:policy/landing-zone/lz-boundary",
        account.id
    );
    let new_role = format!("arn:aws:iam::{}:role/keeper/app", account.id);
    let may = |document: &PolicyDocument, action: &str, resource: &str, boundary: Option<&str>| {
        let mut context = caller.context(Some(&inventory.organization_id));
        if let Some(b) = boundary {
            context = context.with("iam:PermissionsBoundary", b);
        }
        let identity = [Arc::new(eval::Compiled::new(document))];
        eval::evaluate(
            &eval::Request {
                caller: &caller,
                action,
                resource: Some(resource),
                resource_account: None,
                context: &context,
            },
            &eval::Policies {
                identity: &identity,
                ..eval::Policies::default()
            },
        )
        .allowed()
    };
    let now = keeper.inline[0].as_ref();
    assert!(
        may(now, "iam:CreatePolicy", &forged, None),
        "keeper may make the forged policy"
    );
    assert!(may(now, "iam:CreateRole", &new_role, Some(&real)));
    assert!(!may(now, "iam:CreateRole", &new_role, Some(&forged)));
    let before = PolicyDocument::parse(&now.to_json().replace("????????????", "*")).unwrap();
    assert!(
        may(&before, "iam:CreateRole", &new_role, Some(&forged)),
        "the pattern with `*` let the forged boundary through"
    );
}

/// Another principal of the log-archive account that can become an administrator could take
/// lz's access role, and with it the trail: reported.
#[test]
fn a_log_archive_principal_that_can_take_the_access_role_fails_the_check() {
    let mut inventory = Inventory::offline(&blueprint("acme"));
    let facts = inventory.audit.as_mut().unwrap();
    let la = facts.principals.id.clone();
    let mut auditor = role("auditor", trusting_service("ec2.amazonaws.com"), &[]);
    auditor.inline = vec![document(&allow(
        &["iam:UpdateAssumeRolePolicy"],
        &format!("arn:aws:iam::{la}:role/OrganizationAccountAccessRole"),
    ))];
    facts.principals.roles.push(auditor);
    let report = check(&inventory);
    let failure = report.failures().next().expect("a failure");
    assert!(
        failure
            .claim
            .starts_with("no principal of the log-archive account")
    );
    assert!(
        failure.evidence[0]
            .contains("rewrites the trust policy of role /OrganizationAccountAccessRole"),
        "{failure:?}"
    );
}

/// Accounts alike share results only while the tier groups say the same of them: a group
/// statement that lets one account's settler in without MFA fails that account alone.
#[test]
fn accounts_alike_differ_when_the_groups_treat_them_differently() {
    let mut inventory = Inventory::offline(&blueprint("acme"));
    let lax_trust = Arc::new(PolicyDocument::new(vec![
        Statement::allow()
            .principal(Principal::aws([format!(
                "arn:aws:iam::{}:root",
                inventory.security_account_id
            )]))
            .actions(["sts:AssumeRole"]),
    ]));
    for account in &mut inventory.accounts {
        let settler = account
            .roles
            .iter_mut()
            .find(|r| r.name == "lz-settler")
            .unwrap();
        settler.trust = lax_trust.clone();
    }
    let first = &inventory.accounts[0];
    let arn = format!("arn:aws:iam::{}:role/landing-zone/lz-settler", first.id);
    let first = first.name.clone();
    let entry = inventory
        .entries
        .iter_mut()
        .find(|e| e.tier == TierName::Settler)
        .unwrap();
    entry
        .policies
        .push(document(&allow(&["sts:AssumeRole"], &arn)));
    let report = check(&inventory);
    let failing: Vec<(&str, &str)> = report
        .failures()
        .map(|p| (p.account.as_str(), p.claim.as_str()))
        .collect();
    assert!(
        failing.contains(&(
            first.as_str(),
            "reaches no administrator when entered without MFA"
        )),
        "{failing:#?}"
    );
    assert!(
        failing
            .iter()
            .all(|(account, claim)| *account == first || !claim.contains("without MFA")),
        "{failing:#?}"
    );
}

/// Passing a role to each compute service lz knows, with the actions that start that
/// compute: found; without `iam:PassRole`, not.
#[test]
fn passing_a_role_to_each_compute_service_is_found() {
    for (service, actions) in techniques::PASS_ROLE_TO_COMPUTE {
        let mut granted: Vec<&str> = actions.to_vec();
        granted.push("iam:PassRole");
        let setup = |a: &mut AccountIam, service: &'static str| {
            a.roles.push(role(
                "svc-admin",
                trusting_service(service),
                &[managed::ADMINISTRATOR_ACCESS],
            ))
        };
        let mut account = account_with(&allow(&granted, "*"), no_setup);
        setup(&mut account, service);
        let found = escalation::reach(&inventory(vec![]), &account, "role /attacker", false)
            .unwrap_or_else(|| panic!("{service} {actions:?}: no path"));
        assert!(
            found[0].contains(&format!("passes role /svc-admin to {service}"))
                || found[0].contains(&format!("passes role /app-admin to {service}")),
            "{service}: {found:#?}"
        );
        let mut account = account_with(&allow(actions, "*"), no_setup);
        setup(&mut account, service);
        assert_eq!(
            escalation::reach(&inventory(vec![]), &account, "role /attacker", false),
            None,
            "{service} without iam:PassRole"
        );
    }
}

/// A user that can add itself to an administrators' group.
#[test]
fn joining_an_administrators_group_is_found() {
    let mut account = account_with(&allow(&["s3:GetObject"], "*"), no_setup);
    account.roles.clear();
    account.groups.push(GroupFacts {
        name: "admins".to_owned(),
        path: "/".to_owned(),
        inline: Vec::new(),
        managed: vec![managed::ADMINISTRATOR_ACCESS.to_owned()],
    });
    let user = |policy: &str| UserFacts {
        name: "dev".to_owned(),
        path: "/".to_owned(),
        inline: vec![document(policy)],
        managed: Vec::new(),
        groups: Vec::new(),
        boundary: None,
    };
    account.users = vec![user(&allow(
        &["iam:AddUserToGroup"],
        "arn:aws:iam::123456789012:group/admins",
    ))];
    let found = escalation::reach(&inventory(vec![]), &account, "user /dev", false).unwrap();
    assert!(found[0].contains("iam:AddUserToGroup into"), "{found:#?}");
    account.users = vec![user(&allow(&["iam:ListGroups"], "*"))];
    assert_eq!(
        escalation::reach(&inventory(vec![]), &account, "user /dev", false),
        None
    );
}

/// A principal whose boundary is a policy it may rewrite is not bounded.
#[test]
fn rewriting_ones_own_boundary_policy_is_found() {
    let setup: Setup = |a| {
        let arn = format!("arn:aws:iam::{ID}:policy/narrow");
        a.roles[0]
            .managed
            .push(managed::ADMINISTRATOR_ACCESS.to_owned());
        a.roles[0].boundary = Some(arn.clone());
        a.policies
            .insert(arn, document(&allow(&["iam:CreatePolicyVersion"], "*")));
    };
    let account = account_with(
        &allow(
            &["iam:CreatePolicyVersion"],
            "arn:aws:iam::123456789012:policy/narrow",
        ),
        setup,
    );
    let found = escalation::reach(&inventory(vec![]), &account, "role /attacker", false).unwrap();
    assert!(
        found
            .iter()
            .any(|s| s.contains("after rewriting its boundary policy")),
        "{found:#?}"
    );
    // The boundary does not let it rewrite the policy.
    let narrow: Setup = |a| {
        let arn = format!("arn:aws:iam::{ID}:policy/narrow");
        a.roles[0]
            .managed
            .push(managed::ADMINISTRATOR_ACCESS.to_owned());
        a.roles[0].boundary = Some(arn.clone());
        a.policies
            .insert(arn, document(&allow(&["iam:GetPolicy"], "*")));
    };
    let account = account_with(
        &allow(
            &["iam:CreatePolicyVersion"],
            "arn:aws:iam::123456789012:policy/narrow",
        ),
        narrow,
    );
    assert_eq!(
        escalation::reach(&inventory(vec![]), &account, "role /attacker", false),
        None
    );
}

/// Roles made under a fixed boundary are searched on: a boundary that leaves
/// `ssm:SendCommand` open reaches the EC2 administrator role (residual); one that denies it,
/// like `lz-boundary`, does not.
#[test]
fn roles_made_under_a_fixed_boundary_are_searched_on() {
    let boundary = format!("arn:aws:iam::{ID}:policy/keeper-boundary");
    let maker = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Action":["iam:CreateRole","iam:PutRolePolicy"],"Resource":"*","Condition":{{"StringEquals":{{"iam:PermissionsBoundary":"{boundary}"}}}}}},{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}]}}"#
    );
    let with_boundary = |doc: String| {
        let boundary = boundary.clone();
        move |a: &mut AccountIam| {
            a.policies.insert(boundary.clone(), document(&doc));
        }
    };
    let mut open = account_with(&maker, no_setup);
    with_boundary(allow(&["ssm:SendCommand"], "*"))(&mut open);
    assert_eq!(
        escalation::reach(&inventory(vec![]), &open, "role /attacker", false),
        None,
        "no strict path"
    );
    let found = escalation::reach(&inventory(vec![]), &open, "role /attacker", true).unwrap();
    assert!(
        found[0].contains("creates a role with boundary"),
        "{found:#?}"
    );
    assert!(found[1].contains("ssm:SendCommand"), "{found:#?}");
    let mut closed = account_with(&maker, no_setup);
    let mut denied: Vec<&str> = techniques::existing_compute_actions().into_iter().collect();
    denied.extend(["iam:*", "sts:AssumeRole"]);
    with_boundary(format!(
        r#"{{"Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny","Action":{},"Resource":"*"}}]}}"#,
        serde_json::to_string(&denied).unwrap()
    ))(&mut closed);
    assert_eq!(
        escalation::reach(&inventory(vec![]), &closed, "role /attacker", true),
        None
    );
}
