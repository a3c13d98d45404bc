//! A picture of the organization a blueprint makes, for people: the root, the units, the
//! accounts (with customer and environment), the tier roles in each, the security account's
//! groups that may assume them, the guardrails where they are attached, and the audit flow to
//! the log-archive account. Rendered as Graphviz DOT or as a Mermaid flowchart.
//!
//! The picture is drawn from the desired state ([`crate::expand`]) rather than from the
//! blueprint's text, so that it shows exactly what a plan makes: the same roles, in the same
//! accounts, under the same names.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::blueprint::{Blueprint, Mfa};
use crate::desired::guardrails::{self, Target};
use crate::desired::{self, Known, Spec};

/// A graph: nested clusters of nodes, and edges between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// The blueprint's name.
    pub name: String,
    /// The organization: everything else is inside it.
    pub root: Cluster,
    /// Who may act on what.
    pub edges: Vec<Edge>,
}

/// A box holding nodes and boxes: the root, a unit, an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// An identifier unique in the graph: letters, digits and `_`.
    pub id: String,
    /// Its label, one entry per line.
    pub label: Vec<String>,
    /// What it holds directly.
    pub nodes: Vec<Node>,
    /// The boxes inside it.
    pub clusters: Vec<Cluster>,
}

/// One thing: a role, a group, a key, a bucket, the trail, a guardrail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// An identifier unique in the graph: letters, digits and `_`.
    pub id: String,
    /// Its label, one entry per line.
    pub label: Vec<String>,
    /// What it is, for its shape.
    pub shape: Shape,
}

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An IAM role.
    Role,
    /// An IAM group of people.
    Group,
    /// A bucket, a key, a trail.
    Store,
    /// An organization policy.
    Guardrail,
    /// An account with nothing of lz's inside.
    Empty,
}

/// An arrow between two nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The node it starts at.
    pub from: String,
    /// The node it points to.
    pub to: String,
    /// What it means.
    pub label: String,
}

