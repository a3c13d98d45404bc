//! The plan as Markdown, for a pull request's review comment: the summary line, tables by
//! action and by account, each change in a collapsible section with its attribute diff, then
//! notes, conflicts and the `lz check` summary.
//!
//! A comment has a size limit (GitHub's is 65,536 characters). A plan that does not fit is
//! shortened in steps, and says so at the top: first each change loses its details and keeps
//! one line; then the account table, the notes and the change list keep as many entries as fit
//! and count the rest. The summary, the conflicts and the check are never cut: they are what a
//! reviewer must see. The size is measured in bytes, which are never fewer than characters.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::diff::{self, Line};
use super::summary_line;
use crate::check::{self, Report};
use crate::plan::{Action, Change, Plan};

/// The most characters GitHub accepts in a pull request comment.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// How to render the Markdown plan.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownOptions<'a> {
    /// The security check of the organization the plan would leave, summarised at the end.
    pub check: Option<&'a Report>,
    /// The most bytes the document may take; see [`GITHUB_COMMENT_LIMIT`].
    pub max_len: usize,
}

impl Default for MarkdownOptions<'_> {
    fn default() -> Self {
        MarkdownOptions {
            check: None,
            max_len: GITHUB_COMMENT_LIMIT,
        }
    }
}

/// The failing properties listed under the check summary, at most.
const FAILURES_SHOWN: usize = 20;

/// The plan as Markdown, at most `options.max_len` bytes (but for a summary, conflicts and
/// check that alone exceed it, which are never cut).
pub fn markdown(plan: &Plan, options: MarkdownOptions<'_>) -> String {
    let changes: Vec<&Change> = plan.changes().collect();
    let head = head(plan);
    let end = conflicts_and_check(plan, options.check);
    let accounts = account_rows(&changes);
    let notes: Vec<String> = plan
        .unreadable
        .iter()
        .map(|n| {
            format!(
                "- **Unreadable** {}: {}\n",
                code(&n.address),
                inline(&n.message)
            )
        })
        .chain(
            plan.notes
                .iter()
                .map(|n| format!("- {}: {}\n", code(&n.address), inline(&n.message))),
        )
        .collect();
    let brief: Vec<String> = changes.iter().map(|c| brief(c)).collect();
    let notice = |what: &str| {
        format!(
            "> [!NOTE]\n> This plan is shortened to fit the {} characters a comment may hold: \
             {what}. Run `lz plan` for the whole plan, or read the JSON plan.\n\n",
            options.max_len
        )
    };
    let some_brief = notice("the changes without details show one line each");
    let fixed = assemble(&head, Some(&some_brief), &accounts, &brief, &notes, &end).len();
    if fixed <= options.max_len {
        // Details where they fit: changes to what exists first, then creations, in order.
        let mut room = options.max_len - fixed;
        let mut shown = brief.clone();
        let mut all = true;
        let mut seen = Seen::new();
        let mut order: Vec<usize> = (0..changes.len()).collect();
        order.sort_by_key(|&i| changes[i].action == Action::Create);
        for i in order {
            let (section, first) = detailed(changes[i], &seen);
            let extra = section.len().saturating_sub(brief[i].len());
            if extra <= room {
                room -= extra;
                shown[i] = section;
                seen.extend(first);
            } else {
                all = false;
            }
        }
        let notice = (!all).then_some(some_brief.as_str());
        return assemble(&head, notice, &accounts, &shown, &notes, &end);
    }
    let notice =
        notice("each change shows one line, and the lists end with a count of what was left out");
    // What is left for the three lists, shared in proportion: changes first.
    let fixed = assemble(&head, Some(&notice), &[], &[], &[], &end).len();
    let room = options.max_len.saturating_sub(fixed);
    let accounts = fit(&accounts, room / 4, "| … | and {} more accounts | | | |\n");
    let notes = fit(&notes, room / 8, "- … and {} more notes\n");
    let used: usize = accounts
        .iter()
        .chain(&notes)
        .map(String::len)
        .sum::<usize>()
        + 200;
    let brief = fit(
        &brief,
        room.saturating_sub(used),
        "- … and {} more changes\n",
    );
    assemble(&head, Some(&notice), &accounts, &brief, &notes, &end)
}

/// The most lines a document may have and still be repeated rather than named.
const SHORT_DOCUMENT: usize = 4;

