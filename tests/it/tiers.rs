//! Role tiers in member accounts, against moto (issue 5's list).

use std::collections::BTreeSet;

use landing_zone::policy::PolicyDocument;

use crate::support::{SMALL, Zone, changed, pairs};

async fn role_names(iam: &aws_sdk_iam::Client) -> BTreeSet<String> {
    iam.list_roles()
        .path_prefix("/landing-zone/")
        .send()
        .await
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().to_owned())
        .collect()
}

async fn trust(iam: &aws_sdk_iam::Client, role: &str) -> PolicyDocument {
    let out = iam.get_role().role_name(role).send().await.unwrap();
    PolicyDocument::parse(out.role().unwrap().assume_role_policy_document().unwrap()).unwrap()
}

#[tokio::test]
async fn tier_roles_land_in_exactly_the_accounts_where_they_apply() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let dev = role_names(&zone.iam_in("lumo-dev").await).await;
    let prod = role_names(&zone.iam_in("lumo-prod").await).await;
    let all = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        dev,
        all(&["lz-keeper", "lz-settler", "lz-tinker", "lz-watcher"])
    );
    assert_eq!(
        prod,
        all(&["lz-keeper", "lz-settler", "lz-watcher"]),
        "no tinker in prod"
    );
    for core in ["security", "log-archive"] {
        assert!(
            role_names(&zone.iam_in(core).await).await.is_empty(),
            "{core}"
        );
    }
    // Not in the management account.
    let management = aws_sdk_iam::Client::new(&zone.config);
    assert!(role_names(&management).await.is_empty());
}

#[tokio::test]
async fn trust_policies_admit_only_the_security_account_with_mfa_where_required() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let security = zone.account_id("security").await;
    let org_id = zone
        .organizations()
        .describe_organization()
        .send()
        .await
        .unwrap()
        .organization
        .unwrap()
        .id
        .unwrap();
    let iam = zone.iam_in("lumo-dev").await;
    for (role, mfa) in [
        ("lz-watcher", false),
        ("lz-tinker", false),
        ("lz-keeper", true),
        ("lz-settler", true),
    ] {
        let doc = trust(&iam, role).await;
        assert_eq!(doc.statements.len(), 1, "{role}");
        let statement = &doc.statements[0];
        let principal = serde_json::to_value(&statement.principal).unwrap();
        assert_eq!(
            principal["AWS"],
            format!("arn:aws:iam::{security}:root"),
            "{role}"
        );
        let condition = serde_json::to_value(&statement.condition).unwrap();
        assert_eq!(
            condition["StringEquals"]["aws:PrincipalOrgID"],
            org_id.as_str(),
            "{role}"
        );
        assert_eq!(
            condition["Bool"]["aws:MultiFactorAuthPresent"] == "true",
            mfa,
            "{role}: {condition}"
        );
    }
    // The keeper's boundary policy exists next to it, and the keeper's own policy requires it.
    let policies = iam
        .list_policies()
        .path_prefix("/landing-zone/")
        .send()
        .await
        .unwrap();
    assert_eq!(policies.policies().len(), 1);
    assert_eq!(policies.policies()[0].policy_name(), Some("lz-boundary"));
    let keeper = iam
        .get_role_policy()
        .role_name("lz-keeper")
        .policy_name("lz-keeper")
        .send()
        .await
        .unwrap();
    let keeper = PolicyDocument::parse(keeper.policy_document()).unwrap();
    let with_boundary = keeper
        .iter()
        .find(|s| s.sid.as_deref() == Some("ShapeOwnRolesWithBoundary"))
        .unwrap();
    assert!(with_boundary.action.iter().any(|a| a == "iam:CreateRole"));
    assert_eq!(
        with_boundary.resource.iter().collect::<Vec<_>>(),
        ["arn:aws:iam::*:role/keeper/*"]
    );
    assert!(
        with_boundary.condition["StringLike"]["iam:PermissionsBoundary"].0[0]
            .ends_with(":policy/landing-zone/lz-boundary")
    );
}

