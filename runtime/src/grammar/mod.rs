//! Grammar-constrained JSON decoding (`generate(…, json: SCHEMA)`, docs/language.md §8.1,
//! docs/runtime.md "Structured output").
//!
//! - [`schema`]: a JSON Schema subset compiled to a [`Grammar`] (a small graph of value
//!   nodes); an unsupported keyword is an error, never ignored.
//! - [`recognizer`]: [`Recognizer`], a character-level pushdown automaton over compact JSON
//!   text (no whitespace between tokens) of a grammar; cloning it is one small `Vec` copy.
//! - [`mask`]: [`TokenTable`], every token's text once per model arranged in a trie, and the
//!   allowed-token mask of a recogniser state (one walk of the trie, pruned at the first
//!   character that the state rejects).

pub mod mask;
pub mod recognizer;
pub mod schema;

pub use mask::{TokenTable, TokenText};
pub use recognizer::Recognizer;
pub use schema::{Grammar, DEFAULT_MAX_LENGTH, MAX_DIGITS};
