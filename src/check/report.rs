//! The check report for people (properties with identical outcomes grouped across accounts)
//! and as JSON.

use std::io::{self, Write};

use super::{Property, Report, Status};

/// `Check: 40 hold, 1 residual, 0 fail.`, and what was not checked.
pub fn summary_line(report: &Report) -> String {
    let s = report.summary;
    let mut line = format!(
        "Check: {} hold, {} residual, {} fail.",
        s.holds, s.residual, s.fails
    );
    if !report.uncovered.is_empty() {
        line.push_str(&format!(" {} not checked.", report.uncovered.len()));
    }
    line
}

/// The report for people. Accounts whose property came out the same share one entry.
pub fn write_human(report: &Report, mut out: impl Write) -> io::Result<()> {
    writeln!(out, "lz check: {} ({})\n", report.blueprint, report.source)?;
    let mut groups: Vec<(&Property, Vec<&str>)> = Vec::new();
    for p in &report.properties {
        match groups.iter_mut().find(|(g, _)| {
            g.tier == p.tier
                && g.claim == p.claim
                && g.status == p.status
                && g.evidence == p.evidence
        }) {
            Some((_, accounts)) => accounts.push(&p.account),
            None => groups.push((p, vec![&p.account])),
        }
    }
    for (p, accounts) in &groups {
        let mark = match p.status {
            Status::Holds => "✓",
            Status::Residual => "~",
            Status::Fails => "✗",
        };
        let subject = p.tier.map_or("", |t| t.key());
        let status = match p.status {
            Status::Holds => "",
            Status::Residual => " (residual, documented)",
            Status::Fails => " FAILS",
        };
        writeln!(out, "  {mark} {subject:<11} {}{status}", p.claim)?;
        writeln!(out, "      in {}", list(accounts))?;
        for (i, step) in p.evidence.iter().enumerate() {
            writeln!(out, "      {}. {step}", i + 1)?;
        }
    }
    for note in &report.notes {
        writeln!(out, "\nNote: {note}")?;
    }
    for gap in &report.uncovered {
        writeln!(out, "\nNot checked: {gap}")?;
    }
    writeln!(out, "\n{}", summary_line(report))
}

fn list(accounts: &[&str]) -> String {
    const SHOWN: usize = 6;
    let mut text = accounts
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if accounts.len() > SHOWN {
        text.push_str(&format!(" and {} more", accounts.len() - SHOWN));
    }
    text
}

/// The report as one JSON document.
pub fn write_json(report: &Report, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)
}
