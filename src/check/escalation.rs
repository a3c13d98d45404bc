//! Privilege escalation: can a principal become an administrator of its account?
//!
//! The shape is Principal Mapper's: the principals of one account are the nodes, each known
//! technique is one small check "can A act as B, and how" (an edge), and reachability is a
//! plain breadth-first search. "Administrator" means allowed every action on every resource
//! (checked on probes: a made-up action only `*` grants, and the IAM, STS, Organizations, S3,
//! KMS, EC2 and CloudTrail actions that matter), or able to grant that to a principal it can
//! act as.
//!
//! Techniques, each a function below:
//! - assuming a role whose trust policy admits the caller (`sts:AssumeRole`);
//! - rewriting a role's trust (`iam:UpdateAssumeRolePolicy`), then assuming it;
//! - credentials for a user (`iam:CreateAccessKey`, `iam:CreateLoginProfile`,
//!   `iam:UpdateLoginProfile`);
//! - passing a role to new compute (`iam:PassRole` with EC2, Lambda, CloudFormation, Glue,
//!   ECS, SageMaker, CodeBuild, Data Pipeline);
//! - running code on compute that exists already and carries a role (SSM, EC2 Instance Connect,
//!   user data, Lambda code, Glue endpoints, CodeBuild, CloudFormation stacks, ECS exec): a
//!   *residual* edge, since what compute exists is not inventoried;
//! - granting: putting or attaching a policy on a principal one can act as, or rewriting a
//!   managed policy attached to it (`iam:CreatePolicyVersion`, `iam:SetDefaultPolicyVersion`),
//!   past its permissions boundary unless that boundary stays;
//! - removing or replacing a boundary (`iam:Delete*PermissionsBoundary`,
//!   `iam:Put*PermissionsBoundary`);
//! - creating a role or user with a policy of one's choice, unbounded or under a boundary of
//!   one's choice; one created under a fixed boundary becomes a new node, bounded by it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::eval::{Caller, Compiled, Context, Policies, Request, ResourcePolicyKind, evaluate};
use super::inventory::{AccountIam, Inventory};
use super::managed::{ADMINISTRATOR_ACCESS, Resolver};
use super::techniques::{ADMIN_PROBES, EXISTING_COMPUTE, PASS_ROLE_TO_COMPUTE, WRITE_PROBES};
use super::{Property, Status};
use crate::blueprint::{Mfa, ResolvedTier, TierName};
use crate::policy::{PolicyDocument, Principal, Statement};

/// What a tier promises about administrator access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarantee {
    /// Never reaches administrator; `residual` allows paths through existing compute.
    NoAdministrator {
        /// Whether residual paths are documented for the tier.
        residual: bool,
    },
    /// Reaches administrator only with MFA.
    AdministratorWithMfa,
}

impl Guarantee {
    /// The tier's guarantee.
    pub fn of(tier: TierName) -> Guarantee {
        match tier {
            TierName::Watcher | TierName::Keeper => Guarantee::NoAdministrator { residual: false },
            TierName::Tinker => Guarantee::NoAdministrator { residual: true },
            TierName::Settler | TierName::BreakGlass => Guarantee::AdministratorWithMfa,
        }
    }
}

/// A principal of the graph.
#[derive(Debug, Clone)]
struct Node {
    label: String,
    caller: Caller,
    identity: Vec<Arc<Compiled>>,
    boundary: Option<Arc<Compiled>>,
    boundary_arn: Option<String>,
    trust: Option<Arc<Compiled>>,
    /// Customer managed policies whose documents shape its permissions.
    attached: Vec<String>,
    /// Groups (a user's), by ARN.
    groups: Vec<String>,
    /// Unknown policies it holds, assumed to allow everything.
    unknown: Vec<String>,
    kind: NodeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Role,
    User,
    /// Members of a tier's group in the security account.
    Entry,
    /// A role made by another node under a fixed boundary.
    Created,
}

/// The tier entry points (the security account's groups), prepared once for every account.
pub(super) struct Entries {
    nodes: Vec<(TierName, Node)>,
    /// Per entry, the resource patterns of its policies.
    patterns: Vec<Patterns>,
}

/// An entry's resource patterns, each with the statement it stands in: those naming an account
/// by its id, by id, and the others.
type Patterns = (HashMap<String, Vec<String>>, Vec<String>);

pub(super) fn entries(inventory: &Inventory, resolver: &mut Resolver) -> Entries {
    let nodes = inventory
        .entries
        .iter()
        .map(|e| {
            let arn = format!(
                "arn:aws:iam::{}:user/lz-check-member-of-{}",
                inventory.security_account_id, e.group
            );
            (
                e.tier,
                Node {
                    label: format!("a member of group {} (security account)", e.group),
                    caller: Caller::user(&inventory.security_account_id, arn),
                    identity: e.policies.iter().map(|d| resolver.document(d)).collect(),
                    boundary: None,
                    boundary_arn: None,
                    trust: None,
                    attached: Vec::new(),
                    groups: Vec::new(),
                    unknown: Vec::new(),
                    kind: NodeKind::Entry,
                },
            )
        })
        .collect();
    let patterns = inventory
        .entries
        .iter()
        .map(|e| {
            let mut named: HashMap<String, Vec<String>> = HashMap::new();
            let mut wild = Vec::new();
            // Each pattern with the statement it stands in, whose effect and conditions count.
            let resources = e
                .policies
                .iter()
                .flat_map(|d| d.iter())
                .enumerate()
                .flat_map(|(i, s)| {
                    s.resource
                        .iter()
                        .chain(s.not_resource.iter())
                        .map(move |p| (i, p))
                });
            for (statement, pattern) in resources {
                let record = format!("{statement}:{pattern}");
                match pattern.split(':').nth(4) {
                    Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                        named.entry(id.to_owned()).or_default().push(record)
                    }
                    _ => wild.push(record),
                }
            }
            (named, wild)
        })
        .collect();
    Entries { nodes, patterns }
}

