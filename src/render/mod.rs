//! Renderings of one [`Plan`]: for people, in the shape Terraform made familiar; as Markdown
//! for a pull request's review comment; and as a versioned JSON document for tools. None
//! prints: each returns or writes text.

mod diff;
mod markdown;

pub use markdown::{GITHUB_COMMENT_LIMIT, MarkdownOptions, markdown};

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde_json::Value;

use crate::plan::{Action, Change, Plan};

/// How to render for people.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanOptions {
    /// Use ANSI colours (the caller decides: a terminal, and no `NO_COLOR`).
    pub color: bool,
}

/// Writes the plan as compact JSON on one line: the same document a saved plan holds.
pub fn write_json(plan: &Plan, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    serde_json::to_writer(&mut out, plan)?;
    writeln!(out)?;
    out.flush()
}

/// The plan as JSON text.
pub fn json(plan: &Plan) -> String {
    let mut out = Vec::new();
    write_json(plan, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    fn symbol(&self, action: Action) -> String {
        let (text, color) = match action {
            Action::Create => ("+", AnsiColor::Green),
            Action::Update => ("~", AnsiColor::Yellow),
            Action::Delete => ("-", AnsiColor::Red),
            Action::Adopt => ("<=", AnsiColor::Cyan),
            Action::NoOp => (" ", AnsiColor::White),
        };
        self.paint(Style::new().fg_color(Some(color.into())).bold(), text)
    }

    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }
}

fn verb(change: &Change) -> String {
    match (change.action, &change.creating) {
        (Action::Create, Some(request)) => {
            format!("is being created (request {request}); apply waits for it")
        }
        (Action::Create, None) => "will be created".to_owned(),
        (Action::Update, _) => "will be updated in place".to_owned(),
        (Action::Adopt, _) => {
            "exists without the ownership tags and will be adopted (tagged and fixed)".to_owned()
        }
        (Action::Delete, _) => "will be deleted".to_owned(),
        (Action::NoOp, _) => "is up to date".to_owned(),
    }
}

/// Shows a value for a person (see [`diff::show`]), its later lines indented.
fn show(value: &Value, indent: usize) -> String {
    diff::show(value).replace('\n', &format!("\n{}", " ".repeat(indent)))
}

/// The plan for people as text.
pub fn human(plan: &Plan, options: HumanOptions) -> String {
    let mut out = Vec::new();
    write_human(plan, options, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the plan is UTF-8")
}

/// Writes the plan for people: each change, then notes and conflicts, then the summary line.
/// It is written as it is rendered: a large plan is never held in memory as text.
pub fn write_human(plan: &Plan, options: HumanOptions, out: impl Write) -> io::Result<()> {
    let p = Palette {
        color: options.color,
    };
    let mut out = io::BufWriter::new(out);
    let changes: Vec<&Change> = plan.changes().collect();
    if !changes.is_empty() {
        writeln!(
            out,
            "lz will perform the following actions, in this order:\n"
        )?;
    }
    for change in &changes {
        let where_ = change
            .account
            .as_deref()
            .map(|a| format!(" in account {a}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  # {}{where_} {}",
            p.bold(change.address.as_str()),
            verb(change)
        )?;
        writeln!(
            out,
            "  {} {} {}",
            p.symbol(change.action),
            change.kind.as_str(),
            change.address
        )?;
        match change.action {
            Action::Create => {
                if let Some(after) = &change.after
                    && let Value::Object(fields) = serde_json::to_value(after).unwrap_or_default()
                {
                    let width = fields.keys().map(String::len).max().unwrap_or(0);
                    for (name, value) in fields.iter().filter(|(k, _)| *k != "type") {
                        writeln!(out, "      {name:width$} = {}", show(value, 6 + width + 3))?;
                    }
                }
            }
            Action::Update | Action::Adopt => {
                for attribute in &change.attributes {
                    if diff::is_document(&attribute.before, &attribute.after) {
                        writeln!(out, "    {} {}:", p.symbol(Action::Update), attribute.name)?;
                        for line in diff::lines(&attribute.before, &attribute.after) {
                            let line = match line {
                                diff::Line::Same(text) => format!("          {text}"),
                                diff::Line::Removed(text) => {
                                    format!("        {} {text}", p.symbol(Action::Delete))
                                }
                                diff::Line::Added(text) => {
                                    format!("        {} {text}", p.symbol(Action::Create))
                                }
                                diff::Line::Gap => "          ...".to_owned(),
                            };
                            writeln!(out, "{line}")?;
                        }
                        continue;
                    }
                    let indent = 8 + attribute.name.len() + 2;
                    writeln!(
                        out,
                        "    {} {}: {} -> {}",
                        p.symbol(Action::Update),
                        attribute.name,
                        show(&attribute.before, indent),
                        show(&attribute.after, indent)
                    )?;
                }
            }
            Action::Delete | Action::NoOp => {}
        }
        if !change.unknown.is_empty() {
            let waits: Vec<&str> = change.unknown.iter().map(|a| a.as_str()).collect();
            writeln!(out, "      (waits for {})", waits.join(", "))?;
        }
        writeln!(out)?;
    }
    for note in &plan.unreadable {
        writeln!(
            out,
            "{}: {}: {}",
            p.paint(
                Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
                "Unreadable"
            ),
            one_line(&note.address),
            one_line(&note.message)
        )?;
    }
    for note in &plan.notes {
        writeln!(
            out,
            "Note: {}: {}",
            one_line(&note.address),
            one_line(&note.message)
        )?;
    }
    for conflict in &plan.conflicts {
        writeln!(
            out,
            "{}: {}",
            p.paint(
                Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
                "Conflict"
            ),
            one_line(&conflict.message)
        )?;
    }
    if !plan.notes.is_empty() || !plan.conflicts.is_empty() || !plan.unreadable.is_empty() {
        writeln!(out)?;
    }
    writeln!(out, "{}", summary_line(plan))?;
    out.flush()
}

/// A message as one line of a terminal: names read from AWS may hold line breaks, escapes
/// and other control characters (Organizations allows any in an account's or a unit's name),
/// which would forge lines of the plan or drive the terminal; they are written escaped.
pub(crate) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// `Plan: 3 to create, 1 to update, 0 to delete.` or the no-changes sentence.
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary;
    if !s.has_changes() {
        return "No changes. The landing zone matches the blueprint.".to_owned();
    }
    let adopt = if s.adopt > 0 {
        format!("{} to adopt, ", s.adopt)
    } else {
        String::new()
    };
    format!(
        "Plan: {adopt}{} to create, {} to update, {} to delete.",
        s.create, s.update, s.delete
    )
}
