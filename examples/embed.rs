//! Using `landing_zone` from another program: load a blueprint, read the organization, plan,
//! check the security properties, and (only when asked) apply, all through typed values;
//! nothing is printed by the library.
//!
//! ```sh
//! cargo run --example embed -- blueprints/acme.yaml            # plan against AWS
//! cargo run --example embed -- blueprints/acme.yaml --offline  # plan against nothing
//! cargo run --example embed -- blueprints/acme.yaml --apply    # and apply
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use landing_zone::apply::{ApplyOptions, apply};
use landing_zone::aws::Aws;
use landing_zone::{Actual, Blueprint, LoadError, check, expand, plan, render};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: embed BLUEPRINT.yaml [--offline | --apply]");
        return ExitCode::from(1);
    };
    let blueprint = match Blueprint::load(file) {
        Ok(blueprint) => blueprint,
        Err(LoadError::Invalid(invalid)) => {
            // Every problem, each with its position and field path.
            for d in &invalid.diagnostics {
                eprintln!(
                    "line {} column {}: {}: {}",
                    d.pos.line, d.pos.column, d.path, d.message
                );
            }
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };

    let offline = args.iter().any(|a| a == "--offline");
    let (aws, actual) = if offline {
        (None, Actual::empty())
    } else {
        let aws = Aws::from_environment().await;
        match landing_zone::discover::discover(&aws, &blueprint).await {
            Ok(actual) => (Some(aws), actual),
            Err(e) => {
                eprintln!("cannot read the organization: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let plan = plan(&expand(&blueprint, &actual.known()), &actual);

    // A plan is data: count what would happen to each kind of resource.
    let mut counts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for change in plan.changes() {
        *counts
            .entry((change.kind.as_str(), format!("{:?}", change.action)))
            .or_default() += 1;
    }
    for ((kind, action), n) in counts {
        println!("{n:>4} {kind} {action}");
    }
    println!("{}", render::summary_line(&plan));

    // The security properties of the organization the plan would leave, by evaluation.
    let report = check::check(&check::Inventory::after_apply(&blueprint, &actual));
    for failure in report.failures() {
        println!(
            "fails: {} {}: {}",
            failure.account,
            failure.claim,
            failure.evidence.join("; ")
        );
    }
    println!("{}", check::summary_line(&report));

    if let (Some(aws), true) = (aws, args.iter().any(|a| a == "--apply")) {
        match apply(&aws, &blueprint, Some(&plan), ApplyOptions::default()).await {
            Ok(report) => println!(
                "applied {} change(s); {}",
                report.applied.len(),
                render::summary_line(&report.remaining)
            ),
            Err(e) => {
                eprintln!("apply stopped: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
