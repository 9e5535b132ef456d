//! The tokenizer and chat template a GGUF's metadata describes, built the way transformers'
//! GGUF loader builds them (integrations/gguf/gguf_tokenizer_mapping.py):
//!
//! - `tokenizer.ggml.model` `gpt2`: byte-level BPE. Tokens spelled in GPT-2's byte alphabet
//!   are kept, others are re-spelled from their UTF-8 bytes; merges from
//!   `tokenizer.ggml.merges`; control tokens (type 3) spelled in the alphabet become special
//!   added tokens, user-defined ones (type 4) plain added tokens; the pre-tokenizer is GPT-2's
//!   byte-level split unless `tokenizer.ggml.pre` names one of the llama-3 family's splits; a
//!   BOS is added only when `tokenizer.ggml.add_bos_token` is true.
//! - the chat template is `tokenizer.chat_template`, with the texts of the BOS and EOS ids.
//!
//! Other tokenizer models (`llama` sentencepiece, `t5`) are a clear error.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use super::GgufError;
use super::reader::{GgufFile, Value};
use crate::chat::ChatTemplate;
use crate::tokenizer::Tokenizer;

/// llama-3's split (transformers' `_LLAMA3_SPLIT`), used for the `pre` names it lists.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const LLAMA3_PRES: &[&str] =
    &["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"];

/// GPT-2's byte-to-character table (`bytes_to_unicode`): printable bytes stand for
/// themselves, the others for code points from 256 up.
fn bytes_to_unicode() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
        table[b as usize] = if printable {
            char::from(b)
        } else {
            let c = char::from_u32(next).expect("code points below 512 are chars");
            next += 1;
            c
        };
    }
    table
}

fn strings<'a>(file: &'a GgufFile, key: &str) -> Result<Option<Vec<&'a str>>, GgufError> {
    let Some(value) = file.get(key) else { return Ok(None) };
    let bad = || GgufError(format!("{}: metadata `{key}` is not an array of strings", file.path().display()));
    value.as_array().ok_or_else(bad)?.iter().map(|v| v.as_str().ok_or_else(bad)).collect::<Result<Vec<_>, _>>().map(Some)
}

/// The `tokenizer.json` (as JSON) the metadata describes.
pub fn tokenizer_json(file: &GgufFile) -> Result<Json, GgufError> {
    let path = file.path().display();
    let model = file.get("tokenizer.ggml.model").and_then(Value::as_str).unwrap_or("");
    if model != "gpt2" {
        let shown = if model.is_empty() { "(none)" } else { model };
        return Err(GgufError(format!(
            "{path}: metadata `tokenizer.ggml.model` is `{shown}`; agentc builds byte-level BPE (`gpt2`) tokenizers from GGUF files"
        )));
    }
    let tokens = strings(file, "tokenizer.ggml.tokens")?
        .ok_or_else(|| GgufError(format!("{path}: metadata `tokenizer.ggml.tokens` is missing")))?;
    let merges = strings(file, "tokenizer.ggml.merges")?
        .ok_or_else(|| GgufError(format!("{path}: metadata `tokenizer.ggml.merges` is missing")))?;
    let types: Vec<i64> = match file.get("tokenizer.ggml.token_type") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|a| a.iter().map(|t| t.as_f64().map(|f| f as i64)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| GgufError(format!("{path}: metadata `tokenizer.ggml.token_type` is not an array of integers")))?,
    };
    let spelling = bytes_to_unicode();
    let alphabet: BTreeSet<char> = spelling.iter().copied().collect();
    let spelled = |t: &str| t.chars().all(|c| alphabet.contains(&c));
    let mut vocab = serde_json::Map::new();
    for (id, token) in tokens.iter().enumerate() {
        let key = if spelled(token) { token.to_string() } else { token.bytes().map(|b| spelling[b as usize]).collect() };
        // A later duplicate spelling wins, as in a Python dict comprehension.
        vocab.insert(key, json!(id));
    }
    let mut merge_pairs = Vec::with_capacity(merges.len());
    for (n, merge) in merges.iter().enumerate() {
        let mut parts = merge.split(' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => merge_pairs.push(json!([a, b])),
            _ => return Err(GgufError(format!("{path}: metadata `tokenizer.ggml.merges`[{n}] `{merge}` is not two tokens"))),
        }
    }
    let mut added = Vec::new();
    for (id, (token, &kind)) in tokens.iter().zip(types.iter().chain(std::iter::repeat(&1))).enumerate() {
        let special = match kind {
            3 if spelled(token) => true,
            4 if vocab.contains_key(*token) => false,
            _ => continue,
        };
        added.push(json!({
            "id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
            "normalized": false, "special": special,
        }));
    }
    let pre = file.get("tokenizer.ggml.pre").and_then(Value::as_str).unwrap_or("");
    let pre_tokenizer = if LLAMA3_PRES.contains(&pre) {
        json!({"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
        ]})
    } else {
        json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true})
    };
    let add_bos = file.get("tokenizer.ggml.add_bos_token").and_then(Value::as_bool).unwrap_or(false);
    let bos = file.get("tokenizer.ggml.bos_token_id").and_then(Value::as_u64).and_then(|id| Some((id, *tokens.get(id as usize)?)));
    let post_processor = match bos {
        Some((id, text)) if add_bos => json!({
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": text, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": text, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": text, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {text: {"id": text, "ids": [id], "tokens": [text]}},
        }),
        _ => Json::Null,
    };
    Ok(json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merge_pairs,
        },
    }))
}

