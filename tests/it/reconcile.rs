//! The reconciler against moto: organization, OUs and accounts (issue 4's list).

use aws_sdk_organizations::types::Tag;
use landing_zone::apply::{ApplyError, apply};
use landing_zone::plan::Action;

use crate::support::{SMALL, Zone, fast};

#[tokio::test]
async fn plan_apply_plan_is_empty_and_a_second_apply_writes_nothing() {
    let zone = Zone::new(SMALL).await;
    let first = zone.plan().await;
    assert!(first.has_changes());
    assert_eq!(
        zone.log.writes().len(),
        0,
        "planning wrote: {:?}",
        zone.log.writes()
    );

    zone.apply().await;
    assert_eq!(zone.account_ids("lumo-prod").await.len(), 1);

    zone.log.reset();
    let again = zone.plan().await;
    assert!(
        !again.has_changes(),
        "{}",
        landing_zone::render::human(&again, Default::default())
    );
    let report = zone.apply().await;
    assert!(report.applied.is_empty());
    assert_eq!(
        zone.log.writes().len(),
        0,
        "a no-op apply wrote: {:?}",
        zone.log.writes()
    );
}

#[tokio::test]
async fn adding_a_customer_creates_exactly_its_accounts() {
    let mut zone = Zone::new(SMALL).await;
    zone.apply().await;
    let yaml = SMALL.replace(
        "  lumo: { environments: [dev, prod], tags: { owner: team-lumo } }\n",
        "  lumo: { environments: [dev, prod], tags: { owner: team-lumo } }\n  nova: { environments: [prod] }\n",
    );
    zone.blueprint = landing_zone::Blueprint::parse("test.yaml", &yaml).unwrap();
    let plan = zone.plan().await;
    let accounts: Vec<&str> = plan
        .changes()
        .filter(|c| c.kind == landing_zone::desired::Kind::Account)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(accounts, ["account.nova-prod"]);
    let updated: Vec<&str> = plan
        .changes()
        .filter(|c| c.action != Action::Create && c.kind != landing_zone::desired::Kind::IamGroup)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(
        updated,
        ["tag_policy.lz-test-tags"],
        "only creations; the groups gain the new account's role, the tag policy its customer"
    );
    zone.apply().await;
    assert_eq!(zone.account_ids("nova-prod").await.len(), 1);
    assert_eq!(zone.account_ids("lumo-prod").await.len(), 1);
}

#[tokio::test]
async fn drift_in_the_organization_is_planned_and_repaired() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let org = zone.organizations();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let ous = org
        .list_organizational_units_for_parent()
        .parent_id(&root)
        .send()
        .await
        .unwrap();
    let ou = |name: &str| {
        ous.organizational_units()
            .iter()
            .find(|o| o.name() == Some(name))
            .and_then(|o| o.id())
            .unwrap()
            .to_owned()
    };
    let (dev, prod) = (ou("Dev"), ou("Prod"));
    // Out of band: move lumo-prod into Dev, strip its ownership tag, rename the Prod OU.
    let lumo_prod = zone.account_id("lumo-prod").await;
    org.move_account()
        .account_id(&lumo_prod)
        .source_parent_id(&prod)
        .destination_parent_id(&dev)
        .send()
        .await
        .unwrap();
    org.untag_resource()
        .resource_id(&lumo_prod)
        .tag_keys("managed-by")
        .send()
        .await
        .unwrap();
    org.update_organizational_unit()
        .organizational_unit_id(&prod)
        .name("Production")
        .send()
        .await
        .unwrap();

    let plan = zone.plan().await;
    let action = |address: &str| {
        plan.resource_changes
            .iter()
            .find(|c| c.address.as_str() == address)
            .map(|c| {
                (
                    c.action,
                    c.attributes
                        .iter()
                        .map(|a| a.name.clone())
                        .collect::<Vec<_>>(),
                )
            })
    };
    // The account lost its tag: adopted (tagged again), and moved back, both shown.
    assert_eq!(
        action("account.lumo-prod"),
        Some((Action::Adopt, vec!["ou".to_owned(), "tags".to_owned()]))
    );
    // The renamed OU is no longer found by name: Prod is created again; the renamed one is kept.
    assert_eq!(action("ou.Prod").map(|a| a.0), Some(Action::Create));
    assert!(
        plan.notes.iter().any(|n| n.address == "ou.Production"),
        "{:?}",
        plan.notes
    );

    zone.apply().await;
    let parents = org
        .list_parents()
        .child_id(&lumo_prod)
        .send()
        .await
        .unwrap();
    let parent = parents.parents()[0].id().unwrap().to_owned();
    let name = org
        .describe_organizational_unit()
        .organizational_unit_id(&parent)
        .send()
        .await
        .unwrap();
    assert_eq!(
        name.organizational_unit().and_then(|o| o.name()),
        Some("Prod")
    );
    let tags = org
        .list_tags_for_resource()
        .resource_id(&lumo_prod)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "managed-by" && t.value() == "landing-zone")
    );
}

