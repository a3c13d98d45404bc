//! The tools around the plan, as a user runs them: the picture of the organization and the
//! sign-in profiles.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::cli::{assert_golden, lz, tempdir, text};
use crate::support::{REGION, SMALL, Zone, env_for, repo_path};

/// The pictures of the shipped blueprints, in both languages, against golden files; Graphviz
/// itself draws the DOT and Mermaid's own parser reads the Mermaid (`scripts/test` installs
/// both).
#[test]
fn graphs_of_the_shipped_blueprints_are_unchanged_and_both_languages_read_them() {
    for name in ["acme", "northwind"] {
        let blueprint = repo_path(&format!("blueprints/{name}.yaml"));
        for (format, extension) in [("mermaid", "mmd"), ("dot", "dot")] {
            let out = lz(&[
                "graph",
                blueprint.to_str().unwrap(),
                "--assume-empty",
                "--format",
                format,
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            assert_golden(&format!("{name}.graph.{extension}"), &text(&out.stdout));
            if format == "mermaid" {
                mermaid_parses(&out.stdout);
            } else {
                // SVG writes a hyphen as an entity.
                let svg = graphviz(&out.stdout).replace("&#45;", "-");
                // Every account of the blueprint is drawn.
                let bp = landing_zone::Blueprint::load(&blueprint).unwrap();
                for (customer, spec) in &bp.customers {
                    for env in &spec.environments {
                        let account = format!("{customer}-{env} (not created yet)");
                        assert!(svg.contains(&account), "{name}: {account}");
                    }
                }
            }
        }
    }
}

/// `dot -Tsvg` of the input, which must succeed without a warning.
fn graphviz(input: &[u8]) -> String {
    let out = fed(
        Command::new("dot").arg("-Tsvg"),
        input,
        "Graphviz's `dot` (scripts/test installs it: apt-get install graphviz)",
    );
    assert!(out.status.success(), "dot failed: {}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "dot warned");
    text(&out.stdout)
}

/// `node tests/mermaid/parse.mjs -` on the input: Mermaid's own parser (the pinned version of
/// `tests/mermaid/package.json`, which `scripts/test` installs) must take it as a flowchart.
fn mermaid_parses(input: &[u8]) {
    assert!(
        repo_path("tests/mermaid/node_modules/mermaid").exists(),
        "Mermaid is not installed in tests/mermaid: run scripts/test"
    );
    let out = fed(
        Command::new("node")
            .arg(repo_path("tests/mermaid/parse.mjs"))
            .arg("-"),
        input,
        "Node.js (scripts/test installs it)",
    );
    assert!(
        out.status.success(),
        "Mermaid refused it: {}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "-: flowchart-v2\n");
}

/// What `command` prints when `input` is its standard input.
fn fed(command: &mut Command, input: &[u8], missing: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(missing);
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// GitHub draws the README's Mermaid blocks: each must parse, excerpts included.
#[test]
fn the_readme_s_mermaid_blocks_parse() {
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```mermaid\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(!blocks.is_empty(), "the README draws the organization");
    for block in blocks {
        mermaid_parses(block.as_bytes());
    }
}

/// Labels are text from blueprints and from AWS (names, tags, policy names): whatever they
/// hold, each language must still read the picture, with nothing taken as its syntax.
#[test]
fn any_label_text_is_read_by_mermaid_and_graphviz() {
    use landing_zone::graph::{self, Cluster, Edge, Graph, Node, Shape};
    let nasty = [
        r#"a "quoted" name"#,
        "<b>bold</b> & <script>alert(1)</script>",
        "[brackets] (parens) {braces} |pipes| /slashes\\",
        "end",
        "subgraph x",
        "--> arrow; semi # hash %% comment `tick`",
        "unicode: é 雪 🚀",
        "",
    ];
    let label = |i: usize| {
        vec![
            nasty[i % nasty.len()].to_owned(),
            nasty[(i + 3) % nasty.len()].to_owned(),
        ]
    };
    let shapes = [
        Shape::Role,
        Shape::Group,
        Shape::Store,
        Shape::Guardrail,
        Shape::Empty,
    ];
    let nodes: Vec<Node> = shapes
        .iter()
        .enumerate()
        .map(|(i, shape)| Node {
            id: format!("n{i}"),
            label: label(i),
            shape: *shape,
        })
        .collect();
    let edges = (1..nodes.len())
        .map(|i| Edge {
            from: "n0".into(),
            to: format!("n{i}"),
            label: nasty[i].to_owned(),
        })
        .collect();
    let drawn = Graph {
        name: nasty[0].to_owned(),
        root: Cluster {
            id: "root".into(),
            label: label(5),
            nodes: nodes[..2].to_vec(),
            clusters: vec![Cluster {
                id: "inner".into(),
                label: label(6),
                nodes: nodes[2..].to_vec(),
                clusters: Vec::new(),
            }],
        },
        edges,
    };
    mermaid_parses(graph::mermaid(&drawn).as_bytes());
    let svg = graphviz(graph::dot(&drawn).as_bytes());
    assert!(
        svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{svg}"
    );
}

/// The profiles `lz profiles` prints, read by boto3 (the AWS SDK for Python, as the AWS CLI
/// reads them): the watcher profile assumes its role in its account through the security
/// account's credentials, and the settler profile carries the MFA device and its one hour.
#[tokio::test]
async fn a_watcher_profile_signs_in_to_its_account_with_boto3() {
    let (zone, dir, out) = on_a_small_zone(&[
        "profiles",
        "--source-profile",
        "person",
        "--mfa-serial",
        "arn:aws:iam::{security_account_id}:mfa/ada",
    ])
    .await;
    let config = dir.join("config");
    std::fs::write(&config, &out.stdout).unwrap();
    let credentials = dir.join("credentials");
    std::fs::write(
        &credentials,
        "[person]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let lumo_dev = zone.account_id("lumo-dev").await;
    let security = zone.account_id("security").await;
    let script = r#"
import boto3, json
session = boto3.Session(profile_name="lumo-dev-watcher")
identity = session.client("sts").get_caller_identity()
settler = boto3.Session(profile_name="lumo-prod-settler")._session.full_config["profiles"]["lumo-prod-settler"]
print(json.dumps({"arn": identity["Arn"], "account": identity["Account"],
                  "region": session.region_name, "settler": settler}))
"#;
    let python = repo_path(".venv/bin/python");
    let run = Command::new(&python)
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_ENDPOINT_URL", zone.moto.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("{} ({e}): run scripts/test", python.display()));
    assert!(run.status.success(), "{}", text(&run.stderr));
    let got: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(got["account"], lumo_dev.as_str());
    assert!(
        got["arn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("arn:aws:sts::{lumo_dev}:assumed-role/lz-watcher/")),
        "{got}"
    );
    assert_eq!(got["region"], REGION);
    let settler = &got["settler"];
    assert_eq!(
        settler["mfa_serial"],
        format!("arn:aws:iam::{security}:mfa/ada").as_str()
    );
    assert_eq!(settler["duration_seconds"], "3600");
    assert_eq!(settler["source_profile"], "person");
}

/// Without `--assume-empty`, the picture carries the live ids: each account of the blueprint
/// with its id, none left as not created.
#[tokio::test]
async fn a_graph_of_a_live_zone_shows_its_ids() {
    let (zone, dir, out) = on_a_small_zone(&["graph", "--format", "dot"]).await;
    let dot = text(&out.stdout);
    assert!(!dot.contains("not created yet"), "{dot}");
    let bp = landing_zone::Blueprint::load(dir.join("bp.yaml")).unwrap();
    let mut accounts = vec![
        bp.accounts.security.name.clone(),
        bp.accounts.log_archive.name.clone(),
    ];
    for (customer, spec) in &bp.customers {
        accounts.extend(
            spec.environments
                .iter()
                .map(|env| format!("{customer}-{env}")),
        );
    }
    for name in accounts {
        let id = zone.account_id(&name).await;
        assert!(dot.contains(&format!("{name} ({id})")), "{name}: {dot}");
    }
    graphviz(dot.as_bytes());
}

/// Applies the small blueprint to a new zone, then runs `lz --stats COMMAND bp.yaml ARGS...`
/// on it, which must succeed having read only the organization; the blueprint is `bp.yaml` in
/// the directory returned.
async fn on_a_small_zone(args: &[&str]) -> (Zone, PathBuf, Output) {
    let zone = Zone::new(SMALL).await;
    zone.apply().await;
    let dir = tempdir();
    let blueprint = dir.join("bp.yaml");
    std::fs::write(&blueprint, SMALL).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lz"))
        .args(["--stats", args[0], blueprint.to_str().unwrap()])
        .args(&args[1..])
        .envs(zone.env())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_reads_only_the_organization(&out.stderr);
    (zone, dir, out)
}

/// What `--stats` listed on stderr: the organization's reads from the management account
/// alone, with no role assumed in a member account and nothing read inside one.
fn assert_reads_only_the_organization(stderr: &[u8]) {
    let stderr = text(stderr);
    let operations: Vec<&str> = stderr
        .lines()
        .skip_while(|line| !line.starts_with("AWS requests:"))
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(1))
        .collect();
    assert!(
        operations.contains(&"Organizations.ListAccounts"),
        "{stderr}"
    );
    for operation in operations {
        assert!(
            operation.starts_with("Organizations.") || operation == "STS.GetCallerIdentity",
            "{operation}: {stderr}"
        );
    }
}

/// Live progress on a terminal (tmux gives `lz` one): while accounts are created at AWS's
/// pace the bars show each change in flight and the accounts' count; when apply ends they are
/// gone, and the lines left are those a run without a terminal prints. With its stdout piped
/// (`lz apply | tee log` on a terminal), apply draws no bar, which the pipe's copy of the
/// lines would tear, and the log holds every line.
#[tokio::test]
async fn on_a_terminal_apply_shows_what_is_in_flight_and_leaves_the_plain_lines() {
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is needed for this test (scripts/test installs it)");
    }
    let dir = tempdir();
    let blueprint = dir.join("bp.yaml");
    std::fs::write(&blueprint, SMALL).unwrap();
    let bp = blueprint.to_str().unwrap();
    let progress_lines = |all: &str| -> std::collections::BTreeSet<String> {
        all.lines()
            .map(str::trim_end)
            .filter(|l| {
                l.ends_with(" complete")
                    || l.starts_with("Round ")
                    || l.starts_with("Apply complete:")
                    || l.starts_with("0 changes remaining")
            })
            .map(str::to_owned)
            .collect()
    };
    // Piped: the lines to expect, in the log; nothing drawn.
    let log = dir.join("stdout.txt");
    let piped = slow_apply_in_tmux(bp, Some(&log));
    assert!(
        !piped.seen_in_flight && !piped.seen_accounts,
        "{}",
        piped.screen
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    let want = progress_lines(&logged);
    assert!(want.len() > 20, "{logged}");
    assert_eq!(progress_lines(&piped.screen), want, "{}", piped.screen);
    // On the terminal: the bars, then the same lines.
    let drawn = slow_apply_in_tmux(bp, None);
    assert!(drawn.seen_in_flight, "a bar named an account being created");
    assert!(
        drawn.seen_accounts,
        "the accounts line counted the creations"
    );
    assert_eq!(progress_lines(&drawn.screen), want, "{}", drawn.screen);
    assert!(
        !drawn.screen.contains("being created"),
        "the bars are gone at the end"
    );
}

/// What a terminal showed while a command ran.
struct Watched {
    /// The whole screen when it ended, scrollback included.
    screen: String,
    /// Whether a bar ever named an account being created.
    seen_in_flight: bool,
    /// Whether the accounts' line was ever drawn.
    seen_accounts: bool,
}

/// Runs `lz apply BP --auto-approve` in a tmux terminal, its stdout piped to `tee LOG` when
/// given, against a new moto behind a stand-in that holds each account creation in progress
/// for 4 s, as AWS does; watches the screen until it ends, which it must, with status 0.
fn slow_apply_in_tmux(bp: &str, tee: Option<&std::path::Path>) -> Watched {
    use std::sync::Arc;

    use crate::faults::{Proxy, Rule, SlowCreation};
    use crate::support::Moto;

    static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let moto = Arc::new(Moto::start());
    let slow = Arc::new(SlowCreation::new(std::time::Duration::from_secs(4)));
    let proxy = Proxy::with(moto.port(), Rule::SlowCreation(slow));
    let session = format!(
        "lz-it-{}-{}",
        std::process::id(),
        SESSIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let mut script = String::new();
    for (key, value) in env_for(&proxy.endpoint()) {
        script.push_str(&format!("export {key}='{value}'; "));
    }
    let lz_bin = env!("CARGO_BIN_EXE_lz");
    // lz's status, not tee's: plain `sh` has no `pipefail`.
    script.push_str(&format!(
        "{{ '{lz_bin}' apply '{bp}' --auto-approve; echo \"EXIT $?\"; }}"
    ));
    if let Some(log) = tee {
        script.push_str(&format!(" | tee '{}'", log.display()));
    }
    script.push_str("; sleep 600");
    let started = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "160",
            "-y",
            "50",
            &script,
        ])
        .status()
        .unwrap();
    assert!(started.success());
    let capture = || {
        let out = Command::new("tmux")
            .args([
                "capture-pane",
                "-p",
                "-J",
                "-S",
                "-",
                "-E",
                "-",
                "-t",
                &session,
            ])
            .output()
            .unwrap();
        text(&out.stdout)
    };
    let mut seen_in_flight = false;
    let mut seen_accounts = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    let screen = loop {
        let screen = capture();
        seen_in_flight |= screen.contains("creating account.");
        seen_accounts |= screen.contains("being created");
        if screen.contains("EXIT ") {
            break screen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "apply did not end:\n{screen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", &session])
        .status();
    assert!(screen.contains("EXIT 0"), "{screen}");
    Watched {
        screen,
        seen_in_flight,
        seen_accounts,
    }
}

/// `--quiet` prints the result and nothing else: no plan, no progress.
#[test]
fn a_quiet_apply_prints_only_its_result() {
    let moto = crate::support::Moto::start();
    let dir = tempdir();
    let blueprint = dir.join("bp.yaml");
    std::fs::write(&blueprint, SMALL).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lz"))
        .args([
            "apply",
            blueprint.to_str().unwrap(),
            "--auto-approve",
            "--quiet",
        ])
        .envs(env_for(&moto.endpoint()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("Apply complete: "), "{lines:?}");
    assert_eq!(
        lines[1],
        "0 changes remaining. The landing zone matches the blueprint."
    );
    assert_eq!(text(&out.stderr), "");
}

/// `lz init --from-organization` on an organization made with boto3, as another tool would
/// have made it: the blueprint it writes validates, and planned against the same organization
/// it adopts the accounts that fit and creates none.
#[tokio::test]
async fn a_blueprint_written_from_an_organization_plans_no_account_creation() {
    let moto = crate::support::Moto::start();
    let script = r#"
import boto3
org = boto3.client("organizations", region_name="eu-west-3")
org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
units = {n: org.create_organizational_unit(ParentId=root, Name=n)["OrganizationalUnit"]["Id"]
         for n in ["Security", "Development", "Pre Prod", "Production"]}
org.create_organizational_unit(ParentId=units["Production"], Name="Legacy")
for name, email, unit in [
    ("security", "aws+security@corp.example", "Security"),
    ("log-archive", "aws+log-archive@corp.example", "Security"),
    ("lumo-dev", "aws+lumo-dev@corp.example", "Development"),
    ("lumo-pre-prod", "aws+lumo-pre-prod@corp.example", "Pre Prod"),
    ("lumo-prod", "aws+lumo-prod@corp.example", "Production"),
    ("retail-prod", "retail-team@corp.example", "Production"),
    ("payments", "aws+payments@corp.example", "Production"),
    ("scratch", "aws+scratch@corp.example", None),
]:
    status = org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
    account = org.describe_create_account_status(
        CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    if unit:
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=units[unit])
    if name == "lumo-dev":
        member = boto3.client("sts", region_name="eu-west-3").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="member")["Credentials"]
        print(member["AccessKeyId"], member["SecretAccessKey"], member["SessionToken"])
"#;
    let made = Command::new(repo_path(".venv/bin/python"))
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let dir = tempdir();
    let blueprint = dir.join("corp.yaml");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lz"))
            .args(args)
            .envs(env_for(&moto.endpoint()))
            .output()
            .unwrap()
    };
    let bp = blueprint.to_str().unwrap();
    // A flag no blueprint may hold is refused before anything is read.
    let typo = run(&["--stats", "init", "--from-organization", "--name", "Corp"]);
    assert_eq!(typo.status.code(), Some(1));
    let typo = text(&typo.stderr);
    assert!(
        typo.contains("`Corp` is not a landing zone name (--name)"),
        "{typo}"
    );
    assert!(!typo.contains("AWS requests"), "{typo}");
    // A member account's credentials are refused, saying whose they are.
    let member: Vec<String> = text(&made.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let as_member = Command::new(env!("CARGO_BIN_EXE_lz"))
        .args(["init", "--from-organization"])
        .envs(env_for(&moto.endpoint()))
        .env("AWS_ACCESS_KEY_ID", &member[0])
        .env("AWS_SECRET_ACCESS_KEY", &member[1])
        .env("AWS_SESSION_TOKEN", &member[2])
        .output()
        .unwrap();
    assert_eq!(as_member.status.code(), Some(1));
    assert!(
        text(&as_member.stderr).contains("run lz with the management account's credentials"),
        "{}",
        text(&as_member.stderr)
    );
    let init = run(&["init", "--from-organization", "--name", "corp", "--out", bp]);
    assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
    assert!(
        text(&init.stderr).contains("Described 6 account(s)"),
        "{}",
        text(&init.stderr)
    );
    let yaml = std::fs::read_to_string(&blueprint).unwrap();
    for left in [
        "# - account `payments`",
        "# - account `scratch`",
        "# - unit `Legacy (in Production)`",
    ] {
        assert!(yaml.contains(left), "{left} in\n{yaml}");
    }
    // Never over a file that exists.
    let again = run(&["init", "--from-organization", "--out", bp]);
    assert_eq!(again.status.code(), Some(1));
    let valid = run(&["validate", bp]);
    assert_eq!(
        valid.status.code(),
        Some(0),
        "{}\n{yaml}",
        text(&valid.stderr)
    );
    let planned = run(&["plan", bp, "--json"]);
    assert_eq!(
        planned.status.code(),
        Some(0),
        "{}\n{yaml}",
        text(&planned.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    let accounts: Vec<(&str, &str)> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "account")
        .map(|c| {
            (
                c["address"].as_str().unwrap(),
                c["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        accounts,
        [
            ("account.security", "adopt"),
            ("account.log-archive", "adopt"),
            ("account.lumo-dev", "adopt"),
            ("account.lumo-pre-prod", "adopt"),
            ("account.lumo-prod", "adopt"),
            ("account.retail-prod", "adopt"),
        ],
        "{yaml}"
    );
    // The unit `Pre Prod` is the environment `pre-prod`, not a `prod` of customer `lumo-pre`.
    assert!(yaml.contains(r#""pre-prod": { ou: "Pre Prod" }"#), "{yaml}");
}
