//! [`TokenTable`]: the text of every token of a model's vocabulary, computed once per model,
//! in a trie; and the allowed-token mask of a [`Recognizer`] state: the tokens whose text
//! the state accepts without error.
//!
//! The mask walks the trie depth first, copying the state into a buffer per depth once per
//! trie node and pruning a whole subtree at the first character the state rejects, so
//! tokens that share a prefix share its work. Inside a string (no escape pending), where
//! almost every token is allowed, it does not walk the whole trie: a *plain* token (no `"`,
//! `\` or control character) is allowed exactly when its length in characters fits the
//! string's remaining room, a comparison per token; only the trie of the other tokens is
//! walked.

use super::recognizer::Recognizer;

/// What a token is to the mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenText {
    /// Text the token adds to the result.
    Text(String),
    /// A special token, or one with no text or no whole characters of its own (a byte of a
    /// multi-byte character): never allowed, except an end token ([`TokenTable::mask`]).
    None,
}

/// One trie node: its children by character and the tokens whose text ends here.
#[derive(Debug, Default)]
struct TrieNode {
    children: Vec<(char, u32)>,
    tokens: Vec<u32>,
}

/// Token texts by shared prefix; node 0 is the root (the empty text).
#[derive(Debug)]
struct Trie {
    nodes: Vec<TrieNode>,
}

impl Trie {
    fn new() -> Self {
        Trie { nodes: vec![TrieNode::default()] }
    }

    fn insert(&mut self, text: &str, id: u32) {
        let mut node = 0usize;
        for c in text.chars() {
            node = match self.nodes[node].children.iter().find(|(k, _)| *k == c) {
                Some(&(_, child)) => child as usize,
                None => {
                    self.nodes.push(TrieNode::default());
                    let child = self.nodes.len() - 1;
                    self.nodes[node].children.push((c, child as u32));
                    child
                }
            };
        }
        self.nodes[node].tokens.push(id);
    }

    /// Marks the tokens below node `node` that `states[depth]` (the state after the text up
    /// to `node`) accepts; `states[depth + 1..]` are scratch buffers.
    fn walk<'g>(&self, node: u32, depth: usize, states: &mut Vec<Recognizer<'g>>, allowed: &mut [bool]) {
        if states.len() == depth + 1 {
            let copy = states[depth].clone();
            states.push(copy);
        }
        for &(c, child) in &self.nodes[node as usize].children {
            let (done, rest) = states.split_at_mut(depth + 1);
            let next = &mut rest[0];
            next.clone_from(&done[depth]);
            if next.push(c) {
                let child_node = &self.nodes[child as usize];
                for &id in &child_node.tokens {
                    allowed[id as usize] = true;
                }
                if !child_node.children.is_empty() {
                    self.walk(child, depth + 1, states, allowed);
                }
            }
        }
    }
}

/// Whether `c` stands for itself inside a JSON string (it is not `"`, `\` or a control
/// character).
fn plain(c: char) -> bool {
    c != '"' && c != '\\' && (c as u32) >= 0x20
}

/// A vocabulary's token texts, in tries for the mask.
#[derive(Debug)]
pub struct TokenTable {
    texts: Vec<Option<String>>,
    /// Every token with a text.
    all: Trie,
    /// The tokens with a text that is not plain (holds `"`, `\` or a control character).
    unplain: Trie,
    /// The plain tokens: id and length in characters.
    plain: Vec<(u32, u32)>,
}

impl TokenTable {
    /// The table of `texts` (indexed by token id). A text that is empty or holds U+FFFD (a
    /// byte-level piece that is not whole characters on its own) counts as
    /// [`TokenText::None`].
    pub fn new(texts: Vec<TokenText>) -> Self {
        let mut table = TokenTable { texts: Vec::with_capacity(texts.len()), all: Trie::new(), unplain: Trie::new(), plain: Vec::new() };
        for (id, text) in texts.into_iter().enumerate() {
            let id = id as u32;
            let text = match text {
                TokenText::Text(t) if !t.is_empty() && !t.contains('\u{FFFD}') => t,
                _ => {
                    table.texts.push(None);
                    continue;
                }
            };
            table.all.insert(&text, id);
            if text.chars().all(plain) {
                table.plain.push((id, text.chars().count() as u32));
            } else {
                table.unplain.insert(&text, id);
            }
            table.texts.push(Some(text));
        }
        table
    }

