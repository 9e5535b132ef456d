//! The JSON Schema subset of `json:` (docs/language.md §8.1) compiled to a [`Grammar`]:
//!
//! - `{"type": "object", "properties": {…}, "required": […], "additionalProperties": false}`:
//!   the properties are written in the order `properties` lists them; a property not in
//!   `required` may be left out; no other property is ever written (so
//!   `additionalProperties` may be `false`, `true` or absent). At most 64 properties.
//! - `{"type": "array", "items": S, "minItems": n, "maxItems": m}` (`items` is required).
//! - `{"type": "string", "minLength": n, "maxLength": m}`: lengths in characters (an escape
//!   counts as one); without `maxLength` a string has at most [`DEFAULT_MAX_LENGTH`]
//!   characters, so that generation terminates.
//! - `{"type": "integer"}`, `{"type": "number"}`: at most [`MAX_DIGITS`] digits before and
//!   after the point, at most 3 exponent digits (integers: no point, no exponent).
//! - `{"type": "boolean"}`, `{"type": "null"}`.
//! - `{"enum": ["a", "b"]}` (with `"type": "string"` or no type): one of at most 64 strings.
//!
//! `title`, `description` and `$schema` are annotations and are accepted; any other keyword
//! (`pattern`, `minimum`, `$ref`, `anyOf`, `type` lists, …) is an error naming where it is
//! (a JSON pointer), never ignored.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The most characters a string without `maxLength` may have.
pub const DEFAULT_MAX_LENGTH: u32 = 256;

/// The most digits of an integer, and of each part of a number.
pub const MAX_DIGITS: u8 = 15;

/// The most properties of an object, and strings of an `enum`.
const MAX_CHOICES: usize = 64;

/// One property of an object node.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// The property's name as JSON text after the opening quote: escaped, closing quote
    /// included (`name"`).
    pub key: Vec<char>,
    /// The node of its value.
    pub value: usize,
    /// Whether it must be written.
    pub required: bool,
}

/// What a value of one schema node may be.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// An object with these properties, in this order.
    Object(Vec<Property>),
    /// An array of `items` with between `min` and `max` elements.
    Array {
        /// The node of every element.
        items: usize,
        /// `minItems`.
        min: u32,
        /// `maxItems` (`None`: unbounded).
        max: Option<u32>,
    },
    /// A string of `min..=max` characters.
    String {
        /// `minLength`.
        min: u32,
        /// `maxLength`, or [`DEFAULT_MAX_LENGTH`].
        max: u32,
    },
    /// A JSON integer.
    Integer,
    /// A JSON number.
    Number,
    /// Exactly one of these JSON texts (`true`/`false`, `null`, an enum's quoted strings);
    /// none is a prefix of another.
    Literals(Vec<Vec<char>>),
}

/// A compiled schema: its nodes, the root first.
#[derive(Debug, Clone, PartialEq)]
pub struct Grammar {
    /// The nodes; [`Grammar::ROOT`] is the schema itself.
    pub nodes: Vec<Node>,
}

impl Grammar {
    /// The index of the root node.
    pub const ROOT: usize = 0;

