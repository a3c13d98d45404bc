//! Sign-in profiles for people: one AWS config profile (`~/.aws/config` format) per tier role
//! that a person in the security account may assume, named `<account>-<tier>`.
//!
//! The profiles are drawn from the desired state, so they name exactly the roles a plan makes,
//! with the same paths; only accounts that already exist (their ids known) get one. Each
//! profile asks for the session its tier allows at most, and carries `mfa_serial` where the
//! tier's trust policy requires MFA: the AWS CLI and SDKs then ask for a code, and the role's
//! trust accepts the session.

use std::fmt::Write as _;

use thiserror::Error;

use crate::blueprint::{Blueprint, Mfa, TierName};
use crate::desired::{self, Known, Spec};

/// The shortest session `AssumeRole` grants, in seconds.
pub const MIN_SESSION_SECS: u32 = 900;

/// What the profiles are made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileOptions {
    /// The profile holding the person's own credentials in the security account.
    pub source_profile: String,
    /// The person's MFA device ARN, for the tiers that require MFA. `{security_account_id}`
    /// in it is replaced by the security account's id.
    pub mfa_serial: Option<String>,
    /// The region the profiles use; the blueprint's home region when `None`.
    pub region: Option<String>,
    /// A shorter session than each tier's maximum, in seconds; never longer than it.
    pub duration_secs: Option<u32>,
    /// Only these tiers; every enabled tier when empty.
    pub tiers: Vec<TierName>,
}

/// One profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `<account>-<tier>`.
    pub name: String,
    /// The account it signs in to.
    pub account: String,
    /// The tier.
    pub tier: TierName,
    /// The tier role's ARN.
    pub role_arn: String,
    /// The profile with the person's own credentials.
    pub source_profile: String,
    /// The MFA device, for a tier that requires MFA.
    pub mfa_serial: Option<String>,
    /// The session asked for, within the tier's maximum.
    pub duration_seconds: u32,
    /// The region.
    pub region: String,
}

/// The profiles, and what could not have one yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profiles {
    /// The blueprint's name.
    pub blueprint: String,
    /// One per tier role in an account that exists.
    pub profiles: Vec<Profile>,
    /// Accounts with tier roles that do not exist yet (no id).
    pub not_created: Vec<String>,
}

/// Why no profiles could be made.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProfilesError {
    /// A tier requires MFA and no MFA device was given.
    #[error(
        "tier(s) {} require MFA: give the MFA device that signs in to the security account (`arn:aws:iam::{{security_account_id}}:mfa/NAME`), or leave those tiers out",
        tiers.join(", ")
    )]
    MfaSerialNeeded {
        /// The tiers that need it.
        tiers: Vec<String>,
    },
    /// A session shorter than STS grants.
    #[error("a session of {0} seconds is shorter than the 900 STS grants at least")]
    DurationTooShort(u32),
    /// The security account does not exist yet, so no role trusts anyone.
    #[error("the security account `{0}` does not exist yet: run `lz apply` first")]
    NoSecurityAccount(String),
}

/// The profiles for the tier roles of `bp`'s accounts that exist in `known`.
pub fn profiles(
    bp: &Blueprint,
    known: &Known,
    options: &ProfileOptions,
) -> Result<Profiles, ProfilesError> {
    if let Some(secs) = options.duration_secs
        && secs < MIN_SESSION_SECS
    {
        return Err(ProfilesError::DurationTooShort(secs));
    }
    let security = &bp.accounts.security.name;
    let security_id = known
        .account_ids
        .get(security)
        .ok_or_else(|| ProfilesError::NoSecurityAccount(security.clone()))?;
    let tiers: Vec<_> = bp
        .role_tiers
        .resolved()
        .into_iter()
        .filter(|t| options.tiers.is_empty() || options.tiers.contains(&t.tier))
        .collect();
    let needing: Vec<String> = tiers
        .iter()
        .filter(|t| t.mfa == Mfa::Required)
        .map(|t| t.tier.to_string())
        .collect();
    let mfa_serial = match &options.mfa_serial {
        Some(template) => Some(template.replace("{security_account_id}", security_id)),
        None if needing.is_empty() => None,
        None => return Err(ProfilesError::MfaSerialNeeded { tiers: needing }),
    };
    let region = options.region.clone().unwrap_or(bp.home_region.clone());
    let mut out = Profiles {
        blueprint: bp.name.clone(),
        profiles: Vec::new(),
        not_created: Vec::new(),
    };
    for resource in &desired::expand(bp, known).resources {
        let (Spec::IamRole(role), Some(account)) = (resource.spec.as_ref(), &resource.account)
        else {
            continue;
        };
        let Some(tier) = tiers.iter().find(|t| t.role_name == role.name) else {
            continue;
        };
        let Some(account_id) = known.account_ids.get(account) else {
            if !out.not_created.contains(account) {
                out.not_created.push(account.clone());
            }
            continue;
        };
        out.profiles.push(Profile {
            name: format!("{account}-{}", tier.tier.key().replace('_', "-")),
            account: account.clone(),
            tier: tier.tier,
            role_arn: format!("arn:aws:iam::{account_id}:role{}{}", role.path, role.name),
            source_profile: options.source_profile.clone(),
            mfa_serial: (tier.mfa == Mfa::Required)
                .then(|| mfa_serial.clone())
                .flatten(),
            duration_seconds: options
                .duration_secs
                .map_or(tier.max_session_secs, |d| d.min(tier.max_session_secs)),
            region: region.clone(),
        });
    }
    Ok(out)
}

/// The profiles as `~/.aws/config` text, to append to that file or to point
/// `AWS_CONFIG_FILE` at.
pub fn config_text(profiles: &Profiles) -> String {
    let mut out = format!(
        "# Sign-in profiles for the landing zone `{}`, written by lz.\n",
        profiles.blueprint
    );
    if !profiles.not_created.is_empty() {
        let _ = writeln!(
            out,
            "# Not created yet, so no profile: {}.",
            profiles.not_created.join(", ")
        );
    }
    for p in &profiles.profiles {
        let _ = write!(
            out,
            "\n[profile {}]\nrole_arn = {}\nsource_profile = {}\n",
            p.name, p.role_arn, p.source_profile
        );
        if let Some(serial) = &p.mfa_serial {
            let _ = writeln!(out, "mfa_serial = {serial}");
        }
        let _ = writeln!(
            out,
            "duration_seconds = {}\nregion = {}",
            p.duration_seconds, p.region
        );
    }
    out
}

#[cfg(test)]
mod tests;
