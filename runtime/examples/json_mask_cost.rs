//! Measures the `json:` mask (docs/runtime.md "Structured output"): the one-time token
//! table of a tokenizer and the per-step mask at typical recogniser states.
//!
//! `cargo run --release -p agentc-runtime --example json_mask_cost -- TOKENIZER.json`

use std::time::Instant;

use agentc_runtime::grammar::{Grammar, Recognizer, TokenTable};
use agentc_runtime::tokenizer::Tokenizer;

const SCHEMA: &str = r#"{"type":"object","properties":{"name":{"type":"string","maxLength":40},"age":{"type":"integer"},"height":{"type":"number"},"tags":{"type":"array","items":{"enum":["red","green","blue"]}},"member":{"type":"boolean"}},"required":["name","age"]}"#;

fn main() {
    let path = std::env::args().nth(1).expect("usage: json_mask_cost TOKENIZER.json");
    let tokenizer = Tokenizer::from_file(path.as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let table = TokenTable::new(tokenizer.token_texts());
    let build = started.elapsed();
    println!("vocabulary {} tokens, trie {} nodes, table built in {:.1} ms", table.len(), table.trie_nodes(), build.as_secs_f64() * 1e3);
    let grammar = Grammar::parse(SCHEMA).unwrap();
    let mut allowed = Vec::new();
    for prefix in ["", "{", "{\"name\":\"", "{\"name\":\"Ann", "{\"name\":\"Ann\",\"age\":4", "{\"name\":\"Ann\",\"age\":4,", "{\"name\":\"Ann\",\"age\":4,\"tags\":["] {
        let mut state = Recognizer::new(&grammar);
        assert!(state.push_str(prefix), "{prefix}");
        let rounds = 50;
        let started = Instant::now();
        for _ in 0..rounds {
            table.mask(&state, |id| tokenizer.is_eos(id), &mut allowed);
        }
        let per = started.elapsed().as_secs_f64() / rounds as f64;
        let count = allowed.iter().filter(|&&a| a).count();
        println!("after {prefix:<40} {count:>6} allowed, {:>8.3} ms per mask", per * 1e3);
    }
}
