//! The structural check: the document against the JSON Schema derived from [`Blueprint`].
//!
//! The schema comes from the same types serde deserialises into, so the two cannot disagree
//! about which keys exist or which types they hold (a test keeps it so). The `jsonschema`
//! crate finds every violation in one pass; this module only words them for people.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{JsonType, ValidationError, Validator};
use serde_json::Value;

use super::{FieldPath, Problem};
use crate::blueprint::Blueprint;

/// What the structural check found.
pub(super) struct Found {
    /// The problems.
    pub problems: Vec<Problem>,
    /// JSON pointers of values to drop so that the rest can still be deserialised and checked.
    pub prune: Vec<String>,
}

struct Schema {
    root: Value,
    validator: Validator,
}

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let root = Blueprint::json_schema();
        let validator = jsonschema::validator_for(&root).expect("the derived schema is valid");
        Schema { root, validator }
    })
}

pub(super) fn check(value: &Value) -> Found {
    let schema = schema();
    let mut found = Found {
        problems: Vec::new(),
        prune: Vec::new(),
    };
    for error in schema.validator.iter_errors(value) {
        word(&schema.root, &error, &mut found);
    }
    found
}

fn path_of(error: &ValidationError<'_>) -> FieldPath {
    error
        .instance_path()
        .segments()
        .fold(FieldPath::root(), |path, segment| match segment {
            LocationSegment::Property(key) => path.key(key.as_ref()),
            LocationSegment::Index(i) => path.index(i),
        })
}

/// The subschema that holds the failing keyword.
fn subschema<'a>(root: &'a Value, error: &ValidationError<'_>) -> Option<&'a Value> {
    let keyword = error.schema_path().as_str();
    let (parent, _) = keyword.rsplit_once('/')?;
    root.pointer(parent)
}

fn word(root: &Value, error: &ValidationError<'_>, found: &mut Found) {
    let path = path_of(error);
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known: Vec<String> = subschema(root, error)
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            for key in unexpected {
                let at = path.key(key.clone());
                found.prune.push(at.pointer());
                found.problems.push(
                    Problem::at_key(at, format!("unknown field `{key}`"))
                        .hint(suggest(key, &known)),
                );
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let at = path.key(name);
            found.problems.push(Problem::at_key(
                at,
                format!("missing required field `{name}`"),
            ));
        }
        ValidationErrorKind::Type { kind } => {
            found.prune.push(path.pointer());
            let expected = match kind {
                TypeKind::Single(t) => type_phrase(*t).to_owned(),
                TypeKind::Multiple(set) => join_or(
                    set.iter()
                        .filter(|t| *t != JsonType::Null)
                        .map(|t| type_phrase(t).to_owned())
                        .collect(),
                ),
            };
            found.problems.push(Problem::at_value(
                path,
                format!("expected {expected}, found {}", describe(instance)),
            ));
        }
        ValidationErrorKind::Enum { options } => {
            found.prune.push(path.pointer());
            let options = options
                .as_array()
                .map(|o| o.iter().map(literal).collect())
                .unwrap_or_default();
            found.problems.push(Problem::at_value(
                path,
                format!(
                    "expected {}, found {}",
                    join_or(options),
                    describe(instance)
                ),
            ));
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // When one alternative has the instance's type, its own errors say more than
            // "matches none": report those.
            if let Some(errors) = context.iter().find(|errors| applies(errors, error)) {
                for inner in errors {
                    word(root, inner, found);
                }
                return;
            }
            found.prune.push(path.pointer());
            let alternatives = subschema(root, error)
                .and_then(|s| s.get("anyOf").or_else(|| s.get("oneOf")))
                .and_then(Value::as_array)
                .map(|alts| alts.iter().filter_map(|a| expectation(root, a)).collect())
                .unwrap_or_default();
            found.problems.push(Problem::at_value(
                path,
                format!(
                    "expected {}, found {}",
                    join_or(alternatives),
                    describe(instance)
                ),
            ));
        }
        ValidationErrorKind::Minimum { limit } => {
            found.prune.push(path.pointer());
            found.problems.push(Problem::at_value(
                path,
                format!("must be at least {limit}, found {instance}"),
            ));
        }
        _ => {
            found.prune.push(path.pointer());
            found
                .problems
                .push(Problem::at_value(path, error.to_string()));
        }
    }
}

/// Whether `inner` only says the value at `outer`'s own path has another type or another
/// enumerated value: the alternative it came from did not apply at all.
fn is_type_mismatch_at(inner: &ValidationError<'_>, outer: &ValidationError<'_>) -> bool {
    if inner.instance_path().as_str() != outer.instance_path().as_str() {
        return false;
    }
    match inner.kind() {
        ValidationErrorKind::Type { .. }
        | ValidationErrorKind::Enum { .. }
        | ValidationErrorKind::Constant { .. } => true,
        // A nested choice is a mismatch only if none of its own alternatives applied.
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            !context.iter().any(|errors| applies(errors, inner))
        }
        _ => false,
    }
}

/// Whether an alternative of the choice `outer` applied to the value: it failed only deeper.
fn applies(errors: &[ValidationError<'_>], outer: &ValidationError<'_>) -> bool {
    !errors.is_empty() && errors.iter().all(|e| !is_type_mismatch_at(e, outer))
}

/// What a subschema accepts, in words; `None` for `null` (an omitted optional field).
fn expectation(root: &Value, schema: &Value) -> Option<String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return expectation(root, root.pointer(reference.strip_prefix('#')?)?);
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return Some(join_or(options.iter().map(literal).collect()));
    }
    if let Some(value) = schema.get("const") {
        return Some(literal(value));
    }
    if let Some(alternatives) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        let words: Vec<String> = alternatives
            .as_array()?
            .iter()
            .filter_map(|a| expectation(root, a))
            .collect();
        return (!words.is_empty()).then(|| join_or(words));
    }
    match schema.get("type")?.as_str()? {
        "null" => None,
        "array" => {
            let items = schema
                .get("items")
                .and_then(|i| expectation(root, i))
                .map(|w| format!(" of {}", plural(&w)))
                .unwrap_or_default();
            Some(format!("a list{items}"))
        }
        other => Some(type_phrase_str(other).to_owned()),
    }
}

fn plural(phrase: &str) -> String {
    match phrase.strip_prefix("a ") {
        Some(rest) => format!("{rest}s"),
        None => phrase.to_owned(),
    }
}

fn type_phrase(t: JsonType) -> &'static str {
    type_phrase_str(t.as_str())
}

fn type_phrase_str(t: &str) -> &'static str {
    match t {
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a mapping",
        _ => "nothing",
    }
}

fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// Describes a value that was found, for "expected X, found Y".
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("`{s}`"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

fn join_or(mut words: Vec<String>) -> String {
    words.dedup();
    match words.len() {
        0 => "something else".to_owned(),
        1 => words.remove(0),
        _ => {
            let last = words.pop().unwrap_or_default();
            format!("{} or {last}", words.join(", "))
        }
    }
}

/// A hint for an unknown key: the closest known key, or all of them.
pub(super) fn suggest(key: &str, known: &[String]) -> String {
    let closest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(key, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d);
    match closest {
        Some((_, k)) => format!("did you mean `{k}`?"),
        None if known.is_empty() => "this mapping takes no keys".to_owned(),
        None => format!(
            "expected one of: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
