//! A span-carrying reading of a YAML document.
//!
//! serde stops at the first error, so the blueprint is first read into a generic tree whose
//! every node carries its line and column (serde-saphyr's [`Spanned`]). The tree becomes a
//! [`serde_json::Value`], which the JSON Schema check and the typed deserialisation both read,
//! and a [`Positions`] index from each value's JSON pointer to where it stands in the file, so
//! that a problem found anywhere later can still be reported at its line and column.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Byte offset from the start of the file, when known.
    pub offset: Option<usize>,
}

impl Pos {
    /// The start of the file.
    pub const START: Pos = Pos {
        line: 1,
        column: 1,
        offset: Some(0),
    };

    fn from_location(location: &serde_saphyr::Location) -> Pos {
        if location.line() == 0 {
            return Pos::START;
        }
        Pos {
            line: u32::try_from(location.line()).unwrap_or(u32::MAX),
            column: u32::try_from(location.column()).unwrap_or(u32::MAX),
            offset: location
                .span()
                .byte_offset()
                .and_then(|o| usize::try_from(o).ok()),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where a value stands: its key (for mapping entries) and the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The key's position, for a value that is a mapping entry.
    pub key: Option<Pos>,
    /// The value's position.
    pub value: Pos,
}

/// An index from JSON pointer (`/customers/lumo/environments/0`) to position.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    places: HashMap<String, Place>,
}

impl Positions {
    /// Where the value at `pointer` stands, if the document has it.
    pub fn get(&self, pointer: &str) -> Option<Place> {
        self.places.get(pointer).copied()
    }

    /// The best position to report a problem with the value at `pointer`: the value itself,
    /// or failing that its nearest ancestor that exists (a missing field is reported at the
    /// mapping that lacks it).
    pub fn value_pos(&self, pointer: &str) -> Pos {
        self.nearest(pointer).map_or(Pos::START, |p| p.value)
    }

    /// The best position to report a problem with the key at `pointer` (an unknown key, a
    /// duplicate name): the key if there is one, else the value.
    pub fn key_pos(&self, pointer: &str) -> Pos {
        self.nearest(pointer)
            .map_or(Pos::START, |p| p.key.unwrap_or(p.value))
    }

    fn nearest(&self, pointer: &str) -> Option<Place> {
        let mut pointer = pointer;
        loop {
            if let Some(place) = self.places.get(pointer) {
                return Some(*place);
            }
            let cut = pointer.rfind('/')?;
            pointer = &pointer[..cut];
        }
    }
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from segments.
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    segments
        .into_iter()
        .map(|s| format!("/{}", escape_segment(s.as_ref())))
        .collect()
}

/// A YAML syntax error: the document could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// The parser's message, without its own location prefix.
    pub message: String,
}

/// How deep a document may nest.
const MAX_DEPTH: usize = 24;

/// Reads `text` into a JSON value and the positions of all its nodes.
pub fn read(text: &str) -> Result<(Value, Positions), SyntaxError> {
    // A blueprint nests about six levels; a document nested much deeper is refused before its
    // depth can exhaust a thread's stack (2 MiB on a tokio worker).
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
    };
    let root: Spanned<Node> = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let pos = e.location().map_or(Pos::START, |l| Pos::from_location(&l));
        SyntaxError {
            pos,
            message: strip_location(&e.to_string()),
        }
    })?;
    let mut positions = Positions::default();
    let value = convert(root, None, String::new(), &mut positions);
    Ok((value, positions))
}

/// serde-saphyr's message begins with `line L column C: ` and may end with a rendered snippet;
/// the caller prints its own location, so keep only the message, for people: without the
/// parser's advice about its own options, and no longer than a line.
fn strip_location(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let bare = match first.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") && head.contains(" column ") => rest,
        _ => first,
    };
    // `duplicate mapping key: a, set DuplicateKeyPolicy in Options if acceptable`
    let bare = match bare.find(", set ") {
        Some(i) if bare[i..].contains(" in Options") => &bare[..i],
        _ => bare,
    };
    // The parser's limits, named in its own terms (`budget breached: Depth { depth: 65 }`).
    if let Some(limit) = bare.strip_prefix("budget breached: ") {
        let number: String = limit.chars().filter(char::is_ascii_digit).collect();
        return match limit.split_whitespace().next() {
            Some("Depth") => format!("the document nests deeper than {number} levels"),
            Some("Nodes") => format!(
                "the document expands to more than {number} values (aliases within aliases?)"
            ),
            _ => "the document is larger than lz reads".to_owned(),
        };
    }
    if bare == "recursion limit exceeded" {
        return "the document nests too deeply".to_owned();
    }
    shorten(bare, 200)
}

