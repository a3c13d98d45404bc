//! `lz plan FILE`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use landing_zone::check::{self, Inventory};
use landing_zone::{Actual, Blueprint, Plan, render};

use super::Session;

/// Arguments of `lz plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blueprint file.
    file: PathBuf,
    /// How to print the plan: `text` for a terminal, `json` for tools, `markdown` for a pull
    /// request's review comment (at most 65,536 characters: a larger plan is shortened, and
    /// says so).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print the plan as a JSON document: `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Also save the plan as JSON to this file, for `lz apply PLAN.json`.
    #[arg(long, value_name = "PLAN.json")]
    out: Option<PathBuf>,
    /// Exit 0 when nothing would change, 2 when something would, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Plan against an empty organization, without credentials or any AWS call.
    #[arg(long)]
    assume_empty: bool,
}

/// How `lz plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
}

pub fn exec(args: Args, session: &Session) -> anyhow::Result<ExitCode> {
    let format = if args.json { Format::Json } else { args.format };
    let blueprint = super::load(&args.file)?;
    let actual = if args.assume_empty {
        Actual::empty()
    } else {
        session.discover(&blueprint)?
    };
    let mut plan = planned(&blueprint, &actual);
    let mut stdout = std::io::stdout().lock();
    match format {
        Format::Json => plan.write_sealed(&mut stdout)?,
        Format::Text => {
            let color = super::stdout_color();
            render::write_human(&plan, render::HumanOptions { color }, &mut stdout)?;
            // The security properties of the organization this plan would leave.
            let check = check::check(&Inventory::after_apply(&blueprint, &actual));
            writeln!(stdout, "{}", check_line(&check))?;
        }
        Format::Markdown => {
            let check = check::check(&Inventory::after_apply(&blueprint, &actual));
            // The line naming the saved plan follows the comment: room is kept for it.
            let saved = args
                .out
                .as_deref()
                .map_or(0, |out| saved_markdown(out, &"0".repeat(DIGEST_LEN)).len());
            let options = render::MarkdownOptions {
                check: Some(&check),
                max_len: render::GITHUB_COMMENT_LIMIT - saved,
            };
            stdout.write_all(render::markdown(&plan, options).as_bytes())?;
        }
    }
    // Without `--out` there was no file to write: say only why apply would refuse the plan.
    let unsaved = if args.out.is_some() {
        ", so no plan file was written"
    } else {
        ""
    };
    if !plan.conflicts.is_empty() {
        anyhow::bail!("the plan has conflicts (above); apply would refuse it{unsaved}");
    }
    if !plan.is_complete() {
        anyhow::bail!(
            "some accounts could not be read (above); the plan does not cover them{unsaved}"
        );
    }
    if let Some(out) = &args.out {
        std::fs::File::create(out)
            .and_then(|file| match plan.digest {
                Some(_) => render::write_json(&plan, file),
                None => plan.write_sealed(file),
            })
            .with_context(|| format!("cannot write the plan to {}", out.display()))?;
        let digest = plan.digest.as_deref().unwrap_or_default();
        match format {
            Format::Text => writeln!(stdout, "Saved the plan to {} ({digest}).", out.display())?,
            // For the reviewer: the digest that `apply --expect-digest` will hold the plan to.
            Format::Markdown => stdout.write_all(saved_markdown(out, digest).as_bytes())?,
            Format::Json => {}
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The length of a plan's digest: `sha256:` and 64 hex digits.
const DIGEST_LEN: usize = 7 + 64;

/// The line under a Markdown plan that names the file it was saved to.
fn saved_markdown(out: &std::path::Path, digest: &str) -> String {
    format!("Saved as `{}`, digest `{digest}`.\n", out.display())
}

/// The plan, carrying its blueprint so that a saved plan can be applied on its own.
pub fn planned(blueprint: &Blueprint, actual: &Actual) -> Plan {
    let mut plan = landing_zone::plan::for_blueprint(blueprint, actual);
    plan.configuration = Some(blueprint.clone());
    plan
}

/// One line on the security properties, under the plan.
fn check_line(report: &check::Report) -> String {
    let mut line = check::summary_line(report);
    if !report.passed() {
        let failing: Vec<String> = report
            .failures()
            .take(3)
            .map(|p| match p.tier {
                Some(tier) => format!("{tier} in {}: {}", p.account, p.claim),
                None => format!("{}: {}", p.account, p.claim),
            })
            .collect();
        line.push_str(&format!(
            " Failing: {}. Run `lz check` for the paths.",
            failing.join("; ")
        ));
    }
    line
}
