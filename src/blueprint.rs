//! The blueprint: the YAML document a platform team writes, as typed values.
//!
//! These types are the one source of truth for the blueprint's shape: serde reads them, and
//! `schemars` derives from them the JSON Schema that both editors (`lz schema`) and the
//! structural validation in [`crate::validate`] use. Every struct denies unknown keys.
//!
//! The types hold what the author wrote. Defaults that depend on other fields (a tier's
//! environments, its session length) are resolved by the accessors on [`RoleTiers`] and
//! [`Tier`], so that expansion and validation read them the same way.

use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::quotas::QuotaName;

/// The only blueprint format version this build reads.
pub const SUPPORTED_VERSION: u32 = 1;

/// The default name of the role that AWS Organizations creates in every new member account.
pub const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

/// The default IAM path under which every role, group and policy of the landing zone lives.
pub const DEFAULT_IAM_PATH: &str = "/landing-zone/";
/// The IAM path of what `keeper` manages, unless the blueprint names another.
pub const DEFAULT_KEEPER_PATH: &str = "/keeper/";

/// A whole blueprint: one landing zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "landing-zone blueprint")]
pub struct Blueprint {
    /// Blueprint format version; this build reads version 1.
    pub version: u32,
    /// Short lowercase name of the landing zone; prefixes generated names and tags every resource.
    pub name: String,
    /// The region where regional resources (the audit key and bucket) live, e.g. `eu-west-3`.
    pub home_region: String,
    /// Organization-wide settings.
    pub organization: Organization,
    /// The fixed accounts every landing zone has.
    pub accounts: CoreAccounts,
    /// Environments by name; each becomes an organizational unit.
    pub environments: IndexMap<String, Environment>,
    /// Customers by name; each gets one account per listed environment, named `<customer>-<env>`.
    #[serde(default)]
    pub customers: IndexMap<String, Customer>,
    /// Role tiers; all four standard tiers exist with defaults, break-glass only when enabled.
    #[serde(default)]
    pub role_tiers: RoleTiers,
    /// The audit log: the KMS key, the bucket and the organization trail.
    #[serde(default)]
    pub audit_log: AuditLog,
    /// Kinds of resources that `apply` may delete when they leave the blueprint. Empty by
    /// default: nothing is ever deleted unless named here. Accounts are never deleted.
    #[serde(default)]
    pub allow_delete: Vec<DeletableKind>,
    /// AWS quotas raised for this organization, by name (`trust_policy_size: 4096`,
    /// `accounts_per_organization: 300`): lz checks what it would send against AWS's defaults
    /// unless a raised value is declared here. Only quotas AWS raises may be declared.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quotas: BTreeMap<QuotaName, u64>,
    /// Organization policies lz keeps in place: the baseline service control policies, the
    /// data perimeter and the tag policy (on by default), a region deny and the blueprint's own.
    #[serde(default)]
    pub guardrails: Guardrails,
}

/// Organization policies lz keeps in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guardrails {
    /// The baseline service control policies: no account leaves the organization; member
    /// accounts' root users do nothing but unlock a bucket policy; only lz's access role (and
    /// break-glass) changes the landing zone's roles and policies; in the log-archive account,
    /// only they change or erase the audit bucket and key. With `false` lz makes none; those it
    /// made stay as they are until removed by hand (lz deletes no guardrail).
    #[serde(default = "yes")]
    pub baseline: bool,
    /// The data perimeter, a resource control policy on the root: the member accounts' S3
    /// buckets, KMS keys, roles (STS), SQS queues and secrets are out of reach of principals
    /// outside the organization, save AWS services acting for it; S3 only over TLS.
    #[serde(default = "yes")]
    pub data_perimeter: bool,
    /// A tag policy on the root declaring the keys lz tags accounts with (`lz:customer`,
    /// `lz:environment`, the blueprint's own tags) and their allowed values, so cost reports
    /// group by customer and environment.
    #[serde(default = "yes")]
    pub tag_policy: bool,
    /// S3 Block Public Access at the account level in every member account: the four settings
    /// on, for every bucket present and future (CIS AWS Foundations 2.1.4).
    #[serde(default = "yes")]
    pub block_public_access: bool,
    /// The regions principals of member accounts may use; requests to other regions are
    /// denied, save those of global services. Absent: every region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Regions>,
    /// The blueprint's own service and resource control policies, one JSON file each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<UserGuardrail>,
}

fn yes() -> bool {
    true
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            baseline: true,
            data_perimeter: true,
            tag_policy: true,
            block_public_access: true,
            regions: None,
            policies: Vec::new(),
        }
    }
}

/// A region deny.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Regions {
    /// The regions allowed, e.g. `[eu-west-3, eu-central-1]`.
    pub allowed: Vec<String>,
    /// The environments whose units the deny is attached to: `all` (the default: attached to
    /// the root, so the security and log-archive accounts too) or a list.
    #[serde(default)]
    pub environments: Option<Scope>,
}