/// The runtime's tokenizer for the file, with its EOS id (`tokenizer.ggml.eos_token_id`).
pub fn tokenizer(file: &GgufFile) -> Result<Tokenizer, GgufError> {
    let json = tokenizer_json(file)?;
    let bytes = serde_json::to_vec(&json).map_err(|e| GgufError(e.to_string()))?;
    let tok = Tokenizer::from_bytes(&bytes).map_err(|e| GgufError(format!("{}: {}", file.path().display(), e.0)))?;
    let eos = file.get("tokenizer.ggml.eos_token_id").and_then(Value::as_u64).and_then(|id| u32::try_from(id).ok());
    Ok(tok.with_eos_ids(eos.into_iter().collect()))
}

/// The chat template of `tokenizer.chat_template`, with the BOS and EOS texts; `None`
/// without one.
pub fn chat_template(file: &GgufFile) -> Result<Option<ChatTemplate>, String> {
    let Some(value) = file.get("tokenizer.chat_template") else { return Ok(None) };
    let template = value
        .as_str()
        .ok_or_else(|| format!("{}: metadata `tokenizer.chat_template` is not text", file.path().display()))?
        .to_string();
    let tokens = strings(file, "tokenizer.ggml.tokens").map_err(|e| e.0)?.unwrap_or_default();
    let text = |key: &str| -> String {
        file.get(key).and_then(Value::as_u64).and_then(|id| tokens.get(id as usize)).map_or(String::new(), |t| t.to_string())
    };
    let chat = ChatTemplate { template, bos_token: text("tokenizer.ggml.bos_token_id"), eos_token: text("tokenizer.ggml.eos_token_id") };
    chat.check().map_err(|e| format!("the chat template of {}: {e}", file.path().display()))?;
    Ok(Some(chat))
}

#[cfg(test)]
mod tests {
    use super::super::reader::tests::Builder;
    use super::*;

    fn tiny() -> Builder {
        Builder::new()
            .str("tokenizer.ggml.model", "gpt2")
            .strings("tokenizer.ggml.tokens", &["<|end|>", "a", "b", "ab", "Ġ", "Ġab", "<x>"])
            .i32s("tokenizer.ggml.token_type", &[3, 1, 1, 1, 1, 1, 4])
            .strings("tokenizer.ggml.merges", &["a b", "Ġ ab"])
            .u32("tokenizer.ggml.eos_token_id", 0)
            .u32("tokenizer.ggml.bos_token_id", 0)
    }

    #[test]
    fn byte_level_bpe_from_metadata() {
        let path = tiny().write("tok");
        let file = GgufFile::open(&path).unwrap();
        let tok = tokenizer(&file).unwrap();
        assert_eq!(tok.encode_with("ab ab<|end|>", true).unwrap(), [3, 5, 0]);
        assert_eq!(tok.decode(&[3, 5]).unwrap(), "ab ab");
        assert_eq!(tok.eos_ids(), [0]);
        // <x> is user-defined (4) but not in the byte alphabet's vocabulary spelling: kept
        // whole as an added token since it is in the vocabulary.
        assert_eq!(tok.encode_with("<x>", false).unwrap(), [6]);
        let _ = std::fs::remove_file(&path);
        // A BOS is added only when the file says so.
        let path = tiny().kv("tokenizer.ggml.add_bos_token", 7, vec![1]).write("bos");
        let tok = tokenizer(&GgufFile::open(&path).unwrap()).unwrap();
        assert_eq!(tok.encode_with("ab", true).unwrap(), [0, 3]);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn other_tokenizer_models_and_bad_metadata_are_errors() {
        let path = tiny().str("tokenizer.ggml.model", "llama").write("spm");
        // The builder keeps both entries: the second `tokenizer.ggml.model` is a duplicate.
        assert!(GgufFile::open(&path).unwrap_err().0.contains("appears twice"));
        let _ = std::fs::remove_file(&path);
        let path = Builder::new().str("tokenizer.ggml.model", "llama").write("spm2");
        let err = tokenizer(&GgufFile::open(&path).unwrap()).unwrap_err().0;
        assert!(err.contains("`tokenizer.ggml.model` is `llama`; agentc builds byte-level BPE"), "{err}");
        let _ = std::fs::remove_file(&path);
        let path = Builder::new().str("tokenizer.ggml.model", "gpt2").strings("tokenizer.ggml.tokens", &["a"]).strings("tokenizer.ggml.merges", &["a"]).write("merge");
        let err = tokenizer(&GgufFile::open(&path).unwrap()).unwrap_err().0;
        assert!(err.contains("`tokenizer.ggml.merges`[0] `a` is not two tokens"), "{err}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn chat_template_from_metadata() {
        let path = tiny().str("tokenizer.chat_template", "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}").write("chat");
        let chat = chat_template(&GgufFile::open(&path).unwrap()).unwrap().unwrap();
        assert_eq!(chat.bos_token, "<|end|>");
        let _ = std::fs::remove_file(&path);
        let path = tiny().str("tokenizer.chat_template", "{% if %}").write("badchat");
        assert!(chat_template(&GgufFile::open(&path).unwrap()).unwrap_err().contains("the chat template of"));
        let _ = std::fs::remove_file(&path);
    }
}