/// One account's graph.
struct Graph<'a> {
    account: &'a AccountIam,
    org_id: &'a str,
    nodes: Vec<Node>,
    /// Customer managed policies of the account, compiled, by ARN.
    policies: HashMap<String, Arc<Compiled>>,
    /// Boundaries a created principal might be given: every managed policy known here.
    boundary_candidates: Vec<(String, Arc<Compiled>)>,
    admin_memo: HashMap<(usize, bool), bool>,
    /// Roles made under a fixed boundary, by the boundary's ARN, and bounded principals given
    /// a policy of another's choice, by their ARN: one node each for the graph.
    created: HashMap<String, usize>,
    /// The account's groups, by ARN, with their policies.
    groups: Vec<(String, Vec<Arc<Compiled>>)>,
}

/// How a start node reaches administrator.
#[derive(Debug, Clone)]
pub(super) struct Reach {
    pub steps: Vec<String>,
}

/// Every principal of `account` with its policies resolved.
pub(super) fn probes(
    inventory: &Inventory,
    account: &AccountIam,
    resolver: &mut Resolver,
) -> Vec<super::audit::Probe> {
    Graph::new(inventory, account, resolver).probes()
}

/// How each principal of `account` but `except` (an ARN) reaches administrator, if it does.
pub(super) fn paths_to_admin(
    inventory: &Inventory,
    account: &AccountIam,
    resolver: &mut Resolver,
    except: &str,
) -> Vec<Vec<String>> {
    let mut graph = Graph::new(inventory, account, resolver);
    let starts: Vec<usize> = (0..graph.nodes.len())
        .filter(|&i| {
            matches!(graph.nodes[i].kind, NodeKind::Role | NodeKind::User)
                && graph.nodes[i].caller.arn != except
        })
        .collect();
    starts
        .into_iter()
        .filter_map(|i| graph.reach_admin(i, true, true).map(|r| r.steps))
        .collect()
}

pub(super) fn account_properties(
    inventory: &Inventory,
    account: &AccountIam,
    entries: &Entries,
    resolver: &mut Resolver,
) -> Vec<Property> {
    let mut graph = Graph::new(inventory, account, resolver);
    graph.add_stand_ins();
    let mut properties = Vec::new();
    for tier in &inventory.tiers {
        let Some(index) = graph.role_index(&tier.role_name, &inventory.iam_path) else {
            continue;
        };
        properties.extend(tier_properties(inventory, &mut graph, tier, index));
        // Entering through the tier's group without MFA: no administrator may be reached.
        let Some((_, entry)) = entries.nodes.iter().find(|(t, _)| *t == tier.tier) else {
            continue;
        };
        let start = graph.add(entry.clone());
        let (status, evidence) = match graph.reach_admin(start, false, false) {
            Some(reach) => (Status::Fails, reach.steps),
            None => match graph.reach_admin(start, false, true) {
                Some(reach)
                    if Guarantee::of(tier.tier)
                        == (Guarantee::NoAdministrator { residual: true }) =>
                {
                    (Status::Residual, reach.steps)
                }
                Some(reach) => (Status::Fails, reach.steps),
                None => (Status::Holds, Vec::new()),
            },
        };
        properties.push(Property {
            account: String::new(),
            tier: Some(tier.tier),
            claim: "reaches no administrator when entered without MFA".to_owned(),
            status,
            evidence,
        });
    }
    properties
}

fn tier_properties(
    inventory: &Inventory,
    graph: &mut Graph<'_>,
    tier: &ResolvedTier,
    role: usize,
) -> Vec<Property> {
    let property = |claim: String, status: Status, evidence: Vec<String>| Property {
        account: String::new(),
        tier: Some(tier.tier),
        claim,
        status,
        evidence,
    };
    let mut out = Vec::new();
    match Guarantee::of(tier.tier) {
        Guarantee::NoAdministrator { residual } => {
            // With MFA: the most a session of the role can do.
            let strict = graph.reach_admin(role, true, false);
            let any = graph.reach_admin(role, true, true);
            let (status, evidence) = match (strict, any) {
                (Some(r), _) => (Status::Fails, r.steps),
                (None, Some(r)) if residual => (Status::Residual, r.steps),
                (None, Some(r)) => (Status::Fails, r.steps),
                (None, None) => (Status::Holds, Vec::new()),
            };
            out.push(property(
                "reaches no administrator".to_owned(),
                status,
                evidence,
            ));
        }
        Guarantee::AdministratorWithMfa => {
            let with = graph.reach_admin(role, true, true);
            out.push(property(
                "reaches administrator with MFA (its purpose)".to_owned(),
                if with.is_some() {
                    Status::Holds
                } else {
                    Status::Fails
                },
                with.map(|r| r.steps)
                    .unwrap_or_else(|| vec!["no path to administrator was found".to_owned()]),
            ));
        }
    }
    if tier.tier == TierName::Watcher {
        let writes = graph.writes(role);
        out.push(property(
            "is read-only".to_owned(),
            if writes.is_empty() {
                Status::Holds
            } else {
                Status::Fails
            },
            writes,
        ));
    }
    // Entering: only from the security account and this organization; with MFA if required.
    let problems = graph.trust_problems(inventory, role, tier.mfa == Mfa::Required);
    let claim = if tier.mfa == Mfa::Required {
        "is assumed only from the security account, in this organization, with MFA"
    } else {
        "is assumed only from the security account, in this organization"
    };
    out.push(property(
        claim.to_owned(),
        if problems.is_empty() {
            Status::Holds
        } else {
            Status::Fails
        },
        problems,
    ));
    out
}

