//! The guardrails on moto (which evaluates none: what they deny is proven by the evaluator, in
//! `validate::lockout`): service control, resource control and tag policies made, their types
//! enabled, attached where they belong, their drift repaired, and attachments lz did not ask
//! for left alone.

use aws_sdk_organizations::types::PolicyType;

use crate::support::{SMALL, Zone, changed, fast, pairs};

/// The id of the policy of type `policy_type` named `name`.
async fn policy_id(zone: &Zone, policy_type: PolicyType, name: &str) -> String {
    let listed = zone
        .organizations()
        .list_policies()
        .filter(policy_type)
        .send()
        .await
        .unwrap();
    let found: Vec<_> = listed
        .policies()
        .iter()
        .filter(|p| p.name() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "one policy named {name}");
    found[0].id().unwrap().to_owned()
}

async fn targets(zone: &Zone, id: &str) -> Vec<String> {
    let listed = zone
        .organizations()
        .list_targets_for_policy()
        .policy_id(id)
        .send()
        .await
        .unwrap();
    let mut targets: Vec<String> = listed
        .targets()
        .iter()
        .filter_map(|t| t.target_id().map(str::to_owned))
        .collect();
    targets.sort();
    targets
}

async fn content(zone: &Zone, id: &str) -> serde_json::Value {
    let described = zone
        .organizations()
        .describe_policy()
        .policy_id(id)
        .send()
        .await
        .unwrap();
    serde_json::from_str(described.policy().unwrap().content().unwrap()).unwrap()
}

fn sids(document: &serde_json::Value) -> Vec<&str> {
    document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect()
}

#[tokio::test]
async fn guardrails_are_attached_where_they_belong_and_their_drift_is_repaired() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let org = zone.organizations();
    let root = zone.root_id().await;
    let log_archive = zone.account_id("log-archive").await;
    let scp = PolicyType::ServiceControlPolicy;
    let baseline = policy_id(&zone, scp.clone(), "lz-test-baseline").await;
    let audit = policy_id(&zone, scp, "lz-test-log-archive").await;
    let perimeter = policy_id(
        &zone,
        PolicyType::ResourceControlPolicy,
        "lz-test-data-perimeter",
    )
    .await;
    let tags = policy_id(&zone, PolicyType::TagPolicy, "lz-test-tags").await;
    let roots = org.list_roots().send().await.unwrap();
    let mut enabled: Vec<&str> = roots.roots()[0]
        .policy_types()
        .iter()
        .filter_map(|t| t.r#type().map(|t| t.as_str()))
        .collect();
    enabled.sort();
    assert_eq!(
        enabled,
        [
            "RESOURCE_CONTROL_POLICY",
            "SERVICE_CONTROL_POLICY",
            "TAG_POLICY"
        ]
    );
    for id in [&perimeter, &tags] {
        assert_eq!(targets(&zone, id).await, std::slice::from_ref(&root));
    }
    let perimeter_document = content(&zone, &perimeter).await;
    assert_eq!(
        sids(&perimeter_document),
        [
            "EnforceOrganizationIdentities",
            "EnforceConfusedDeputyProtection",
            "EnforceSecureTransport"
        ]
    );
    let organization = org.describe_organization().send().await.unwrap();
    let org_id = organization.organization().unwrap().id().unwrap();
    assert_eq!(
        perimeter_document["Statement"][0]["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"],
        org_id,
        "the perimeter names the organization itself"
    );
    let tag_document = content(&zone, &tags).await;
    assert!(
        tag_document["tags"]["lz:environment"]["tag_value"]["@@assign"].is_array(),
        "{tag_document}"
    );
    assert_eq!(targets(&zone, &baseline).await, std::slice::from_ref(&root));
    assert_eq!(
        targets(&zone, &audit).await,
        std::slice::from_ref(&log_archive)
    );
    assert_eq!(
        sids(&content(&zone, &baseline).await),
        [
            "DenyLeavingTheOrganization",
            "DenyMemberRootUsers",
            "ProtectLandingZoneIam"
        ]
    );
    let audit_document = content(&zone, &audit).await;
    assert_eq!(
        sids(&audit_document),
        ["ProtectAuditBuckets", "ProtectAuditKeys"]
    );
    let buckets = audit_document["Statement"][0]["Resource"].to_string();
    assert!(
        buckets.contains(&format!("test-audit-{log_archive}")),
        "{buckets}"
    );

    // Out of band: the baseline detached from the root and attached to a unit instead; the
    // log-archive policy emptied; the perimeter's condition on the organization removed.
    org.detach_policy()
        .policy_id(&baseline)
        .target_id(&root)
        .send()
        .await
        .unwrap();
    let dev = zone.ou_id("Dev").await;
    org.attach_policy()
        .policy_id(&baseline)
        .target_id(&dev)
        .send()
        .await
        .unwrap();
    org.update_policy()
        .policy_id(&audit)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    org.update_policy()
        .policy_id(&perimeter)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#)
        .send()
        .await
        .unwrap();
    let plan = zone.plan().await;
    assert_eq!(
        changed(&plan),
        pairs(&[
            ("rcp.lz-test-data-perimeter", "document"),
            ("scp.lz-test-baseline", "targets"),
            ("scp.lz-test-log-archive", "document"),
        ])
    );
    zone.apply().await;
    let mut both = vec![root.clone(), dev.clone()];
    both.sort();
    assert_eq!(
        targets(&zone, &baseline).await,
        both,
        "re-attached to the root; the unit's attachment is someone else's and stays"
    );
    assert_eq!(content(&zone, &audit).await, audit_document);
    assert_eq!(content(&zone, &perimeter).await, perimeter_document);
    zone.log.reset();
    let report = zone.apply().await;
    assert!(report.applied.is_empty());
    assert_eq!(zone.log.writes().len(), 0, "{:?}", zone.log.writes());
}