/// Documents already shown in full, by their text: where each was first shown.
type Seen = HashMap<String, String>;

/// As many entries as fit in `room` bytes, then a line counting the rest (`{}` in `more`).
fn fit(entries: &[String], room: usize, more: &str) -> Vec<String> {
    let total: usize = entries.iter().map(String::len).sum();
    if total <= room {
        return entries.to_vec();
    }
    let reserve = more.len() + 8;
    let mut used = 0;
    let mut kept = Vec::new();
    for entry in entries {
        if used + entry.len() + reserve > room {
            break;
        }
        used += entry.len();
        kept.push(entry.clone());
    }
    let left = entries.len() - kept.len();
    kept.push(more.replace("{}", &left.to_string()));
    kept
}

fn assemble(
    head: &str,
    notice: Option<&str>,
    accounts: &[String],
    changes: &[String],
    notes: &[String],
    end: &str,
) -> String {
    let mut out = String::new();
    out.push_str(head);
    if let Some(notice) = notice {
        out.push_str(notice);
    }
    if !accounts.is_empty() {
        out.push_str("| Account | Create | Adopt | Update | Delete |\n|---|--:|--:|--:|--:|\n");
        out.extend(accounts.iter().map(String::as_str));
        out.push('\n');
    }
    if !changes.is_empty() {
        out.push_str("### Changes\n\n");
        out.extend(changes.iter().map(String::as_str));
        out.push('\n');
    }
    if !notes.is_empty() {
        out.push_str("### Notes\n\n");
        out.extend(notes.iter().map(String::as_str));
        out.push('\n');
    }
    out.push_str(end);
    out
}

/// The title, the summary line and the table by action.
fn head(plan: &Plan) -> String {
    let mut out = format!(
        "## lz plan: {}\n\n**{}**\n\n",
        code(&plan.blueprint),
        summary_line(plan)
    );
    let s = plan.summary;
    if s.has_changes() {
        out.push_str("| Action | Resources |\n|---|--:|\n");
        for (action, n) in [
            (Action::Create, s.create),
            (Action::Adopt, s.adopt),
            (Action::Update, s.update),
            (Action::Delete, s.delete),
        ] {
            if n > 0 {
                let _ = writeln!(out, "| {} {action} | {n} |", symbol(action));
            }
        }
        out.push('\n');
    }
    out
}

/// One row per account with changes, in the plan's order; the management account first.
fn account_rows(changes: &[&Change]) -> Vec<String> {
    let mut rows: Vec<(&str, [usize; 4])> = Vec::new();
    for change in changes {
        let account = change.account.as_deref().unwrap_or("(management)");
        let i = match rows.iter().position(|(a, _)| *a == account) {
            Some(i) => i,
            None => {
                rows.push((account, [0; 4]));
                rows.len() - 1
            }
        };
        let column = match change.action {
            Action::Create => 0,
            Action::Adopt => 1,
            Action::Update => 2,
            Action::Delete => 3,
            Action::NoOp => continue,
        };
        rows[i].1[column] += 1;
    }
    rows.iter()
        .map(|(account, [c, a, u, d])| format!("| {} | {c} | {a} | {u} | {d} |\n", cell(account)))
        .collect()
}

/// The notes a reviewer must see, and the check: never cut.
fn conflicts_and_check(plan: &Plan, check: Option<&Report>) -> String {
    let mut out = String::new();
    if !plan.conflicts.is_empty() {
        out.push_str("### Conflicts\n\nApply refuses this plan while these remain:\n\n");
        for conflict in &plan.conflicts {
            let _ = writeln!(
                out,
                "- {}: {}",
                code(conflict.address.as_str()),
                inline(&conflict.message)
            );
        }
        out.push('\n');
    }
    if let Some(report) = check {
        let _ = writeln!(
            out,
            "### Security check\n\n{} {}\n",
            if report.passed() { "✅" } else { "❌" },
            check::summary_line(report)
        );
        let failures: Vec<_> = report.failures().collect();
        for p in failures.iter().take(FAILURES_SHOWN) {
            let tier = p.tier.map(|t| format!(" ({t})")).unwrap_or_default();
            let _ = writeln!(out, "- {}{tier}: {}", code(&p.account), inline(&p.claim));
        }
        if failures.len() > FAILURES_SHOWN {
            let _ = writeln!(
                out,
                "- … and {} more; run `lz check` for the paths",
                failures.len() - FAILURES_SHOWN
            );
        }
        if !failures.is_empty() {
            out.push('\n');
        }
    }
    out
}

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
        Action::Adopt => "<=",
        Action::NoOp => " ",
    }
}