impl<'a> Graph<'a> {
    fn new(
        inventory: &'a Inventory,
        account: &'a AccountIam,
        resolver: &mut Resolver,
    ) -> Graph<'a> {
        let policies: HashMap<String, Arc<Compiled>> = account
            .policies
            .iter()
            .map(|(arn, doc)| (arn.clone(), resolver.document(doc)))
            .collect();
        let mut graph = Graph {
            account,
            org_id: &inventory.organization_id,
            nodes: Vec::new(),
            boundary_candidates: Vec::new(),
            policies,
            admin_memo: HashMap::new(),
            created: HashMap::new(),
            groups: Vec::new(),
        };
        let mut candidates: Vec<String> = account.policies.keys().cloned().collect();
        candidates.push(ADMINISTRATOR_ACCESS.to_owned());
        candidates.push(format!(
            "arn:aws:iam::{}:policy/lz-check-any-policy",
            account.id
        ));
        for role in &account.roles {
            let mut node = graph.node(
                resolver,
                &role.inline,
                &role.managed,
                role.boundary.as_deref(),
                &[],
            );
            node.label = format!("role {}{}", role.path, role.name);
            node.caller = Caller::role(&account.id, account.role_arn(role));
            node.trust = Some(resolver.document(&role.trust));
            node.kind = NodeKind::Role;
            candidates.extend(role.boundary.clone());
            graph.nodes.push(node);
        }
        for user in &account.users {
            let groups: Vec<&super::GroupFacts> = account
                .groups
                .iter()
                .filter(|g| user.groups.contains(&g.name))
                .collect();
            let mut node = graph.node(
                resolver,
                &user.inline,
                &user.managed,
                user.boundary.as_deref(),
                &groups,
            );
            node.label = format!("user {}{}", user.path, user.name);
            node.caller = Caller::user(&account.id, account.user_arn(user));
            node.kind = NodeKind::User;
            node.groups = groups
                .iter()
                .map(|g| format!("arn:aws:iam::{}:group{}{}", account.id, g.path, g.name))
                .collect();
            candidates.extend(user.boundary.clone());
            graph.nodes.push(node);
        }
        for group in &account.groups {
            let node = graph.node(resolver, &group.inline, &group.managed, None, &[]);
            let arn = format!(
                "arn:aws:iam::{}:group{}{}",
                account.id, group.path, group.name
            );
            graph.groups.push((arn, node.identity));
        }
        candidates.sort();
        candidates.dedup();
        let chosen = format!("arn:aws:iam::{}:policy/lz-check-any-policy", account.id);
        graph.boundary_candidates = candidates
            .into_iter()
            .map(|arn| {
                // A policy of the creator's choosing allows whatever it likes.
                let doc = if arn == chosen {
                    super::managed::allow_everything()
                } else {
                    graph.resolve(resolver, &arn).0
                };
                (arn, doc)
            })
            .collect();
        graph
    }

    /// Every principal of the account as a caller with its policies, for the audit checks.
    fn probes(&self) -> Vec<super::audit::Probe> {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Role | NodeKind::User))
            .map(|n| super::audit::Probe {
                label: n.label.clone(),
                caller: n.caller.clone(),
                identity: n.identity.clone(),
                boundary: n.boundary.clone(),
            })
            .collect()
    }

    /// A managed policy's document: the account's own, AWS's from lz's table, or, unknown,
    /// one that allows everything (with `true`).
    fn resolve(&self, resolver: &mut Resolver, arn: &str) -> (Arc<Compiled>, bool) {
        match self.policies.get(arn) {
            Some(doc) => (doc.clone(), false),
            None => resolver.managed(arn),
        }
    }

    fn node(
        &self,
        resolver: &mut Resolver,
        inline: &[Arc<PolicyDocument>],
        managed: &[String],
        boundary: Option<&str>,
        groups: &[&super::GroupFacts],
    ) -> Node {
        let mut identity: Vec<Arc<Compiled>> =
            inline.iter().map(|d| resolver.document(d)).collect();
        let mut unknown = Vec::new();
        let mut attached = Vec::new();
        let all_managed = managed
            .iter()
            .chain(groups.iter().flat_map(|g| g.managed.iter()));
        for arn in all_managed {
            let (doc, is_unknown) = self.resolve(resolver, arn);
            if is_unknown {
                unknown.push(arn.clone());
            }
            if self.policies.contains_key(arn) {
                attached.push(arn.clone());
            }
            identity.push(doc);
        }
        identity.extend(
            groups
                .iter()
                .flat_map(|g| g.inline.iter())
                .map(|d| resolver.document(d)),
        );
        let boundary_doc = boundary.map(|arn| {
            let (doc, is_unknown) = self.resolve(resolver, arn);
            if is_unknown {
                unknown.push(arn.to_owned());
            }
            doc
        });
        Node {
            label: String::new(),
            caller: Caller::root(&self.account.id),
            identity,
            boundary: boundary_doc,
            boundary_arn: boundary.map(str::to_owned),
            trust: None,
            attached,
            groups: Vec::new(),
            unknown,
            kind: NodeKind::Role,
        }
    }

    fn add(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn role_index(&self, name: &str, path: &str) -> Option<usize> {
        let arn = format!("arn:aws:iam::{}:role{path}{name}", self.account.id);
        self.nodes
            .iter()
            .position(|n| n.kind == NodeKind::Role && n.caller.arn == arn)
    }

    fn contexts(&self, caller: &Caller, mfa: bool) -> Vec<Context> {
        with_mfa(
            caller
                .context(Some(self.org_id))
                .with("aws:SecureTransport", "true"),
            mfa,
        )
    }

    /// Whether `node` may call `action` on `resource` (some resource, for `None`), with extra
    /// condition keys (`None` = absent), against an optional resource policy.
    #[allow(clippy::too_many_arguments)]
    fn can(
        &self,
        node: &Node,
        mfa: bool,
        action: &str,
        resource: Option<&str>,
        keys: &[(&str, Option<&str>)],
        resource_policy: Option<(&Compiled, ResourcePolicyKind)>,
        resource_account: Option<&str>,
    ) -> bool {
        self.contexts(&node.caller, mfa)
            .into_iter()
            .any(|mut context| {
                for (key, value) in keys {
                    context = match value {
                        Some(v) => context.with(key, *v),
                        None => context.without(key),
                    };
                }
                let request = Request {
                    caller: &node.caller,
                    action,
                    resource,
                    resource_account,
                    context: &context,
                };
                evaluate(
                    &request,
                    &Policies {
                        identity: &node.identity,
                        boundary: node.boundary.as_deref(),
                        scps: &[],
                        rcps: &[],
                        resource: resource_policy,
                    },
                )
                .allowed()
            })
    }

    fn probe(&self, template: &str) -> String {
        template.replace("{a}", &self.account.id)
    }

    /// Whether the node can, on its own permissions, do what an administrator does.
    fn is_admin(&mut self, index: usize, mfa: bool) -> bool {
        if let Some(&known) = self.admin_memo.get(&(index, mfa)) {
            return known;
        }
        let node = &self.nodes[index];
        let admin = ADMIN_PROBES.iter().all(|(action, resource)| {
            self.can(
                node,
                mfa,
                action,
                Some(&self.probe(resource)),
                &[],
                None,
                None,
            )
        });
        self.admin_memo.insert((index, mfa), admin);
        admin
    }

    /// The write probes a node is allowed.
    fn writes(&self, index: usize) -> Vec<String> {
        let node = &self.nodes[index];
        WRITE_PROBES
            .iter()
            .filter(|(action, resource)| {
                self.can(
                    node,
                    true,
                    action,
                    Some(&self.probe(resource)),
                    &[],
                    None,
                    None,
                )
            })
            .map(|(action, _)| format!("{} is allowed {action}", node.label))
            .collect()
    }

    /// Why the role's trust admits someone it should not.
    fn trust_problems(
        &self,
        inventory: &Inventory,
        index: usize,
        mfa_required: bool,
    ) -> Vec<String> {
        let role = &self.nodes[index];
        let Some(trust) = role.trust.as_deref() else {
            return Vec::new();
        };
        let everything = super::managed::allow_everything();
        let admin_in = |account: &str, org: Option<&str>, mfa: bool| {
            let caller = Caller::role(
                account,
                format!("arn:aws:iam::{account}:role/lz-check-administrator"),
            );
            let base = caller.context(org).with("aws:SecureTransport", "true");
            with_mfa(base, mfa).iter().any(|context| {
                evaluate(
                    &Request {
                        caller: &caller,
                        action: "sts:AssumeRole",
                        resource: Some(&role.caller.arn),
                        resource_account: Some(&self.account.id),
                        context,
                    },
                    &Policies {
                        identity: std::slice::from_ref(&everything),
                        boundary: None,
                        scps: &[],
                        rcps: &[],
                        resource: Some((trust, ResourcePolicyKind::Required)),
                    },
                )
                .allowed()
            })
        };
        let org = Some(inventory.organization_id.as_str());
        let mut problems = Vec::new();
        let outsider = "210987654321";
        if admin_in(outsider, None, true) {
            problems.push(format!(
                "an administrator of account {outsider}, outside the organization, may assume it"
            ));
        }
        let other_member = &inventory.management_account_id;
        if admin_in(other_member, org, true) {
            problems.push(format!(
                "an administrator of the management account {other_member} may assume it directly"
            ));
        }
        let member = "100000000099";
        if admin_in(member, org, true) {
            problems.push(format!(
                "an administrator of another account of the organization ({member}) may assume it"
            ));
        }
        if admin_in(&self.account.id, org, true) {
            problems.push("an administrator of its own account may assume it".to_owned());
        }
        if admin_in(&inventory.security_account_id, Some("o-lzcheckother"), true) {
            problems.push(
                "a principal of the security account outside this organization may assume it"
                    .to_owned(),
            );
        }
        if mfa_required && admin_in(&inventory.security_account_id, org, false) {
            problems.push("the security account may assume it without MFA".to_owned());
        }
        problems
    }

    /// Breadth-first search for administrator, from `start`: first everything the start can
    /// act as (roles it creates under a fixed boundary included), then, in order of distance,
    /// an administrator among them, a grant of administrator between them, or a principal of
    /// its own making. `residual` admits the residual edges (existing compute).
    fn reach_admin(&mut self, start: usize, mfa: bool, residual: bool) -> Option<Reach> {
        let mut parent: HashMap<usize, (usize, String)> = HashMap::new();
        let mut order = vec![start];
        let mut queue = VecDeque::from([start]);
        while let Some(x) = queue.pop_front() {
            // A bounded principal reached here, given a policy of x's choice, can do all its
            // boundary allows: a node of its own, searched on.
            for y in order.clone() {
                if self.nodes[y].boundary.is_none()
                    || !matches!(self.nodes[y].kind, NodeKind::Role | NodeKind::User)
                    || !self.puts_policy(x, y, mfa)
                {
                    continue;
                }
                let index = self.add_upgraded(y);
                if index != start && !parent.contains_key(&index) {
                    let how = format!(
                        "{} gives {} a policy of its choice, within its boundary",
                        self.nodes[x].label, self.nodes[y].label
                    );
                    parent.insert(index, (x, how));
                    order.push(index);
                    queue.push_back(index);
                }
            }
            for (arn, how) in self.creates_bounded(x, mfa) {
                let index = self.add_created(&arn);
                if index == start || parent.contains_key(&index) {
                    continue;
                }
                parent.insert(index, (x, how));
                order.push(index);
                queue.push_back(index);
            }
            for y in 0..self.nodes.len() {
                if y == start
                    || parent.contains_key(&y)
                    || !matches!(self.nodes[y].kind, NodeKind::Role | NodeKind::User)
                {
                    continue;
                }
                if let Some(how) = self.edge(x, y, mfa, residual) {
                    parent.insert(y, (x, how));
                    order.push(y);
                    queue.push_back(y);
                }
            }
        }
        let path_to = |mut at: usize| {
            let mut steps = Vec::new();
            while let Some((from, how)) = parent.get(&at) {
                steps.push(how.clone());
                at = *from;
            }
            steps.reverse();
            steps
        };
        if let Some(&x) = order.iter().find(|&&x| self.is_admin(x, mfa)) {
            let node = &self.nodes[x];
            let mut steps = path_to(x);
            steps.push(if node.unknown.is_empty() {
                format!("{} is an administrator", node.label)
            } else {
                format!(
                    "{} is taken for an administrator: lz does not know the policies {} and assumes they allow everything",
                    node.label,
                    node.unknown.join(", ")
                )
            });
            return Some(Reach { steps });
        }
        for (i, &x) in order.iter().enumerate() {
            for &y in &order[..=i] {
                for (granter, grantee) in [(x, y), (y, x)] {
                    if let Some(how) = self.grants_admin(granter, grantee, mfa) {
                        let mut steps = path_to(granter);
                        steps.push(how);
                        if grantee != granter {
                            let to = path_to(grantee);
                            steps.push(format!(
                                "and acts as {}{}",
                                self.nodes[grantee].label,
                                if to.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {}", to.join("; "))
                                }
                            ));
                        }
                        return Some(Reach { steps });
                    }
                }
            }
            if let Some(how) = self.creates_unbounded(x, mfa) {
                let mut steps = path_to(x);
                steps.push(how);
                return Some(Reach { steps });
            }
        }
        None
    }

    /// Administrator roles someone else may make at any time, one trusting each compute
    /// service and one trusting the account: the tier guarantees must hold against them too,
    /// offline (where the account holds only lz's roles) as live.
    fn add_stand_ins(&mut self) {
        let id = self.account.id.clone();
        let mut services: Vec<&str> = PASS_ROLE_TO_COMPUTE
            .iter()
            .chain(EXISTING_COMPUTE)
            .map(|(service, _)| *service)
            .collect();
        services.sort_unstable();
        services.dedup();
        let trusts = services
            .into_iter()
            .map(|service| (service.to_owned(), Principal::service_named(service)))
            .chain([(
                "its account".to_owned(),
                Principal::aws([format!("arn:aws:iam::{id}:root")]),
            )]);
        for (n, (trusted, principal)) in trusts.enumerate() {
            let trust = Compiled::new(&PolicyDocument::new(vec![
                Statement::allow()
                    .principal(principal)
                    .actions(["sts:AssumeRole"]),
            ]));
            self.add(Node {
                label: format!(
                    "an administrator role someone else made, trusting {trusted} (stand-in)"
                ),
                caller: Caller::role(&id, format!("arn:aws:iam::{id}:role/lz-check-stand-in-{n}")),
                identity: vec![super::managed::allow_everything()],
                boundary: None,
                boundary_arn: None,
                trust: Some(Arc::new(trust)),
                attached: Vec::new(),
                groups: Vec::new(),
                unknown: Vec::new(),
                kind: NodeKind::Role,
            });
        }
    }

    /// Whether `x` may put or attach a policy on `y` (as `y`'s boundary stands).
    fn puts_policy(&self, x: usize, y: usize, mfa: bool) -> bool {
        let (from, to) = (&self.nodes[x], &self.nodes[y]);
        if from.kind == NodeKind::Entry {
            return false;
        }
        let actions = match to.kind {
            NodeKind::User => ["iam:PutUserPolicy", "iam:AttachUserPolicy"],
            _ => ["iam:PutRolePolicy", "iam:AttachRolePolicy"],
        };
        let keys = [("iam:PermissionsBoundary", to.boundary_arn.as_deref())];
        actions
            .iter()
            .any(|a| self.can(from, mfa, a, Some(&to.caller.arn), &keys, None, None))
    }

    /// The node of bounded principal `y` once given a policy of another's choice.
    fn add_upgraded(&mut self, y: usize) -> usize {
        let key = format!("upgrade:{}", self.nodes[y].caller.arn);
        if let Some(&index) = self.created.get(&key) {
            return index;
        }
        let node = Node {
            label: format!(
                "{} (with a policy of another's choice)",
                self.nodes[y].label
            ),
            identity: vec![super::managed::allow_everything()],
            kind: NodeKind::Created,
            ..self.nodes[y].clone()
        };
        let index = self.add(node);
        self.created.insert(key, index);
        index
    }

    /// The node of a role made under boundary `arn` with a policy of its maker's choice.
    fn add_created(&mut self, arn: &str) -> usize {
        if let Some(&index) = self.created.get(arn) {
            return index;
        }
        let boundary = self
            .boundary_candidates
            .iter()
            .find(|(a, _)| a == arn)
            .map(|(_, d)| d.clone());
        let id = &self.account.id;
        let index = self.add(Node {
            label: format!("a role it creates with boundary {arn}"),
            caller: Caller::role(id, format!("arn:aws:iam::{id}:role/lz-check-created")),
            identity: vec![super::managed::allow_everything()],
            boundary,
            boundary_arn: Some(arn.to_owned()),
            trust: None,
            attached: Vec::new(),
            groups: Vec::new(),
            unknown: Vec::new(),
            kind: NodeKind::Created,
        });
        self.created.insert(arn.to_owned(), index);
        index
    }

    /// How `x` can act as `y`, technique by technique.
    fn edge(&self, x: usize, y: usize, mfa: bool, residual: bool) -> Option<String> {
        let (from, to) = (&self.nodes[x], &self.nodes[y]);
        let step = Some;
        let cross = (from.caller.account != self.account.id).then_some(self.account.id.as_str());
        if let Some(trust) = to.trust.as_deref()
            && self.can(
                from,
                mfa,
                "sts:AssumeRole",
                Some(&to.caller.arn),
                &[],
                Some((trust, ResourcePolicyKind::Required)),
                cross,
            )
        {
            return step(format!("{} assumes {}", from.label, to.label));
        }
        if from.kind == NodeKind::Entry {
            return None; // the techniques below act inside the account
        }
        match to.kind {
            NodeKind::Role => {
                if self.can(
                    from,
                    mfa,
                    "iam:UpdateAssumeRolePolicy",
                    Some(&to.caller.arn),
                    &[],
                    None,
                    None,
                ) {
                    return step(format!(
                        "{} rewrites the trust policy of {} (iam:UpdateAssumeRolePolicy) and assumes it",
                        from.label, to.label
                    ));
                }
                let trust = to.trust.as_deref()?;
                for (service, actions) in PASS_ROLE_TO_COMPUTE {
                    if self.service_may_assume(trust, service)
                        && self.can(
                            from,
                            mfa,
                            "iam:PassRole",
                            Some(&to.caller.arn),
                            &[("iam:PassedToService", Some(service))],
                            None,
                            None,
                        )
                        && actions
                            .iter()
                            .all(|a| self.can(from, mfa, a, None, &[], None, None))
                    {
                        return step(format!(
                            "{} passes {} to {service} (iam:PassRole, {}) and runs code as it",
                            from.label,
                            to.label,
                            actions.join(", ")
                        ));
                    }
                }
                if residual {
                    for (service, actions) in EXISTING_COMPUTE {
                        if !self.service_may_assume(trust, service) {
                            continue;
                        }
                        if let Some(action) = actions
                            .iter()
                            .find(|a| self.can(from, mfa, a, None, &[], None, None))
                        {
                            return step(format!(
                                "{} runs code on existing {service} compute that carries {} ({action}; residual)",
                                from.label, to.label
                            ));
                        }
                    }
                }
                None
            }
            NodeKind::User => {
                for action in [
                    "iam:CreateAccessKey",
                    "iam:CreateLoginProfile",
                    "iam:UpdateLoginProfile",
                ] {
                    if self.can(from, mfa, action, Some(&to.caller.arn), &[], None, None) {
                        return step(format!(
                            "{} signs in as {} ({action})",
                            from.label, to.label
                        ));
                    }
                }
                None
            }
            NodeKind::Entry | NodeKind::Created => None,
        }
    }

    fn service_may_assume(&self, trust: &Compiled, service: &str) -> bool {
        let caller = Caller::service(service);
        let context = caller.context(None).with("aws:SecureTransport", "true");
        evaluate(
            &Request {
                caller: &caller,
                action: "sts:AssumeRole",
                resource: None,
                resource_account: None,
                context: &context,
            },
            &Policies {
                resource: Some((trust, ResourcePolicyKind::Required)),
                ..Policies::default()
            },
        )
        .allowed()
    }

    /// How `x` can make `y` an administrator: a policy on it (or rewriting one attached to it),
    /// with its boundary out of the way.
    fn grants_admin(&mut self, x: usize, y: usize, mfa: bool) -> Option<String> {
        let (from, to) = (&self.nodes[x], &self.nodes[y]);
        let (put, attach, delete_boundary, put_boundary) = match to.kind {
            NodeKind::Role | NodeKind::Created => (
                "iam:PutRolePolicy",
                "iam:AttachRolePolicy",
                "iam:DeleteRolePermissionsBoundary",
                "iam:PutRolePermissionsBoundary",
            ),
            NodeKind::User => (
                "iam:PutUserPolicy",
                "iam:AttachUserPolicy",
                "iam:DeleteUserPermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            ),
            NodeKind::Entry => return None,
        };
        if from.kind == NodeKind::Entry {
            return None;
        }
        let target = to.caller.arn.as_str();
        let boundary_key = ("iam:PermissionsBoundary", to.boundary_arn.as_deref());
        let any_policy = format!(
            "arn:aws:iam::{}:policy/lz-check-any-policy",
            self.account.id
        );
        let mut how = None;
        if self.can(from, mfa, put, Some(target), &[boundary_key], None, None) {
            how = Some(put.to_owned());
        } else if self.can(from, mfa, attach, Some(target), &[boundary_key], None, None) {
            how = Some(format!("{attach} AdministratorAccess"));
        } else {
            let groups = to.groups.clone();
            for group in &groups {
                if self.can(
                    from,
                    mfa,
                    "iam:PutGroupPolicy",
                    Some(group),
                    &[],
                    None,
                    None,
                ) || self.can(
                    from,
                    mfa,
                    "iam:AttachGroupPolicy",
                    Some(group),
                    &[],
                    None,
                    None,
                ) {
                    how = Some(format!("a policy on its group {group}"));
                    break;
                }
            }
            if how.is_none() && to.kind == NodeKind::User {
                for (group, policies) in &self.groups {
                    let member = Node {
                        identity: policies.clone(),
                        boundary: None,
                        ..to.clone()
                    };
                    let admin = ADMIN_PROBES.iter().all(|(a, r)| {
                        self.can(&member, mfa, a, Some(&self.probe(r)), &[], None, None)
                    });
                    if admin
                        && self.can(
                            from,
                            mfa,
                            "iam:AddUserToGroup",
                            Some(group),
                            &[],
                            None,
                            None,
                        )
                    {
                        how = Some(format!("iam:AddUserToGroup into {group}"));
                        break;
                    }
                }
            }
            if how.is_none() {
                for policy in &to.attached {
                    for action in ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"] {
                        if self.can(from, mfa, action, Some(policy), &[], None, None) {
                            how = Some(format!("{action} on its policy {policy}"));
                            break;
                        }
                    }
                    if how.is_some() {
                        break;
                    }
                }
            }
        }
        if how.is_none() && to.boundary.is_some() {
            // Its own policies already make it one, but for its boundary.
            let unbounded = Node {
                boundary: None,
                ..to.clone()
            };
            if ADMIN_PROBES
                .iter()
                .all(|(a, r)| self.can(&unbounded, mfa, a, Some(&self.probe(r)), &[], None, None))
            {
                how = Some("its own policies".to_owned());
            }
        }
        let how = how?;
        // The grant makes an administrator only past the boundary.
        let past_boundary = match &to.boundary {
            None => Some(String::new()),
            Some(b) => {
                let bounded_admin = Node {
                    identity: vec![super::managed::allow_everything()],
                    boundary: Some(b.clone()),
                    ..to.clone()
                };
                if ADMIN_PROBES.iter().all(|(a, r)| {
                    self.can(
                        &bounded_admin,
                        mfa,
                        a,
                        Some(&self.probe(r)),
                        &[],
                        None,
                        None,
                    )
                }) {
                    Some(" (its boundary allows administration)".to_owned())
                } else if self.can(
                    from,
                    mfa,
                    delete_boundary,
                    Some(target),
                    &[boundary_key],
                    None,
                    None,
                ) {
                    Some(format!(" after removing its boundary ({delete_boundary})"))
                } else if self.can(
                    from,
                    mfa,
                    put_boundary,
                    Some(target),
                    &[("iam:PermissionsBoundary", Some(&any_policy))],
                    None,
                    None,
                ) {
                    Some(format!(" after replacing its boundary ({put_boundary})"))
                } else {
                    to.boundary_arn
                        .as_deref()
                        .filter(|arn| {
                            self.policies.contains_key(*arn)
                                && ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]
                                    .iter()
                                    .any(|a| self.can(from, mfa, a, Some(arn), &[], None, None))
                        })
                        .map(|arn| format!(" after rewriting its boundary policy {arn}"))
                }
            }
        }?;
        Some(format!(
            "{} grants administrator to {} ({how}){past_boundary}",
            from.label, to.label
        ))
    }

    /// How `x` can create a principal of its own, unbounded, with a policy of its choice.
    fn creates_unbounded(&self, x: usize, mfa: bool) -> Option<String> {
        let from = &self.nodes[x];
        if from.kind == NodeKind::Entry {
            return None;
        }
        let any_policy = format!(
            "arn:aws:iam::{}:policy/lz-check-any-policy",
            self.account.id
        );
        for boundary in [None, Some(any_policy.as_str()), Some(ADMINISTRATOR_ACCESS)] {
            let keys = [("iam:PermissionsBoundary", boundary)];
            if self.creates_role(from, mfa, &keys) {
                return Some(format!(
                    "{} creates a role {} with a policy of its choice and assumes it",
                    from.label,
                    describe_boundary(boundary, &any_policy)
                ));
            }
            if self.can(from, mfa, "iam:CreateUser", None, &keys, None, None)
                && (self.can(from, mfa, "iam:PutUserPolicy", None, &keys, None, None)
                    || self.can(
                        from,
                        mfa,
                        "iam:AttachUserPolicy",
                        None,
                        &[keys[0]],
                        None,
                        None,
                    ))
                && self.can(from, mfa, "iam:CreateAccessKey", None, &[], None, None)
            {
                return Some(format!(
                    "{} creates a user {} with a policy of its choice and an access key",
                    from.label,
                    describe_boundary(boundary, &any_policy)
                ));
            }
        }
        None
    }

    fn creates_role(&self, from: &Node, mfa: bool, keys: &[(&str, Option<&str>); 1]) -> bool {
        if !self.can(from, mfa, "iam:CreateRole", None, keys, None, None) {
            return false;
        }
        let granted = self.can(from, mfa, "iam:PutRolePolicy", None, keys, None, None)
            || self.can(
                from,
                mfa,
                "iam:AttachRolePolicy",
                None,
                &[keys[0]],
                None,
                None,
            );
        // The creator writes the new role's trust: naming itself, within the account.
        let trust = Compiled::new(&PolicyDocument::new(vec![
            Statement::allow()
                .principal(Principal::aws([from.caller.arn.clone()]))
                .actions(["sts:AssumeRole"]),
        ]));
        granted
            && self.can(
                from,
                mfa,
                "sts:AssumeRole",
                None,
                &[],
                Some((&trust, ResourcePolicyKind::Required)),
                None,
            )
    }

    /// Boundaries under which `x` can create a role with a policy of its choice.
    fn creates_bounded(&self, x: usize, mfa: bool) -> Vec<(String, String)> {
        let from = &self.nodes[x];
        if from.kind == NodeKind::Entry {
            return Vec::new();
        }
        let chosen = format!(
            "arn:aws:iam::{}:policy/lz-check-any-policy",
            self.account.id
        );
        self.boundary_candidates
            .iter()
            // A boundary of the creator's choosing is [`Graph::creates_unbounded`]'s case.
            .filter(|(arn, _)| *arn != chosen && arn != ADMINISTRATOR_ACCESS)
            .filter(|(arn, _)| self.creates_role(from, mfa, &[("iam:PermissionsBoundary", Some(arn))]))
            .map(|(arn, _)| {
                (
                    arn.clone(),
                    format!("{} creates a role with boundary {arn} and a policy of its choice, and assumes it", from.label),
                )
            })
            .collect()
    }
}

