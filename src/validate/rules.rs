//! The semantic rules: what the schema cannot say. Each rule reads the typed blueprint and
//! names the field it blames by path; positions are looked up afterwards.

use std::collections::{BTreeSet, HashMap};

use super::structure::suggest;
use super::{FieldPath, Problem, names};
use crate::blueprint::{
    Blueprint, ObjectLock, SESSION_BOUNDS, SUPPORTED_VERSION, Scope, TierName, parse_session,
};
use crate::desired::{BLUEPRINT_TAG, OWNER_TAG, PLACEHOLDER_ACCOUNT_ID};

pub(super) fn check(bp: &Blueprint) -> Vec<Problem> {
    let mut out = Vec::new();
    version(bp, &mut out);
    identity(bp, &mut out);
    organization(bp, &mut out);
    environments(bp, &mut out);
    accounts(bp, &mut out);
    tiers(bp, &mut out);
    audit_log(bp, &mut out);
    guardrails(bp, &mut out);
    out
}

fn root() -> FieldPath {
    FieldPath::root()
}

fn version(bp: &Blueprint, out: &mut Vec<Problem>) {
    if bp.version != SUPPORTED_VERSION {
        out.push(
            Problem::at_value(
                root().key("version"),
                format!("unsupported blueprint version {}", bp.version),
            )
            .hint(format!(
                "this build of lz reads version {SUPPORTED_VERSION}"
            )),
        );
    }
}

fn identity(bp: &Blueprint, out: &mut Vec<Problem>) {
    let name = &bp.name;
    if !names::is_landing_zone_name(name) {
        out.push(
            Problem::at_value(
                root().key("name"),
                format!("`{name}` is not a valid landing zone name"),
            )
            .hint("use 1 to 32 lowercase letters, digits and hyphens, beginning with a letter"),
        );
    }
    if !names::is_region_name(&bp.home_region) {
        out.push(
            Problem::at_value(
                root().key("home_region"),
                format!("`{}` is not an AWS region name", bp.home_region),
            )
            .hint("write a region such as eu-west-3 or us-east-1"),
        );
    } else if names::partition_of(&bp.home_region) != "aws" {
        let partition = names::partition_of(&bp.home_region);
        out.push(
            Problem::at_value(
                root().key("home_region"),
                format!(
                    "`{}` is in AWS partition `{partition}`, and lz writes ARNs for the `aws` partition only",
                    bp.home_region
                ),
            )
            .hint("write a region of the commercial partition, such as eu-west-3 or us-east-1"),
        );
    }
}

/// Whether the email template makes valid, distinct emails; when it does not, the problem is
/// reported once, at the template, and not again for every account it would name.
fn template_ok(bp: &Blueprint) -> bool {
    let template = &bp.organization.email;
    template.contains("{account}")
        && names::email(&template.replace("{account}", "account")).is_ok()
}

fn organization(bp: &Blueprint, out: &mut Vec<Problem>) {
    let org = root().key("organization");
    let template = &bp.organization.email;
    if !template.contains("{account}") {
        out.push(
            Problem::at_value(
                org.key("email"),
                format!("the email template `{template}` has no `{{account}}`"),
            )
            .hint("every account needs its own email, e.g. aws+{account}@example.com"),
        );
    } else if let Err(why) = names::email(&template.replace("{account}", "account")) {
        out.push(Problem::at_value(
            org.key("email"),
            format!("the email template does not make an email: {why}"),
        ));
    }
    if let Err(why) = names::iam_name(&bp.organization.access_role) {
        out.push(Problem::at_value(org.key("access_role"), why));
    }
    if let Err(why) = names::iam_path(&bp.organization.iam_path) {
        out.push(Problem::at_value(org.key("iam_path"), why));
    }
    let (lz, keeper) = (&bp.organization.iam_path, &bp.organization.keeper_path);
    if let Err(why) = names::iam_path(keeper) {
        out.push(Problem::at_value(org.key("keeper_path"), why));
    } else if lz.starts_with(keeper.as_str()) || keeper.starts_with(lz.as_str()) {
        out.push(
            Problem::at_value(
                org.key("keeper_path"),
                format!("keeper_path `{keeper}` overlaps iam_path `{lz}`"),
            )
            .hint(
                "keeper must manage a path apart from the landing zone's own roles, e.g. /keeper/",
            ),
        );
    }
    tags(&bp.organization.tags, &org.key("tags"), out);
}

