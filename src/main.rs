//! `lz`: the command line over the `landing_zone` library.
//!
//! Parsing arguments, printing and exit codes live here; everything else is the library's.
//! Exit codes: 0 success (or no changes), 1 error or invalid blueprint, 2 changes present
//! (with `--detailed-exitcode`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: planning a large organization builds and drops
/// hundreds of thousands of small strings, where glibc's malloc spends most of its time
/// consolidating free lists (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    cli::init_tracing(args.verbose);
    match cli::run(args) {
        Ok(code) => code,
        // A reader that stopped reading (`lz plan ... | head`) is not an error.
        Err(err) if cli::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            if !cli::already_reported(&err) {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(1)
        }
    }
}
