//! Policy evaluation, in the order of AWS's documented evaluation logic ("Policy evaluation
//! logic", IAM User Guide): an explicit deny in any policy wins; then every level of service
//! control policies must allow; then a resource-based policy (a bucket policy, a key policy, a
//! role's trust policy) may grant on its own within an account; otherwise the identity
//! policies must allow, intersected with the permissions boundary.
//!
//! This evaluator answers questions about what a principal *could* do, for a checker that must
//! never report "safe" when AWS would allow. So it is three-valued: a condition on a key the
//! request does not settle (one lz does not model, such as `aws:SourceIp`) is *unknown*, and
//! unknown is read against the claim: an `Allow` statement with an unknown condition counts as
//! allowing, a `Deny` statement with one counts as not denying. Operators it does not implement
//! (dates, IP ranges, binary) are unknown in the same way. The result can therefore say
//! "allowed" where AWS, knowing the whole request, would refuse; it never says "denied" where
//! AWS would allow, within what it models (see the README's limits).

use std::collections::HashMap;
use std::sync::Arc;

use crate::policy::{Effect, PolicyDocument, Principal, Statement};

/// Three-valued truth: a condition the request does not settle is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn from(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }
    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// What a request carries for one condition key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The key is in the request, with these values.
    Present(Vec<String>),
    /// The key is known not to be in the request.
    Absent,
}

/// The condition keys of a request. A key that is neither present nor marked absent is
/// unknown, and read against the claim being checked (see the module's documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: HashMap<String, Value>,
}

impl Context {
    /// A context in which every key is unknown.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets `key` to one value.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Context {
        self.keys
            .insert(key.to_ascii_lowercase(), Value::Present(vec![value.into()]));
        self
    }

    /// Sets `key` to several values (a multivalued key such as `aws:TagKeys`).
    pub fn with_all(mut self, key: &str, values: Vec<String>) -> Context {
        self.keys
            .insert(key.to_ascii_lowercase(), Value::Present(values));
        self
    }

    /// Marks `key` as not in the request.
    pub fn without(mut self, key: &str) -> Context {
        self.keys.insert(key.to_ascii_lowercase(), Value::Absent);
        self
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.keys.get(&key.to_ascii_lowercase())
    }
}

/// Who makes a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller {
    /// The principal's ARN: a role's ARN for its sessions, a user's, an account's root, or a
    /// service principal's name.
    pub arn: String,
    /// Its account; empty for a service.
    pub account: String,
    /// What it is.
    pub kind: CallerKind,
}

/// The kinds of callers the evaluation treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerKind {
    /// A session of an IAM role.
    Role,
    /// An IAM user.
    User,
    /// An account's root user: every action in its own account, unless denied.
    Root,
    /// An AWS service principal (`cloudtrail.amazonaws.com`).
    Service,
}

impl Caller {
    /// A session of the role `arn` in `account`.
    pub fn role(account: &str, arn: impl Into<String>) -> Caller {
        Caller {
            arn: arn.into(),
            account: account.to_owned(),
            kind: CallerKind::Role,
        }
    }

    /// The IAM user `arn` in `account`.
    pub fn user(account: &str, arn: impl Into<String>) -> Caller {
        Caller {
            arn: arn.into(),
            account: account.to_owned(),
            kind: CallerKind::User,
        }
    }

    /// An account's root user.
    pub fn root(account: &str) -> Caller {
        Caller {
            arn: format!("arn:aws:iam::{account}:root"),
            account: account.to_owned(),
            kind: CallerKind::Root,
        }
    }

    /// A service principal.
    pub fn service(name: &str) -> Caller {
        Caller {
            arn: name.to_owned(),
            account: String::new(),
            kind: CallerKind::Service,
        }
    }

    /// The condition keys AWS sets from the caller itself.
    pub fn context(&self, org_id: Option<&str>) -> Context {
        let mut context = Context::new();
        if self.kind == CallerKind::Service {
            return context
                .with("aws:PrincipalIsAWSService", "true")
                .with("aws:PrincipalServiceName", self.arn.clone())
                .without("aws:PrincipalArn")
                .without("aws:PrincipalAccount")
                .without("aws:PrincipalOrgID");
        }
        context = context
            .with("aws:PrincipalIsAWSService", "false")
            .without("aws:PrincipalServiceName")
            .with("aws:PrincipalArn", self.arn.clone())
            .with("aws:PrincipalAccount", self.account.clone());
        match org_id {
            Some(org) => context.with("aws:PrincipalOrgID", org),
            None => context.without("aws:PrincipalOrgID"),
        }
    }
}

