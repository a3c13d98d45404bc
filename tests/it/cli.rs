//! The `lz` binary as a user runs it: exit codes, what goes to stdout and stderr.

use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Output};

use crate::support::repo_path;

pub(crate) fn lz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lz"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run lz")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn shipped_blueprints_are_valid() {
    for name in ["acme", "northwind"] {
        let path = repo_path(&format!("blueprints/{name}.yaml"));
        let out = lz(&["validate", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("is valid"));
    }
}

#[test]
fn a_broken_blueprint_lists_every_problem_and_touches_nothing() {
    // Any AWS call would have to come here: nothing may.
    let trap = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    trap.set_nonblocking(true).unwrap();
    let dir = tempdir();
    let file = dir.join("broken.yaml");
    let acme = std::fs::read_to_string(repo_path("blueprints/acme.yaml")).unwrap();
    let broken = acme
        .replace("home_region: eu-west-3", "home_region: paris")
        .replace(
            "environments: [dev, preprod, prod]",
            "environments: [dev, staging, prod]",
        )
        .replace("retention_days: 400", "retention_days: 100\n  colour: red");
    std::fs::write(&file, broken).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lz"))
        .args(["plan", file.to_str().unwrap()])
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://{}", trap.local_addr().unwrap()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let f = file.display();
    for line in [
        format!("{f}:5:14: home_region: `paris` is not an AWS region name"),
        format!("{f}:18:33: customers.lumo.environments[1]: environment `staging` is not defined"),
        format!("{f}:27:3: audit_log.colour: unknown field `colour`"),
        format!(
            "{f}:29:21: audit_log.object_lock_days: the object lock retention (365 days) is longer than the lifecycle retention (100 days)"
        ),
    ] {
        assert!(stderr.contains(&line), "missing {line:?} in:\n{stderr}");
    }
    assert!(
        stderr.contains("has 4 problems; nothing was changed"),
        "{stderr}"
    );
    assert!(text(&out.stdout).is_empty());
    assert!(
        trap.accept().is_err(),
        "lz made a network call for an invalid blueprint"
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = lz(&["validate", "no/such/blueprint.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error: cannot read no/such/blueprint.yaml: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_against_an_empty_organization() {
    let acme = repo_path("blueprints/acme.yaml");
    let acme = acme.to_str().unwrap();
    let out = lz(&["plan", acme, "--assume-empty"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let org = stdout
        .find("+ organization organization")
        .expect("organization");
    let ou = stdout.find("+ organizational_unit ou.Prod").expect("an OU");
    let account = stdout
        .find("+ account account.lumo-prod")
        .expect("an account");
    let role = stdout
        .find("+ iam_role role.lumo-prod.lz-watcher")
        .expect("a role");
    let trail = stdout
        .find("+ cloudtrail_trail trail.org")
        .expect("the trail");
    assert!(org < ou && ou < account && account < role && role < trail);
    assert!(
        stdout.contains("Plan: 53 to create, 0 to update, 0 to delete.\nCheck: "),
        "{stdout}"
    );
    assert!(stdout.ends_with(", 0 fail.\n"), "{stdout}");

    let detailed = lz(&["plan", acme, "--assume-empty", "--detailed-exitcode"]);
    assert_eq!(detailed.status.code(), Some(2));
}

#[test]
fn the_json_plan_is_the_same_plan() {
    let acme = repo_path("blueprints/acme.yaml");
    let dir = tempdir();
    let saved = dir.join("plan.json");
    let out = lz(&[
        "plan",
        acme.to_str().unwrap(),
        "--assume-empty",
        "--json",
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(printed, file);
    assert_eq!(printed["format_version"], "1.0");
    assert_eq!(printed["summary"]["create"], 53);
    let changes = printed["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 53);
    assert!(changes.iter().all(|c| c["action"] == "create"));
    assert_eq!(changes[0]["address"], "organization");
}

#[test]
fn schema_is_json_schema_for_editors() {
    let out = lz(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["title"], "landing-zone blueprint");
    assert!(schema["properties"]["customers"].is_object());
    assert_eq!(schema["additionalProperties"], false);
}

/// A fresh directory under the target dir, for files a test writes.
pub(crate) fn tempdir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("lz-it-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A reader that stops early (`lz plan ... | head -1`) is not an error. The outputs are far
/// larger than a pipe's buffer, so lz is still writing when the pipe closes.
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    let dir = tempdir();
    let blueprint = dir.join("large.yaml");
    let mut yaml = String::from(
        "version: 1\nname: large\nhome_region: eu-west-3\norganization: { email: \"aws+{account}@large.example\" }\n\
         accounts: { security: { name: security }, log_archive: { name: log-archive } }\n\
         environments: { dev: { ou: Dev }, prod: { ou: Prod } }\nquotas: { accounts_per_organization: 300 }\ncustomers:\n",
    );
    for n in 0..100 {
        yaml.push_str(&format!("  c{n:03}: {{ environments: [dev, prod] }}\n"));
    }
    std::fs::write(&blueprint, yaml).unwrap();
    let file = blueprint.to_str().unwrap();
    for args in [
        ["plan", file, "--assume-empty", "--json"],
        ["check", file, "--assume-empty", "--json"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lz"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run lz");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The pipe is closed here, with most of the output unread.
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
}

/// The JSON plans of the shipped blueprints against an empty organization: a refactoring must
/// not change what lz plans. lz writes compact JSON; the golden files hold it indented, for
/// diffs a reviewer can read, and the digest in them pins the compact bytes exactly. When a
/// change to the plan is meant, regenerate them with
/// `LZ_UPDATE_GOLDEN=1 cargo test --test it golden` and review the diff.
#[test]
fn golden_plans_of_the_shipped_blueprints_are_unchanged() {
    for name in ["acme", "northwind"] {
        let out = plan_of_shipped(name, &["--json"]);
        assert_eq!(
            out.stdout.iter().filter(|&&b| b == b'\n').count(),
            1,
            "one line of JSON"
        );
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let indented = serde_json::to_string_pretty(&plan).unwrap() + "\n";
        assert_golden(&format!("{name}.plan.json"), &indented);
    }
}

/// The Markdown plans of the shipped blueprints against an empty organization, as a review
/// comment shows them: both fit GitHub's comment limit.
#[test]
fn golden_markdown_plans_of_the_shipped_blueprints_are_unchanged() {
    for name in ["acme", "northwind"] {
        let out = plan_of_shipped(name, &["--format", "markdown"]);
        let markdown = text(&out.stdout);
        assert!(markdown.chars().count() <= 65_536, "{name}");
        assert_golden(&format!("{name}.plan.md"), &markdown);
        // Saving the plan adds a line naming it, and the comment still fits.
        let saved = tempdir().join("plan.json");
        let out = plan_of_shipped(
            name,
            &["--format", "markdown", "--out", saved.to_str().unwrap()],
        );
        let with_digest = text(&out.stdout);
        assert!(with_digest.chars().count() <= 65_536, "{name} with --out");
        let digest = serde_json::from_slice::<serde_json::Value>(&std::fs::read(&saved).unwrap())
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            with_digest.ends_with(&format!("digest `{digest}`.\n")),
            "{name}"
        );
    }
}

/// `lz plan blueprints/NAME.yaml --assume-empty ARGS`, which must succeed.
fn plan_of_shipped(name: &str, args: &[&str]) -> Output {
    let blueprint = repo_path(&format!("blueprints/{name}.yaml"));
    let mut all = vec!["plan", blueprint.to_str().unwrap(), "--assume-empty"];
    all.extend(args);
    let out = lz(&all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out
}

/// Compares output with `tests/golden/NAME`, or rewrites it with `LZ_UPDATE_GOLDEN` set.
pub(crate) fn assert_golden(name: &str, got: &str) {
    let golden = repo_path(&format!("tests/golden/{name}"));
    if std::env::var_os("LZ_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "the output differs from tests/golden/{name} from line {}:\n  now:    {}\n  golden: {}",
            line + 1,
            got.lines().nth(line).unwrap_or("(end)"),
            want.lines().nth(line).unwrap_or("(end)"),
        );
    }
}

/// No secret anywhere: with a known secret key and session token, at the most verbose logging
/// (`-vv`, `RUST_LOG=trace`: the SDK's own tracing too), neither appears, nor any request
/// signature, in what lz prints, in its errors, or in the plan file, across a plan that reads
/// every member account through assumed roles and an apply of that plan.
#[tokio::test]
async fn no_secret_reaches_output_logs_or_plans() {
    const SECRET: &str = "lzTestSecretKey0123456789abcdefghijklmnop";
    const TOKEN: &str = "lzTestSessionToken0123456789abcdefghijklmnop";
    let zone = crate::support::Zone::new(crate::support::SMALL).await;
    zone.apply().await;
    let dir = tempdir();
    let blueprint = dir.join("bp.yaml");
    let saved = dir.join("plan.json");
    std::fs::write(&blueprint, crate::support::SMALL).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lz"))
            .args(args)
            .envs(zone.env())
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap()
    };
    let (bp, plan) = (blueprint.to_str().unwrap(), saved.to_str().unwrap());
    let planned = run(&["plan", bp, "--out", plan, "-vv"]);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let applied = run(&["apply", plan, "-vv"]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    // A failing call too: an error's text must not carry them either.
    let refused = run(&["apply", plan, "--expect-digest", "sha256:0", "-vv"]);
    assert_eq!(refused.status.code(), Some(1));
    let written = std::fs::read(&saved).unwrap();
    assert!(planned.stderr.len() > 100_000, "trace logging ran");
    for out in [&planned, &applied, &refused] {
        for stream in [&out.stdout, &out.stderr] {
            let stream = text(stream);
            for secret in [SECRET, TOKEN, "Signature="] {
                assert!(!stream.contains(secret), "{secret} printed");
            }
        }
    }
    let written = text(&written);
    for secret in [SECRET, TOKEN, "Signature="] {
        assert!(!written.contains(secret), "{secret} in the plan file");
    }
}

/// The example CI workflow is valid YAML, and every `lz` command in it uses a subcommand and
/// flags this `lz` has: the example cannot drift from the tool.
#[test]
fn the_example_workflow_uses_only_flags_lz_has() {
    let yaml = std::fs::read_to_string(repo_path("examples/github-workflow.yml")).unwrap();
    let workflow: serde_json::Value = serde_saphyr::from_str(&yaml).expect("valid YAML");
    let mut runs = Vec::new();
    for job in workflow["jobs"].as_object().unwrap().values() {
        for step in job["steps"].as_array().unwrap() {
            if let Some(run) = step["run"].as_str() {
                runs.push(run.to_owned());
            }
        }
    }
    let mut commands = 0;
    for line in runs.iter().flat_map(|r| r.lines()) {
        let Some(rest) = line.trim().strip_prefix("lz ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let help = lz(&[words[0], "--help"]);
        assert_eq!(help.status.code(), Some(0), "lz {}", words[0]);
        let help = text(&help.stdout);
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "lz {}: {flag}",
                words[0]
            );
        }
        commands += 1;
    }
    assert!(commands >= 4, "validate, plan, graph, apply");
}

/// Shell completions: a bash script that bash reads without error, naming the subcommands.
#[test]
fn completions_are_a_script_the_shell_reads() {
    let out = lz(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let script = text(&out.stdout);
    for sub in [
        "plan",
        "apply",
        "check",
        "graph",
        "profiles",
        "init",
        "completions",
    ] {
        assert!(script.contains(sub), "{sub}");
    }
    let dir = tempdir();
    let file = dir.join("lz.bash");
    std::fs::write(&file, &script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    for shell in ["zsh", "fish"] {
        let out = lz(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("profiles"), "{shell}");
    }
}
