//! Adopting an organization that exists: read it (never writing) and write the blueprint that
//! describes it as far as blueprint version 1 can, so that planning it against the same
//! organization adopts what is there and creates no account.
//!
//! How the organization maps onto a blueprint:
//! - the security and log-archive accounts are found by name (`security`, `audit`,
//!   `log-archive`, `log archive`, with any prefix), or named by the caller (name or id);
//! - the units directly under the root hold the environments, read from their accounts'
//!   names as `<customer>-<environment>` (see `environments_in`); a unit named for an
//!   environment claims it before another unit does;
//! - the email template is the one most accounts follow (`aws+{account}@example.com`), if
//!   more than half do; an account that does not follow it keeps its own email, since AWS
//!   knows an account by its email (`email:` for the core accounts, `customers.<c>.emails`
//!   for the others);
//! - everything else (accounts under the root or in nested units, names that do not fit,
//!   suspended accounts) is left alone, and listed at the end of the blueprint with why.
//!
//! The guardrails an adopted organization gets are the baseline only: the data perimeter, the
//! tag policy and Block Public Access can break workloads that exist, so they are written
//! turned off, for the team to turn on after review.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use aws_sdk_organizations::types::{AccountState, AccountStatus};

use crate::aws::{Aws, call};
use crate::discover::DiscoverError;
use crate::discover::organizations::{ensure_management, list_root, list_top_ous};

/// An organization as read for adoption.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// Its id (`o-…`).
    pub id: String,
    /// The management account's id.
    pub management_account_id: String,
    /// The management account's name.
    pub management_account_name: String,
    /// The units directly under the root, by id: their names.
    pub units: Vec<Unit>,
    /// Units deeper down, which blueprint version 1 cannot describe.
    pub nested_units: Vec<String>,
    /// Every account but the management account.
    pub accounts: Vec<Account>,
}

/// A unit directly under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its email.
    pub email: String,
    /// Where it is.
    pub place: Place,
    /// Whether it is active (not suspended or leaving).
    pub active: bool,
}

/// Where an account is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Directly under the root.
    Root,
    /// In the unit with this id, directly under the root.
    Unit(String),
    /// Deeper down.
    Nested,
}

/// What the caller decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptOptions {
    /// The blueprint's name.
    pub name: String,
    /// The home region.
    pub home_region: String,
    /// The security account's name or id, if it is not found by name.
    pub security: Option<String>,
    /// The log-archive account's name or id, if it is not found by name.
    pub log_archive: Option<String>,
}

impl AdoptOptions {
    /// Refuses a name or a home region that no blueprint may hold: the caller checks this
    /// before reading the organization, so that a typo costs no read.
    pub fn check(&self) -> Result<(), AdoptError> {
        if !crate::validate::is_landing_zone_name(&self.name) {
            return Err(AdoptError::InvalidName(self.name.clone()));
        }
        let why = if !crate::validate::is_region_name(&self.home_region) {
            "not an AWS region name".to_owned()
        } else {
            match crate::validate::partition_of(&self.home_region) {
                "aws" => return Ok(()),
                other => format!(
                    "in AWS partition `{other}`, and lz writes ARNs for the `aws` partition only"
                ),
            }
        };
        Err(AdoptError::InvalidHomeRegion {
            region: self.home_region.clone(),
            why,
        })
    }
}

/// The blueprint written, and what it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// The blueprint, as YAML with comments.
    pub yaml: String,
    /// Accounts described.
    pub described: usize,
    /// Accounts and units left out, each with why.
    pub left_out: Vec<String>,
}

