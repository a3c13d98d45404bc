//! `lz graph FILE`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use landing_zone::{Known, graph};

use super::Session;

/// Arguments of `lz graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blueprint file.
    file: PathBuf,
    /// The language: `mermaid` (GitHub and GitLab render it in Markdown) or `dot` (Graphviz:
    /// `lz graph FILE --format dot | dot -Tsvg > zone.svg`).
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    format: Format,
    /// Draw the organization as the blueprint makes it, without reading AWS: no ids.
    #[arg(long)]
    assume_empty: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Mermaid,
    Dot,
}

pub fn exec(args: Args, session: &Session) -> anyhow::Result<ExitCode> {
    let blueprint = super::load(&args.file)?;
    let known = if args.assume_empty {
        Known::default()
    } else {
        session.known_ids(&blueprint)?
    };
    let drawn = graph::graph(&blueprint, &known);
    let text = match args.format {
        Format::Mermaid => {
            let text = graph::mermaid(&drawn);
            if let Some(why) = graph::mermaid_too_large(&drawn, &text) {
                eprintln!("warning: {why}");
            }
            text
        }
        Format::Dot => graph::dot(&drawn),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