/// The four settings of the account named `name`, or `None` when it has none.
async fn public_access_block(zone: &Zone, name: &str) -> Option<[bool; 4]> {
    let (s3control, id) = zone.s3control_in(name).await;
    match s3control
        .get_public_access_block()
        .account_id(&id)
        .send()
        .await
    {
        Ok(out) => out.public_access_block_configuration().map(|c| {
            [
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false),
            ]
        }),
        Err(e) => {
            let code = aws_sdk_s3control::error::ProvideErrorMetadata::code(&e);
            assert_eq!(code, Some("NoSuchPublicAccessBlockConfiguration"), "{e:?}");
            None
        }
    }
}

#[tokio::test]
async fn every_member_account_blocks_public_access_and_its_drift_is_repaired() {
    let zone = Zone::new(SMALL).await;
    let accounts = ["security", "log-archive", "lumo-dev", "lumo-prod"];
    zone.apply().await;
    for name in accounts {
        assert_eq!(
            public_access_block(&zone, name).await,
            Some([true; 4]),
            "{name}"
        );
    }
    // Out of band: one setting turned off in one account, the whole block removed in another.
    let (s3control, id) = zone.s3control_in("lumo-dev").await;
    s3control
        .put_public_access_block()
        .account_id(&id)
        .public_access_block_configuration(
            aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (s3control, id) = zone.s3control_in("lumo-prod").await;
    s3control
        .delete_public_access_block()
        .account_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(public_access_block(&zone, "lumo-prod").await, None);
    let plan = zone.plan().await;
    assert_eq!(
        changed(&plan),
        pairs(&[("public_access_block.lumo-dev", "block_public_policy")]),
        "the setting turned off is an update"
    );
    let created: Vec<&str> = plan
        .changes()
        .filter(|c| c.action == landing_zone::plan::Action::Create)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(
        created,
        ["public_access_block.lumo-prod"],
        "the removed one is made again"
    );
    zone.apply().await;
    for name in accounts {
        assert_eq!(
            public_access_block(&zone, name).await,
            Some([true; 4]),
            "{name}"
        );
    }
    zone.log.reset();
    let report = zone.apply().await;
    assert!(report.applied.is_empty());
    assert_eq!(zone.log.writes().len(), 0, "{:?}", zone.log.writes());
}

/// Makes a service control policy of someone else's, attached to `target`.
async fn foreign_scp(zone: &Zone, name: &str, statement: &str, target: &str) {
    let org = zone.organizations();
    let created = org
        .create_policy()
        .name(name)
        .description("someone else's")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(format!(
            r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let id = created
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap();
    org.attach_policy()
        .policy_id(id)
        .target_id(target)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn someone_elses_policy_is_a_note_and_one_that_would_lock_lz_out_stops_apply() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let dev = zone.ou_id("Dev").await;
    foreign_scp(
        &zone,
        "team-no-gpu",
        r#"{"Effect":"Deny","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLike":{"ec2:InstanceType":"p*"}}}"#,
        &dev,
    )
    .await;
    let plan = zone.plan().await;
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    let note = plan
        .notes
        .iter()
        .find(|n| n.address == "scp.team-no-gpu")
        .expect("a note on the other policy");
    assert_eq!(
        note.message,
        "service control policy not lz's, attached to unit `Dev`; lz leaves it and evaluates it in the lockout analysis"
    );
    // Live, lz's guardrails (with the organization's real ids) and the harmless one pass.
    let actual = landing_zone::discover::discover(&zone.aws, &zone.blueprint)
        .await
        .unwrap();
    let report = landing_zone::check::check(&landing_zone::check::Inventory::live(
        &zone.blueprint,
        &actual,
    ));
    let property = report
        .properties
        .iter()
        .find(|p| p.account == "organization")
        .unwrap();
    assert_eq!(
        property.status,
        landing_zone::check::Status::Holds,
        "{property:?}"
    );

    foreign_scp(
        &zone,
        "team-no-iam",
        r#"{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}"#,
        &dev,
    )
    .await;
    let plan = zone.plan().await;
    assert_eq!(plan.conflicts.len(), 1, "{:?}", plan.conflicts);
    let conflict = &plan.conflicts[0];
    assert_eq!(conflict.address.as_str(), "scp.team-no-iam");
    assert!(
        conflict.message.starts_with(
            "guardrail `team-no-iam` (statement `NoIam`) would deny arn:aws:iam::111111111111:role/OrganizationAccountAccessRole `iam:"
        ) && conflict.message.contains("in account `lumo-dev`"),
        "{}",
        conflict.message
    );
    // Apply refuses before any write.
    zone.log.reset();
    let refused = landing_zone::apply::apply(&zone.aws, &zone.blueprint, None, fast()).await;
    assert!(
        matches!(refused, Err(landing_zone::apply::ApplyError::Conflicts(_))),
        "{refused:?}"
    );
    assert_eq!(zone.log.writes().len(), 0, "{:?}", zone.log.writes());
    // `lz check` reports the same, as a failing property.
    let actual = landing_zone::discover::discover(&zone.aws, &zone.blueprint)
        .await
        .unwrap();
    let report = landing_zone::check::check(&landing_zone::check::Inventory::live(
        &zone.blueprint,
        &actual,
    ));
    let property = report
        .properties
        .iter()
        .find(|p| p.account == "organization")
        .unwrap();
    assert_eq!(property.status, landing_zone::check::Status::Fails);
    assert_eq!(property.evidence.len(), 1, "{:?}", property.evidence);
    assert!(property.evidence[0].starts_with("guardrail `team-no-iam`"));
}