/// One policy of the blueprint's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserGuardrail {
    /// Its name in AWS Organizations, unique among policies of its type.
    pub name: String,
    /// `service_control` or `resource_control`.
    #[serde(rename = "type")]
    pub policy_type: UserPolicyType,
    /// The JSON policy document, relative to the blueprint's directory.
    pub file: String,
    /// Where it is attached.
    pub attach: Attach,
    /// The document read from `file`, set by loading the blueprint. Not written in a blueprint
    /// (the schema has no such field); kept in a saved plan's copy of the blueprint, so that
    /// applying the plan uses the document that was reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub document: Option<crate::policy::PolicyDocument>,
}

/// The kinds of policies a blueprint may add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserPolicyType {
    /// A service control policy: bounds what principals of member accounts may do.
    ServiceControl,
    /// A resource control policy: bounds who may reach member accounts' resources.
    ResourceControl,
}

/// Where a policy is attached; at least one of the three.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attach {
    /// The organization's root: every member account.
    #[serde(default)]
    pub organization: bool,
    /// These environments' units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// These accounts, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
}

/// Organization-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// Email template for accounts; `{account}` is replaced by the account's name.
    pub email: String,
    /// The role the reconciler assumes in member accounts.
    #[serde(default = "default_access_role")]
    pub access_role: String,
    /// The IAM path for every role, group and policy of the landing zone.
    #[serde(default = "default_iam_path")]
    pub iam_path: String,
    /// The IAM path of the roles, instance profiles and policies `keeper` may manage: every
    /// IAM write it may make is scoped to this path and needs the permissions boundary.
    #[serde(default = "default_keeper_path")]
    pub keeper_path: String,
    /// Tags put on every account, in addition to the ownership tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_access_role() -> String {
    DEFAULT_ACCESS_ROLE.to_owned()
}

fn default_iam_path() -> String {
    DEFAULT_IAM_PATH.to_owned()
}

fn default_keeper_path() -> String {
    DEFAULT_KEEPER_PATH.to_owned()
}

/// The fixed accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoreAccounts {
    /// Where people sign in; every tier role trusts it.
    pub security: CoreAccount,
    /// Holds the audit KMS key and bucket.
    pub log_archive: CoreAccount,
}

/// One fixed account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoreAccount {
    /// The account's name in AWS Organizations.
    pub name: String,
    /// The organizational unit that holds it.
    #[serde(default = "default_core_ou")]
    pub ou: String,
    /// An explicit email, instead of the organization's template.
    #[serde(default)]
    pub email: Option<String>,
    /// Extra tags for this account.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_core_ou() -> String {
    "Security".to_owned()
}

/// One environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The organizational unit that holds this environment's accounts.
    pub ou: String,
}

/// One customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The environments this customer has an account in.
    pub environments: Vec<String>,
    /// Extra tags for this customer's accounts.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Emails of this customer's accounts, by environment, where they do not follow the
    /// organization's template: accounts that already exist (adopted with `lz init
    /// --from-organization`). AWS knows an account by its email, so lz must ask for the same.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub emails: BTreeMap<String, String>,
}

/// The role tiers. Each standard tier exists with its defaults unless overridden.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleTiers {
    /// Read-only, everywhere.
    #[serde(default)]
    pub watcher: Tier,
    /// Deploys the application; dev environments only by default.
    #[serde(default)]
    pub tinker: Tier,
    /// Grants roles, bounded by the landing zone's permissions boundary.
    #[serde(default)]
    pub keeper: Tier,
    /// Changes infrastructure; MFA required.
    #[serde(default)]
    pub settler: Tier,
    /// Emergency administrator; off unless `enabled: true`.
    #[serde(default)]
    pub break_glass: Tier,
}

/// The five tiers, in the order they are expanded and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierName {
    /// Read-only.
    Watcher,
    /// Application deployer.
    Tinker,
    /// Bounded IAM administrator.
    Keeper,
    /// Infrastructure administrator.
    Settler,
    /// Emergency administrator.
    BreakGlass,
}

impl TierName {
    /// Every tier, in order.
    pub const ALL: [TierName; 5] = [
        TierName::Watcher,
        TierName::Tinker,
        TierName::Keeper,
        TierName::Settler,
        TierName::BreakGlass,
    ];

    /// The key used in the blueprint (`break_glass`).
    pub fn key(self) -> &'static str {
        match self {
            TierName::Watcher => "watcher",
            TierName::Tinker => "tinker",
            TierName::Keeper => "keeper",
            TierName::Settler => "settler",
            TierName::BreakGlass => "break_glass",
        }
    }

    /// The default role name, `lz-<tier>` (`lz-break-glass`).
    pub fn default_role_name(self) -> String {
        format!("lz-{}", self.key().replace('_', "-"))
    }
}