/// `text` on one line (control characters escaped), cut to at most `max` characters with an
/// ellipsis when longer.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    // Control characters are shown escaped, so a quoted value never breaks the line (found by
    // fuzzing: a scalar spanning blank lines).
    let mut one_line = text.chars().flat_map(|c| match c {
        '\n' => "\\n".chars().collect::<Vec<_>>(),
        '\r' => "\\r".chars().collect(),
        '\t' => "\\t".chars().collect(),
        c if c.is_control() => c.escape_unicode().collect(),
        c => vec![c],
    });
    let kept: String = one_line.by_ref().take(max.saturating_sub(1)).collect();
    match (one_line.next(), one_line.next()) {
        (None, _) => kept,
        (Some(last), None) => format!("{kept}{last}"),
        (Some(_), Some(_)) => format!("{kept}…"),
    }
}

fn convert(node: Spanned<Node>, key: Option<Pos>, at: String, positions: &mut Positions) -> Value {
    let place = Place {
        key,
        value: Pos::from_location(&node.referenced),
    };
    let value = match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Int(i) => Value::Number(Number::from(i)),
        Node::Uint(u) => Value::Number(Number::from(u)),
        Node::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s),
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| convert(item, None, format!("{at}/{i}"), positions))
                .collect(),
        ),
        Node::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let name = k.value.key_text();
                let key_pos = Pos::from_location(&k.referenced);
                let child = format!("{at}/{}", escape_segment(&name));
                let v = convert(v, Some(key_pos), child, positions);
                map.insert(name, v);
            }
            Value::Object(map)
        }
    };
    positions.places.insert(at, place);
    value
}

/// Any YAML node, with spans on its children.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl Node {
    /// A mapping key as text: YAML allows `1: x` or `true: x`, JSON only strings.
    fn key_text(&self) -> String {
        match self {
            Node::Null => "null".to_owned(),
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::Uint(u) => u.to_string(),
            Node::Float(f) => f.to_string(),
            Node::Str(s) => s.clone(),
            Node::Seq(_) | Node::Map(_) => "<complex key>".to_owned(),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Uint(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let (value, positions) =
            read("a: 1\nb:\n  - x\n  - {c: true}\nd: ~\n").expect("valid YAML");
        assert_eq!(value["b"][1]["c"], Value::Bool(true));
        assert_eq!(value["d"], Value::Null);
        let c = positions.get("/b/1/c").expect("c is indexed");
        assert_eq!((c.key.unwrap().line, c.key.unwrap().column), (4, 6));
        assert_eq!((c.value.line, c.value.column), (4, 9));
        assert_eq!(
            positions.key_pos("/a"),
            positions.get("/a").unwrap().key.unwrap()
        );
        // A missing child is reported where its parent stands.
        assert_eq!(positions.value_pos("/b/1/missing").line, 4);
    }

    #[test]
    fn syntax_error_has_position_and_bare_message() {
        let err = read("a: [1\nb: 2\n").unwrap_err();
        assert_eq!((err.pos.line, err.pos.column), (2, 2));
        assert_eq!(err.message, "illegal placement of ':' indicator");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = read("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.pos.line, 2);
        // Without the parser's advice on its own options.
        assert_eq!(err.message, "duplicate mapping key: a");
    }

    #[test]
    fn a_syntax_error_on_a_huge_line_is_one_short_line() {
        let key = "k".repeat(100_000);
        let err = read(&format!("{key}: 1\n{key}: 2\n")).unwrap_err();
        assert!(err.message.chars().count() <= 200, "{}", err.message.len());
        assert!(!err.message.contains('\n'));
        let long_key = "k".repeat(1_000);
        let err = read(&format!("{long_key}: 1\n{long_key}: 2\n")).unwrap_err();
        assert!(
            err.message.starts_with("duplicate mapping key: kkk"),
            "{}",
            err.message
        );
        assert!(err.message.chars().count() <= 200);
    }

    #[test]
    fn pointers_escape_slashes() {
        assert_eq!(pointer(["a/b", "c~d"]), "/a~1b/c~0d");
    }
}