/// The change in one line: its symbol, address, account and what happens.
fn brief(change: &Change) -> String {
    format!("- {}\n", headline(change))
}

fn headline(change: &Change) -> String {
    let where_ = change
        .account
        .as_deref()
        // Inside `<summary>`, HTML: Markdown's backticks would show as backticks.
        .map(|a| format!(" in <code>{}</code>", html(a)))
        .unwrap_or_default();
    format!(
        "<code>{} {}</code>{where_} {}",
        html(symbol(change.action)),
        html(change.address.as_str()),
        html(&super::verb(change))
    )
}

/// The change in a collapsible section, its attributes as a diff. A document already shown
/// (the same trust policy in every account) is named rather than repeated; the documents this
/// section shows first are returned with it.
fn detailed(change: &Change, seen: &Seen) -> (String, Vec<(String, String)>) {
    let mut body = String::new();
    let mut first = Vec::new();
    let mut whole = |body: &mut String, sign: char, name: &str, value: &Value| {
        let shown = diff::show(value);
        // Short documents (a list of two policy ARNs) read better repeated than named.
        if shown.lines().count() > SHORT_DOCUMENT {
            if let Some(place) = seen.get(&shown) {
                let _ = writeln!(body, "{sign} {name} = (the same as {place})");
                return;
            }
            first.push((shown.clone(), format!("{}.{name}", change.address)));
        }
        prefixed(body, sign, &format!("{name} = "), &shown);
    };
    match change.action {
        Action::Create => {
            for (name, value) in fields(change.after.as_deref()) {
                whole(&mut body, '+', &name, &value);
            }
        }
        Action::Delete => {
            for (name, value) in fields(change.before.as_deref()) {
                whole(&mut body, '-', &name, &value);
            }
        }
        Action::Update | Action::Adopt => {
            for attribute in &change.attributes {
                if diff::is_document(&attribute.before, &attribute.after) {
                    let _ = writeln!(body, "  {}:", attribute.name);
                    for line in diff::lines(&attribute.before, &attribute.after) {
                        let _ = match line {
                            Line::Same(text) => writeln!(body, "    {text}"),
                            Line::Removed(text) => writeln!(body, "-   {text}"),
                            Line::Added(text) => writeln!(body, "+   {text}"),
                            Line::Gap => writeln!(body, "    ..."),
                        };
                    }
                } else {
                    let name = format!("{} = ", attribute.name);
                    prefixed(&mut body, '-', &name, &diff::show(&attribute.before));
                    prefixed(&mut body, '+', &name, &diff::show(&attribute.after));
                }
            }
        }
        Action::NoOp => {}
    }
    if !change.unknown.is_empty() {
        let waits: Vec<&str> = change.unknown.iter().map(|a| a.as_str()).collect();
        let _ = writeln!(body, "# waits for {}", waits.join(", "));
    }
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    let section = format!(
        "<details><summary>{}</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n",
        headline(change)
    );
    (section, first)
}

/// A resource's fields, as in the JSON plan (without its kind).
fn fields(spec: Option<&crate::desired::Spec>) -> Vec<(String, Value)> {
    let Some(Value::Object(map)) = spec.map(|s| serde_json::to_value(s).unwrap_or_default()) else {
        return Vec::new();
    };
    map.into_iter().filter(|(k, _)| k != "type").collect()
}

/// `sign name = value`, every line of a document value carrying the sign.
fn prefixed(out: &mut String, sign: char, name: &str, shown: &str) {
    let pad = " ".repeat(name.len());
    for (i, line) in shown.lines().enumerate() {
        let lead = if i == 0 { name } else { &pad };
        let _ = writeln!(out, "{sign} {lead}{line}");
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Text for HTML (the `<summary>` of a section).
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A message in running Markdown: on one line, with no HTML of its own.
fn inline(text: &str) -> String {
    html(&text.replace(['\n', '\r'], " "))
}

/// A Markdown code span of any text: fenced with one backtick more than the longest run in it.
fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let run = longest_backtick_run(&text);
    if run == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(run + 1);
    format!("{fence} {text} {fence}")
}

/// A table cell.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests;