fn tags(tags: &std::collections::BTreeMap<String, String>, at: &FieldPath, out: &mut Vec<Problem>) {
    for (key, value) in tags {
        if key == OWNER_TAG || key == BLUEPRINT_TAG {
            out.push(
                Problem::at_key(at.key(key), format!("tag `{key}` is set by lz itself"))
                    .hint("lz uses it to know what it owns; remove it here"),
            );
        } else if let Err(why) = names::tag(key, value) {
            out.push(Problem::at_key(at.key(key), why));
        }
    }
}

fn environments(bp: &Blueprint, out: &mut Vec<Problem>) {
    for (name, env) in &bp.environments {
        let at = root().key("environments").key(name);
        if !is_slug(name) {
            out.push(
                Problem::at_key(
                    at.clone(),
                    format!("`{name}` is not a valid environment name"),
                )
                .hint("use lowercase letters, digits and hyphens"),
            );
        }
        if env.ou.is_empty() || env.ou.chars().count() > 128 {
            out.push(Problem::at_value(
                at.key("ou"),
                "an organizational unit name has 1 to 128 characters",
            ));
        }
    }
}

fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// One account the blueprint makes, and the field that makes it.
struct Source {
    name: String,
    email: String,
    /// The field that names the account.
    name_at: FieldPath,
    /// The field that gives the email (the override, or the name when the template is used).
    email_at: FieldPath,
    /// Whether the email is given explicitly rather than made from the template.
    explicit_email: bool,
}

fn accounts(bp: &Blueprint, out: &mut Vec<Problem>) {
    let mut sources = Vec::new();
    for (key, core) in [
        ("security", &bp.accounts.security),
        ("log_archive", &bp.accounts.log_archive),
    ] {
        let at = root().key("accounts").key(key);
        if let Some(email) = &core.email
            && let Err(why) = names::email(email)
        {
            out.push(Problem::at_value(at.key("email"), why));
        }
        if core.ou.is_empty() || core.ou.chars().count() > 128 {
            out.push(Problem::at_value(
                at.key("ou"),
                "an organizational unit name has 1 to 128 characters",
            ));
        }
        tags(&core.tags, &at.key("tags"), out);
        sources.push(Source {
            name: core.name.clone(),
            email: bp.account_email(&core.name, core.email.as_deref()),
            name_at: at.key("name"),
            email_at: if core.email.is_some() {
                at.key("email")
            } else {
                at.key("name")
            },
            explicit_email: core.email.is_some(),
        });
    }
    for (customer, spec) in &bp.customers {
        let at = root().key("customers").key(customer);
        if !is_slug(customer) {
            out.push(
                Problem::at_key(
                    at.clone(),
                    format!("`{customer}` is not a valid customer name"),
                )
                .hint("use lowercase letters, digits and hyphens"),
            );
        }
        if spec.environments.is_empty() {
            out.push(Problem::at_value(
                at.key("environments"),
                format!("customer `{customer}` has no environments"),
            ));
        }
        tags(&spec.tags, &at.key("tags"), out);
        let mut seen = BTreeSet::new();
        for (i, env) in spec.environments.iter().enumerate() {
            let item = at.key("environments").index(i);
            if !seen.insert(env) {
                out.push(Problem::at_value(
                    item,
                    format!("environment `{env}` is listed twice"),
                ));
                continue;
            }
            if !bp.environments.contains_key(env) {
                out.push(undefined_environment(bp, env, item));
                continue;
            }
            let name = Blueprint::workload_account_name(customer, env);
            let explicit = spec.emails.get(env);
            sources.push(Source {
                email: bp.account_email(&name, explicit.map(String::as_str)),
                name,
                name_at: item.clone(),
                email_at: match explicit {
                    Some(_) => at.key("emails").key(env),
                    None => item,
                },
                explicit_email: explicit.is_some(),
            });
        }
        for env in spec.emails.keys() {
            if !spec.environments.contains(env) {
                out.push(Problem::at_key(
                    at.key("emails").key(env),
                    format!("`{env}` is not one of customer `{customer}`'s environments"),
                ));
            }
        }
    }
    let template_ok = template_ok(bp);
    let mut by_name: HashMap<&str, &Source> = HashMap::new();
    let mut by_email: HashMap<String, &Source> = HashMap::new();
    for source in &sources {
        if let Err(why) = names::account_name(&source.name) {
            out.push(Problem::at_value(source.name_at.clone(), why));
            continue;
        }
        if let Some(first) = by_name.insert(&source.name, source) {
            out.push(
                Problem::at_value(
                    source.name_at.clone(),
                    format!(
                        "account name `{}` is already used by {}",
                        source.name, first.name_at
                    ),
                )
                .hint("every account needs its own name; rename a customer or environment"),
            );
            continue;
        }
        if !source.explicit_email && !template_ok {
            continue;
        }
        if let Some(first) = by_email.insert(source.email.to_ascii_lowercase(), source) {
            out.push(
                Problem::at_value(
                    source.email_at.clone(),
                    format!(
                        "account `{}` gets the email `{}`, already given to account `{}`",
                        source.name, source.email, first.name
                    ),
                )
                .hint(
                    "AWS refuses two accounts with one email (emails compare case-insensitively)",
                ),
            );
            continue;
        }
        if let Err(why) = names::email(&source.email) {
            out.push(Problem::at_value(
                source.email_at.clone(),
                format!("account `{}`: {why}", source.name),
            ));
        }
    }
}

