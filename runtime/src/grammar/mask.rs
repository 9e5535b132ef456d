//! [`TokenTable`]: the text of every token of a model's vocabulary, computed once per model,
//! in a trie; and the allowed-token mask of a [`Recognizer`] state: the tokens whose text
//! the state accepts without error. The mask walks the trie depth first, cloning the state
//! once per trie node and pruning a whole subtree at the first character the state rejects,
//! so tokens that share a prefix share its work.

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

/// A vocabulary's token texts in a trie.
#[derive(Debug)]
pub struct TokenTable {
    texts: Vec<Option<String>>,
    trie: Vec<TrieNode>,
}

impl TokenTable {
    /// The table of `texts` (indexed by token id). A text that is empty or holds U+FFFD (a
    /// byte-level piece that is not whole characters on its own) counts as
    /// [`TokenText::None`].
    pub fn new(texts: Vec<TokenText>) -> Self {
        let mut trie = vec![TrieNode::default()];
        let mut kept = Vec::with_capacity(texts.len());
        for (id, text) in texts.into_iter().enumerate() {
            let text = match text {
                TokenText::Text(t) if !t.is_empty() && !t.contains('\u{FFFD}') => t,
                _ => {
                    kept.push(None);
                    continue;
                }
            };
            let mut node = 0usize;
            for c in text.chars() {
                node = match trie[node].children.iter().find(|(k, _)| *k == c) {
                    Some(&(_, child)) => child as usize,
                    None => {
                        trie.push(TrieNode::default());
                        let child = trie.len() - 1;
                        trie[node].children.push((c, child as u32));
                        child
                    }
                };
            }
            trie[node].tokens.push(id as u32);
            kept.push(Some(text));
        }
        TokenTable { texts: kept, trie }
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

    /// The number of trie nodes (the most states one mask clones).
    pub fn trie_nodes(&self) -> usize {
        self.trie.len()
    }

    /// Sets `allowed[id]` for every token that may come next in `state`: a text token whose
    /// whole text `state` accepts, and, when `state` is accepting, every token `is_end`
    /// says ends the generation (EOS, a chat's end of turn). `allowed` is resized to at
    /// least the table's length; ids past the table are allowed only as end tokens.
    pub fn mask(&self, state: &Recognizer<'_>, is_end: impl Fn(u32) -> bool, allowed: &mut Vec<bool>) {
        let n = allowed.len().max(self.texts.len());
        allowed.clear();
        allowed.resize(n, false);
        let mut stack: Vec<(u32, Recognizer<'_>)> = vec![(0, state.clone())];
        while let Some((node, at)) = stack.pop() {
            for &(c, child) in &self.trie[node as usize].children {
                let mut next = at.clone();
                if next.push(c) {
                    for &id in &self.trie[child as usize].tokens {
                        allowed[id as usize] = true;
                    }
                    if !self.trie[child as usize].children.is_empty() {
                        stack.push((child, next));
                    }
                }
            }
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
}
