//! Attribute values as a reviewer reads them: scalars as `before -> after`, documents (a policy,
//! a tag map) as a line diff of their indented JSON with a little context, never as two whole
//! blobs. The diff is `similar`'s (Myers, grouped like `diff -u`).

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::desired::has_placeholder;

/// Lines of context kept around each changed line.
const CONTEXT: usize = 3;

/// One line of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// Unchanged, shown for context.
    Same(String),
    /// Only before.
    Removed(String),
    /// Only after.
    Added(String),
    /// Unchanged lines left out between two groups of changes.
    Gap,
}

/// Shows a value for a person: placeholders as `(known after apply)`, `(none)` for null,
/// documents as indented JSON, scalars as JSON.
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::String(s) if has_placeholder(s) => "(known after apply)".to_owned(),
        Value::Null => "(none)".to_owned(),
        Value::Object(_) | Value::Array(_) => {
            serde_json::to_string_pretty(value).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

/// Whether a change from `before` to `after` reads better as a line diff: either side spans
/// several lines.
pub(crate) fn is_document(before: &Value, after: &Value) -> bool {
    show(before).contains('\n') || show(after).contains('\n')
}

/// The line diff of two values as [`show`] writes them.
pub(crate) fn lines(before: &Value, after: &Value) -> Vec<Line> {
    let (old, new) = (show(before), show(after));
    let diff = TextDiff::from_lines(&old, &new);
    let mut out = Vec::new();
    for (i, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if i > 0 {
            out.push(Line::Gap);
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let text = change.value().trim_end_matches('\n').to_owned();
                out.push(match change.tag() {
                    ChangeTag::Equal => Line::Same(text),
                    ChangeTag::Delete => Line::Removed(text),
                    ChangeTag::Insert => Line::Added(text),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(actions: &[&str]) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "A",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*",
                "Condition": { "Bool": { "aws:MultiFactorAuthPresent": "true" } }
            }]
        })
    }

    #[test]
    fn a_changed_policy_shows_only_the_changed_lines_and_their_context() {
        let before = document(&["s3:GetObject", "s3:ListBucket"]);
        let after = document(&["s3:GetObject", "s3:PutObject"]);
        let diff = lines(&before, &after);
        let removed: Vec<&Line> = diff
            .iter()
            .filter(|l| matches!(l, Line::Removed(_)))
            .collect();
        let added: Vec<&Line> = diff
            .iter()
            .filter(|l| matches!(l, Line::Added(_)))
            .collect();
        assert_eq!(
            removed,
            [&Line::Removed("        \"s3:ListBucket\"".to_owned())]
        );
        assert_eq!(added, [&Line::Added("        \"s3:PutObject\"".to_owned())]);
        // The whole document is 17 lines; the diff holds the change and three lines of
        // context each side, not the version line far above it.
        assert!(diff.len() < show(&before).lines().count());
        assert!(!diff.contains(&Line::Same("  \"Version\": \"2012-10-17\",".to_owned())));
    }

    #[test]
    fn distant_changes_are_two_groups_with_a_gap_between() {
        let mut before = serde_json::Map::new();
        for i in 0..30 {
            before.insert(format!("k{i:02}"), json!(i));
        }
        let mut after = before.clone();
        after.insert("k01".into(), json!("one"));
        after.insert("k28".into(), json!("twenty-eight"));
        let diff = lines(&Value::Object(before), &Value::Object(after));
        assert_eq!(diff.iter().filter(|l| **l == Line::Gap).count(), 1);
        assert_eq!(
            diff.iter().filter(|l| matches!(l, Line::Added(_))).count(),
            2
        );
    }

    #[test]
    fn scalars_are_not_documents_and_placeholders_read_as_unknown() {
        assert!(!is_document(&json!("a"), &json!("b")));
        assert!(is_document(&json!({"a": 1}), &json!(null)));
        assert_eq!(
            show(&json!("arn:aws:iam::(known after apply: account.x):role/r")),
            "(known after apply)"
        );
    }
}