    /// Parses `text` as a JSON Schema of the supported subset. Errors are one line: what is
    /// wrong and where (`at /properties/age: unsupported keyword `minimum``).
    pub fn parse(text: &str) -> Result<Grammar, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        if let Some(key) = value.duplicate_key() {
            return Err(format!("the key `{key}` is written twice in one object"));
        }
        let mut grammar = Grammar { nodes: Vec::new() };
        grammar.node(&value, "")?;
        Ok(grammar)
    }

    /// Compiles `schema` (at JSON pointer `at`) and returns its node's index.
    fn node(&mut self, schema: &Value, at: &str) -> Result<usize, String> {
        let here = if at.is_empty() { "/" } else { at };
        let Value::Object(map) = schema else {
            return Err(format!("at {here}: a schema must be a JSON object, not {}", kind(schema)));
        };
        let index = self.nodes.len();
        self.nodes.push(Node::Integer); // replaced below
        let ty = match map.get("type") {
            None => None,
            Some(Value::String(t)) => Some(t.as_str()),
            Some(other) => return Err(format!("at {here}: `type` must be one type name, not {}", kind(other))),
        };
        let node = match (ty, map.get("enum")) {
            (None | Some("string"), Some(values)) => {
                allow(map, &["type", "enum"], here)?;
                let Value::Array(values) = values else { return Err(format!("at {here}: `enum` must be a list of strings")) };
                let mut literals: Vec<Vec<char>> = Vec::new();
                for v in values {
                    let Value::String(s) = v else {
                        return Err(format!("at {here}: only strings are supported in `enum`, not {}", kind(v)));
                    };
                    let text: Vec<char> = quoted(s).chars().collect();
                    if !literals.contains(&text) {
                        literals.push(text);
                    }
                }
                if literals.is_empty() || literals.len() > MAX_CHOICES {
                    return Err(format!("at {here}: `enum` must list 1 to {MAX_CHOICES} strings, not {}", literals.len()));
                }
                Node::Literals(literals)
            }
            (Some(t), Some(_)) => return Err(format!("at {here}: `enum` is supported for strings only, not for type `{t}`")),
            (None, None) => {
                allow(map, &[], here)?;
                return Err(format!("at {here}: the schema needs a `type` (or an `enum` of strings)"));
            }
            (Some("object"), None) => {
                allow(map, &["type", "properties", "required", "additionalProperties"], here)?;
                match map.get("additionalProperties") {
                    None | Some(Value::Bool(_)) => {}
                    Some(_) => return Err(format!("at {here}: `additionalProperties` must be `false` (or `true`); schemas for extra properties are not supported")),
                }
                let properties: &[(String, Value)] = match map.get("properties") {
                    None => &[],
                    Some(Value::Object(p)) => p,
                    Some(other) => return Err(format!("at {here}: `properties` must be an object, not {}", kind(other))),
                };
                if properties.len() > MAX_CHOICES {
                    return Err(format!("at {here}: at most {MAX_CHOICES} properties are supported, not {}", properties.len()));
                }
                let required: Vec<&str> = match map.get("required") {
                    None => Vec::new(),
                    Some(Value::Array(names)) => names
                        .iter()
                        .map(|n| n.as_str().ok_or_else(|| format!("at {here}: `required` must be a list of property names")))
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(format!("at {here}: `required` must be a list of property names")),
                };
                if let Some(missing) = required.iter().find(|r| !properties.iter().any(|(name, _)| name == **r)) {
                    return Err(format!("at {here}: required property `{missing}` is not in `properties`"));
                }
                let mut props = Vec::new();
                for (name, sub) in properties {
                    let value = self.node(sub, &format!("{at}/properties/{}", pointer_escape(name)))?;
                    let key: Vec<char> = quoted(name).chars().skip(1).collect();
                    props.push(Property { key, value, required: required.contains(&name.as_str()) });
                }
                Node::Object(props)
            }
            (Some("array"), None) => {
                allow(map, &["type", "items", "minItems", "maxItems"], here)?;
                let items = map.get("items").ok_or_else(|| format!("at {here}: an array schema needs `items`"))?;
                let min = count(map, "minItems", here)?.unwrap_or(0);
                let max = count(map, "maxItems", here)?;
                if max.is_some_and(|max| max < min) {
                    return Err(format!("at {here}: `maxItems` is less than `minItems`"));
                }
                let items = self.node(items, &format!("{at}/items"))?;
                Node::Array { items, min, max }
            }
            (Some("string"), None) => {
                allow(map, &["type", "minLength", "maxLength"], here)?;
                let min = count(map, "minLength", here)?.unwrap_or(0);
                let max = count(map, "maxLength", here)?.unwrap_or(DEFAULT_MAX_LENGTH.max(min));
                if max < min {
                    return Err(format!("at {here}: `maxLength` is less than `minLength`"));
                }
                Node::String { min, max }
            }
            (Some("integer"), None) => {
                allow(map, &["type"], here)?;
                Node::Integer
            }
            (Some("number"), None) => {
                allow(map, &["type"], here)?;
                Node::Number
            }
            (Some("boolean"), None) => {
                allow(map, &["type"], here)?;
                Node::Literals(vec!["true".chars().collect(), "false".chars().collect()])
            }
            (Some("null"), None) => {
                allow(map, &["type"], here)?;
                Node::Literals(vec!["null".chars().collect()])
            }
            (Some(other), None) => return Err(format!("at {here}: unsupported type `{other}`")),
        };
        self.nodes[index] = node;
        Ok(index)
    }
}

/// Annotations: accepted anywhere, they do not constrain the value.
const ANNOTATIONS: [&str; 3] = ["title", "description", "$schema"];

