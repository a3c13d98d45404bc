//! `lz check` on a live zone, and what keeps a reviewed plan the plan applied.

use std::process::{Command, Output};
use std::sync::Arc;

use landing_zone::check::{Report, Status};

use crate::faults::{Proxy, Rule};
use crate::support::{Moto, SMALL, Zone};

fn lz(zone: &Zone, endpoint: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lz"));
    command.args(args);
    for (key, value) in zone.env() {
        command.env(key, value);
    }
    if let Some(endpoint) = endpoint {
        command.env("AWS_ENDPOINT_URL", endpoint);
    }
    command.output().expect("run lz")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn blueprint_file(dir: &std::path::Path) -> String {
    let path = dir.join("zone.yaml");
    std::fs::write(&path, SMALL).unwrap();
    path.to_str().unwrap().to_owned()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lz-it-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn admin_role(iam: &aws_sdk_iam::Client, name: &str, path: &str, service: &str) {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    iam.create_role()
        .role_name(name)
        .path(path)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
}

fn property<'a>(
    report: &'a Report,
    account: &str,
    tier: &str,
    claim: &str,
) -> &'a landing_zone::check::Property {
    report
        .properties
        .iter()
        .find(|p| p.account == account && p.tier.map(|t| t.key()) == Some(tier) && p.claim == claim)
        .unwrap_or_else(|| panic!("no property {account}/{tier}: {claim}"))
}

/// acme applied, then an administrator role and a customer managed administrator policy made
/// out of band: no path for keeper or watcher, the residual one for tinker. Then a role keeper
/// may manage, made without the boundary by an administrator: keeper's path is found, exit 1.
#[tokio::test]
async fn live_check_evaluates_what_lz_did_not_make() {
    let acme = std::fs::read_to_string(crate::support::repo_path("blueprints/acme.yaml")).unwrap();
    let zone = Zone::new(&acme).await;
    zone.apply().await;
    let iam = zone.iam_in("lumo-dev").await;
    admin_role(&iam, "app-admin", "/", "ec2.amazonaws.com").await;
    let policy = iam
        .create_policy()
        .policy_name("everything")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("ops")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("ops")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();

    let file = crate::support::repo_path("blueprints/acme.yaml");
    let file = file.to_str().unwrap();
    let out = lz(&zone, None, &["check", file, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.source, "live");
    assert!(report.uncovered.is_empty(), "{:?}", report.uncovered);
    for tier in ["keeper", "watcher"] {
        for account in ["lumo-dev", "lumo-prod"] {
            let p = property(&report, account, tier, "reaches no administrator");
            assert_eq!(p.status, Status::Holds, "{p:?}");
        }
    }
    let tinker = property(&report, "lumo-dev", "tinker", "reaches no administrator");
    assert_eq!(tinker.status, Status::Residual, "{tinker:?}");
    let path = tinker.evidence.join(" / ");
    assert!(
        path.contains("role /app-admin") || path.contains("role /ops"),
        "{path}"
    );

    // An administrator's mistake in keeper's own path: keeper can now take that role.
    admin_role(&iam, "deployer", "/keeper/", "ec2.amazonaws.com").await;
    let out = lz(&zone, None, &["check", file, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    let keeper = property(&report, "lumo-dev", "keeper", "reaches no administrator");
    assert_eq!(keeper.status, Status::Fails);
    assert!(
        keeper.evidence[0].contains("rewrites the trust policy of role /keeper/deployer"),
        "{keeper:?}"
    );
    let human = lz(&zone, None, &["check", file]);
    assert!(
        text(&human.stdout).contains("✗ keeper"),
        "{}",
        text(&human.stdout)
    );
}

/// A saved plan edited after review is refused, and nothing is written.
#[tokio::test]
async fn an_edited_saved_plan_is_refused_with_no_write() {
    let zone = Zone::new(SMALL).await;
    let dir = tempdir("edited");
    let file = blueprint_file(&dir);
    let saved = dir.join("plan.json");
    let out = lz(
        &zone,
        None,
        &["plan", &file, "--out", saved.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let original = std::fs::read_to_string(&saved).unwrap();
    assert!(original.contains(",\"digest\":\"sha256:"));
    // A pipeline that pins the reviewed digest refuses any other plan.
    let out = lz(
        &zone,
        None,
        &[
            "apply",
            saved.to_str().unwrap(),
            "--auto-approve",
            "--expect-digest",
            "sha256:0000",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not the reviewed sha256:0000"),
        "{}",
        text(&out.stderr)
    );
    let edited = original.replacen("\"team-lumo\"", "\"team-mallory\"", 1);
    assert_ne!(edited, original);
    std::fs::write(&saved, edited).unwrap();
    let out = lz(
        &zone,
        None,
        &["apply", saved.to_str().unwrap(), "--auto-approve"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("changed after it was made"),
        "{}",
        text(&out.stderr)
    );
    let org = zone.organizations().describe_organization().send().await;
    assert!(org.is_err(), "no organization was created");
}

/// A plan re-sealed after editing is consistent with itself, but not with what lz would do:
/// apply compares every change, not only the addresses, and refuses before writing.
#[tokio::test]
async fn a_resealed_plan_that_differs_from_the_recomputed_one_is_refused() {
    let zone = Zone::new(SMALL).await;
    let mut plan = zone.plan().await;
    let change = plan
        .resource_changes
        .iter_mut()
        .find(|c| c.address.as_str() == "ou.Dev")
        .unwrap();
    let mut after = (**change.after.as_ref().unwrap()).clone();
    if let landing_zone::desired::Spec::OrganizationalUnit(ou) = &mut after {
        ou.tags.insert("extra".to_owned(), "unreviewed".to_owned());
    }
    change.after = Some(Arc::new(after));
    plan.seal();
    let err = landing_zone::apply::apply(
        &zone.aws,
        &zone.blueprint,
        Some(&plan),
        crate::support::fast(),
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(&err, landing_zone::apply::ApplyError::PlanDiffers { address } if address == "ou.Dev"),
        "{err}"
    );
    assert!(zone.log.writes().is_empty(), "{:?}", zone.log.writes());
}

/// An account whose access role is refused: plan writes no plan file, apply exits 1 naming
/// the account, never "0 changes remaining".
#[tokio::test]
async fn an_unreadable_account_stops_plan_files_and_apply() {
    let moto = Arc::new(Moto::start());
    let zone = Zone::at(moto.clone(), &moto.endpoint(), SMALL).await;
    zone.apply().await;
    let prod = zone.account_id("lumo-prod").await;
    let proxy = Proxy::with(
        moto.port(),
        Rule::Refuse(vec!["Action=AssumeRole".to_owned(), prod.clone()]),
    );
    let dir = tempdir("unreadable");
    let file = blueprint_file(&dir);
    let saved = dir.join("plan.json");
    let out = lz(
        &zone,
        Some(&proxy.endpoint()),
        &["plan", &file, "--out", saved.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(!saved.exists(), "no plan file for an incomplete plan");
    let out = lz(
        &zone,
        Some(&proxy.endpoint()),
        &["apply", &file, "--auto-approve"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("lumo-prod"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("0 changes remaining"));
    assert!(proxy.faults.load(std::sync::atomic::Ordering::SeqCst) > 0);
}
