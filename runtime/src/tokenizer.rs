//! Tokenizers: a wrapper over the `tokenizers` crate that encodes and decodes as Hugging Face
//! does by default, plus the model's EOS ids from its `config.json` / `generation_config.json`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A failure to load a tokenizer or to encode/decode with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerError(pub String);

impl fmt::Display for TokenizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenizerError {}

/// A model's tokenizer (`tokenizer.json`) with its end-of-sequence token ids.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    eos_ids: Vec<u32>,
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.inner.get_vocab_size(true))
            .field("eos_ids", &self.eos_ids)
            .finish()
    }
}

impl Tokenizer {
    /// Loads `DIR/tokenizer.json` and the EOS ids of the model folder `dir` (see
    /// [`eos_token_ids`]).
    pub fn from_model_dir(dir: &Path) -> Result<Self, TokenizerError> {
        let mut tok = Self::from_file(&dir.join("tokenizer.json"))?;
        tok.eos_ids = eos_token_ids(dir)?;
        Ok(tok)
    }

    /// Loads a `tokenizer.json` file, with no EOS ids.
    pub fn from_file(path: &Path) -> Result<Self, TokenizerError> {
        // A FIFO or a device would block the read: refuse it first.
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            return Err(TokenizerError(format!("cannot load tokenizer {}: not a regular file", path.display())));
        }
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| TokenizerError(format!("cannot load tokenizer {}: {e}", path.display())))?;
        Self::from_inner(inner)
    }

    /// Loads a tokenizer from the bytes of a `tokenizer.json`, with no EOS ids.
    pub fn from_bytes(json: &[u8]) -> Result<Self, TokenizerError> {
        let inner = tokenizers::Tokenizer::from_bytes(json)
            .map_err(|e| TokenizerError(format!("cannot load tokenizer: {e}")))?;
        Self::from_inner(inner)
    }

    /// Drops the padding and truncation a `tokenizer.json` may carry (all-MiniLM-L6-v2's
    /// pads every encoding to 128 tokens): transformers' `tokenizer(text)` applies neither
    /// unless asked, and a padded input without its attention mask changes the result.
    fn from_inner(mut inner: tokenizers::Tokenizer) -> Result<Self, TokenizerError> {
        inner.with_padding(None);
        inner.with_truncation(None).map_err(|e| TokenizerError(format!("cannot turn truncation off: {e}")))?;
        Ok(Tokenizer { inner, eos_ids: Vec::new() })
    }

    /// Replaces the EOS ids.
    pub fn with_eos_ids(mut self, ids: Vec<u32>) -> Self {
        self.eos_ids = ids;
        self
    }

    /// Token ids of `text` as Hugging Face encodes by default: normalised, pre-tokenised,
    /// with the post-processor's special tokens added (a BOS for Llama, `[CLS] … [SEP]` for
    /// BERT), no truncation and no padding.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.encode_with(text, true)
    }

    /// Token ids of `text`, with the post-processor's special tokens or without them.
    pub fn encode_with(&self, text: &str, special_tokens: bool) -> Result<Vec<u32>, TokenizerError> {
        let enc = self
            .inner
            .encode(text, special_tokens)
            .map_err(|e| TokenizerError(format!("cannot tokenize: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Encodes and decodes a short text once, so that the tokenizer's first-use work (the
    /// `tokenizers` crate compiles its byte-level pre-tokenizer's regex lazily, on the first
    /// text it splits) happens while the program loads, not inside its first model call.
    /// On the tiny Llama that work was 4.5 ms of a 6 ms first prefill, and calls that start
    /// together all waited on it (docs/simulation.md). Errors are ignored: a tokenizer that
    /// cannot encode this text says so when a call gives it one.
    pub fn warm_up(&self) {
        if let Ok(ids) = self.encode_with("Warm up: 1, 2, 3.", false) {
            let _ = self.decode(&ids);
        }
    }

    /// Text of `ids` as Hugging Face decodes with `skip_special_tokens=True` (byte-level
    /// pieces that are not valid UTF-8 become U+FFFD).
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        self.inner
            .decode(ids, true)
            .map_err(|e| TokenizerError(format!("cannot decode tokens: {e}")))
    }

    /// The EOS ids (empty when the model declares none).
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos_ids
    }

    /// Whether `id` is one of the EOS ids.
    pub fn is_eos(&self, id: u32) -> bool {
        self.eos_ids.contains(&id)
    }

    /// The vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The added tokens marked special (`<s>`, `</s>`, `<|im_end|>`), sorted by id.
    pub fn special_tokens(&self) -> Vec<(u32, String)> {
        let mut tokens: Vec<(u32, String)> =
            self.inner.get_added_tokens_decoder().into_iter().filter(|(_, t)| t.special).map(|(id, t)| (id, t.content)).collect();
        tokens.sort();
        tokens
    }

    /// The text each token id adds to a decoded text, for `json:` masks: special tokens have
    /// none; any other token's is `decode([anchor, id])` less the text of `decode([anchor])`,
    /// where the anchor is the token of `a`, so a decoder that strips the leading space of a
    /// text (SentencePiece's `▁`) keeps it here as it would in the middle of a generation.
    pub fn token_texts(&self) -> Vec<crate::grammar::TokenText> {
        use crate::grammar::TokenText;
        let special: std::collections::HashSet<u32> = self.special_tokens().into_iter().map(|(id, _)| id).collect();
        let anchor = self.encode_with("a", false).ok().and_then(|ids| (ids.len() == 1).then(|| ids[0]));
        let anchor_text = anchor.and_then(|a| self.decode(&[a]).ok()).unwrap_or_default();
        (0..self.vocab_size() as u32)
            .map(|id| {
                if special.contains(&id) {
                    return TokenText::None;
                }
                let in_context = anchor.and_then(|a| self.decode(&[a, id]).ok()).and_then(|t| t.strip_prefix(&anchor_text).map(str::to_string));
                match in_context.or_else(|| self.decode(&[id]).ok()) {
                    Some(text) => TokenText::Text(text),
                    None => TokenText::None,
                }
            })
            .collect()
    }

    /// The id of a token string (`"</s>"`), if the vocabulary has it.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
}

/// The EOS token ids of a model folder, as transformers' `generate` finds them:
/// `eos_token_id` of `generation_config.json` when that file exists and sets it, otherwise
/// of `config.json`. The value may be one id or a list; `null` or absent gives no ids (the
/// generation then stops only at `max_tokens` or a stop text). A file that exists but is not
/// valid JSON is an error.
pub fn eos_token_ids(dir: &Path) -> Result<Vec<u32>, TokenizerError> {
    for name in ["generation_config.json", "config.json"] {
        let path: PathBuf = dir.join(name);
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        let text = crate::model_folder::read_text(&path).map_err(TokenizerError)?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| TokenizerError(format!("{} is not valid JSON: {e}", path.display())))?;
        let ids = match json.get("eos_token_id") {
            None | Some(serde_json::Value::Null) => continue,
            Some(serde_json::Value::Array(items)) => items.iter().map(|v| v.as_u64()).collect::<Option<Vec<_>>>(),
            Some(v) => v.as_u64().map(|id| vec![id]),
        };
        let ids = ids.ok_or_else(|| {
            TokenizerError(format!("{}: eos_token_id is not a token id or a list of them", path.display()))
        })?;
        return Ok(ids.into_iter().map(|id| id as u32).collect());
    }
    Ok(Vec::new())
}