#[tokio::test]
async fn role_drift_is_repaired_and_the_next_apply_writes_nothing() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let iam = zone.iam_in("lumo-prod").await;
    // Out of band: trust another account in the settler's trust policy, give the watcher
    // admin, lengthen the keeper's sessions, drop a tag, delete the keeper's boundary policy.
    iam.update_assume_role_policy()
        .role_name("lz-settler")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("lz-watcher")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    iam.update_role()
        .role_name("lz-keeper")
        .max_session_duration(43200)
        .send()
        .await
        .unwrap();
    iam.untag_role()
        .role_name("lz-keeper")
        .tag_keys("lz:tier")
        .send()
        .await
        .unwrap();
    let prod = zone.account_id("lumo-prod").await;
    iam.delete_policy()
        .policy_arn(format!(
            "arn:aws:iam::{prod}:policy/landing-zone/lz-boundary"
        ))
        .send()
        .await
        .unwrap();

    zone.log.reset();
    let plan = zone.plan().await;
    let listing = "IAM.GetAccountAuthorizationDetails";
    let per_discovery = zone.log.counts()[listing];
    assert_eq!(per_discovery, 4, "each member account is listed once");
    assert_eq!(
        changed(&plan),
        pairs(&[
            ("role.lumo-prod.lz-settler", "trust_policy"),
            ("role.lumo-prod.lz-watcher", "managed_policies"),
            ("role.lumo-prod.lz-keeper", "max_session_secs"),
            ("role.lumo-prod.lz-keeper", "tags"),
        ])
    );
    let boundary = plan
        .changes()
        .find(|c| c.address.as_str() == "policy.lumo-prod.lz-boundary");
    assert_eq!(
        boundary.map(|c| c.action),
        Some(landing_zone::plan::Action::Create)
    );

    zone.log.reset();
    zone.apply().await;
    // Two whole discoveries (the first, and the look again once the lease is held), then the
    // second round re-reads only the one account the first round wrote in.
    assert_eq!(zone.log.counts()[listing], 2 * per_discovery + 1);
    let policies = iam
        .list_policies()
        .path_prefix("/landing-zone/")
        .send()
        .await
        .unwrap();
    assert_eq!(policies.policies().len(), 1, "the boundary is back");
    let attached = iam
        .list_attached_role_policies()
        .role_name("lz-watcher")
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(arns, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    zone.log.reset();
    let report = zone.apply().await;
    assert!(report.applied.is_empty());
    assert_eq!(zone.log.writes().len(), 0, "{:?}", zone.log.writes());
}

#[tokio::test]
async fn an_untagged_role_in_the_landing_zone_path_is_adopted_not_overwritten_silently() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let iam = zone.iam_in("lumo-dev").await;
    iam.untag_role()
        .role_name("lz-watcher")
        .tag_keys("managed-by")
        .send()
        .await
        .unwrap();
    let plan = zone.plan().await;
    let change = plan
        .changes()
        .find(|c| c.address.as_str() == "role.lumo-dev.lz-watcher")
        .unwrap();
    assert_eq!(change.action, landing_zone::plan::Action::Adopt);
    let text = landing_zone::render::human(&plan, Default::default());
    assert!(
        text.contains("<= iam_role role.lumo-dev.lz-watcher"),
        "{text}"
    );
}

#[tokio::test]
async fn security_groups_may_assume_exactly_their_tier_roles() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let iam = zone.iam_in("security").await;
    // The organization's path to each unit, as AWS puts it in `aws:ResourceOrgPaths`.
    let org = zone.organizations();
    let org_id = org
        .describe_organization()
        .send()
        .await
        .unwrap()
        .organization()
        .and_then(|o| o.id())
        .unwrap()
        .to_owned();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let units = org
        .list_organizational_units_for_parent()
        .parent_id(&root)
        .send()
        .await
        .unwrap();
    let path = |name: &str| {
        let ou = units
            .organizational_units()
            .iter()
            .find(|u| u.name() == Some(name))
            .unwrap();
        format!("{org_id}/{root}/{}/", ou.id().unwrap())
    };
    let policy = |group: &'static str| {
        let iam = iam.clone();
        async move {
            let out = iam
                .get_group_policy()
                .group_name(group)
                .policy_name("lz-assume")
                .send()
                .await
                .unwrap();
            PolicyDocument::parse(out.policy_document()).unwrap()
        }
    };
    let paths = |document: &PolicyDocument| -> Vec<String> {
        let mut paths: Vec<String> =
            document.statements[0].condition["ForAnyValue:StringEquals"]["aws:ResourceOrgPaths"]
                .0
                .iter()
                .map(|p| p.to_string())
                .collect();
        paths.sort();
        paths
    };
    let tinker = policy("lz-tinker").await;
    let resources: Vec<&str> = tinker.statements[0].resource.iter().collect();
    assert_eq!(resources, ["arn:aws:iam::*:role/landing-zone/lz-tinker"]);
    assert_eq!(paths(&tinker), [path("Dev")]);
    let settler = policy("lz-settler").await;
    let mut expected = vec![path("Dev"), path("Prod")];
    expected.sort();
    assert_eq!(paths(&settler), expected);
    assert_eq!(
        settler.statements[0].condition["Bool"]["aws:MultiFactorAuthPresent"].0,
        ["true"]
    );
}

