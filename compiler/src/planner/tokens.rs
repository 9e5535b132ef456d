//! Token-length estimates of text values, for sizing prefill and encode fragments.
//!
//! Where the text is known at compile time, the model's own tokenizer (tokenizer.json,
//! through the runtime's tokenizer wrapper) counts it exactly; without a tokenizer, 4 characters per
//! token. Where it is not known, the estimate follows the dataflow: a concatenation is the
//! sum of its parts, a generate's text is its `max_tokens`, a tool's output and a program
//! argument have documented defaults (below and in docs/cost-model.md).

use std::collections::HashMap;
use std::path::Path;

use agentc_dialects::workflow as wf;
use agentc_runtime::tokenizer::Tokenizer;

use crate::ir::Val;

/// Tokens assumed for a tool's output.
pub const DEFAULT_TOOL_OUTPUT_TOKENS: f64 = 256.0;
/// Tokens assumed for an agent parameter (the program's arguments).
pub const DEFAULT_INPUT_TOKENS: f64 = 32.0;
/// Tokens assumed for any other text whose length is unknown.
pub const DEFAULT_TEXT_TOKENS: f64 = 32.0;
/// Elements assumed for a list whose length is unknown (`lines(...)` of generated text).
pub const DEFAULT_LIST_LENGTH: f64 = 4.0;

/// Counts tokens of known text with a model's tokenizer, when it has one.
pub struct TokenCounter {
    tokenizer: Option<Tokenizer>,
}

impl TokenCounter {
    /// Loads `folder/tokenizer.json` if it exists and parses (otherwise estimates by
    /// characters), as the executable will: the runtime's tokenizer, without the padding or
    /// truncation a tokenizer.json may carry.
    pub fn for_model(folder: &Path) -> TokenCounter {
        let tokenizer = if agentc_runtime::gguf::is_gguf(folder) {
            agentc_runtime::gguf::GgufModel::open(folder).ok().and_then(|m| m.tokenizer().ok())
        } else {
            Tokenizer::from_file(&folder.join("tokenizer.json")).ok()
        };
        TokenCounter { tokenizer }
    }

    /// Tokens of `text` without special tokens.
    pub fn count(&self, text: &str) -> f64 {
        match &self.tokenizer {
            Some(tokenizer) => match tokenizer.encode_with(text, false) {
                Ok(ids) => ids.len() as f64,
                Err(_) => chars_estimate(text),
            },
            None => chars_estimate(text),
        }
    }

    /// Special tokens the tokenizer adds to a sequence by default (a BOS, or CLS + SEP).
    pub fn special_tokens(&self) -> f64 {
        match &self.tokenizer {
            Some(tokenizer) => match (tokenizer.encode_with("", true), tokenizer.encode_with("", false)) {
                (Ok(with), Ok(without)) => with.len().saturating_sub(without.len()) as f64,
                _ => 1.0,
            },
            None => 1.0,
        }
    }
}

fn chars_estimate(text: &str) -> f64 {
    (text.chars().count() as f64 / 4.0).ceil()
}

/// Estimates token lengths of SSA values, memoised.
pub struct TokenEstimator<'a> {
    counter: &'a TokenCounter,
    memo: HashMap<usize, f64>,
}

impl<'a> TokenEstimator<'a> {
    /// An estimator counting literals with `counter`.
    pub fn new(counter: &'a TokenCounter) -> Self {
        TokenEstimator { counter, memo: HashMap::new() }
    }

    /// The estimated tokens of a text (or list-of-text: all elements together) value.
    pub fn estimate(&mut self, value: Val) -> f64 {
        self.estimate_depth(value, 0)
    }

    fn estimate_depth(&mut self, value: Val, depth: usize) -> f64 {
        let key = value.0.ptr as usize;
        if let Some(&known) = self.memo.get(&key) {
            return known;
        }
        // Deep chains are rare; past this depth the default is good enough.
        if depth > 200 {
            return DEFAULT_TEXT_TOKENS;
        }
        let Some(op) = value.defining_op() else { return DEFAULT_INPUT_TOKENS };
        let name = op.name();
        let sum = |this: &mut Self| op.operands().into_iter().map(|v| this.estimate_depth(v, depth + 1)).sum::<f64>();
        let estimate = match name.as_str() {
            wf::TEXT_CONSTANT => self.counter.count(&wf::string_attr(&op.view(), "value").unwrap_or_default()),
            wf::CONCAT | wf::FORMAT | wf::LIST_LITERAL | wf::LIST_APPEND => sum(self),
            wf::JOIN | wf::LINES | wf::SPLIT | wf::TRIM => self.estimate_depth(op.operand(0), depth + 1),
            // A chat prompt: its messages (roles and contents) plus the template's markup,
            // counted as one special token and one separator per message.
            wf::CHAT_PROMPT => {
                let messages = self.estimate_depth(op.operand(0), depth + 1);
                let count = op.operand(0).defining_op().filter(|l| l.name() == wf::LIST_LITERAL).map_or(DEFAULT_LIST_LENGTH, |l| l.operand_count() as f64);
                messages + 2.0 * count
            }
            wf::LIST_GET => self.estimate_depth(op.operand(0), depth + 1) / DEFAULT_LIST_LENGTH,
            wf::GENERATE | agentc_dialects::fragment::DECODE => wf::int_attr(&op.view(), "max_tokens").unwrap_or(128) as f64,
            wf::TOOL_CALL | agentc_dialects::fragment::TOOL => DEFAULT_TOOL_OUTPUT_TOKENS,
            wf::TO_TEXT => 4.0,
            "scf.for" => DEFAULT_LIST_LENGTH * DEFAULT_TEXT_TOKENS,
            _ => DEFAULT_TEXT_TOKENS,
        };
        self.memo.insert(key, estimate);
        estimate
    }
}
