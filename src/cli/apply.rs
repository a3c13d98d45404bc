//! `lz apply FILE|PLAN.json`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use landing_zone::apply::{ApplyOptions, apply};
use landing_zone::desired::Kind;
use landing_zone::plan::Action;
use landing_zone::{Plan, render};

use super::{Session, progress};

/// Arguments of `lz apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A blueprint (plans, shows the plan and asks), or a plan saved by `lz plan --out`.
    file: PathBuf,
    /// Apply without asking. Needed when there is no terminal to ask on.
    #[arg(long)]
    auto_approve: bool,
    /// How many changes run at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallelism: u16,
    /// With a saved plan: refuse it unless its digest is this one, the digest of the plan that
    /// was reviewed (`lz plan --out` prints it).
    #[arg(long, value_name = "sha256:…")]
    expect_digest: Option<String>,
    /// Print only the result: no progress, and no plan unless it must be confirmed.
    #[arg(long, short)]
    quiet: bool,
}

pub fn exec(args: Args, session: &Session) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let saved: Option<Plan> = if text.trim_start().starts_with('{') {
        let plan: Plan = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a plan saved by lz", args.file.display()))?;
        if !plan.is_intact() {
            bail!(landing_zone::apply::ApplyError::EditedPlan);
        }
        let digest = plan.digest.clone().unwrap_or_default();
        if let Some(expected) = &args.expect_digest
            && *expected != digest
        {
            bail!(
                "the saved plan's digest is {digest}, not the reviewed {expected}; nothing was changed"
            );
        }
        if !args.quiet {
            println!("Applying the saved plan {digest}.");
        }
        Some(plan)
    } else {
        if args.expect_digest.is_some() {
            bail!(
                "--expect-digest applies to a saved plan (lz apply PLAN.json), not to a blueprint"
            );
        }
        None
    };
    let blueprint = match &saved {
        Some(plan) => plan.configuration.clone().context(
            "the saved plan does not include its blueprint; plan again with `lz plan --out`",
        )?,
        None => super::load(&args.file)?,
    };
    session.block_on(async {
        let aws = session.aws(Some(&blueprint.home_region)).await;
        let reviewed = match saved {
            Some(plan) => plan,
            None => {
                let actual = landing_zone::discover::discover(&aws, &blueprint)
                    .await
                    .context("cannot read the organization")?;
                let plan = super::plan::planned(&blueprint, &actual);
                if !(args.quiet && args.auto_approve) {
                    let color = super::stdout_color();
                    render::write_human(
                        &plan,
                        render::HumanOptions { color },
                        std::io::stdout().lock(),
                    )?;
                }
                if !plan.conflicts.is_empty() {
                    bail!("the plan has conflicts (above); nothing was changed");
                }
                if !plan.is_complete() {
                    let accounts: Vec<&str> = plan
                        .unreadable
                        .iter()
                        .map(|n| n.address.trim_start_matches("account."))
                        .collect();
                    bail!(
                        "account(s) {} could not be read (above); nothing was changed",
                        accounts.join(", ")
                    );
                }
                if !plan.has_changes() {
                    session.report(&aws);
                    return Ok(ExitCode::SUCCESS);
                }
                if !args.auto_approve {
                    confirm()?;
                }
                plan
            }
        };
        let creations = reviewed
            .changes()
            .filter(|c| c.kind == Kind::Account && c.action == Action::Create)
            .map(|c| c.address.clone())
            .collect();
        let options = ApplyOptions {
            parallelism: usize::from(args.parallelism),
            on_event: progress::handler(progress::Mode::detect(args.quiet), creations),
            ..ApplyOptions::default()
        };
        let result = apply(&aws, &blueprint, Some(&reviewed), options).await;
        session.report(&aws);
        let report = result
            .context("apply stopped; run it again to finish: it picks up where it stopped")?;
        println!(
            "\nApply complete: {} change(s) made in {} round(s).",
            report.applied.len(),
            report.rounds
        );
        if !report.remaining.is_complete() {
            let accounts: Vec<&str> = report
                .remaining
                .unreadable
                .iter()
                .map(|n| n.address.trim_start_matches("account."))
                .collect();
            bail!(
                "account(s) {} could not be read: the landing zone is not known to match the blueprint there",
                accounts.join(", ")
            );
        }
        if report.remaining.has_changes() {
            let color = super::stdout_color();
            render::write_human(
                &report.remaining,
                render::HumanOptions { color },
                std::io::stdout().lock(),
            )?;
            bail!("the organization does not match the blueprint yet: the changes above remain");
        }
        println!("0 changes remaining. The landing zone matches the blueprint.");
        Ok(ExitCode::SUCCESS)
    })
}

/// Asks on the terminal; refuses when there is none.
fn confirm() -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "there is no terminal to confirm on; review the plan and pass --auto-approve, or apply a saved plan"
        );
    }
    print!("\nDo you want to make these changes? Only 'yes' will be accepted: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("apply cancelled; nothing was changed");
    }
    Ok(())
}
