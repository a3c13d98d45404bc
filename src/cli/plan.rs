//! `lz plan FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use landing_zone::{Actual, Blueprint, Plan, expand, plan, render};

use super::Session;

/// Arguments of `lz plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blueprint file.
    file: PathBuf,
    /// Print the plan as a JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Also save the plan as JSON to this file, for `lz apply PLAN.json`.
    #[arg(long, value_name = "PLAN.json")]
    out: Option<PathBuf>,
    /// Exit 0 when nothing would change, 2 when something would, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Plan against an empty organization, without credentials or any AWS call.
    #[arg(long)]
    assume_empty: bool,
}

pub fn exec(args: Args, session: &Session) -> anyhow::Result<ExitCode> {
    let blueprint = super::load(&args.file)?;
    let plan = if args.assume_empty {
        planned(&blueprint, &Actual::empty())
    } else {
        session.block_on(async {
            let aws = session.aws().await;
            let actual = landing_zone::discover::discover(&aws, &blueprint)
                .await
                .context("cannot read the organization")?;
            session.report(&aws);
            anyhow::Ok(planned(&blueprint, &actual))
        })?
    };
    if let Some(out) = &args.out {
        std::fs::File::create(out)
            .and_then(|file| render::write_json(&plan, file))
            .with_context(|| format!("cannot write the plan to {}", out.display()))?;
    }
    let stdout = std::io::stdout().lock();
    if args.json {
        render::write_json(&plan, stdout)?;
    } else {
        let color = super::stdout_color();
        render::write_human(&plan, render::HumanOptions { color }, stdout)?;
    }
    if !plan.conflicts.is_empty() {
        anyhow::bail!("the plan has conflicts (above); apply would refuse it");
    }
    if !plan.is_complete() {
        anyhow::bail!("some accounts could not be read (above); the plan does not cover them");
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The plan, carrying its blueprint so that a saved plan can be applied on its own.
pub fn planned(blueprint: &Blueprint, actual: &Actual) -> Plan {
    let mut plan = plan(&expand(blueprint, &actual.known()), actual);
    plan.configuration = Some(blueprint.clone());
    plan
}
