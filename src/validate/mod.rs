//! Reading and validating a blueprint, reporting every problem at once with its location.
//!
//! The steps, each of which still runs when an earlier one found problems:
//! 1. read the YAML into a span-carrying tree ([`crate::yaml`]); a syntax error is reported
//!    alone, since nothing after it can be trusted;
//! 2. check the tree against the JSON Schema derived from [`Blueprint`] ([`structure`]):
//!    unknown keys, wrong types, missing fields, values outside an enumeration;
//! 3. drop what step 2 found wrong and, if the rest still makes a [`Blueprint`], run the
//!    semantic rules on it ([`rules`]): undefined environments, duplicates, names AWS refuses;
//! 4. sort everything by position.
//!
//! The blueprint is returned only when nothing was reported.

mod documents;
mod guarantees;
mod lockout;
mod names;
mod quotas;
mod rules;
mod structure;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::blueprint::Blueprint;
use crate::yaml::{self, Pos, Positions};

pub(crate) use lockout::{conflicts as lockout_conflicts, findings as lockout_findings};
pub use names::{is_bucket_name, is_iam_name, is_landing_zone_name, is_region_name, partition_of};

/// A path to a field of the blueprint, printed dotted (`customers.lumo.environments[0]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Segment {
    Key(String),
    Index(usize),
}

impl FieldPath {
    /// The document root.
    pub fn root() -> FieldPath {
        FieldPath::default()
    }

    /// This path followed by a mapping key.
    pub fn key(&self, key: impl Into<String>) -> FieldPath {
        let mut next = self.clone();
        next.segments.push(Segment::Key(key.into()));
        next
    }

    /// This path followed by a sequence index.
    pub fn index(&self, index: usize) -> FieldPath {
        let mut next = self.clone();
        next.segments.push(Segment::Index(index));
        next
    }

    /// The JSON pointer of this path, as [`Positions`] indexes it.
    pub fn pointer(&self) -> String {
        yaml::pointer(self.segments.iter().map(|s| match s {
            Segment::Key(k) => k.clone(),
            Segment::Index(i) => i.to_string(),
        }))
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(k) if n == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Whether a problem is reported at a field's key or at its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    Key,
    Value,
}

/// A problem found before the position is known.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub path: FieldPath,
    pub at: At,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn at_value(path: FieldPath, message: impl Into<String>) -> Problem {
        Problem {
            path,
            at: At::Value,
            message: message.into(),
            hint: None,
        }
    }

    pub fn at_key(path: FieldPath, message: impl Into<String>) -> Problem {
        Problem {
            at: At::Key,
            ..Problem::at_value(path, message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }

    fn locate(self, positions: &Positions) -> Diagnostic {
        let pointer = self.path.pointer();
        let pos = match self.at {
            At::Key => positions.key_pos(&pointer),
            At::Value => positions.value_pos(&pointer),
        };
        Diagnostic {
            pos,
            path: crate::yaml::shorten(&self.path.to_string(), 200),
            // Escaped as a whole too: a quoted value may itself hold a backtick, which
            // throws the pairing of quotes off (found by fuzzing).
            message: crate::yaml::shorten(&shorten_quotes(&self.message), usize::MAX),
            hint: self.hint,
            file: None,
        }
    }
}

/// A message with every quoted value (between backticks) of more than 80 characters shortened:
/// a diagnostic is one line, whatever the blueprint holds.
fn shorten_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1_000));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(&crate::yaml::shorten(part, 80));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// One problem in a blueprint, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Line and column.
    pub pos: Pos,
    /// The dotted field path (`customers.lumo.environments[0]`); empty for a syntax error.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, where that helps.
    pub hint: Option<String>,
    /// The file the problem is in, when not the blueprint itself: a guardrail's policy file.
    pub file: Option<Arc<IncludedFile>>,
}

/// A file the blueprint names and lz read, for diagnostics located in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IncludedFile {
    /// Its path, as lz opened it.
    pub path: PathBuf,
    /// Its text, for rendering snippets.
    pub text: Arc<str>,
}

