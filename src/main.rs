//! `lz`: the command line over the `landing_zone` library.
//!
//! Parsing arguments, printing and exit codes live here; everything else is the library's.
//! Exit codes: 0 success (or no changes), 1 error or invalid blueprint, 2 changes present
//! (with `--detailed-exitcode`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    cli::init_tracing(args.verbose);
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            if !cli::already_reported(&err) {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(1)
        }
    }
}
