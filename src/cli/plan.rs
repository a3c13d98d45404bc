//! `lz plan FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use landing_zone::{Actual, expand, plan, render};

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

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let blueprint = super::load(&args.file)?;
    anyhow::ensure!(
        args.assume_empty,
        "reading the live organization is not available in this build; pass --assume-empty"
    );
    let actual = Actual::empty();
    let desired = expand(&blueprint, &actual.known());
    let plan = plan(&desired, &actual);
    if let Some(out) = &args.out {
        let file = std::fs::File::create(out)
            .and_then(|file| render::write_json(&plan, file))
            .with_context(|| format!("cannot write the plan to {}", out.display()));
        file?;
    }
    let stdout = std::io::stdout().lock();
    if args.json {
        render::write_json(&plan, stdout)?;
    } else {
        let color = super::stdout_color();
        render::write_human(&plan, render::HumanOptions { color }, stdout)?;
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
