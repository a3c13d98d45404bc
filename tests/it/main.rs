//! Integration tests, in one binary so the AWS SDK is linked once. Tests that need AWS start
//! their own `moto_server` (see `support`).

mod audit;
mod check;
mod cli;
mod faults;
mod guardrails;
mod harness;
mod operations;
mod reconcile;
mod support;
mod tiers;
mod tools;