impl fmt::Display for TierName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// One tier's settings; every field is optional and falls back to the tier's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Whether the tier exists. Standard tiers default to on, break-glass to off.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The environments whose accounts get this tier's role: `all` or a list.
    #[serde(default)]
    pub environments: Option<Scope>,
    /// AWS managed or customer policy ARNs attached to the role.
    #[serde(default)]
    pub managed_policies: Option<Vec<String>>,
    /// Whether assuming the role requires MFA.
    #[serde(default)]
    pub mfa: Option<Mfa>,
    /// Maximum session length, from `1h` to `12h`, e.g. `1h`, `90m`, `2h30m`.
    #[serde(default)]
    pub max_session: Option<String>,
    /// The role's name; defaults to `lz-<tier>`.
    #[serde(default)]
    pub role_name: Option<String>,
}

/// Where a tier applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scope {
    /// Every environment.
    All(AllEnvironments),
    /// Only these environments.
    Only(Vec<String>),
}

/// The keyword `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AllEnvironments {
    /// Every environment.
    #[serde(rename = "all")]
    All,
}

impl Scope {
    /// Whether the scope includes `environment`.
    pub fn includes(&self, environment: &str) -> bool {
        match self {
            Scope::All(_) => true,
            Scope::Only(list) => list.iter().any(|e| e == environment),
        }
    }
}

/// Whether a tier requires MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mfa {
    /// `aws:MultiFactorAuthPresent` must be true.
    Required,
    /// No MFA condition.
    Optional,
}

/// A tier with every default resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTier {
    /// Which tier.
    pub tier: TierName,
    /// Where it applies.
    pub scope: Scope,
    /// Managed policy ARNs to attach.
    pub managed_policies: Vec<String>,
    /// Whether MFA is required.
    pub mfa: Mfa,
    /// Maximum session, in seconds.
    pub max_session_secs: u32,
    /// The role name.
    pub role_name: String,
}

/// The AWS managed read-only policy.
pub const READ_ONLY_ACCESS: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
/// The AWS managed administrator policy.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
/// The AWS managed IAM administrator policy.
pub const IAM_FULL_ACCESS: &str = "arn:aws:iam::aws:policy/IAMFullAccess";
/// The AWS managed power-user policy (everything but IAM and Organizations).
pub const POWER_USER_ACCESS: &str = "arn:aws:iam::aws:policy/PowerUserAccess";

impl RoleTiers {
    /// The tier's settings as written.
    pub fn get(&self, tier: TierName) -> &Tier {
        match tier {
            TierName::Watcher => &self.watcher,
            TierName::Tinker => &self.tinker,
            TierName::Keeper => &self.keeper,
            TierName::Settler => &self.settler,
            TierName::BreakGlass => &self.break_glass,
        }
    }

    /// The role (and group) names of the enabled tiers.
    pub fn role_names(&self) -> Vec<String> {
        self.resolved().into_iter().map(|t| t.role_name).collect()
    }

    /// The enabled tiers with every default resolved. A `max_session` that does not parse
    /// falls back to the default; validation reports it before anything reads this.
    pub fn resolved(&self) -> Vec<ResolvedTier> {
        TierName::ALL
            .into_iter()
            .filter_map(|tier| self.get(tier).resolve(tier))
            .collect()
    }
}

impl Tier {
    /// Whether the tier is on: standard tiers unless `enabled: false`, break-glass only with
    /// `enabled: true`.
    pub fn is_enabled(&self, tier: TierName) -> bool {
        self.enabled.unwrap_or(tier != TierName::BreakGlass)
    }

    /// This tier with its defaults filled in, or `None` when it is disabled.
    pub fn resolve(&self, tier: TierName) -> Option<ResolvedTier> {
        if !self.is_enabled(tier) {
            return None;
        }
        let defaults = TierDefaults::of(tier);
        Some(ResolvedTier {
            tier,
            scope: self
                .environments
                .clone()
                .unwrap_or_else(|| defaults.scope()),
            managed_policies: self.managed_policies.clone().unwrap_or_else(|| {
                defaults
                    .managed_policies
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
            mfa: self.mfa.unwrap_or(defaults.mfa),
            max_session_secs: self
                .max_session
                .as_deref()
                .and_then(|s| parse_session(s).ok())
                .unwrap_or(defaults.max_session_secs),
            role_name: self
                .role_name
                .clone()
                .unwrap_or_else(|| tier.default_role_name()),
        })
    }
}

/// The built-in defaults of one tier.
struct TierDefaults {
    environments: Option<&'static [&'static str]>,
    managed_policies: &'static [&'static str],
    mfa: Mfa,
    max_session_secs: u32,
}

