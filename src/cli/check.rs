//! `lz check FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use landing_zone::check::{self, Inventory};

use super::Session;

/// Arguments of `lz check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blueprint file.
    file: PathBuf,
    /// Check the documents a plan against an empty organization would write, without
    /// credentials or any AWS call.
    #[arg(long)]
    assume_empty: bool,
    /// Print the report as a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

pub fn exec(args: Args, session: &Session) -> anyhow::Result<ExitCode> {
    let blueprint = super::load(&args.file)?;
    let inventory = if args.assume_empty {
        Inventory::offline(&blueprint)
    } else {
        Inventory::live(&blueprint, &session.discover(&blueprint)?)
    };
    let report = check::check(&inventory);
    let stdout = std::io::stdout().lock();
    if args.json {
        check::write_json(&report, stdout)?;
    } else {
        check::write_human(&report, stdout)?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