#[tokio::test]
async fn a_tier_the_blueprint_drops_is_kept_without_opt_in_and_deleted_with_it() {
    let mut zone = Zone::new(SMALL).await;
    zone.apply().await;
    let without_tinker = SMALL.replace(
        "audit_log:",
        "role_tiers: { tinker: { enabled: false } }\naudit_log:",
    );
    zone.blueprint = landing_zone::Blueprint::parse("test.yaml", &without_tinker).unwrap();
    let kept = zone.plan().await;
    assert!(
        !kept
            .changes()
            .any(|c| c.action == landing_zone::plan::Action::Delete)
    );
    assert!(
        kept.notes
            .iter()
            .any(|n| n.address == "role.lumo-dev.lz-tinker"),
        "{:?}",
        kept.notes
    );

    let opted_in = format!("{without_tinker}allow_delete: [roles, groups]\n");
    zone.blueprint = landing_zone::Blueprint::parse("test.yaml", &opted_in).unwrap();
    let plan = zone.plan().await;
    let deleted: BTreeSet<&str> = plan
        .changes()
        .filter(|c| c.action == landing_zone::plan::Action::Delete)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(
        deleted,
        BTreeSet::from(["role.lumo-dev.lz-tinker", "group.lz-tinker"])
    );
    assert!(
        landing_zone::render::human(&plan, Default::default())
            .contains("- iam_role role.lumo-dev.lz-tinker")
    );
    zone.apply().await;
    assert!(
        !role_names(&zone.iam_in("lumo-dev").await)
            .await
            .contains("lz-tinker")
    );
    let groups = zone
        .iam_in("security")
        .await
        .list_groups()
        .send()
        .await
        .unwrap();
    assert!(
        !groups
            .groups()
            .iter()
            .any(|g| g.group_name() == "lz-tinker")
    );
}

/// A managed policy that does not exist is known at plan time, at the tier that names it, and
/// apply refuses the plan before writing anything (moto, like AWS, refuses to attach it).
#[tokio::test]
async fn a_managed_policy_that_does_not_exist_is_a_plan_conflict_not_a_failed_apply() {
    let mut zone = Zone::new(SMALL).await;
    let typo = SMALL.replace(
        "audit_log:",
        "role_tiers: { watcher: { managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAcess] } }\naudit_log:",
    );
    zone.blueprint = landing_zone::Blueprint::parse("test.yaml", &typo).unwrap();
    let plan = zone.plan().await;
    let messages: Vec<&str> = plan.conflicts.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "role_tiers.watcher.managed_policies: policy arn:aws:iam::aws:policy/ReadOnlyAcess does not exist, so IAM would refuse to attach it to 2 role(s); correct the ARN"
        ]
    );
    zone.log.reset();
    let refused =
        landing_zone::apply::apply(&zone.aws, &zone.blueprint, None, crate::support::fast()).await;
    assert!(
        matches!(refused, Err(landing_zone::apply::ApplyError::Conflicts(_))),
        "{refused:?}"
    );
    assert!(zone.log.writes().is_empty(), "{:?}", zone.log.writes());
    // The policies the shipped tiers name all exist.
    zone.blueprint = landing_zone::Blueprint::parse("test.yaml", SMALL).unwrap();
    assert!(zone.plan().await.conflicts.is_empty());
}

/// IAM role names are unique in an account whatever the path: a role named like a tier's at
/// another path is where the tier's role would go. The plan says so as a conflict, instead of
/// planning a create that apply turns into rewriting that role, forever.
#[tokio::test]
async fn a_role_of_the_tier_name_at_another_path_is_a_conflict() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let iam = zone.iam_in("lumo-dev").await;
    for policy in iam
        .list_attached_role_policies()
        .role_name("lz-watcher")
        .send()
        .await
        .unwrap()
        .attached_policies()
    {
        iam.detach_role_policy()
            .role_name("lz-watcher")
            .policy_arn(policy.policy_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    iam.delete_role()
        .role_name("lz-watcher")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("lz-watcher")
        .path("/elsewhere/")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let plan = zone.plan().await;
    assert_eq!(plan.conflicts.len(), 1, "{:?}", plan.conflicts);
    assert_eq!(
        plan.conflicts[0].address.as_str(),
        "role.lumo-dev.lz-watcher"
    );
    assert!(
        plan.conflicts[0]
            .message
            .contains("exists at path /elsewhere/"),
        "{}",
        plan.conflicts[0].message
    );
}