/// Why no blueprint could be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdoptError {
    /// The blueprint's name is not one a blueprint may have.
    #[error(
        "`{0}` is not a landing zone name (--name): use 1 to 32 lowercase letters, digits and hyphens, beginning with a letter and not ending with a hyphen"
    )]
    InvalidName(String),
    /// The home region is not a region of the `aws` partition.
    #[error("the home region `{region}` is {why}: pass --home-region, such as eu-west-3")]
    InvalidHomeRegion {
        /// The region, from `--home-region` or the AWS configuration.
        region: String,
        /// What is wrong with it.
        why: String,
    },
    /// A core account was not found.
    #[error(
        "no {role} account found (looked for a name like {looked}); name it with {flag} NAME or {flag} ID"
    )]
    CoreAccountNotFound {
        /// `security` or `log-archive`.
        role: &'static str,
        /// The names looked for.
        looked: &'static str,
        /// The flag that names it.
        flag: &'static str,
    },
    /// Several accounts have a name that marks a core account.
    #[error(
        "accounts {} could each be the {role} account; choose one with {flag} ID",
        candidates.join(", ")
    )]
    CoreAccountAmbiguous {
        /// `security` or `log-archive`.
        role: &'static str,
        /// The accounts whose names match.
        candidates: Vec<String>,
        /// The flag that names it.
        flag: &'static str,
    },
    /// The account named by a flag is not an active member account of the organization.
    #[error("no active member account has the name or id `{name}` (given with {flag})")]
    NamedAccountNotFound {
        /// The name given.
        name: String,
        /// The flag that gave it.
        flag: &'static str,
    },
    /// Several accounts have the name a flag gave.
    #[error(
        "accounts {} match `{name}` (given with {flag}); give the account's id instead",
        candidates.join(", ")
    )]
    NamedAccountAmbiguous {
        /// The name given.
        name: String,
        /// The accounts with that name.
        candidates: Vec<String>,
        /// The flag that gave it.
        flag: &'static str,
    },
    /// A flag named the management account, which cannot be a core account of the zone.
    #[error(
        "`{name}` (given with {flag}) is the management account; the {role} account must be a member account"
    )]
    ManagementAccountChosen {
        /// The name or id given.
        name: String,
        /// `security` or `log-archive`.
        role: &'static str,
        /// The flag that gave it.
        flag: &'static str,
    },
    /// One account was named as both core accounts.
    #[error("`{0}` cannot be both the security and the log-archive account")]
    SameCoreAccount(String),
}

/// Reads the organization: its root's units, the units under them (names only), and every
/// account with its place. Only reads.
pub async fn read(aws: &Aws) -> Result<Organization, DiscoverError> {
    let org = &aws.organizations;
    let described = org
        .describe_organization()
        .send()
        .await
        .map_err(call("organizations.DescribeOrganization"))?
        .organization
        .unwrap_or_else(|| aws_sdk_organizations::types::Organization::builder().build());
    let mut out = Organization {
        id: described.id().unwrap_or_default().to_owned(),
        management_account_id: described.master_account_id().unwrap_or_default().to_owned(),
        ..Organization::default()
    };
    ensure_management(aws, &out.id, &out.management_account_id).await?;
    let root = list_root(org).await?.unwrap_or_default();
    for (id, name) in list_top_ous(org, &root).await? {
        for (_, nested) in list_top_ous(org, &id).await? {
            out.nested_units.push(format!("{nested} (in {name})"));
        }
        out.units.push(Unit { id, name });
    }
    let mut place: HashMap<String, Place> = HashMap::new();
    let holders = std::iter::once((root.clone(), Place::Root)).chain(
        out.units
            .iter()
            .map(|u| (u.id.clone(), Place::Unit(u.id.clone()))),
    );
    for (parent, here) in holders {
        let pages: Vec<_> = org
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(call("organizations.ListAccountsForParent"))?;
        for account in pages.iter().flat_map(|p| p.accounts()) {
            place.insert(account.id().unwrap_or_default().to_owned(), here.clone());
        }
    }
    let pages: Vec<_> = org
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListAccounts"))?;
    for account in pages.iter().flat_map(|p| p.accounts()) {
        let id = account.id().unwrap_or_default().to_owned();
        if id == out.management_account_id {
            out.management_account_name = account.name().unwrap_or_default().to_owned();
            continue;
        }
        out.accounts.push(Account {
            name: account.name().unwrap_or_default().to_owned(),
            email: account.email().unwrap_or_default().to_owned(),
            place: place.remove(&id).unwrap_or(Place::Nested),
            // `State` replaces `Status` (retired by AWS in September 2026); an emulator may
            // still send only the older one.
            active: match (account.state(), account.status()) {
                (Some(state), _) => *state == AccountState::Active,
                (None, Some(status)) => *status == AccountStatus::Active,
                (None, None) => true,
            },
            id,
        });
    }
    Ok(out)
}

