//! [`Recognizer`]: the incremental recogniser of the compact JSON texts of a [`Grammar`], one
//! character at a time. It is a pushdown automaton: a stack of small `Copy` frames, one per
//! value being written (the object or array around it below); cloning it copies that stack.
//!
//! Whitespace policy: none. The text is compact JSON (`{"a":1,"b":[true]}`): no space,
//! tab or newline outside strings, so every value has exactly one spelling of its structure.

use super::schema::{Grammar, Node, MAX_DIGITS};

/// Where an object is in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectAt {
    /// After `{`.
    Open,
    /// After a property's value.
    AfterValue,
    /// After `,`.
    AfterComma,
    /// Inside a key after `"`, `pos` characters in; `alive`: the properties still matching.
    Key { pos: u16, alive: u64 },
    /// After the key of property `j`: expects `:`.
    Colon(u16),
    /// Property `j`'s value is being written (its frame is above).
    Value(u16),
}

/// Where an array is in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayAt {
    /// After `[`.
    Open,
    /// An element is being written (its frame is above).
    Value,
    /// After an element.
    AfterValue,
}

/// Where a number is in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberAt {
    Start,
    Minus,
    Zero,
    Int(u8),
    Dot,
    Frac(u8),
    Exp,
    ExpSign,
    ExpDigits(u8),
}

impl NumberAt {
    /// Whether the number may end here.
    fn can_end(self) -> bool {
        matches!(self, NumberAt::Zero | NumberAt::Int(_) | NumberAt::Frac(_) | NumberAt::ExpDigits(_))
    }
}

/// One value being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Expects the first character of a value of node `0`.
    Value(u32),
    Object { node: u32, next: u16, at: ObjectAt },
    Array { node: u32, count: u32, at: ArrayAt },
    /// Inside a string after `"`: `len` characters so far; `escape`: 0 none, 1 after `\`,
    /// 2..=5 after `\u` and `escape - 2` hex digits.
    Str { node: u32, len: u32, escape: u8 },
    Number { integer: bool, at: NumberAt },
    /// `pos` characters into the literals of the node still in `alive`.
    Literal { node: u32, pos: u16, alive: u64 },
}

/// What feeding a character to the top frame did.
enum Fed {
    /// Consumed; the frame is updated.
    Took,
    /// Consumed, and the frame's value is complete.
    TookAndDone,
    /// The frame's value ended before this character (a number): pop it and give the
    /// character to the frame below.
    EndedBefore,
    /// Replaced by another frame that must see the same character.
    Again,
    /// The frame now waits for a child value of node `node`: push it; `took`: the
    /// character was consumed (`:` or `,`), else the child must see it (an array's first
    /// element).
    Child { node: u32, took: bool },
    /// The character cannot come here.
    Reject,
}

/// The state of the recogniser: the text fed so far is a prefix of a value of the grammar.
#[derive(Debug)]
pub struct Recognizer<'g> {
    grammar: &'g Grammar,
    stack: Vec<Frame>,
}

impl Clone for Recognizer<'_> {
    fn clone(&self) -> Self {
        Recognizer { grammar: self.grammar, stack: self.stack.clone() }
    }

    /// Copies `source` into this state's buffer (no allocation once it is large enough):
    /// the mask's trie walk does this once per trie node.
    fn clone_from(&mut self, source: &Self) {
        self.grammar = source.grammar;
        self.stack.clone_from(&source.stack);
    }
}

impl<'g> Recognizer<'g> {
    /// The state before any text.
    pub fn new(grammar: &'g Grammar) -> Self {
        Recognizer { grammar, stack: vec![Frame::Value(Grammar::ROOT as u32)] }
    }

    /// Feeds `c`; `false` (and the state is then unusable) when `c` cannot follow the text.
    pub fn push(&mut self, c: char) -> bool {
        loop {
            let Some(top) = self.stack.last_mut() else { return false };
            match feed(self.grammar, top, c) {
                Fed::Took => return true,
                Fed::TookAndDone => {
                    self.pop();
                    return true;
                }
                Fed::EndedBefore => self.pop(),
                Fed::Again => {}
                Fed::Child { node, took } => {
                    self.stack.push(Frame::Value(node));
                    if took {
                        return true;
                    }
                }
                Fed::Reject => return false,
            }
        }
    }

    /// Feeds every character of `text`; `false` at the first that cannot follow.
    pub fn push_str(&mut self, text: &str) -> bool {
        text.chars().all(|c| self.push(c))
    }