#[tokio::test]
async fn an_interrupted_apply_converges_on_the_next_run_without_duplicates() {
    let zone = Zone::new(SMALL).await;
    for stop_after in [3, 9] {
        zone.log.reset();
        let aws = zone.aws.stop_after_writes(stop_after);
        let stopped = apply(&aws, &zone.blueprint, None, fast()).await;
        assert!(
            matches!(stopped, Err(ApplyError::Interrupted(n)) if n == stop_after),
            "{stopped:?}"
        );
        // The budget let exactly that many writes reach AWS, and no more.
        let sent: usize = zone.log.writes().values().sum();
        assert_eq!(sent, stop_after, "{:?}", zone.log.writes());
    }
    // The stopped runs could not give their lease back (the budget refused that write too, as
    // a crash would): the next run takes it over once stale.
    let mut options = fast();
    options.lease.stale_after = std::time::Duration::from_millis(500);
    apply(&zone.aws, &zone.blueprint, None, options)
        .await
        .unwrap();
    for name in ["security", "log-archive", "lumo-dev", "lumo-prod"] {
        assert_eq!(zone.account_ids(name).await.len(), 1, "{name}");
    }
    assert!(!zone.plan().await.has_changes());
}

#[tokio::test]
async fn an_account_created_out_of_band_is_adopted_not_created_twice() {
    let zone = Zone::new(SMALL).await;
    let org = zone.organizations();
    org.create_organization().send().await.unwrap();
    org.create_account()
        .email("aws+lumo-dev@test.example")
        .account_name("lumo-dev")
        .tags(
            Tag::builder()
                .key("owner")
                .value("someone")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let plan = zone.plan().await;
    let change = plan
        .resource_changes
        .iter()
        .find(|c| c.address.as_str() == "account.lumo-dev")
        .unwrap();
    assert_eq!(change.action, Action::Adopt);
    zone.apply().await;
    assert_eq!(zone.account_ids("lumo-dev").await.len(), 1);
}

#[tokio::test]
async fn a_saved_plan_is_refused_when_the_organization_changed() {
    let zone = Zone::new(SMALL).await;
    let saved = zone.plan().await;
    // Someone creates the organization meanwhile.
    zone.organizations()
        .create_organization()
        .send()
        .await
        .unwrap();
    zone.log.reset();
    let refused = apply(&zone.aws, &zone.blueprint, Some(&saved), fast()).await;
    assert!(
        matches!(refused, Err(ApplyError::StalePlan { .. })),
        "{refused:?}"
    );
    assert_eq!(zone.log.writes().len(), 0);
    // A fresh plan applies.
    let fresh = zone.plan().await;
    let report = apply(&zone.aws, &zone.blueprint, Some(&fresh), fast())
        .await
        .unwrap();
    assert!(!report.remaining.has_changes());
}

#[tokio::test]
async fn outside_the_management_account_lz_stops_with_a_clear_error_and_writes_nothing() {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let member = zone.account_id("lumo-dev").await;
    let config = zone.config_in(&member).await;

    let log = landing_zone::aws::RequestLog::new();
    let aws = landing_zone::aws::Aws::new(config.clone(), Some(log.clone()));
    let refused = apply(&aws, &zone.blueprint, None, fast()).await;
    let message = refused
        .as_ref()
        .map(|_| String::new())
        .unwrap_or_else(|e| e.to_string());
    assert!(
        message.contains(&format!("the credentials are for account {member}")),
        "{message}"
    );
    assert_eq!(log.writes().len(), 0, "{:?}", log.writes());

    // The same through the command line: exit 1, the reason on stderr.
    let credentials = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        config.credentials_provider().as_ref().unwrap(),
    )
    .await
    .unwrap();
    let file = std::env::temp_dir().join(format!("lz-member-{}.yaml", std::process::id()));
    std::fs::write(&file, SMALL).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lz"))
        .args(["apply", file.to_str().unwrap(), "--auto-approve"])
        .envs(zone.env())
        .env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
        .env("AWS_SESSION_TOKEN", credentials.session_token().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("run lz with the management account's credentials"),
        "{stderr}"
    );
}

/// Organizations gives at most 20 accounts a page, and lz asks for pages of 20 (so moto, whose
/// own pages are larger, pages as AWS does): 25 accounts outside the blueprint, 22 of them in
/// one unit, are all found, each where it is.
#[tokio::test]
async fn discovery_reads_every_page_of_accounts_and_units() {
    let zone = Zone::new(SMALL).await;
    let org = zone.organizations();
    org.create_organization().send().await.unwrap();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let unit = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("Outside")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .and_then(|u| u.id())
        .unwrap()
        .to_owned();
    for n in 0..25 {
        let created = org
            .create_account()
            .email(format!("other{n}@elsewhere.example"))
            .account_name(format!("other{n}"))
            .send()
            .await
            .unwrap();
        let id = created
            .create_account_status()
            .and_then(|s| s.account_id())
            .unwrap()
            .to_owned();
        if n < 22 {
            org.move_account()
                .account_id(id)
                .source_parent_id(&root)
                .destination_parent_id(&unit)
                .send()
                .await
                .unwrap();
        }
    }
    let actual = landing_zone::discover::discover(&zone.aws, &zone.blueprint)
        .await
        .unwrap();
    let placed = |ou: Option<&str>| {
        actual
            .unmanaged_accounts
            .iter()
            .filter(|a| a.ou.as_deref() == ou)
            .count()
    };
    assert_eq!(actual.unmanaged_accounts.len(), 25);
    assert_eq!(placed(Some("Outside")), 22);
    assert_eq!(placed(None), 3);
    let lists: usize = zone
        .log
        .counts()
        .iter()
        .filter(|(operation, _)| operation.ends_with(".ListAccounts"))
        .map(|(_, n)| n)
        .sum();
    assert!(lists >= 2, "the accounts came in {lists} page(s)");
}