/// The organization `bp` describes, with the ids in `known` where they exist.
pub fn graph(bp: &Blueprint, known: &Known) -> Graph {
    let desired = desired::expand(bp, known);
    let mut ids = Ids::default();
    let accounts = desired::accounts(bp);
    let account_id = |name: &str| {
        known
            .account_ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| "not created yet".to_owned())
    };
    // What each account holds, in the desired state's order.
    let mut held: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    let mut roles_by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut groups: Vec<(String, String)> = Vec::new();
    let mut in_management: Vec<Node> = Vec::new();
    let mut edges = Vec::new();
    let mut audit: BTreeMap<&str, String> = BTreeMap::new();
    for resource in &desired.resources {
        let (node, role, group) = match resource.spec.as_ref() {
            Spec::IamRole(role) => {
                let tier = role.tags.get("lz:tier").cloned().unwrap_or_default();
                let id = ids.next("role");
                let node = Node {
                    id: id.clone(),
                    label: vec![format!("role {}", role.name), format!("tier {tier}")],
                    shape: Shape::Role,
                };
                (node, Some((role.name.clone(), id)), None)
            }
            Spec::IamGroup(group) => {
                let id = ids.next("group");
                let node = Node {
                    id: id.clone(),
                    label: vec![format!("group {}", group.name)],
                    shape: Shape::Group,
                };
                (node, None, Some((group.name.clone(), id)))
            }
            Spec::KmsKey(key) => {
                let id = ids.next("key");
                audit.insert("key", id.clone());
                let node = Node {
                    id,
                    label: vec![format!("KMS key {}", key.alias)],
                    shape: Shape::Store,
                };
                (node, None, None)
            }
            Spec::S3Bucket(_) => {
                let id = ids.next("bucket");
                let which = resource.address.as_str().trim_start_matches("bucket.");
                let label = if which == "audit" {
                    audit.insert("bucket", id.clone());
                    "audit bucket"
                } else {
                    audit.insert("access_logs", id.clone());
                    "access-log bucket"
                };
                let node = Node {
                    id,
                    label: vec![label.to_owned()],
                    shape: Shape::Store,
                };
                (node, None, None)
            }
            Spec::CloudtrailTrail(trail) => {
                let id = ids.next("trail");
                audit.insert("trail", id.clone());
                let node = Node {
                    id,
                    label: vec![
                        format!("organization trail {}", trail.name),
                        "records every account".to_owned(),
                    ],
                    shape: Shape::Store,
                };
                (node, None, None)
            }
            _ => continue,
        };
        if let Some((name, id)) = role {
            roles_by_name.entry(name).or_default().push(id);
        }
        if let Some(group) = group {
            groups.push(group);
        }
        match &resource.account {
            Some(account) => held.entry(account.clone()).or_default().push(node),
            None => in_management.push(node),
        }
    }
    // People in the security account's groups assume the tier roles of their name.
    let tiers = bp.role_tiers.resolved();
    for (name, group) in &groups {
        let mfa = tiers
            .iter()
            .any(|t| &t.role_name == name && t.mfa == Mfa::Required);
        for role in roles_by_name.get(name).into_iter().flatten() {
            edges.push(Edge {
                from: group.clone(),
                to: role.clone(),
                label: if mfa { "assumes, with MFA" } else { "assumes" }.to_owned(),
            });
        }
    }
    for (from, to, label) in [
        ("trail", "bucket", "delivers logs"),
        ("trail", "key", "encrypts with"),
        ("bucket", "access_logs", "access logs"),
    ] {
        if let (Some(from), Some(to)) = (audit.get(from), audit.get(to)) {
            edges.push(Edge {
                from: from.clone(),
                to: to.clone(),
                label: label.to_owned(),
            });
        }
    }
    // Guardrails, inside what they are attached to.
    let org_id = known.organization_id.clone().unwrap_or_default();
    let log_archive = &bp.accounts.log_archive.name;
    let mut attached: BTreeMap<Target, Vec<Node>> = BTreeMap::new();
    for guardrail in guardrails::planned(bp, &org_id, &account_id(log_archive)) {
        for target in &guardrail.targets {
            attached.entry(target.clone()).or_default().push(Node {
                id: ids.next("guardrail"),
                label: vec![
                    guardrail.name.clone(),
                    guardrail.policy_type.noun().to_owned(),
                ],
                shape: Shape::Guardrail,
            });
        }
    }
    let mut units: Vec<Cluster> = Vec::new();
    for ou in desired::ous(bp) {
        let mut nodes = attached
            .remove(&Target::Unit(ou.to_owned()))
            .unwrap_or_default();
        let mut clusters = Vec::new();
        for account in accounts.iter().filter(|a| a.ou == ou) {
            let mut label = vec![format!("{} ({})", account.name, account_id(&account.name))];
            match (account.tags.get("lz:customer"), account.environment) {
                (Some(customer), Some(env)) => {
                    label.push(format!("customer {customer}, environment {env}"))
                }
                _ if account.name == bp.accounts.security.name => {
                    label.push("security: people sign in here".to_owned())
                }
                _ => label.push("log archive".to_owned()),
            }
            let mut inside = held.remove(&account.name).unwrap_or_default();
            inside.extend(
                attached
                    .remove(&Target::Account(account.name.clone()))
                    .unwrap_or_default(),
            );
            if inside.is_empty() {
                inside.push(Node {
                    id: ids.next("empty"),
                    label: vec!["no tier roles".to_owned()],
                    shape: Shape::Empty,
                });
            }
            clusters.push(Cluster {
                id: ids.next("account"),
                label,
                nodes: inside,
                clusters: Vec::new(),
            });
        }
        if clusters.is_empty() && nodes.is_empty() {
            nodes.push(Node {
                id: ids.next("empty"),
                label: vec!["no accounts yet".to_owned()],
                shape: Shape::Empty,
            });
        }
        units.push(Cluster {
            id: ids.next("unit"),
            label: vec![
                format!("unit {ou}"),
                known.ou_ids.get(ou).cloned().unwrap_or_default(),
            ],
            nodes,
            clusters,
        });
    }
    let management = match &known.management_account_id {
        Some(id) => format!("management account ({id})"),
        None => "management account".to_owned(),
    };
    let root_nodes = attached.remove(&Target::Root).unwrap_or_default();
    let mut clusters = vec![Cluster {
        id: ids.next("account"),
        label: vec![management],
        nodes: in_management,
        clusters: Vec::new(),
    }];
    clusters.extend(units);
    let root_label = match (&known.organization_id, &known.root_id) {
        (Some(org), Some(root)) => format!("organization {org}, root {root}"),
        _ => "organization (not created yet)".to_owned(),
    };
    Graph {
        name: bp.name.clone(),
        root: Cluster {
            id: ids.next("root"),
            label: vec![root_label],
            nodes: root_nodes,
            clusters,
        },
        edges,
    }
}

/// Identifiers for the graph's boxes and nodes: a prefix and a number, since names may hold
/// characters neither DOT nor Mermaid takes bare.
#[derive(Default)]
struct Ids(usize);

impl Ids {
    fn next(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}_{}", self.0)
    }
}

/// The graph in Graphviz's DOT language.
pub fn dot(graph: &Graph) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  compound=true;\n  fontname=\"Helvetica\";\n  \
         node [fontname=\"Helvetica\", shape=box, style=rounded];\n  \
         edge [fontname=\"Helvetica\", fontsize=10];\n",
        dot_string(&graph.name)
    );
    dot_cluster(&mut out, &graph.root, 1);
    for edge in &graph.edges {
        let _ = writeln!(
            out,
            "  {} -> {} [label={}];",
            edge.from,
            edge.to,
            dot_string(&edge.label)
        );
    }
    out.push_str("}\n");
    out
}