/// A blueprint that cannot be used, with every problem found in it.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// The file's name as given.
    pub file: PathBuf,
    /// The file's text, for rendering snippets.
    pub source: Arc<str>,
    /// Every problem, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for Invalid {
    /// One line per problem, `FILE:LINE:COLUMN: field.path: message`, with an indented hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, d) in self.diagnostics.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            let file = d.file.as_ref().map_or(&self.file, |f| &f.path);
            write!(f, "{}:{}: ", file.display(), d.pos)?;
            if !d.path.is_empty() {
                write!(f, "{}: ", d.path)?;
            }
            write!(f, "{}", d.message)?;
            if let Some(hint) = &d.hint {
                write!(f, "\n  hint: {hint}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

impl Invalid {
    /// The problems as `miette` diagnostics pointing into the source, for graphical reports.
    pub fn reports(&self) -> Vec<miette::Report> {
        self.diagnostics
            .iter()
            .map(|d| {
                let (path, text) = match &d.file {
                    Some(f) => (&f.path, &f.text),
                    None => (&self.file, &self.source),
                };
                let source = miette::NamedSource::new(path.display().to_string(), text.clone());
                let offset = d.pos.offset.unwrap_or_else(|| offset_of(text, d.pos));
                let label = miette::LabeledSpan::at_offset(offset, d.message.clone());
                let mut report = miette::MietteDiagnostic::new(if d.path.is_empty() {
                    d.message.clone()
                } else {
                    format!("{}: {}", d.path, d.message)
                })
                .with_label(label);
                if let Some(hint) = &d.hint {
                    report = report.with_help(hint.clone());
                }
                miette::Report::new(report).with_source_code(source)
            })
            .collect()
    }
}

/// The byte offset of a 1-based line and character column.
fn offset_of(text: &str, pos: Pos) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(pos.line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let column: usize = text[line_start..]
        .chars()
        .take(pos.column.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    line_start + column
}

/// Why a blueprint file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file was read and has problems.
    #[error("{0}")]
    Invalid(Invalid),
}

impl Blueprint {
    /// Reads and validates the blueprint at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Blueprint, LoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        Blueprint::parse(path, &text).map_err(LoadError::Invalid)
    }

    /// Validates `text`, reporting problems against the file name `file`.
    pub fn parse(file: impl AsRef<Path>, text: &str) -> Result<Blueprint, Invalid> {
        let invalid = |diagnostics| Invalid {
            file: file.as_ref().to_owned(),
            source: Arc::from(text),
            diagnostics,
        };
        let (value, positions) = match yaml::read(text) {
            Ok(read) => read,
            Err(e) => {
                return Err(invalid(vec![Diagnostic {
                    pos: e.pos,
                    path: String::new(),
                    message: format!("YAML syntax error: {}", e.message),
                    hint: None,
                    file: None,
                }]));
            }
        };
        let base = file.as_ref().parent().unwrap_or(Path::new(""));
        let (blueprint, diagnostics) = check(value, &positions, base);
        match blueprint {
            Some(blueprint) if diagnostics.is_empty() => Ok(blueprint),
            _ => Err(invalid(diagnostics)),
        }
    }
}

/// Runs the structural and semantic checks; returns the blueprint if it could be built at all.
fn check(
    mut value: Value,
    positions: &Positions,
    base: &Path,
) -> (Option<Blueprint>, Vec<Diagnostic>) {
    let found = structure::check(&value);
    for pointer in &found.prune {
        remove(&mut value, pointer);
    }
    let mut problems = found.problems;
    let mut blueprint = serde_json::from_value::<Blueprint>(value).ok();
    let mut in_files = Vec::new();
    if let Some(blueprint) = &mut blueprint {
        problems.extend(rules::check(blueprint));
        if problems.is_empty() {
            let (more, diagnostics) = documents::load(blueprint, base);
            problems.extend(more);
            in_files = diagnostics;
        }
    }
    if let Some(blueprint) = &blueprint {
        // Measuring and evaluating need a sound blueprint, and are worth running only on one.
        if problems.is_empty() {
            problems.extend(quotas::check(blueprint));
        }
        if problems.is_empty() {
            problems.extend(guarantees::check(blueprint));
        }
        if problems.is_empty() {
            problems.extend(lockout::check(blueprint));
        }
    }
    let mut diagnostics: Vec<Diagnostic> =
        problems.into_iter().map(|p| p.locate(positions)).collect();
    diagnostics.extend(in_files);
    diagnostics.sort_by(|a, b| {
        (&a.file, a.pos, &a.path, &a.message).cmp(&(&b.file, b.pos, &b.path, &b.message))
    });
    diagnostics.dedup();
    if diagnostics.is_empty() && blueprint.is_none() {
        // Cannot happen while the schema and the types agree; say so rather than accept.
        diagnostics.push(Diagnostic {
            pos: Pos::START,
            path: String::new(),
            message: "the blueprint passed the schema but could not be read; this is a bug in lz"
                .to_owned(),
            hint: None,
            file: None,
        });
    }
    (blueprint, diagnostics)
}

/// Removes the value at `pointer` from its parent mapping, or the parent of a sequence item
/// (removing an item would shift the positions of the items after it).
fn remove(value: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            let key = last.replace("~1", "/").replace("~0", "~");
            map.shift_remove(&key);
        }
        Some(Value::Array(_)) => remove(value, parent),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