/// Names that mark the security account, compared without case, alone or after a prefix and
/// a `-` (Control Tower names it `Audit`).
const SECURITY_NAMES: &[&str] = &["security", "audit"];
/// Names that mark the log-archive account.
const LOG_ARCHIVE_NAMES: &[&str] = &["log-archive", "log archive", "logarchive"];

fn is_named(name: &str, names: &[&str]) -> bool {
    let name = name.to_ascii_lowercase();
    names
        .iter()
        .any(|n| name == *n || name.ends_with(&format!("-{n}")) || name.ends_with(&format!(" {n}")))
}

/// A slug as blueprints name environments and customers.
fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The slug of a unit's name: `Pre Prod` is `pre-prod`.
fn slug(name: &str) -> String {
    let lower: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    lower
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The blueprint describing `org`.
pub fn describe(org: &Organization, options: &AdoptOptions) -> Result<Adoption, AdoptError> {
    let mut left_out = Vec::new();
    let active: Vec<&Account> = org
        .accounts
        .iter()
        .filter(|a| {
            if !a.active {
                left_out.push(format!(
                    "account `{}` ({}): not active (suspended or leaving)",
                    a.name, a.id
                ));
            }
            a.active
        })
        .collect();
    let core = |chosen: &Option<String>,
                names: &[&str],
                role: &'static str,
                looked: &'static str,
                flag: &'static str|
     -> Result<&Account, AdoptError> {
        if let Some(given) = chosen {
            return chosen_account(org, &active, given, role, flag);
        }
        let found: Vec<&Account> = active
            .iter()
            .copied()
            .filter(|a| is_named(&a.name, names))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(AdoptError::CoreAccountNotFound { role, looked, flag }),
            many => Err(AdoptError::CoreAccountAmbiguous {
                role,
                candidates: listed(many),
                flag,
            }),
        }
    };
    let security = core(
        &options.security,
        SECURITY_NAMES,
        "security",
        "`security` or `audit`",
        "--security",
    )?;
    let log_archive = core(
        &options.log_archive,
        LOG_ARCHIVE_NAMES,
        "log-archive",
        "`log-archive`, `log archive` or `logarchive`",
        "--log-archive",
    )?;
    if security.id == log_archive.id || security.name == log_archive.name {
        return Err(AdoptError::SameCoreAccount(security.name.clone()));
    }
    // AWS lets two accounts share a name; a blueprint names each account once.
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &active {
        *named.entry(a.name.as_str()).or_default() += 1;
    }
    let shared = |a: &Account| named.get(a.name.as_str()).copied().unwrap_or(0) > 1;
    let unit_name = |id: &str| {
        org.units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    // Environments: each unit's workload accounts read as `<customer>-<environment>`
    // (`environments_in`); a unit named for an environment claims it before another unit.
    let mut workloads: Vec<(&Unit, Vec<&Account>)> = Vec::new();
    for unit in &org.units {
        let mut held: Vec<&Account> = Vec::new();
        for a in active.iter().copied() {
            if a.place != Place::Unit(unit.id.clone())
                || a.id == security.id
                || a.id == log_archive.id
            {
                continue;
            }
            let why = if shared(a) {
                "another account has its name"
            } else if is_named(&a.name, SECURITY_NAMES) || is_named(&a.name, LOG_ARCHIVE_NAMES) {
                "named like a core account, but another was chosen"
            } else {
                held.push(a);
                continue;
            };
            left_out.push(format!(
                "account `{}` ({}) in unit `{}`: {why}",
                a.name, a.id, unit.name
            ));
        }
        workloads.push((unit, held));
    }
    // How many accounts each customer name could be read from, in any unit: `lumo-prod`
    // beside `lumo-pre-prod` makes the latter `lumo`'s `pre-prod`, not `lumo-pre`'s `prod`.
    let mut support: BTreeMap<String, usize> = BTreeMap::new();
    for a in workloads.iter().flat_map(|(_, held)| held) {
        for (customer, _) in splits(&a.name) {
            *support.entry(customer).or_default() += 1;
        }
    }
    let mut claims: Vec<(&Unit, String, Named<'_>)> = Vec::new();
    for (unit, held) in workloads {
        let (environments, unnamed) = environments_in(&unit.name, &held, &support);
        for a in unnamed {
            let why = if environments.is_empty() {
                "its name is not `<customer>-<environment>`".to_owned()
            } else {
                let keys: Vec<String> = environments
                    .keys()
                    .map(|k| format!("`<customer>-{k}`"))
                    .collect();
                format!("its name is not {}", keys.join(" or "))
            };
            left_out.push(format!(
                "account `{}` ({}) in unit `{}`: {why}",
                a.name, a.id, unit.name
            ));
        }
        for (key, accounts) in environments {
            claims.push((unit, key, accounts));
        }
    }
    claims.sort_by_key(|(unit, key, _)| *key != slug(&unit.name));
    let mut environments: Vec<(String, String)> = Vec::new(); // (key, unit name)
    let mut customers: BTreeMap<String, Vec<(String, &Account)>> = BTreeMap::new();
    for (unit, key, accounts) in claims {
        if let Some((_, other)) = environments.iter().find(|(k, _)| *k == key) {
            left_out.push(format!(
                "unit `{}`, its {} account(s) named `<customer>-{key}`: environment `{key}` is already unit `{other}`",
                unit.name,
                accounts.len()
            ));
            continue;
        }
        for (customer, a) in accounts {
            customers
                .entry(customer)
                .or_default()
                .push((key.clone(), a));
        }
        environments.push((key, unit.name.clone()));
    }
    // In the units' order, as the organization lists them.
    environments
        .sort_by_key(|(key, unit)| (org.units.iter().position(|u| u.name == *unit), key.clone()));
    for accounts in customers.values_mut() {
        accounts.sort_by_key(|(key, _)| environments.iter().position(|(k, _)| k == key));
    }
    for a in &active {
        if a.id == security.id || a.id == log_archive.id {
            continue;
        }
        match &a.place {
            Place::Root => left_out.push(format!(
                "account `{}` ({}): directly under the root, in no unit",
                a.name, a.id
            )),
            Place::Nested => left_out.push(format!(
                "account `{}` ({}): in a nested unit (blueprint version 1 has units directly under the root)",
                a.name, a.id
            )),
            Place::Unit(_) => {}
        }
    }
    for nested in &org.nested_units {
        left_out.push(format!(
            "unit `{nested}`: nested (blueprint version 1 has units directly under the root)"
        ));
    }
    // The email template most described accounts follow.
    let described: Vec<&Account> = [security, log_archive]
        .into_iter()
        .chain(customers.values().flatten().map(|(_, a)| *a))
        .collect();
    let mut templates: BTreeMap<String, usize> = BTreeMap::new();
    for a in &described {
        if let Some(t) = template_of(a) {
            *templates.entry(t).or_default() += 1;
        }
    }
    // Only a template most of them follow: new accounts get their emails from it.
    let template = templates
        .iter()
        .max_by_key(|(t, n)| (**n, std::cmp::Reverse((*t).clone())))
        .filter(|(_, n)| **n * 2 > described.len())
        .map(|(t, _)| t.clone());
    let follows = |a: &Account| {
        template.as_deref().is_some_and(|t| {
            t.replace("{account}", &a.name)
                .eq_ignore_ascii_case(&a.email)
        })
    };
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Written by `lz init --from-organization` from organization {} (management account {}).",
        org.id, org.management_account_id
    );
    y.push_str(
        "# Review it, then `lz plan` it: it should create no account, and adopt (tag) what exists.\n",
    );
    let _ = writeln!(y, "version: 1\nname: {}", quoted(&options.name));
    let _ = writeln!(y, "home_region: {}", quoted(&options.home_region));
    y.push_str("organization:\n");
    match &template {
        Some(t) => {
            let _ = writeln!(y, "  email: {}   # most accounts follow it", quoted(t));
        }
        None => {
            y.push_str("  # No email template fits most accounts (each keeps its own below): edit this one, for the accounts lz creates.\n");
            y.push_str("  email: \"aws+{account}@example.com\"\n");
        }
    }
    let unit_of = |a: &Account| match &a.place {
        Place::Unit(id) => unit_name(id),
        _ => "Security".to_owned(),
    };
    y.push_str("accounts:\n");
    for (key, a) in [("security", security), ("log_archive", log_archive)] {
        let _ = write!(
            y,
            "  {key}: {{ name: {}, ou: {}",
            quoted(&a.name),
            quoted(&unit_of(a))
        );
        if !follows(a) {
            let _ = write!(y, ", email: {}", quoted(&a.email));
        }
        let _ = write!(y, " }}   # {}", a.id);
        match a.place {
            Place::Unit(_) => {}
            Place::Root => {
                y.push_str(": directly under the root now; apply moves it to `Security`")
            }
            Place::Nested => y.push_str(": in a nested unit now; apply moves it to `Security`"),
        }
        y.push('\n');
    }
    y.push_str("environments:\n");
    if environments.is_empty() {
        y.push_str("  {}\n");
    }
    for (key, unit) in &environments {
        let _ = writeln!(y, "  {}: {{ ou: {} }}", quoted(key), quoted(unit));
    }
    y.push_str("customers:\n");
    if customers.is_empty() {
        y.push_str("  {}\n");
    }
    for (customer, accounts) in &customers {
        // Quoted, keys too: `007` unquoted would be read back as the number 7.
        let envs: Vec<String> = accounts.iter().map(|(e, _)| quoted(e)).collect();
        let _ = write!(
            y,
            "  {}: {{ environments: [{}]",
            quoted(customer),
            envs.join(", ")
        );
        let emails: Vec<String> = accounts
            .iter()
            .filter(|(_, a)| !follows(a))
            .map(|(env, a)| format!("{}: {}", quoted(env), quoted(&a.email)))
            .collect();
        if !emails.is_empty() {
            let _ = write!(y, ", emails: {{ {} }}", emails.join(", "));
        }
        let ids: Vec<&str> = accounts.iter().map(|(_, a)| a.id.as_str()).collect();
        let _ = writeln!(y, " }}   # {}", ids.join(", "));
    }
    y.push_str(
        "# The baseline protects lz's roles and the organization. The other guardrails can break\n\
         # workloads that exist: turn each on after checking what it denies (see the README).\n\
         guardrails:\n  baseline: true\n  data_perimeter: false\n  tag_policy: false\n  block_public_access: false\n",
    );
    let total = org.accounts.len() + 1;
    if total > 10 {
        let _ = writeln!(
            y,
            "# The organization holds {total} accounts: its quota was raised to at least that."
        );
        let _ = writeln!(y, "quotas: {{ accounts_per_organization: {total} }}");
    }
    if !left_out.is_empty() {
        y.push_str(
            "\n# Left out: blueprint version 1 cannot describe these, and lz makes no change to them\n\
             # (the baseline guardrail, attached to the root, applies to them as to every account).\n",
        );
        for why in &left_out {
            // Names may hold line breaks, which would end the comment and break the YAML.
            let _ = writeln!(y, "# - {}", crate::render::one_line(why));
        }
    }
    Ok(Adoption {
        yaml: y,
        described: described.len(),
        left_out,
    })
}

/// The account `given` names (by id, by name, or by name without case), as the `flag`
/// for the `role` account.
fn chosen_account<'o>(
    org: &Organization,
    active: &[&'o Account],
    given: &str,
    role: &'static str,
    flag: &'static str,
) -> Result<&'o Account, AdoptError> {
    if given == org.management_account_id || given == org.management_account_name {
        return Err(AdoptError::ManagementAccountChosen {
            name: given.to_owned(),
            role,
            flag,
        });
    }
    let with = |same: &dyn Fn(&Account) -> bool| -> Vec<&'o Account> {
        active.iter().copied().filter(|a| same(a)).collect()
    };
    let mut found = with(&|a| a.id == given);
    if found.is_empty() {
        found = with(&|a| a.name == given);
    }
    if found.is_empty() {
        found = with(&|a| a.name.eq_ignore_ascii_case(given));
    }
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(AdoptError::NamedAccountNotFound {
            name: given.to_owned(),
            flag,
        }),
        many => Err(AdoptError::NamedAccountAmbiguous {
            name: given.to_owned(),
            candidates: listed(many),
            flag,
        }),
    }
}

