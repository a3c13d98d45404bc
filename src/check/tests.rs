use std::sync::Arc;

use super::*;
use crate::Blueprint;
use crate::policy::{PolicyDocument, Principal, Statement};

fn blueprint(name: &str) -> Blueprint {
    Blueprint::load(format!("{}/blueprints/{name}.yaml", env!("CARGO_MANIFEST_DIR"))).expect("valid")
}

/// A role someone else made: `AdministratorAccess`, trusting EC2.
fn app_admin() -> RoleFacts {
    RoleFacts {
        name: "app-admin".to_owned(),
        path: "/".to_owned(),
        trust: Arc::new(PolicyDocument::new(vec![
            Statement::allow()
                .principal(Principal::service("ec2.amazonaws.com"))
                .actions(["sts:AssumeRole"]),
        ])),
        inline: Vec::new(),
        managed: vec![managed::ADMINISTRATOR_ACCESS.to_owned()],
        boundary: None,
    }
}

fn failing(report: &Report) -> Vec<String> {
    report
        .failures()
        .map(|p| format!("{}/{:?}: {} {:?}", p.account, p.tier, p.claim, p.evidence))
        .collect()
}

#[test]
fn debug_app_admin() {
    let bp = blueprint("acme");
    let mut inventory = Inventory::offline(&bp);
    for account in &mut inventory.accounts {
        account.roles.push(app_admin());
    }
    let report = check(&inventory);
    let mut out = Vec::new();
    write_human(&report, &mut out).unwrap();
    println!("{}", String::from_utf8(out).unwrap());
    println!("{:#?}", failing(&report));
}
