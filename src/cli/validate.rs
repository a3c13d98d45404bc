//! `lz validate FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `lz validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blueprint file.
    file: PathBuf,
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let blueprint = super::load(&args.file)?;
    let accounts = landing_zone::desired::expand(&blueprint, &Default::default())
        .resources
        .iter()
        .filter(|r| r.spec.kind() == landing_zone::desired::Kind::Account)
        .count();
    println!(
        "{} is valid: landing zone `{}`, {accounts} accounts.",
        args.file.display(),
        blueprint.name
    );
    Ok(ExitCode::SUCCESS)
}