/// One request: who, what action, on which resource, with which condition keys.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who asks.
    pub caller: &'a Caller,
    /// The action, `service:Action`.
    pub action: &'a str,
    /// The resource's ARN; `None` asks about *some* resource of the action, unnamed (a
    /// pattern other than `*` then neither surely matches nor surely misses).
    pub resource: Option<&'a str>,
    /// The account owning the resource; `None` when it is the caller's.
    pub resource_account: Option<&'a str>,
    /// Condition keys.
    pub context: &'a Context,
}

/// How a resource-based policy takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourcePolicyKind {
    /// An S3 bucket policy and the like: within an account the identity policies suffice.
    Optional,
    /// A KMS key policy or a role's trust policy: nothing is allowed unless it grants, to the
    /// principal or to its account (then the identity policies must allow as well).
    Required,
}

/// The policies that apply to one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policies<'a> {
    /// The caller's identity policies (inline, managed, its groups').
    pub identity: &'a [Arc<Compiled>],
    /// The caller's permissions boundary.
    pub boundary: Option<&'a Compiled>,
    /// Service control policies from the root down to the caller's account: each level must
    /// allow. They bind no service principal.
    pub scps: &'a [Vec<Arc<Compiled>>],
    /// Resource control policies from the root down to the resource's account: each level
    /// must grant (`RCPFullAWSAccess` does), and a `Deny` naming the caller denies. They bind
    /// service principals too.
    pub rcps: &'a [Vec<Arc<Compiled>>],
    /// The resource's policy.
    pub resource: Option<(&'a Compiled, ResourcePolicyKind)>,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed (or, with unknown keys, possibly allowed).
    Allow,
    /// A statement denies it.
    ExplicitDeny,
    /// Nothing allows it.
    ImplicitDeny,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// How a resource policy's principal matched the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grant {
    None,
    /// To the caller's account: its identity policies must allow too.
    Account,
    /// To the caller itself.
    Direct,
}

/// Bucket policy actions the root user of the bucket's own account is always allowed, whatever
/// the bucket policy says: AWS's way out of a policy that locks everyone out. Only an SCP
/// stops it.
const ROOT_BUCKET_POLICY_ACTIONS: &[&str] = &[
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
];

/// Evaluates one request.
pub fn evaluate(request: &Request<'_>, policies: &Policies<'_>) -> Decision {
    let caller = request.caller;
    if caller.kind == CallerKind::Root
        && request
            .resource_account
            .is_none_or(|account| account == caller.account)
        && ROOT_BUCKET_POLICY_ACTIONS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(request.action))
    {
        let only_scps = Policies {
            scps: policies.scps,
            rcps: policies.rcps,
            ..Policies::default()
        };
        return evaluate_in_order(request, &only_scps);
    }
    evaluate_in_order(request, policies)
}

