//! The commands. Each module holds one command's arguments and its `exec`, which turns them
//! into library calls; clap types stay in this module tree.

mod apply;
mod check;
mod graph;
mod init;
mod plan;
mod profiles;
mod progress;
mod validate;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Turns a YAML blueprint into a secure multi-account AWS landing zone, and keeps it that way.
#[derive(Debug, Parser)]
#[command(name = "lz", version, about, propagate_version = true)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// More logging on stderr: -v lz's progress and the SDK's warnings, -vv debug, -vvv the
    /// SDK's debug too; `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print the AWS requests sent, by operation, on stderr when done.
    #[arg(long, global = true)]
    stats: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a blueprint; list every problem with file, line, column and field.
    Validate(validate::Args),
    /// Show what apply would change, without changing anything.
    Plan(plan::Args),
    /// Make the changes: from a blueprint (after confirmation) or from a saved plan.
    Apply(apply::Args),
    /// Prove the security properties by evaluating the policies: escalation, MFA, trust,
    /// the audit trail. Exit 0 when every property holds, 1 otherwise.
    Check(check::Args),
    /// Write a blueprint describing an organization that exists, to adopt it.
    Init(init::Args),
    /// Draw the organization: units, accounts, tier roles, who assumes them, the audit flow.
    Graph(graph::Args),
    /// Print AWS config profiles for every tier role people in the security account may assume.
    Profiles(profiles::Args),
    /// Print the blueprint's JSON Schema, for editors.
    Schema,
    /// Print a shell completion script: `lz completions bash > /etc/bash_completion.d/lz`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Runs a command and returns the process exit code.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let session = Session { stats: args.stats };
    match args.command {
        Command::Validate(a) => validate::exec(a),
        Command::Plan(a) => plan::exec(a, &session),
        Command::Apply(a) => apply::exec(a, &session),
        Command::Check(a) => check::exec(a, &session),
        Command::Graph(a) => graph::exec(a, &session),
        Command::Init(a) => init::exec(a, &session),
        Command::Profiles(a) => profiles::exec(a, &session),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Args::command(), "lz", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            let schema = landing_zone::Blueprint::json_schema();
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What the commands that talk to AWS share.
pub struct Session {
    stats: bool,
}

impl Session {
    /// Runs async work on a runtime made for it.
    pub fn block_on<T>(
        &self,
        work: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(work)
    }

    /// The AWS clients from the standard configuration, in `region` when it names none,
    /// counting requests with `--stats`.
    pub async fn aws(&self, region: Option<&str>) -> landing_zone::aws::Aws {
        let aws = landing_zone::aws::Aws::from_environment_or_region(region).await;
        if self.stats {
            landing_zone::aws::Aws::new(
                aws.config().clone(),
                Some(landing_zone::aws::RequestLog::new()),
            )
        } else {
            aws
        }
    }

    /// Reads the organization (never writing), on a runtime of its own; with `--stats`, prints
    /// the requests that took.
    pub fn discover(
        &self,
        blueprint: &landing_zone::Blueprint,
    ) -> anyhow::Result<landing_zone::Actual> {
        self.read(blueprint, async |aws| {
            landing_zone::discover::discover(aws, blueprint).await
        })
    }

    /// The ids of the organization, its units and accounts, read from the management account
    /// alone ([`landing_zone::discover::known_ids`]).
    pub fn known_ids(
        &self,
        blueprint: &landing_zone::Blueprint,
    ) -> anyhow::Result<landing_zone::Known> {
        self.read(blueprint, async |aws| {
            landing_zone::discover::known_ids(aws, blueprint).await
        })
    }

    /// Runs one read of the organization for `blueprint` (in its home region when the
    /// configuration names none) on a runtime of its own, then `--stats`' report.
    fn read<T>(
        &self,
        blueprint: &landing_zone::Blueprint,
        read: impl AsyncFnOnce(
            &landing_zone::aws::Aws,
        ) -> Result<T, landing_zone::discover::DiscoverError>,
    ) -> anyhow::Result<T> {
        use anyhow::Context;
        self.block_on(async {
            let aws = self.aws(Some(&blueprint.home_region)).await;
            let found = read(&aws).await.context("cannot read the organization")?;
            self.report(&aws);
            anyhow::Ok(found)
        })
    }

    /// With `--stats`, prints the requests sent.
    pub fn report(&self, aws: &landing_zone::aws::Aws) {
        let Some(log) = aws.requests() else { return };
        let counts = log.counts();
        let writes: usize = log.writes().values().sum();
        eprintln!("AWS requests: {} ({} writes)", log.total(), writes);
        for (operation, n) in counts {
            eprintln!("  {n:>6}  {operation}");
        }
    }
}

/// Logging to stderr, quiet by default so that stdout holds only the plan.
pub fn init_tracing(verbose: u8) {
    // Quiet by default: the SDK's own warnings (no instance metadata service, say) are noise
    // next to the one error lz reports with its causes.
    let default = match verbose {
        0 => "error,landing_zone=warn,lz=warn",
        // lz's progress, and the SDK's warnings (retries, credentials) with it.
        1 => "warn,landing_zone=info,lz=info",
        2 => "info,landing_zone=debug,lz=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
}

/// Colour on stdout: only on a terminal, and never with `NO_COLOR` set.
pub fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// An error whose details were already printed (an invalid blueprint's diagnostics).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Whether the error is stdout's reader having gone away.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether the error was already printed in full.
pub fn already_reported(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Reported>().is_some()
}

/// Loads a blueprint, printing every problem (with snippets on a terminal) if it is invalid.
pub fn load(path: &std::path::Path) -> anyhow::Result<landing_zone::Blueprint> {
    match landing_zone::Blueprint::load(path) {
        Ok(bp) => Ok(bp),
        Err(landing_zone::LoadError::Invalid(invalid)) => {
            print_invalid(&invalid);
            let n = invalid.diagnostics.len();
            let problems = if n == 1 { "problem" } else { "problems" };
            eprintln!(
                "error: {} has {n} {problems}; nothing was changed",
                path.display()
            );
            Err(Reported(format!("{} is invalid", path.display())).into())
        }
        Err(err) => Err(err.into()),
    }
}

fn print_invalid(invalid: &landing_zone::Invalid) {
    eprintln!("{invalid}");
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        for report in invalid.reports() {
            eprintln!("{report:?}");
        }
    }
}
