//! `lz profiles FILE`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use landing_zone::blueprint::TierName;
use landing_zone::profiles::{self, ProfileOptions};

use super::Session;

/// Arguments of `lz profiles`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blueprint file.
    file: PathBuf,
    /// The profile holding your own credentials in the security account.
    #[arg(long, default_value = "default", value_name = "PROFILE")]
    source_profile: String,
    /// Your MFA device, for tiers that require MFA; `{security_account_id}` is replaced, e.g.
    /// `arn:aws:iam::{security_account_id}:mfa/ada`.
    #[arg(long, value_name = "ARN")]
    mfa_serial: Option<String>,
    /// The profiles' region (default: the blueprint's home region).
    #[arg(long)]
    region: Option<String>,
    /// A session shorter than each tier's maximum (`1h`, `90m`); never longer than it.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<u32>,
    /// Only these tiers (repeat, or separate with commas); every enabled tier by default.
    #[arg(long = "tier", value_enum, value_delimiter = ',')]
    tiers: Vec<Tier>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Tier {
    Watcher,
    Tinker,
    Keeper,
    Settler,
    BreakGlass,
}

impl From<Tier> for TierName {
    fn from(tier: Tier) -> TierName {
        match tier {
            Tier::Watcher => TierName::Watcher,
            Tier::Tinker => TierName::Tinker,
            Tier::Keeper => TierName::Keeper,
            Tier::Settler => TierName::Settler,
            Tier::BreakGlass => TierName::BreakGlass,
        }
    }
}

fn parse_duration(text: &str) -> Result<u32, String> {
    landing_zone::blueprint::parse_session(text)
}

pub fn exec(args: Args, session: &Session) -> anyhow::Result<ExitCode> {
    let blueprint = super::load(&args.file)?;
    let known = session.known_ids(&blueprint)?;
    let options = ProfileOptions {
        source_profile: args.source_profile,
        mfa_serial: args.mfa_serial,
        region: args.region,
        duration_secs: args.duration,
        tiers: args.tiers.into_iter().map(TierName::from).collect(),
    };
    let made = profiles::profiles(&blueprint, &known, &options)?;
    std::io::stdout()
        .lock()
        .write_all(profiles::config_text(&made).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
