//! `lz init --from-organization`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use landing_zone::adopt::{self, AdoptOptions};

use super::Session;

/// Arguments of `lz init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Describe the organization the credentials manage (read-only).
    #[arg(long)]
    from_organization: bool,
    /// The blueprint's name: short, lowercase; it prefixes names and tags every resource.
    #[arg(long, default_value = "main")]
    name: String,
    /// The home region (default: the region of the AWS configuration).
    #[arg(long)]
    home_region: Option<String>,
    /// The security account's name or id, when it is not called `security` or `audit`.
    #[arg(long, value_name = "NAME|ID")]
    security: Option<String>,
    /// The log-archive account's name or id, when it is not called `log-archive`, `log
    /// archive` or `logarchive`.
    #[arg(long, value_name = "NAME|ID")]
    log_archive: Option<String>,
    /// Write the blueprint to this file (never over one that exists) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn exec(args: Args, session: &Session) -> anyhow::Result<ExitCode> {
    if !args.from_organization {
        bail!(
            "lz init writes a blueprint from a live organization: pass --from-organization; to start from nothing, copy blueprints/acme.yaml"
        );
    }
    let (organization, options) = session.block_on(async {
        let aws = session.aws(args.home_region.as_deref()).await;
        let home_region = args
            .home_region
            .or_else(|| aws.config().region().map(|r| r.to_string()))
            .context("no region: pass --home-region")?;
        let options = AdoptOptions {
            name: args.name,
            home_region,
            security: args.security,
            log_archive: args.log_archive,
        };
        // A typo in a flag costs no read.
        options.check()?;
        let organization = adopt::read(&aws)
            .await
            .context("cannot read the organization")?;
        session.report(&aws);
        anyhow::Ok((organization, options))
    })?;
    let adoption = adopt::describe(&organization, &options)?;
    // What lz writes, it must read: never hand the user a blueprint that does not load.
    if let Err(invalid) = landing_zone::Blueprint::parse("the written blueprint", &adoption.yaml) {
        bail!("the blueprint written from the organization is not valid (a bug in lz):\n{invalid}");
    }
    match &args.out {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(adoption.yaml.as_bytes())?;
        }
        None => std::io::stdout()
            .lock()
            .write_all(adoption.yaml.as_bytes())?,
    }
    eprintln!(
        "Described {} account(s) of organization {}; left {} thing(s) alone (listed at the end of the blueprint). Next: lz plan it.",
        adoption.described,
        organization.id,
        adoption.left_out.len()
    );
    Ok(ExitCode::SUCCESS)
}