/// The MFA keys of a request made with MFA, or the two ways one is made without: with
/// `aws:MultiFactorAuthPresent` false (a console session) or absent (long-term access keys),
/// which conditions such as `BoolIfExists` tell apart.
fn with_mfa(context: Context, mfa: bool) -> Vec<Context> {
    if mfa {
        vec![
            context
                .with("aws:MultiFactorAuthPresent", "true")
                .with("aws:MultiFactorAuthAge", "0"),
        ]
    } else {
        let context = context.without("aws:MultiFactorAuthAge");
        vec![
            context.clone().with("aws:MultiFactorAuthPresent", "false"),
            context.without("aws:MultiFactorAuthPresent"),
        ]
    }
}

fn describe_boundary(boundary: Option<&str>, chosen: &str) -> String {
    match boundary {
        None => "without a boundary".to_owned(),
        Some(b) if b == chosen => "with a boundary of its choosing".to_owned(),
        Some(b) => format!("with boundary {b}"),
    }
}

/// The path from the principal labelled `start` (`role /name`) to administrator, for tests of
/// single techniques.
#[cfg(test)]
pub(super) fn reach(
    inventory: &Inventory,
    account: &AccountIam,
    start: &str,
    residual: bool,
) -> Option<Vec<String>> {
    let mut resolver = Resolver::default();
    let mut graph = Graph::new(inventory, account, &mut resolver);
    let start = graph.nodes.iter().position(|n| n.label == start)?;
    graph.reach_admin(start, true, residual).map(|r| r.steps)
}

/// What each entry's policies say of `account`: the patterns naming it (its id made
/// neutral) and which other patterns match its tier roles. Part of the key under which accounts
/// share results, since the groups' policies name accounts one by one; computed from the
/// patterns, as evaluating them for each of a thousand accounts would cost a thousand times.
pub(super) fn entry_signature(
    inventory: &Inventory,
    account: &AccountIam,
    entries: &Entries,
) -> Vec<(Vec<String>, Vec<bool>)> {
    let roles: Vec<String> = inventory
        .tiers
        .iter()
        .map(|t| {
            format!(
                "arn:aws:iam::{}:role{}{}",
                account.id, inventory.iam_path, t.role_name
            )
        })
        .collect();
    entries
        .patterns
        .iter()
        .map(|(named, wild)| {
            let mine = named
                .get(&account.id)
                .into_iter()
                .flatten()
                .map(|p| p.replace(&account.id, "<self>"))
                .collect();
            let matching = wild
                .iter()
                .map(|record| {
                    let pattern = record.split_once(':').map_or(record.as_str(), |(_, p)| p);
                    roles.iter().any(|r| super::eval::arn_like(pattern, r))
                })
                .collect();
            (mine, matching)
        })
        .collect()
}