/// An error for the first keyword of `map` that is neither in `known` nor an annotation.
fn allow(map: &Map, known: &[&str], here: &str) -> Result<(), String> {
    match map.keys().find(|k| !known.contains(k) && !ANNOTATIONS.contains(k)) {
        Some(k) => Err(format!("at {here}: unsupported keyword `{k}`")),
        None => Ok(()),
    }
}

/// A non-negative integer keyword (`minItems`, `maxLength`, …), capped at `u32::MAX`.
fn count(map: &Map, name: &str, here: &str) -> Result<Option<u32>, String> {
    match map.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|n| Some(n.min(u64::from(u32::MAX)) as u32))
            .ok_or_else(|| format!("at {here}: `{name}` must be a non-negative integer")),
    }
}

/// `s` as a JSON string literal (quotes included, escaped as serde_json writes it).
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A JSON value whose objects keep their keys in the order written (the order of
/// `properties` is the order properties are generated in; serde_json's map sorts them).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// An object's members, in order.
type Map = Vec<(String, Value)>;

/// Lookups on an ordered object.
trait Members {
    fn get(&self, key: &str) -> Option<&Value>;
    fn keys(&self) -> impl Iterator<Item = &str>;
}

impl Members for Map {
    fn get(&self, key: &str) -> Option<&Value> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k.as_str())
    }
}

impl Value {
    fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A key written twice in one object, anywhere in the value.
    fn duplicate_key(&self) -> Option<&str> {
        match self {
            Value::Array(items) => items.iter().find_map(Value::duplicate_key),
            Value::Object(map) => map
                .iter()
                .enumerate()
                .find(|(i, (k, _))| map[..*i].iter().any(|(other, _)| other == k))
                .map(|(_, (k, _))| k.as_str())
                .or_else(|| map.iter().find_map(|(_, v)| v.duplicate_key())),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    members.push(member);
                }
                Ok(Value::Object(members))
            }
        }
        deserializer.deserialize_any(Ordered)
    }
}

/// A JSON pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// "a number", "a list", … for errors.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_the_subset() {
        let g = Grammar::parse(
            r#"{"type":"object","properties":{"name":{"type":"string","maxLength":8},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":3},"ok":{"type":"boolean"}},"required":["name"],"additionalProperties":false,"title":"T"}"#,
        )
        .unwrap();
        let Node::Object(props) = &g.nodes[0] else { panic!("{g:?}") };
        let keys: Vec<String> = props.iter().map(|p| p.key.iter().collect()).collect();
        assert_eq!(keys, ["name\"", "tags\"", "ok\""]);
        assert_eq!(props.iter().map(|p| p.required).collect::<Vec<_>>(), [true, false, false]);
        assert_eq!(g.nodes[props[0].value], Node::String { min: 0, max: 8 });
        assert!(matches!(g.nodes[props[1].value], Node::Array { min: 0, max: Some(3), .. }));
        assert_eq!(Grammar::parse(r#"{"type":"string"}"#).unwrap().nodes[0], Node::String { min: 0, max: DEFAULT_MAX_LENGTH });
    }

    #[test]
    fn unsupported_keywords_and_bad_schemas_are_errors() {
        for (schema, want) in [
            ("{", "not valid JSON"),
            ("[]", "at /: a schema must be a JSON object"),
            (r#"{"type":"integer","minimum":0}"#, "at /: unsupported keyword `minimum`"),
            (r#"{"type":"object","properties":{"a/b":{"type":"string","pattern":"x"}}}"#, "at /properties/a~1b: unsupported keyword `pattern`"),
            (r#"{"type":["string","null"]}"#, "`type` must be one type name"),
            (r#"{"type":"array"}"#, "needs `items`"),
            (r#"{"enum":[1,2]}"#, "only strings are supported in `enum`"),
            (r#"{"type":"object","properties":{},"required":["x"]}"#, "required property `x` is not in `properties`"),
            (r#"{"type":"string","minLength":5,"maxLength":2}"#, "`maxLength` is less than `minLength`"),
            (r#"{"anyOf":[]}"#, "at /: unsupported keyword `anyOf`"),
            ("{}", "needs a `type`"),
            (r#"{"type":"object","type":"string"}"#, "the key `type` is written twice"),
            (r#"{"type":"date"}"#, "unsupported type `date`"),
            (r#"{"type":"object","additionalProperties":{"type":"string"}}"#, "`additionalProperties` must be `false`"),
        ] {
            let err = Grammar::parse(schema).unwrap_err();
            assert!(err.contains(want), "{schema}: {err}");
        }
    }
}