fn dot_cluster(out: &mut String, cluster: &Cluster, depth: usize) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(out, "{pad}subgraph cluster_{} {{", cluster.id);
    let _ = writeln!(
        out,
        "{pad}  label={};",
        dot_string(&cluster.label.join("\n"))
    );
    for node in &cluster.nodes {
        let shape = match node.shape {
            Shape::Role => "box, style=rounded",
            Shape::Group => "box, style=\"rounded,bold\"",
            Shape::Store => "cylinder",
            Shape::Guardrail => "note",
            Shape::Empty => "plaintext",
        };
        let _ = writeln!(
            out,
            "{pad}  {} [label={}, shape={shape}];",
            node.id,
            dot_string(&node.label.join("\n"))
        );
    }
    for inner in &cluster.clusters {
        dot_cluster(out, inner, depth + 1);
    }
    let _ = writeln!(out, "{pad}}}");
}

/// A DOT string: quoted, with quotes and backslashes escaped and line breaks as `\n`.
fn dot_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// The most characters Mermaid renders by default (its `maxTextSize`).
pub const MERMAID_MAX_TEXT: usize = 50_000;
/// The most edges Mermaid renders by default (its `maxEdges`).
pub const MERMAID_MAX_EDGES: usize = 500;

/// Why Mermaid, with its default settings, would refuse to draw this text of this graph:
/// too long, or too many edges. `None` when it fits.
pub fn mermaid_too_large(graph: &Graph, text: &str) -> Option<String> {
    if text.len() > MERMAID_MAX_TEXT {
        Some(format!(
            "the Mermaid text is {} characters; Mermaid draws at most {MERMAID_MAX_TEXT} unless its maxTextSize is raised: use --format dot",
            text.len()
        ))
    } else if graph.edges.len() > MERMAID_MAX_EDGES {
        Some(format!(
            "the graph has {} edges; Mermaid draws at most {MERMAID_MAX_EDGES} unless its maxEdges is raised: use --format dot",
            graph.edges.len()
        ))
    } else {
        None
    }
}

/// The graph as a Mermaid flowchart.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    mermaid_cluster(&mut out, &graph.root, 1);
    for edge in &graph.edges {
        let _ = writeln!(
            out,
            "  {} -->|{}| {}",
            edge.from,
            mermaid_string(std::slice::from_ref(&edge.label)),
            edge.to
        );
    }
    out.push_str(
        "  classDef role fill:#eef6ff,stroke:#3572b0\n  classDef group fill:#fff4e0,stroke:#b07a35\n  \
         classDef store fill:#eefbea,stroke:#3d8b37\n  classDef guardrail fill:#fdecec,stroke:#b03535\n",
    );
    let mut classes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    collect_classes(&graph.root, &mut classes);
    for (class, ids) in classes {
        let _ = writeln!(out, "  class {} {class}", ids.join(","));
    }
    out
}

fn collect_classes<'a>(cluster: &'a Cluster, classes: &mut BTreeMap<&'static str, Vec<&'a str>>) {
    for node in &cluster.nodes {
        let class = match node.shape {
            Shape::Role => "role",
            Shape::Group => "group",
            Shape::Store => "store",
            Shape::Guardrail => "guardrail",
            Shape::Empty => continue,
        };
        classes.entry(class).or_default().push(&node.id);
    }
    for inner in &cluster.clusters {
        collect_classes(inner, classes);
    }
}

fn mermaid_cluster(out: &mut String, cluster: &Cluster, depth: usize) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{pad}subgraph {}[{}]",
        cluster.id,
        mermaid_string(&cluster.label)
    );
    for node in &cluster.nodes {
        let (open, close) = match node.shape {
            Shape::Store => ("[(", ")]"),
            Shape::Guardrail => ("[/", "/]"),
            Shape::Group => ("([", "])"),
            Shape::Role | Shape::Empty => ("[", "]"),
        };
        let _ = writeln!(
            out,
            "{pad}  {}{open}{}{close}",
            node.id,
            mermaid_string(&node.label)
        );
    }
    for inner in &cluster.clusters {
        mermaid_cluster(out, inner, depth + 1);
    }
    let _ = writeln!(out, "{pad}end");
}

/// A Mermaid label: quoted, lines joined by `<br/>`, and the characters that would end the
/// label or open markup written as entities.
fn mermaid_string(lines: &[String]) -> String {
    let escaped: Vec<String> = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.replace('&', "#amp;")
                .replace('"', "#quot;")
                .replace('<', "#lt;")
                .replace('>', "#gt;")
        })
        .collect();
    format!("\"{}\"", escaped.join("<br/>"))
}

#[cfg(test)]
mod tests;
