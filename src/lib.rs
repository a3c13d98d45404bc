//! `landing_zone`: turns a YAML blueprint into a secure multi-account AWS landing zone, and
//! keeps it that way.
//!
//! The flow, each step a typed value:
//!
//! ```text
//! blueprint.yaml --Blueprint::load--> Blueprint --expand--> Desired
//! live AWS ------------discover (read-only)---------------> Actual
//! plan(&Desired, &Actual) -> Plan  (pure)  --render--> human text | JSON
//! ```
//!
//! ```
//! use landing_zone::{Actual, Blueprint, expand, plan, render};
//!
//! let yaml = r#"
//! version: 1
//! name: demo
//! home_region: eu-west-3
//! organization: { email: "aws+{account}@demo.example" }
//! accounts:
//!   security: { name: security }
//!   log_archive: { name: log-archive }
//! environments: { dev: { ou: Dev } }
//! customers: { lumo: { environments: [dev] } }
//! "#;
//! let blueprint = Blueprint::parse("demo.yaml", yaml).expect("valid");
//! let actual = Actual::empty();
//! let plan = plan(&expand(&blueprint, &actual.known()), &actual);
//! assert!(plan.has_changes());
//! assert!(render::summary_line(&plan).starts_with("Plan: "));
//! ```
//!
//! The library never prints and never exits: every outcome is a value or a typed error.
#![deny(missing_docs)]

pub mod actual;
pub mod adopt;
pub mod apply;
pub mod aws;
pub mod blueprint;
pub mod check;
pub mod desired;
pub mod discover;
pub mod graph;
pub mod kinds;
pub mod plan;
pub mod policy;
pub mod profiles;
pub mod quotas;
pub mod render;
pub mod validate;
pub mod yaml;

pub use actual::Actual;
pub use blueprint::Blueprint;
pub use desired::{Desired, Known, expand};
pub use plan::{Plan, plan};
pub use validate::{Diagnostic, Invalid, LoadError};