fn undefined_environment(bp: &Blueprint, env: &str, at: FieldPath) -> Problem {
    let defined: Vec<String> = bp.environments.keys().cloned().collect();
    Problem::at_value(at, format!("environment `{env}` is not defined")).hint(
        if defined.is_empty() {
            "the blueprint defines no environments".to_owned()
        } else {
            suggest(env, &defined)
        },
    )
}

fn tiers(bp: &Blueprint, out: &mut Vec<Problem>) {
    let used: BTreeSet<&str> = bp
        .customers
        .values()
        .flat_map(|c| c.environments.iter().map(String::as_str))
        .collect();
    let mut role_names: HashMap<String, FieldPath> = HashMap::new();
    for tier in TierName::ALL {
        let spec = bp.role_tiers.get(tier);
        let at = root().key("role_tiers").key(tier.key());
        if let Some(Scope::Only(list)) = &spec.environments {
            let mut undefined = false;
            for (i, env) in list.iter().enumerate() {
                if !bp.environments.contains_key(env) {
                    undefined = true;
                    out.push(undefined_environment(
                        bp,
                        env,
                        at.key("environments").index(i),
                    ));
                }
            }
            if !undefined
                && spec.is_enabled(tier)
                && !list.iter().any(|e| used.contains(e.as_str()))
            {
                out.push(
                    Problem::at_value(
                        at.key("environments"),
                        format!(
                            "tier `{tier}` is restricted to {}, which no customer has",
                            list.iter()
                                .map(|e| format!("`{e}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .hint("give a customer one of these environments, or widen the tier"),
                );
            }
        }
        if let Some(text) = &spec.max_session {
            let (low, high) = SESSION_BOUNDS;
            match parse_session(text) {
                Err(_) => out.push(
                    Problem::at_value(at.key("max_session"), format!("`{text}` is not a duration"))
                        .hint("write it like 1h, 90m or 2h30m"),
                ),
                Ok(secs) if !(low..=high).contains(&secs) => out.push(Problem::at_value(
                    at.key("max_session"),
                    format!("max_session must be between 1h and 12h, found `{text}`"),
                )),
                Ok(_) => {}
            }
        }
        if let Some(role) = &spec.role_name
            && let Err(why) = names::iam_name(role)
        {
            out.push(Problem::at_value(at.key("role_name"), why));
        }
        let Some(resolved) = spec.resolve(tier) else {
            continue;
        };
        for (i, arn) in resolved.managed_policies.iter().enumerate() {
            if !arn.starts_with("arn:aws") || !arn.contains(":policy/") {
                out.push(Problem::at_value(
                    at.key("managed_policies").index(i),
                    format!("`{arn}` is not a managed policy ARN"),
                ));
            }
        }
        let role_at = if spec.role_name.is_some() {
            at.key("role_name")
        } else {
            at.clone()
        };
        if let Some(first) = role_names.insert(resolved.role_name.clone(), role_at.clone()) {
            out.push(Problem::at_value(
                role_at,
                format!(
                    "role name `{}` is already used by {first}",
                    resolved.role_name
                ),
            ));
        }
    }
}

fn audit_log(bp: &Blueprint, out: &mut Vec<Problem>) {
    let at = root().key("audit_log");
    let audit = &bp.audit_log;
    if audit.retention_days < 1 {
        out.push(Problem::at_value(
            at.key("retention_days"),
            format!(
                "retention_days must be at least 1, found {}",
                audit.retention_days
            ),
        ));
    }
    match (audit.object_lock, audit.object_lock_days) {
        (ObjectLock::Off, Some(_)) => out.push(
            Problem::at_value(
                at.key("object_lock_days"),
                "object_lock_days has no effect while object_lock is `off`",
            )
            .hint("set object_lock to `governance` or `compliance`, or remove object_lock_days"),
        ),
        (_, Some(days)) if days < 1 => out.push(Problem::at_value(
            at.key("object_lock_days"),
            format!("object_lock_days must be at least 1, found {days}"),
        )),
        (_, Some(days)) if days > audit.retention_days && audit.retention_days >= 1 => out.push(
            Problem::at_value(
                at.key("object_lock_days"),
                format!(
                    "the object lock retention ({days} days) is longer than the lifecycle retention ({} days)",
                    audit.retention_days
                ),
            )
            .hint("locked objects could not expire; shorten the lock or lengthen retention_days"),
        ),
        _ => {}
    }
    if let Some(alias) = &audit.key_alias
        && let Err(why) = names::key_alias(alias)
    {
        out.push(Problem::at_value(at.key("key_alias"), why));
    }
    if audit.bucket_name.is_none() && !names::is_landing_zone_name(&bp.name) {
        return; // the buckets are named from `name`, already reported
    }
    let blame = if audit.bucket_name.is_some() {
        at.key("bucket_name")
    } else {
        root().key("name")
    };
    for bucket in [
        bp.audit_bucket_name(PLACEHOLDER_ACCOUNT_ID),
        bp.access_log_bucket_name(PLACEHOLDER_ACCOUNT_ID),
    ] {
        if let Err(why) = names::bucket_name(&bucket) {
            out.push(
                Problem::at_value(blame.clone(), why)
                    .hint("the audit buckets are named from this; S3 names are 3-63 lowercase letters, digits, `.` and `-`"),
            );
            break;
        }
    }
}

/// The region deny and the blueprint's own policies: names AWS accepts and no two alike,
/// regions that exist, and targets the blueprint defines.
fn guardrails(bp: &Blueprint, out: &mut Vec<Problem>) {
    let at = root().key("guardrails");
    if let Some(regions) = &bp.guardrails.regions {
        let allowed = at.key("regions").key("allowed");
        if regions.allowed.is_empty() {
            out.push(
                Problem::at_value(allowed.clone(), "no region is allowed").hint(format!(
                    "list at least the home region, `{}`",
                    bp.home_region
                )),
            );
        }
        for (i, region) in regions.allowed.iter().enumerate() {
            if !names::is_region_name(region) {
                out.push(Problem::at_value(
                    allowed.index(i),
                    format!("`{region}` is not an AWS region name"),
                ));
            }
        }
        if let Some(Scope::Only(envs)) = &regions.environments {
            for (i, env) in envs.iter().enumerate() {
                if !bp.environments.contains_key(env) {
                    let at = at.key("regions").key("environments").index(i);
                    out.push(undefined_environment(bp, env, at));
                }
            }
        }
    }
    let accounts: Vec<String> = crate::desired::accounts(bp)
        .into_iter()
        .map(|a| a.name)
        .collect();
    let mut seen: HashMap<(crate::blueprint::UserPolicyType, &str), usize> = HashMap::new();
    let lz_names: Vec<String> = crate::desired::guardrails::own_names(bp)
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    for (i, p) in bp.guardrails.policies.iter().enumerate() {
        let at = at.key("policies").index(i);
        let valid_name = !p.name.is_empty()
            && p.name.len() <= 128
            && p.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !valid_name {
            out.push(
                Problem::at_value(
                    at.key("name"),
                    format!("`{}` is not a policy name AWS accepts", p.name),
                )
                .hint("1 to 128 letters, digits and `+=,.@_-`"),
            );
        } else if lz_names.contains(&p.name) {
            out.push(Problem::at_value(
                at.key("name"),
                format!("`{}` is the name of one of lz's own guardrails", p.name),
            ));
        } else if let Some(first) = seen.get(&(p.policy_type, p.name.as_str())) {
            out.push(Problem::at_value(
                at.key("name"),
                format!(
                    "`{}` is also the name of guardrails.policies[{first}]",
                    p.name
                ),
            ));
        } else {
            seen.insert((p.policy_type, p.name.as_str()), i);
        }
        if p.file.trim().is_empty() {
            out.push(Problem::at_value(
                at.key("file"),
                "the policy file is empty",
            ));
        }
        let attach = &p.attach;
        if !attach.organization && attach.environments.is_empty() && attach.accounts.is_empty() {
            out.push(
                Problem::at_value(at.key("attach"), "the policy is attached nowhere")
                    .hint("set `organization: true`, or list `environments` or `accounts`"),
            );
        }
        for (j, env) in attach.environments.iter().enumerate() {
            if !bp.environments.contains_key(env) {
                out.push(undefined_environment(
                    bp,
                    env,
                    at.key("attach").key("environments").index(j),
                ));
            }
        }
        for (j, account) in attach.accounts.iter().enumerate() {
            if !accounts.contains(account) {
                out.push(
                    Problem::at_value(
                        at.key("attach").key("accounts").index(j),
                        format!("account `{account}` is not one the blueprint makes"),
                    )
                    .hint(suggest(account, &accounts)),
                );
            }
        }
    }
}