impl TierDefaults {
    fn of(tier: TierName) -> TierDefaults {
        match tier {
            TierName::Watcher => TierDefaults {
                environments: None,
                managed_policies: &[READ_ONLY_ACCESS],
                mfa: Mfa::Optional,
                max_session_secs: 4 * 3600,
            },
            TierName::Tinker => TierDefaults {
                environments: Some(&["dev"]),
                managed_policies: &[POWER_USER_ACCESS],
                mfa: Mfa::Optional,
                max_session_secs: 4 * 3600,
            },
            TierName::Keeper => TierDefaults {
                environments: None,
                managed_policies: &[],
                mfa: Mfa::Required,
                max_session_secs: 3600,
            },
            TierName::Settler => TierDefaults {
                environments: None,
                managed_policies: &[ADMINISTRATOR_ACCESS],
                mfa: Mfa::Required,
                max_session_secs: 3600,
            },
            TierName::BreakGlass => TierDefaults {
                environments: None,
                managed_policies: &[ADMINISTRATOR_ACCESS],
                mfa: Mfa::Required,
                max_session_secs: 3600,
            },
        }
    }

    fn scope(&self) -> Scope {
        match self.environments {
            None => Scope::All(AllEnvironments::All),
            Some(list) => Scope::Only(list.iter().map(|s| s.to_string()).collect()),
        }
    }
}

/// The shortest and longest session IAM accepts for a role, in seconds.
pub const SESSION_BOUNDS: (u32, u32) = (3600, 12 * 3600);

/// Parses a session length such as `1h`, `45m` or `2h30m` into seconds.
pub fn parse_session(text: &str) -> Result<u32, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|e| e.to_string())?;
    u32::try_from(duration.as_secs()).map_err(|_| "too long".to_owned())
}

/// The audit log settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditLog {
    /// How long log objects and their old versions are kept, in days.
    #[serde(default = "default_retention_days")]
    pub retention_days: i64,
    /// S3 Object Lock mode; can only be turned on when the bucket is created.
    #[serde(default)]
    pub object_lock: ObjectLock,
    /// Default Object Lock retention, in days; at most `retention_days`.
    #[serde(default)]
    pub object_lock_days: Option<i64>,
    /// The KMS alias of the audit key, without `alias/`; defaults to `lz-audit`.
    #[serde(default)]
    pub key_alias: Option<String>,
    /// The bucket name; defaults to `<name>-audit-<log-archive account id>`.
    #[serde(default)]
    pub bucket_name: Option<String>,
}

fn default_retention_days() -> i64 {
    400
}

impl Default for AuditLog {
    fn default() -> Self {
        AuditLog {
            retention_days: default_retention_days(),
            object_lock: ObjectLock::Off,
            object_lock_days: None,
            key_alias: None,
            bucket_name: None,
        }
    }
}

/// S3 Object Lock mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectLock {
    /// No object lock.
    #[default]
    Off,
    /// Governance mode: privileged users may override.
    Governance,
    /// Compliance mode: nobody may shorten or remove the retention.
    Compliance,
}

/// Kinds of resources that may be deleted when the blueprint opts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeletableKind {
    /// Empty organizational units that no environment names any more.
    OrganizationalUnits,
    /// Tier roles (and their boundary policy) that the blueprint no longer grants.
    Roles,
    /// Tier groups in the security account that the blueprint no longer has.
    Groups,
}

impl Blueprint {
    /// The JSON Schema of the blueprint, derived from these types.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Blueprint))
            .expect("a derived schema always serializes")
    }

    /// The account name of `customer` in `environment`.
    pub fn workload_account_name(customer: &str, environment: &str) -> String {
        format!("{customer}-{environment}")
    }

    /// The organization trail's name.
    pub fn trail_name(&self) -> String {
        format!("{}-org-trail", self.name)
    }

    /// The audit key's alias, without `alias/`.
    pub fn audit_key_alias(&self) -> &str {
        self.audit_log.key_alias.as_deref().unwrap_or("lz-audit")
    }

    /// The audit bucket's name, given the log-archive account's id.
    pub fn audit_bucket_name(&self, log_archive_id: &str) -> String {
        match &self.audit_log.bucket_name {
            Some(name) => name.clone(),
            None => format!("{}-audit-{log_archive_id}", self.name),
        }
    }

    /// The name of the bucket receiving the audit bucket's access logs.
    pub fn access_log_bucket_name(&self, log_archive_id: &str) -> String {
        format!("{}-logs", self.audit_bucket_name(log_archive_id))
    }

    /// The email of the account named `account`, from its override or the template.
    pub fn account_email(&self, account: &str, explicit: Option<&str>) -> String {
        match explicit {
            Some(email) => email.to_owned(),
            None => self.organization.email.replace("{account}", account),
        }
    }
}