    /// Whether the text so far is a complete value (a top-level number may still go on).
    pub fn accepting(&self) -> bool {
        match self.stack.as_slice() {
            [] => true,
            [Frame::Number { at, .. }] => at.can_end(),
            _ => false,
        }
    }

    /// Inside a string with no escape pending: how many more characters it may have (the
    /// mask's shortcut for plain tokens, [`super::TokenTable::mask`]).
    pub fn plain_string_room(&self) -> Option<u32> {
        match self.stack.last() {
            Some(&Frame::Str { node, len, escape: 0 }) => match self.grammar.nodes[node as usize] {
                Node::String { max, .. } => Some(max.saturating_sub(len)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether the value is complete and nothing may follow.
    pub fn complete(&self) -> bool {
        self.stack.is_empty()
    }

    /// Pops the top frame (its value is complete) and tells the frame below.
    fn pop(&mut self) {
        self.stack.pop();
        match self.stack.last_mut() {
            Some(Frame::Object { next, at, .. }) => {
                if let ObjectAt::Value(j) = *at {
                    *next = j + 1;
                }
                *at = ObjectAt::AfterValue;
            }
            Some(Frame::Array { count, at, .. }) => {
                *count += 1;
                *at = ArrayAt::AfterValue;
            }
            _ => {}
        }
    }
}

/// The properties of `props` that may come next after property `next - 1`: from `next` up
/// to and including the first required one.
fn candidates(props: &[super::schema::Property], next: u16) -> u64 {
    let mut mask = 0u64;
    for (j, p) in props.iter().enumerate().skip(next as usize) {
        mask |= 1 << j;
        if p.required {
            break;
        }
    }
    mask
}

/// Whether an object may close after property `next - 1` (no required property is left).
fn may_close(props: &[super::schema::Property], next: u16) -> bool {
    props.iter().skip(next as usize).all(|p| !p.required)
}

/// Feeds `c` to the top frame `frame` (a frame that starts a child value says so with
/// [`Fed::Child`], and [`Recognizer::push`] pushes it).
fn feed(grammar: &Grammar, frame: &mut Frame, c: char) -> Fed {
    match *frame {
        Frame::Value(node) => match &grammar.nodes[node as usize] {
            Node::Object(_) if c == '{' => {
                *frame = Frame::Object { node, next: 0, at: ObjectAt::Open };
                Fed::Took
            }
            Node::Array { .. } if c == '[' => {
                *frame = Frame::Array { node, count: 0, at: ArrayAt::Open };
                Fed::Took
            }
            Node::String { .. } if c == '"' => {
                *frame = Frame::Str { node, len: 0, escape: 0 };
                Fed::Took
            }
            Node::Integer | Node::Number => {
                *frame = Frame::Number { integer: grammar.nodes[node as usize] == Node::Integer, at: NumberAt::Start };
                Fed::Again
            }
            Node::Literals(l) => {
                *frame = Frame::Literal { node, pos: 0, alive: (1u64 << (l.len() - 1) << 1).wrapping_sub(1) };
                Fed::Again
            }
            _ => Fed::Reject,
        },
        Frame::Str { node, len, escape } => {
            let Node::String { min, max } = grammar.nodes[node as usize] else { return Fed::Reject };
            match escape {
                0 => match c {
                    '"' if len >= min => Fed::TookAndDone,
                    '"' => Fed::Reject,
                    '\\' if len < max => {
                        *frame = Frame::Str { node, len, escape: 1 };
                        Fed::Took
                    }
                    c if (c as u32) < 0x20 || len >= max || c == '\\' => Fed::Reject,
                    _ => {
                        *frame = Frame::Str { node, len: len + 1, escape: 0 };
                        Fed::Took
                    }
                },
                1 => match c {
                    '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' => {
                        *frame = Frame::Str { node, len: len + 1, escape: 0 };
                        Fed::Took
                    }
                    'u' => {
                        *frame = Frame::Str { node, len, escape: 2 };
                        Fed::Took
                    }
                    _ => Fed::Reject,
                },
                _ if c.is_ascii_hexdigit() => {
                    *frame = if escape == 5 { Frame::Str { node, len: len + 1, escape: 0 } } else { Frame::Str { node, len, escape: escape + 1 } };
                    Fed::Took
                }
                _ => Fed::Reject,
            }
        }
        Frame::Number { integer, at } => {
            let digit = c.is_ascii_digit();
            let next = match (at, c) {
                (NumberAt::Start, '-') => Some(NumberAt::Minus),
                (NumberAt::Start | NumberAt::Minus, '0') => Some(NumberAt::Zero),
                (NumberAt::Start | NumberAt::Minus, _) if digit => Some(NumberAt::Int(1)),
                (NumberAt::Int(d), _) if digit && d < MAX_DIGITS => Some(NumberAt::Int(d + 1)),
                (NumberAt::Zero | NumberAt::Int(_), '.') if !integer => Some(NumberAt::Dot),
                (NumberAt::Dot, _) if digit => Some(NumberAt::Frac(1)),
                (NumberAt::Frac(d), _) if digit && d < MAX_DIGITS => Some(NumberAt::Frac(d + 1)),
                (NumberAt::Zero | NumberAt::Int(_) | NumberAt::Frac(_), 'e' | 'E') if !integer => Some(NumberAt::Exp),
                (NumberAt::Exp, '+' | '-') => Some(NumberAt::ExpSign),
                (NumberAt::Exp | NumberAt::ExpSign, _) if digit => Some(NumberAt::ExpDigits(1)),
                (NumberAt::ExpDigits(d), _) if digit && d < 3 => Some(NumberAt::ExpDigits(d + 1)),
                _ => None,
            };
            match next {
                Some(at) => {
                    *frame = Frame::Number { integer, at };
                    Fed::Took
                }
                None if at.can_end() => Fed::EndedBefore,
                None => Fed::Reject,
            }
        }
        Frame::Literal { node, pos, alive } => {
            let Node::Literals(literals) = &grammar.nodes[node as usize] else { return Fed::Reject };
            let mut still = 0u64;
            let mut done = false;
            for (i, l) in literals.iter().enumerate() {
                if alive & (1 << i) != 0 && l.get(pos as usize) == Some(&c) {
                    still |= 1 << i;
                    done |= l.len() == pos as usize + 1;
                }
            }
            if still == 0 {
                return Fed::Reject;
            }
            *frame = Frame::Literal { node, pos: pos + 1, alive: still };
            if done { Fed::TookAndDone } else { Fed::Took }
        }
        Frame::Object { node, next, at } => {
            let Node::Object(props) = &grammar.nodes[node as usize] else { return Fed::Reject };
            let set = |frame: &mut Frame, at| *frame = Frame::Object { node, next, at };
            match (at, c) {
                (ObjectAt::Open | ObjectAt::AfterValue, '}') if may_close(props, next) => Fed::TookAndDone,
                (ObjectAt::Open | ObjectAt::AfterComma, '"') if candidates(props, next) != 0 => {
                    set(frame, ObjectAt::Key { pos: 0, alive: candidates(props, next) });
                    Fed::Took
                }
                (ObjectAt::AfterValue, ',') if candidates(props, next) != 0 => {
                    set(frame, ObjectAt::AfterComma);
                    Fed::Took
                }
                (ObjectAt::Key { pos, alive }, _) => {
                    let mut still = 0u64;
                    let mut done = None;
                    for (j, p) in props.iter().enumerate() {
                        if alive & (1 << j) != 0 && p.key.get(pos as usize) == Some(&c) {
                            still |= 1 << j;
                            if p.key.len() == pos as usize + 1 {
                                done = Some(j as u16);
                            }
                        }
                    }
                    match (still, done) {
                        (0, _) => return Fed::Reject,
                        (_, Some(j)) => set(frame, ObjectAt::Colon(j)),
                        (_, None) => set(frame, ObjectAt::Key { pos: pos + 1, alive: still }),
                    }
                    Fed::Took
                }
                (ObjectAt::Colon(j), ':') => {
                    set(frame, ObjectAt::Value(j));
                    Fed::Child { node: props[j as usize].value as u32, took: true }
                }
                _ => Fed::Reject,
            }
        }
        Frame::Array { node, count, at } => {
            let Node::Array { items, min, max } = grammar.nodes[node as usize] else { return Fed::Reject };
            let room = max.is_none_or(|m| count < m);
            match (at, c) {
                (ArrayAt::Open | ArrayAt::AfterValue, ']') if count >= min => Fed::TookAndDone,
                (ArrayAt::Open, _) if room => {
                    *frame = Frame::Array { node, count, at: ArrayAt::Value };
                    Fed::Child { node: items as u32, took: false }
                }
                (ArrayAt::AfterValue, ',') if room => {
                    *frame = Frame::Array { node, count, at: ArrayAt::Value };
                    Fed::Child { node: items as u32, took: true }
                }
                _ => Fed::Reject,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSON: &str = r#"{"type":"object","properties":{"name":{"type":"string","maxLength":5},"age":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","bc"]},"minItems":1,"maxItems":2},"score":{"type":"number"},"ok":{"type":"boolean"},"none":{"type":"null"}},"required":["name","tags"],"additionalProperties":false}"#;

    /// Whether `text` is accepted: fed without error and complete.
    fn accepts(schema: &str, text: &str) -> bool {
        let g = Grammar::parse(schema).unwrap();
        let mut r = Recognizer::new(&g);
        r.push_str(text) && r.accepting()
    }

    /// Whether `text` is a prefix of an accepted text (fed without error).
    fn prefix(schema: &str, text: &str) -> bool {
        let g = Grammar::parse(schema).unwrap();
        Recognizer::new(&g).push_str(text)
    }

    #[test]
    fn accepts_the_values_of_the_schema() {
        for text in [
            r#"{"name":"Ann","tags":["a"]}"#,
            r#"{"name":"","age":-12,"tags":["bc","a"],"score":1.5e+3,"ok":false,"none":null}"#,
            r#"{"name":"a\"\u00e9","tags":["a"],"score":0}"#,
            r#"{"name":"x","tags":["a"],"ok":true}"#,
        ] {
            assert!(accepts(PERSON, text), "{text}");
        }
    }

    #[test]
    fn rejects_what_the_schema_does_not_allow() {
        for text in [
            r#"{"tags":["a"]}"#,                           // a required property left out
            r#"{"tags":["a"],"name":"x"}"#,                // out of property order
            r#"{"name":"x","tags":[]}"#,                   // minItems
            r#"{"name":"x","tags":["a","a","a"]}"#,        // maxItems
            r#"{"name":"toolong","tags":["a"]}"#,          // maxLength
            r#"{"name":"x","tags":["b"]}"#,                // not in the enum
            r#"{"name":"x","tags":["a"],"age":1.5}"#,      // an integer
            r#"{"name":"x","tags":["a"],"extra":1}"#,      // no other property
            r#"{"name": "x","tags":["a"]}"#,               // no whitespace
            r#"{"name":"x","tags":["a"],"age":01}"#,       // no leading zero
            r#"{"name":"x","tags":["a"]}}"#,               // nothing after the value
            r#"{"name":"a\x","tags":["a"]}"#,             // a bad escape
            "{\"name\":\"a\nb\",\"tags\":[\"a\"]}",  // a raw control character
        ] {
            assert!(!accepts(PERSON, text), "{text}");
        }
    }

    #[test]
    fn prefixes_are_fed_and_completion_is_known() {
        let g = Grammar::parse(PERSON).unwrap();
        let mut r = Recognizer::new(&g);
        assert!(r.push_str(r#"{"name":"Jo","ta"#));
        assert!(!r.accepting());
        assert!(!r.clone().push('x'), "no property starts with `tax`");
        assert!(r.push_str(r#"gs":["a"]"#));
        assert!(!r.accepting() && !r.complete());
        assert!(r.push('}'));
        assert!(r.complete() && r.accepting());
        assert!(!r.push('}'));
        // A top-level number is accepting while it may still go on.
        let g = Grammar::parse(r#"{"type":"number"}"#).unwrap();
        let mut r = Recognizer::new(&g);
        assert!(r.push_str("-3.2"));
        assert!(r.accepting() && !r.complete());
        assert!(r.push_str("5e-7") && r.accepting());
        assert!(!r.clone().push('.'));
        assert!(prefix(r#"{"type":"number"}"#, "-"));
        assert!(!prefix(r#"{"type":"integer"}"#, "1."));
        assert!(!prefix(r#"{"type":"integer"}"#, "1234567890123456"), "at most MAX_DIGITS digits");
    }

    #[test]
    fn strings_end_within_the_default_cap() {
        let g = Grammar::parse(r#"{"type":"string"}"#).unwrap();
        let mut r = Recognizer::new(&g);
        assert!(r.push('"'));
        for _ in 0..super::super::DEFAULT_MAX_LENGTH {
            assert!(r.push('x'));
        }
        assert!(!r.clone().push('x'));
        assert!(r.push('"') && r.complete());
    }
}