/// An environment's accounts, each with the customer its name gives.
type Named<'o> = Vec<(String, &'o Account)>;

/// Accounts as an error lists them: name and id.
fn listed(accounts: &[&Account]) -> Vec<String> {
    accounts
        .iter()
        .map(|a| format!("`{}` ({})", a.name, a.id))
        .collect()
}

/// Every way to read a name as `<customer>-<environment>`, both slugs, the shortest
/// environment first: `big-co-prod` is `big-co`'s `prod` or `big`'s `co-prod`.
fn splits(name: &str) -> Vec<(String, String)> {
    name.match_indices('-')
        .rev()
        .map(|(at, _)| (&name[..at], &name[at + 1..]))
        .filter(|(customer, env)| is_slug(customer) && is_slug(env))
        .map(|(customer, env)| (customer.to_owned(), env.to_owned()))
        .collect()
}

/// The environments a unit's accounts name, each with its accounts by customer, and the
/// accounts that name none. Each account is read as `<customer>-<environment>`: at the unit's
/// own name when it ends with it (`Pre Prod`: `lumo-pre-prod`), else as the customer the
/// most accounts of the organization could be (`support`), the shorter environment first.
/// An environment read is the unit's when it is the unit's own name, when two or more of its
/// accounts read it, or when its customer has other accounts; failing all, the one most read.
fn environments_in<'o>(
    unit: &str,
    held: &[&'o Account],
    support: &BTreeMap<String, usize>,
) -> (BTreeMap<String, Named<'o>>, Vec<&'o Account>) {
    let own = slug(unit);
    let supported = |customer: &str| support.get(customer).copied().unwrap_or(0);
    let mut read: Vec<(&'o Account, String, String)> = Vec::new();
    let mut unnamed = Vec::new();
    for a in held {
        let splits = splits(&a.name);
        let pick = splits.iter().find(|(_, env)| *env == own).or_else(|| {
            splits
                .iter()
                .max_by_key(|(customer, env)| (supported(customer), std::cmp::Reverse(env.len())))
        });
        match pick {
            Some((customer, env)) => read.push((a, customer.clone(), env.clone())),
            None => unnamed.push(*a),
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, env) in &read {
        *counts.entry(env.as_str()).or_default() += 1;
    }
    let mut kept: Vec<String> = counts
        .iter()
        .filter(|(env, n)| {
            **env == own
                || **n >= 2
                || read
                    .iter()
                    .any(|(_, customer, e)| e == *env && supported(customer) >= 2)
        })
        .map(|(env, _)| (*env).to_owned())
        .collect();
    if kept.is_empty()
        && let Some((env, _)) = counts
            .iter()
            .max_by_key(|(env, n)| (**n, std::cmp::Reverse(**env)))
    {
        kept.push((*env).to_owned());
    }
    let mut environments: BTreeMap<String, Named<'o>> = BTreeMap::new();
    for (a, customer, env) in read {
        if kept.contains(&env) {
            environments.entry(env).or_default().push((customer, a));
        } else {
            unnamed.push(a);
        }
    }
    (environments, unnamed)
}

/// The template an account's email follows: its name in it replaced by `{account}`.
fn template_of(account: &Account) -> Option<String> {
    let lower = account.email.to_ascii_lowercase();
    let at = lower.find(&account.name.to_ascii_lowercase())?;
    let mut template = account.email.clone();
    template.replace_range(at..at + account.name.len(), "{account}");
    Some(template)
}

/// A YAML double-quoted string.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

#[cfg(test)]
mod tests;