    /// The text of token `id` (`None`: special, empty or partial).
    pub fn text(&self, id: u32) -> Option<&str> {
        self.texts.get(id as usize).and_then(|t| t.as_deref())
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether the table has no tokens.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The number of trie nodes of all tokens (the most states one mask copies).
    pub fn trie_nodes(&self) -> usize {
        self.all.nodes.len()
    }

    /// Sets `allowed[id]` for every token that may come next in `state`: a text token whose
    /// whole text `state` accepts, and, when `state` is accepting, every token `is_end`
    /// says ends the generation (EOS, a chat's end of turn). `allowed` is resized to at
    /// least the table's length; ids past the table are allowed only as end tokens.
    pub fn mask(&self, state: &Recognizer<'_>, is_end: impl Fn(u32) -> bool, allowed: &mut Vec<bool>) {
        let n = allowed.len().max(self.texts.len());
        allowed.clear();
        allowed.resize(n, false);
        let mut states = vec![state.clone()];
        match state.plain_string_room() {
            Some(room) => {
                for &(id, chars) in &self.plain {
                    if chars <= room {
                        allowed[id as usize] = true;
                    }
                }
                self.unplain.walk(0, 0, &mut states, allowed);
            }
            None => self.all.walk(0, 0, &mut states, allowed),
        }
        if state.accepting() {
            for (id, slot) in allowed.iter_mut().enumerate() {
                if is_end(id as u32) {
                    *slot = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::Grammar;

    /// A toy vocabulary: id 0 is EOS, id 1 special, id 9 a partial byte.
    fn toy() -> TokenTable {
        let texts = ["", "", "{", "}", "\"", "\"a", "a\"", ":", ",", "\u{FFFD}", "{\"", "1", "12", "\"}", " "];
        TokenTable::new(texts.iter().map(|t| if t.is_empty() { TokenText::None } else { TokenText::Text(t.to_string()) }).collect())
    }

    fn allowed_ids(table: &TokenTable, state: &Recognizer) -> Vec<u32> {
        let mut allowed = Vec::new();
        table.mask(state, |id| id == 0, &mut allowed);
        (0..allowed.len() as u32).filter(|&i| allowed[i as usize]).collect()
    }

    #[test]
    fn the_mask_is_the_tokens_whose_whole_text_is_accepted() {
        let g = Grammar::parse(r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#).unwrap();
        let table = toy();
        let mut r = Recognizer::new(&g);
        assert_eq!(allowed_ids(&table, &r), [2, 10], "`{{` and `{{\"`");
        assert!(r.push_str("{"));
        assert_eq!(allowed_ids(&table, &r), [4, 5], "`\"` and `\"a`: `}}` is not allowed before the required `a`");
        assert!(r.push_str("\"a\":"));
        assert_eq!(allowed_ids(&table, &r), [11, 12]);
        assert!(r.push_str("1"));
        // `"}` would start a key, which the object does not have after `a`.
        assert_eq!(allowed_ids(&table, &r), [3, 11, 12]);
        assert!(r.push_str("}"));
        assert_eq!(allowed_ids(&table, &r), [0], "complete: only EOS");
    }

    #[test]
    fn the_trie_shares_prefixes_and_keeps_texts() {
        let table = toy();
        assert_eq!(table.text(12), Some("12"));
        assert_eq!(table.text(9), None);
        assert_eq!(table.text(1), None);
        // root, `{`, `}`, `"`, `"a`, `"}`, `a`, `a"`, `:`, `,`, `{"`, `1`, `12`, ` `.
        assert_eq!(table.trie_nodes(), 14);
    }

    /// The mask by brute force: each token's text fed to a copy of the state.
    fn brute_force(table: &TokenTable, state: &Recognizer, is_end: impl Fn(u32) -> bool) -> Vec<bool> {
        (0..table.len() as u32)
            .map(|id| match table.text(id) {
                Some(text) => state.clone().push_str(text),
                None => state.accepting() && is_end(id),
            })
            .collect()
    }

    #[test]
    fn the_mask_equals_brute_force_on_a_real_vocabulary() {
        // The tiny Llama's byte-level BPE vocabulary, at states inside and outside strings
        // (the plain-string shortcut), near a string's cap, in numbers, keys and enums.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/tiny-llama");
        let tokenizer = crate::tokenizer::Tokenizer::from_model_dir(&dir).unwrap();
        let table = TokenTable::new(tokenizer.token_texts());
        let schema = r#"{"type":"object","properties":{"name":{"type":"string","maxLength":6},"n":{"type":"number"},"tags":{"type":"array","items":{"enum":["red","green"]}},"ok":{"type":"boolean"}},"required":["name"]}"#;
        let grammar = Grammar::parse(schema).unwrap();
        let is_end = |id| tokenizer.is_eos(id);
        let mut allowed = Vec::new();
        let mut checked = 0;
        for prefix in ["", "{", "{\"", "{\"name\":\"", "{\"name\":\"ab", "{\"name\":\"abcde", "{\"name\":\"abcdef", "{\"name\":\"a\\", "{\"name\":\"a\\u00", "{\"name\":\"\",\"n\":1", "{\"name\":\"\",\"n\":-0.5e", "{\"name\":\"\",\"tags\":[\"re", "{\"name\":\"\",\"tags\":[\"red\"]", "{\"name\":\"\"}"] {
            let mut state = Recognizer::new(&grammar);
            assert!(state.push_str(prefix), "{prefix}");
            table.mask(&state, is_end, &mut allowed);
            let want = brute_force(&table, &state, is_end);
            assert_eq!(allowed, want, "after {prefix}");
            checked += want.iter().filter(|&&a| a).count();
        }
        assert!(checked > 500, "the states allow tokens ({checked})");
    }
}
