use std::collections::{BTreeMap, BTreeSet};

use super::*;

fn acme() -> Blueprint {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml");
    Blueprint::load(std::path::Path::new(path)).expect("acme is valid")
}

fn nodes(cluster: &Cluster) -> Vec<&Node> {
    let mut all: Vec<&Node> = cluster.nodes.iter().collect();
    for inner in &cluster.clusters {
        all.extend(nodes(inner));
    }
    all
}

fn clusters(cluster: &Cluster) -> Vec<&Cluster> {
    let mut all = vec![cluster];
    for inner in &cluster.clusters {
        all.extend(clusters(inner));
    }
    all
}

#[test]
fn every_role_the_plan_makes_is_drawn_in_its_account_and_assumed_from_its_group() {
    let bp = acme();
    let graph = graph(&bp, &Known::default());
    let desired = crate::expand(&bp, &Known::default());
    // Each account's box holds exactly the roles the desired state puts in that account.
    let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &desired.resources {
        if let Spec::IamRole(role) = r.spec.as_ref() {
            want.entry(r.account.clone().unwrap())
                .or_default()
                .insert(format!("role {}", role.name));
        }
    }
    assert_eq!(want.len(), 5, "acme's five workload accounts");
    for (account, roles) in &want {
        let boxed = clusters(&graph.root)
            .into_iter()
            .find(|c| c.label[0].starts_with(&format!("{account} (")))
            .unwrap_or_else(|| panic!("no box for {account}"));
        let drawn: BTreeSet<String> = boxed
            .nodes
            .iter()
            .filter(|n| n.shape == Shape::Role)
            .map(|n| n.label[0].clone())
            .collect();
        assert_eq!(&drawn, roles, "{account}");
    }
    // Every role has one way in: from the group of its name in the security account, with MFA
    // exactly for the tiers that require it.
    let all = nodes(&graph.root);
    let label = |id: &str| all.iter().find(|n| n.id == id).unwrap().label.clone();
    let roles: Vec<&&Node> = all.iter().filter(|n| n.shape == Shape::Role).collect();
    assert_eq!(roles.len(), want.values().map(BTreeSet::len).sum::<usize>());
    for role in roles {
        let into: Vec<&Edge> = graph.edges.iter().filter(|e| e.to == role.id).collect();
        assert_eq!(into.len(), 1, "{:?}", role.label);
        let name = role.label[0].trim_start_matches("role ");
        assert_eq!(label(&into[0].from)[0], format!("group {name}"));
        let mfa = ["lz-keeper", "lz-settler"].contains(&name);
        assert_eq!(into[0].label.contains("MFA"), mfa, "{name}");
    }
    // The audit flow ends in the log-archive account.
    let archive = clusters(&graph.root)
        .into_iter()
        .find(|c| c.label[0].starts_with("log-archive ("))
        .unwrap();
    let audit_bucket = archive
        .nodes
        .iter()
        .find(|n| n.label[0] == "audit bucket")
        .unwrap();
    let delivery = graph
        .edges
        .iter()
        .find(|e| e.to == audit_bucket.id)
        .unwrap();
    assert!(label(&delivery.from)[0].starts_with("organization trail "));
    assert_eq!(delivery.label, "delivers logs");
}

#[test]
fn accounts_show_their_customer_environment_and_id_when_known() {
    let bp = acme();
    let mut known = Known::default();
    known
        .account_ids
        .insert("lumo-prod".into(), "123456789012".into());
    let graph = graph(&bp, &known);
    let all = clusters(&graph.root);
    let lumo = all
        .iter()
        .find(|c| c.label[0].starts_with("lumo-prod"))
        .unwrap();
    assert_eq!(
        lumo.label,
        [
            "lumo-prod (123456789012)",
            "customer lumo, environment prod"
        ]
    );
    let retail = all
        .iter()
        .find(|c| c.label[0].starts_with("retail-dev"))
        .unwrap();
    assert_eq!(retail.label[0], "retail-dev (not created yet)");
    // Units hold their environment's accounts.
    let prod = all.iter().find(|c| c.label[0] == "unit Prod").unwrap();
    let held: Vec<&str> = prod.clusters.iter().map(|c| c.label[0].as_str()).collect();
    assert_eq!(
        held,
        ["lumo-prod (123456789012)", "retail-prod (not created yet)"]
    );
    // The baseline is drawn on the root, the log-archive policy on its account.
    let root_policies: Vec<&str> = graph
        .root
        .nodes
        .iter()
        .map(|n| n.label[0].as_str())
        .collect();
    assert!(
        root_policies.contains(&"lz-acme-baseline"),
        "{root_policies:?}"
    );
    let archive = all
        .iter()
        .find(|c| c.label[0].starts_with("log-archive ("))
        .unwrap();
    assert!(
        archive
            .nodes
            .iter()
            .any(|n| n.shape == Shape::Guardrail && n.label[0] == "lz-acme-log-archive")
    );
}

#[test]
fn identifiers_are_unique_and_every_edge_joins_drawn_nodes() {
    let graph = graph(&acme(), &Known::default());
    let mut seen = BTreeSet::new();
    for c in clusters(&graph.root) {
        assert!(seen.insert(c.id.clone()), "{}", c.id);
    }
    for n in nodes(&graph.root) {
        assert!(seen.insert(n.id.clone()), "{}", n.id);
        assert!(n.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }
    let drawn: BTreeSet<&str> = nodes(&graph.root).iter().map(|n| n.id.as_str()).collect();
    for e in &graph.edges {
        assert!(drawn.contains(e.from.as_str()) && drawn.contains(e.to.as_str()));
    }
}

#[test]
fn labels_are_escaped_for_each_language() {
    assert_eq!(dot_string("a \"b\"\\\nc"), r#""a \"b\"\\\nc""#);
    assert_eq!(
        mermaid_string(&["a \"b\" <i>".into(), "c & d".into()]),
        "\"a #quot;b#quot; #lt;i#gt;<br/>c #amp; d\""
    );
}

#[test]
fn a_graph_beyond_mermaid_defaults_says_so() {
    let bp = acme();
    let small = graph(&bp, &Known::default());
    assert_eq!(mermaid_too_large(&small, &mermaid(&small)), None);
    let mut big = bp.clone();
    for n in 0..150 {
        big.customers.insert(
            format!("c{n:03}"),
            crate::blueprint::Customer {
                environments: vec!["dev".into(), "prod".into()],
                tags: Default::default(),
                emails: Default::default(),
            },
        );
    }
    let drawn = graph(&big, &Known::default());
    let why = mermaid_too_large(&drawn, &mermaid(&drawn)).expect("too large");
    assert!(why.ends_with("use --format dot"), "{why}");
}