fn evaluate_in_order(request: &Request<'_>, policies: &Policies<'_>) -> Decision {
    // 1. An explicit deny in any policy that applies.
    let resource = policies.resource.map(|(p, _)| p);
    let service = request.caller.kind == CallerKind::Service;
    let scps: &[Vec<Arc<Compiled>>] = if service { &[] } else { policies.scps };
    let denied = policies
        .identity
        .iter()
        .map(|p| p.as_ref())
        .chain(policies.boundary)
        .chain(scps.iter().flatten().map(|p| p.as_ref()))
        .any(|p| p.denies(request, false))
        || resource.is_some_and(|p| p.denies(request, true))
        || policies
            .rcps
            .iter()
            .flatten()
            .any(|p| p.denies(request, true));
    if denied {
        return Decision::ExplicitDeny;
    }
    // 2. Service control policies: every level must allow. They bind the accounts' own
    // principals only, never service principals. Resource control policies: every level must
    // grant, whoever asks.
    if scps
        .iter()
        .any(|level| !level.iter().any(|p| p.allows(request)))
        || policies
            .rcps
            .iter()
            .any(|level| !level.iter().any(|p| p.grant(request) != Grant::None))
    {
        return Decision::ImplicitDeny;
    }
    // 3. The resource-based policy.
    let grant = resource.map_or(Grant::None, |p| p.grant(request));
    let caller = request.caller;
    if caller.kind == CallerKind::Service {
        return if grant == Grant::Direct {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        };
    }
    // 4. Identity policies within the permissions boundary. The root user needs none.
    let identity =
        caller.kind == CallerKind::Root || policies.identity.iter().any(|p| p.allows(request));
    let bounded = policies.boundary.is_none_or(|b| b.allows(request));
    let same_account = request
        .resource_account
        .is_none_or(|account| account == caller.account);
    let required = matches!(policies.resource, Some((_, ResourcePolicyKind::Required)));
    let allowed = if !same_account {
        grant != Grant::None && identity && bounded
    } else if grant == Grant::Direct {
        // Within an account a grant to the principal itself suffices; for a role, an implicit
        // deny in its boundary still limits it (the IAM User Guide's evaluation table).
        caller.kind != CallerKind::Role || bounded
    } else if required && grant == Grant::None {
        false
    } else {
        identity && bounded
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// A policy document prepared for evaluation: action patterns grouped by service, so that
/// a policy listing thousands of actions (`ReadOnlyAccess`) is searched only where it matters.
#[derive(Debug)]
pub struct Compiled {
    statements: Vec<CompiledStatement>,
}

#[derive(Debug)]
struct CompiledStatement {
    effect: Effect,
    actions: Actions,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
    principal: Option<Principal>,
    not_principal: Option<Principal>,
    conditions: Vec<Condition>,
}

/// Action patterns, lowercased, by service prefix; patterns whose service part has a wildcard
/// are kept apart and tried for every action.
#[derive(Debug, Default)]
struct Actions {
    by_service: HashMap<String, Vec<String>>,
    wild: Vec<String>,
}

impl Actions {
    fn new<'a>(patterns: impl Iterator<Item = &'a str>) -> Actions {
        let mut actions = Actions::default();
        for pattern in patterns {
            let pattern = pattern.to_ascii_lowercase();
            match pattern.split_once(':') {
                Some((service, _)) if !service.contains(['*', '?']) => actions
                    .by_service
                    .entry(service.to_owned())
                    .or_default()
                    .push(pattern),
                _ => actions.wild.push(pattern),
            }
        }
        actions
    }

    fn matches(&self, action: &str) -> bool {
        let action = action.to_ascii_lowercase();
        let service = action.split_once(':').map_or("", |(s, _)| s);
        self.by_service
            .get(service)
            .into_iter()
            .flatten()
            .chain(&self.wild)
            .any(|p| glob(p, &action))
    }
}

#[derive(Debug)]
struct Condition {
    set: SetOperator,
    operator: Operator,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOperator {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals {
        negated: bool,
        ignore_case: bool,
    },
    StringLike {
        negated: bool,
    },
    Arn {
        negated: bool,
    },
    Bool,
    Numeric {
        negated: bool,
        compare: Cmp,
    },
    Null,
    /// Dates, IP ranges, binary and anything unknown: never settled.
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

impl Operator {
    fn parse(name: &str) -> (SetOperator, Operator, bool) {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (SetOperator::ForAnyValue, rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (SetOperator::ForAllValues, rest)
        } else {
            (SetOperator::Single, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let operator = match base {
            "StringEquals" => Operator::StringEquals {
                negated: false,
                ignore_case: false,
            },
            "StringNotEquals" => Operator::StringEquals {
                negated: true,
                ignore_case: false,
            },
            "StringEqualsIgnoreCase" => Operator::StringEquals {
                negated: false,
                ignore_case: true,
            },
            "StringNotEqualsIgnoreCase" => Operator::StringEquals {
                negated: true,
                ignore_case: true,
            },
            "StringLike" => Operator::StringLike { negated: false },
            "StringNotLike" => Operator::StringLike { negated: true },
            "ArnEquals" | "ArnLike" => Operator::Arn { negated: false },
            "ArnNotEquals" | "ArnNotLike" => Operator::Arn { negated: true },
            "Bool" => Operator::Bool,
            "NumericEquals" => Operator::Numeric {
                negated: false,
                compare: Cmp::Eq,
            },
            "NumericNotEquals" => Operator::Numeric {
                negated: true,
                compare: Cmp::Eq,
            },
            "NumericLessThan" => Operator::Numeric {
                negated: false,
                compare: Cmp::Lt,
            },
            "NumericLessThanEquals" => Operator::Numeric {
                negated: false,
                compare: Cmp::Le,
            },
            "NumericGreaterThan" => Operator::Numeric {
                negated: false,
                compare: Cmp::Gt,
            },
            "NumericGreaterThanEquals" => Operator::Numeric {
                negated: false,
                compare: Cmp::Ge,
            },
            "Null" => Operator::Null,
            _ => Operator::Unsupported,
        };
        (set, operator, if_exists)
    }

    fn negated(self) -> bool {
        matches!(
            self,
            Operator::StringEquals { negated: true, .. }
                | Operator::StringLike { negated: true }
                | Operator::Arn { negated: true }
                | Operator::Numeric { negated: true, .. }
        )
    }

    /// Whether one request value matches one policy value, before negation.
    fn matches(self, request: &str, policy: &str) -> bool {
        match self {
            Operator::StringEquals { ignore_case, .. } => {
                if ignore_case {
                    request.eq_ignore_ascii_case(policy)
                } else {
                    request == policy
                }
            }
            Operator::StringLike { .. } => glob(policy, request),
            Operator::Arn { .. } => arn_like(policy, request),
            Operator::Bool => request.eq_ignore_ascii_case(policy),
            Operator::Numeric { compare, .. } => {
                match (request.parse::<f64>(), policy.parse::<f64>()) {
                    (Ok(r), Ok(p)) => compare.holds(r, p),
                    _ => false,
                }
            }
            Operator::Null | Operator::Unsupported => false,
        }
    }
}

impl Condition {
    fn evaluate(&self, context: &Context) -> Tri {
        let Some(value) = context.get(&self.key) else {
            return Tri::Unknown;
        };
        if self.operator == Operator::Unsupported {
            return Tri::Unknown;
        }
        let values = match self.values_in(context) {
            Some(values) => values,
            None => return Tri::Unknown,
        };
        if self.operator == Operator::Null {
            let absent = *value == Value::Absent;
            return Tri::from(
                values
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(&absent.to_string())),
            );
        }
        let Value::Present(request) = value else {
            // The key is not in the request.
            return Tri::from(
                self.if_exists
                    || self.set == SetOperator::ForAllValues
                    || (self.set == SetOperator::Single && self.operator.negated()),
            );
        };
        let negated = self.operator.negated();
        // One request value satisfies the operator when it matches some policy value, or,
        // for a negated operator, matches none of them.
        let satisfies = |r: &String| values.iter().any(|p| self.operator.matches(r, p)) != negated;
        Tri::from(match self.set {
            SetOperator::ForAllValues => request.iter().all(satisfies),
            SetOperator::ForAnyValue => request.iter().any(satisfies),
            SetOperator::Single if negated => request.iter().all(satisfies),
            SetOperator::Single => request.iter().any(satisfies),
        })
    }

    /// The policy values with policy variables replaced; `None` if a variable is unknown.
    fn values_in(&self, context: &Context) -> Option<Vec<String>> {
        self.values.iter().map(|v| substitute(v, context)).collect()
    }
}

/// Replaces `${key}` policy variables by the request's value; `None` when one is unknown or
/// absent (AWS then treats the comparison as failing, which for an analysis is unknown).
fn substitute(text: &str, context: &Context) -> Option<String> {
    if !text.contains("${") {
        return Some(text.to_owned());
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        match name {
            "*" | "?" | "$" => out.push_str(name),
            _ => match context.get(name.split_once(',').map_or(name, |(k, _)| k.trim())) {
                Some(Value::Present(values)) if values.len() == 1 => out.push_str(&values[0]),
                _ => return None,
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

impl Compiled {
    /// Prepares a document.
    pub fn new(document: &PolicyDocument) -> Compiled {
        Compiled {
            statements: document.iter().map(CompiledStatement::new).collect(),
        }
    }

    /// Whether some `Allow` statement applies (unknowns counting as applying).
    fn allows(&self, request: &Request<'_>) -> bool {
        self.statements
            .iter()
            .filter(|s| s.effect == Effect::Allow && s.principal.is_none())
            .any(|s| s.applies(request) != Tri::False)
    }

    /// Whether some `Deny` statement surely applies. In a resource policy a statement applies
    /// only to the principals it names.
    fn denies(&self, request: &Request<'_>, resource_policy: bool) -> bool {
        self.statements
            .iter()
            .filter(|s| s.effect == Effect::Deny)
            .filter(|s| !resource_policy || s.names(request.caller, true) != Grant::None)
            .any(|s| s.applies(request) == Tri::True)
    }

    /// What a resource policy's `Allow` statements grant the caller.
    fn grant(&self, request: &Request<'_>) -> Grant {
        self.statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .filter(|s| s.applies(request) != Tri::False)
            .map(|s| s.names(request.caller, false))
            .max()
            .unwrap_or(Grant::None)
    }
}

impl CompiledStatement {
    fn new(s: &Statement) -> CompiledStatement {
        let not_action = s.action.is_empty() && !s.not_action.is_empty();
        let not_resource = s.resource.is_empty() && !s.not_resource.is_empty();
        CompiledStatement {
            effect: s.effect,
            actions: Actions::new(if not_action {
                s.not_action.iter()
            } else {
                s.action.iter()
            }),
            not_action,
            resources: if not_resource {
                s.not_resource.iter().map(str::to_owned).collect()
            } else {
                s.resource.iter().map(str::to_owned).collect()
            },
            not_resource,
            principal: s.principal.clone(),
            not_principal: s.not_principal.clone(),
            conditions: s
                .condition
                .iter()
                .flat_map(|(operator, keys)| {
                    let (set, op, if_exists) = Operator::parse(operator);
                    keys.iter().map(move |(key, values)| Condition {
                        set,
                        operator: op,
                        if_exists,
                        key: key.to_string(),
                        values: values.iter().map(str::to_owned).collect(),
                    })
                })
                .collect(),
        }
    }

    /// Whether the statement covers this action, resource and condition keys.
    fn applies(&self, request: &Request<'_>) -> Tri {
        if self.actions.matches(request.action) == self.not_action {
            return Tri::False;
        }
        // A statement of a resource policy may leave `Resource` out: it is then the resource
        // the policy is attached to (a role, for a trust policy).
        let resource = if self.resources.is_empty() {
            Tri::True
        } else {
            self.resources
                .iter()
                .map(
                    |pattern| match (substitute(pattern, request.context), request.resource) {
                        (Some(p), _) if p == "*" => Tri::True,
                        (Some(p), Some(resource)) => Tri::from(arn_like(&p, resource)),
                        _ => Tri::Unknown,
                    },
                )
                .fold(Tri::False, Tri::or)
        };
        let resource = if self.not_resource {
            resource.not()
        } else {
            resource
        };
        self.conditions
            .iter()
            .fold(resource, |acc, c| acc.and(c.evaluate(request.context)))
    }

    /// How the statement's principal names the caller (resource policies only). A deny that
    /// names the caller's account applies to every principal of it.
    fn names(&self, caller: &Caller, deny: bool) -> Grant {
        if let Some(not) = &self.not_principal {
            return match principal_grant(not, caller) {
                Grant::None => Grant::Direct,
                _ => Grant::None,
            };
        }
        let grant = self
            .principal
            .as_ref()
            .map_or(Grant::None, |p| principal_grant(p, caller));
        if deny && grant == Grant::Account {
            Grant::Direct
        } else {
            grant
        }
    }
}

fn principal_grant(principal: &Principal, caller: &Caller) -> Grant {
    match principal {
        Principal::Any(_) => Grant::Direct,
        Principal::Of(kinds) => {
            let mut best = Grant::None;
            for (kind, ids) in kinds {
                for id in ids.iter() {
                    let grant = match (kind.as_ref(), caller.kind) {
                        (_, _) if id == "*" && kind != "Service" => Grant::Direct,
                        ("Service", CallerKind::Service) if id == caller.arn => Grant::Direct,
                        ("AWS", kind) if kind != CallerKind::Service => {
                            if id == caller.arn {
                                Grant::Direct
                            } else if id == caller.account
                                || id == format!("arn:aws:iam::{}:root", caller.account)
                            {
                                if kind == CallerKind::Root {
                                    Grant::Direct
                                } else {
                                    Grant::Account
                                }
                            } else {
                                Grant::None
                            }
                        }
                        _ => Grant::None,
                    };
                    best = best.max(grant);
                }
            }
            best
        }
    }
}

/// ARN matching as `ArnLike` does it, which is also how `Resource` patterns match: each of the
/// six colon-separated parts on its own, `*` and `?` within a part; the last part (the
/// resource) may itself hold colons.
pub(crate) fn arn_like(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != a.len() {
        return glob(pattern, arn);
    }
    p.iter().zip(&a).all(|(p, a)| glob(p, a))
}

/// Glob matching with `*` (any run of characters) and `?` (one character), in linear time.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests;