impl crate::sampling::Detokenizer for Tokenizer {
    fn decode(&self, ids: &[u32]) -> Result<String, String> {
        Tokenizer::decode(self, ids).map_err(|e| e.0)
    }
    fn is_eos(&self, id: u32) -> bool {
        Tokenizer::is_eos(self, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models").join(name)
    }

    fn reference(name: &str) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(model(name).join("reference.json")).unwrap()).unwrap()
    }

    fn ids(v: &serde_json::Value) -> Vec<u32> {
        v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
    }

    /// The load-time warm-up changes no encoding: after it the tiny Llama's tokenizer still
    /// gives transformers' ids and decodes them back to the prompt.
    #[test]
    fn warm_up_leaves_encoding_as_the_reference() {
        let tok = Tokenizer::from_model_dir(&model("tiny-llama")).unwrap();
        tok.warm_up();
        for case in reference("tiny-llama")["cases"].as_array().unwrap() {
            let prompt = case["prompt"].as_str().unwrap();
            let expected = ids(&case["input_ids"]);
            assert_eq!(tok.encode(prompt).unwrap(), expected, "prompt {prompt:?}");
            assert_eq!(tok.decode(&expected[1..]).unwrap().trim_start(), prompt.trim_start(), "prompt {prompt:?}");
        }
    }

    #[test]
    fn tiny_llama_encodes_as_the_reference_with_bos() {
        let tok = Tokenizer::from_model_dir(&model("tiny-llama")).unwrap();
        assert_eq!(tok.eos_ids(), &[1]);
        assert!(tok.is_eos(1) && !tok.is_eos(0));
        let reference = reference("tiny-llama");
        for case in reference["cases"].as_array().unwrap() {
            let prompt = case["prompt"].as_str().unwrap();
            let expected = ids(&case["input_ids"]);
            assert_eq!(expected[0], 0, "reference starts with BOS");
            assert_eq!(tok.encode(prompt).unwrap(), expected, "prompt {prompt:?}");
        }
    }

    #[test]
    fn tiny_llama_decodes_new_tokens_as_transformers() {
        let tok = Tokenizer::from_model_dir(&model("tiny-llama")).unwrap();
        let reference = reference("tiny-llama");
        for case in reference["cases"].as_array().unwrap() {
            let generated = &case["generate"];
            let new_ids = ids(&generated["new_ids"]);
            assert_eq!(tok.decode(&new_ids).unwrap(), generated["new_text"].as_str().unwrap());
            // Special tokens are skipped.
            let mut with_special = vec![0];
            with_special.extend(&new_ids);
            with_special.push(1);
            assert_eq!(tok.decode(&with_special).unwrap(), generated["new_text"].as_str().unwrap());
        }
    }

    #[test]
    fn a_generation_over_the_reference_tokens_gives_the_reference_text() {
        use crate::sampling::{GenerateOptions, Generation, Pcg32, Step, StopReason};
        let tok = Tokenizer::from_model_dir(&model("tiny-llama")).unwrap();
        let reference = reference("tiny-llama");
        for case in reference["cases"].as_array().unwrap() {
            let generated = &case["generate"];
            let new_ids = ids(&generated["new_ids"]);
            let options = GenerateOptions { max_tokens: new_ids.len(), ..GenerateOptions::default() };
            let mut g = Generation::new(&tok, options, Pcg32::new(0, 0));
            let mut steps = vec![];
            for &id in &new_ids {
                // Logits whose argmax is the reference token.
                let mut logits = vec![0.0f32; tok.vocab_size()];
                logits[id as usize] = 1.0;
                steps.push(g.step(&logits).unwrap());
            }
            assert_eq!(*steps.last().unwrap(), Step::Done(StopReason::MaxTokens));
            assert_eq!(g.text(), generated["new_text"].as_str().unwrap());
            // EOS (id 1) ends a generation early.
            let mut g = Generation::new(&tok, GenerateOptions::default(), Pcg32::new(0, 0));
            let mut logits = vec![0.0f32; tok.vocab_size()];
            logits[1] = 1.0;
            assert_eq!(g.step(&logits).unwrap(), Step::Done(StopReason::Eos));
        }
    }

    #[test]
    fn tiny_bert_encodes_with_cls_and_sep() {
        let tok = Tokenizer::from_model_dir(&model("tiny-bert")).unwrap();
        assert!(tok.eos_ids().is_empty());
        let reference = reference("tiny-bert");
        for case in reference["cases"].as_array().unwrap() {
            let text = case["text"].as_str().unwrap();
            assert_eq!(tok.encode(text).unwrap(), ids(&case["input_ids"]), "text {text:?}");
        }
    }

    #[test]
    fn eos_from_generation_config_wins_and_lists_are_read() {
        let dir = std::env::temp_dir().join(format!("agentc-eos-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), r#"{"eos_token_id": 7}"#).unwrap();
        assert_eq!(eos_token_ids(&dir).unwrap(), [7]);
        std::fs::write(dir.join("generation_config.json"), r#"{"eos_token_id": [3, 9]}"#).unwrap();
        assert_eq!(eos_token_ids(&dir).unwrap(), [3, 9]);
        std::fs::write(dir.join("generation_config.json"), r#"{"bos_token_id": 1}"#).unwrap();
        assert_eq!(eos_token_ids(&dir).unwrap(), [7]);
        std::fs::write(dir.join("config.json"), "{not json").unwrap();
        assert!(eos_token_ids(&dir).unwrap_err().0.contains("not valid JSON"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn padding_and_truncation_of_tokenizer_json_are_not_applied() {
        let dir = model("minilm");
        if !dir.join("tokenizer.json").exists() {
            return; // fetched by tools/setup.sh
        }
        let tok = Tokenizer::from_model_dir(&dir).unwrap();
        let reference = serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/reference/minilm-reference.json")).unwrap(),
        )
        .unwrap();
        for case in reference["cases"].as_array().unwrap() {
            let want = ids(&case["input_ids"]);
            assert_eq!(tok.encode(case["text"].as_str().unwrap()).unwrap(), want, "no padding to 128");
        }
        let long = "word ".repeat(300);
        assert!(tok.encode(&long).unwrap().len() > 300, "no truncation to 128");
    }

    #[test]
    fn missing_tokenizer_is_a_clear_error() {
        let err = Tokenizer::from_model_dir(Path::new("/no/such/model")).unwrap_err();
        assert!(err.0.starts_with("cannot load tokenizer /no/such/model/tokenizer.json"), "{err}");
    }
}
