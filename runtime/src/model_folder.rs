//! A model folder is untrusted input: an executable checks the folder it loads (the
//! build-time one, edited since, or one given with `--models DIR`) against what its kernels
//! were compiled for — the plan's `models[].config` and `models[].weights` — before it binds
//! a weight or allocates a cache, so a changed `config.json` or `model.safetensors` is one
//! clear error naming the file and the field, never a kernel reading out of bounds.
//!
//! Every file is checked to be a regular file before it is opened: a FIFO or a device named
//! `model.safetensors` would block the open or the read forever.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::plan::WeightSpec;
use crate::weights::Weights;

/// Errors unless `path` is a regular file (after symbolic links): missing, a folder, a
/// FIFO, a socket or a device are refused without opening it.
pub fn regular_file(path: &Path) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !metadata.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    Ok(())
}

/// Reads a regular file as text.
pub fn read_text(path: &Path) -> Result<String, String> {
    regular_file(path)?;
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads a regular file as JSON.
pub fn read_json(path: &Path) -> Result<Value, String> {
    serde_json::from_str(&read_text(path)?).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

/// The value of `key` in `config` as the compiler reads it (`planner::model_spec`): an
/// integer, with the compiler's defaults for the keys that have one. `Err` says why there is
/// none.
fn effective(config: &Value, key: &str) -> Result<u64, String> {
    let explicit = |key: &str| match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("`{key}` is not a non-negative integer")),
    };
    if let Some(value) = explicit(key)? {
        return Ok(value);
    }
    let need = |key: &str| explicit(key)?.ok_or_else(|| format!("`{key}` is missing"));
    match key {
        "num_key_value_heads" => need("num_attention_heads"),
        "head_dim" => {
            let (hidden, heads) = (need("hidden_size")?, need("num_attention_heads")?);
            if heads == 0 || hidden % heads != 0 {
                return Err(format!("`num_attention_heads` ({heads}) does not divide `hidden_size` ({hidden})"));
            }
            Ok(hidden / heads)
        }
        "max_position_embeddings" => Ok(2048),
        "type_vocab_size" => Ok(2),
        _ => Err(format!("`{key}` is missing")),
    }
}

/// Checks the parsed `config.json` at `path` against the sizes the kernels were compiled
/// for (`want`, by key): the first difference is the error.
pub fn check_config(config: &Value, path: &Path, want: &BTreeMap<String, u64>) -> Result<(), String> {
    if !config.is_object() {
        return Err(format!("{}: not a JSON object", path.display()));
    }
    // The keys read directly first, then those derived from others when absent, so a
    // changed `hidden_size` is named as such rather than as the `head_dim` it implies.
    let derived = |key: &str| matches!(key, "head_dim" | "num_key_value_heads");
    let ordered = want.iter().filter(|(k, _)| !derived(k)).chain(want.iter().filter(|(k, _)| derived(k)));
    for (key, &compiled) in ordered {
        match effective(config, key) {
            Ok(value) if value == compiled => {}
            Ok(value) => {
                return Err(format!("{}: `{key}` is {value}, but the executable was compiled for {compiled}", path.display()));
            }
            Err(why) => return Err(format!("{}: {why} (the executable was compiled for `{key}` {compiled})", path.display())),
        }
    }
    Ok(())
}

/// Checks a folder's `config.json` as the compiler did ([`crate::model_config::check`]:
/// every key understood or without numeric effect, values computed as transformers does)
/// and that it names the architecture the kernels were compiled for (`models[].architecture`;
/// empty: not recorded). A Qwen2 folder given to a Llama executable would have its q/k/v
/// biases ignored: refused here.
pub fn check_numerics(config: &Value, path: &Path, architecture: &str) -> Result<(), String> {
    let checked = crate::model_config::check(config).map_err(|e| format!("{}: {e}", path.display()))?;
    let found = checked.architecture.name();
    if !architecture.is_empty() && found != architecture {
        return Err(format!("{}: the architecture is `{found}`, but the executable was compiled for `{architecture}`", path.display()));
    }
    Ok(())
}

/// Checks the header of `weights` against every weight the kernels were compiled to read:
/// present, same dtype (the stored one, [`WeightSpec::stored`], when the kernel reads a
/// conversion), same shape.
pub fn check_weights(weights: &Weights, want: &[WeightSpec]) -> Result<(), String> {
    let path = weights.path().display();
    for spec in want {
        let Some(info) = weights.info(&spec.name) else {
            return Err(format!("{path}: no tensor `{}` (the executable was compiled to read it)", spec.name));
        };
        let stored = if spec.stored.is_empty() { &spec.dtype } else { &spec.stored };
        if info.dtype != *stored {
            return Err(format!("{path}: tensor `{}` is {}, but the executable was compiled for {stored}", spec.name, info.dtype));
        }
        if info.shape.iter().map(|&d| d as u64).ne(spec.shape.iter().copied()) {
            return Err(format!(
                "{path}: tensor `{}` has shape {:?}, but the executable was compiled for {:?}",
                spec.name, info.shape, spec.shape
            ));
        }
    }
    Ok(())
}

/// `max_seq_length` of the folder's `sentence_bert_config.json`: `None` when the file is
/// absent or does not set it; an error when it is not a regular file, not JSON, or the value
/// is not a positive integer.
pub fn max_seq_length(dir: &Path) -> Result<Option<usize>, String> {
    let path = dir.join("sentence_bert_config.json");
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let json = read_json(&path)?;
    match json.get("max_seq_length") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64().filter(|&n| n > 0) {
            Some(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            None => Err(format!("{}: `max_seq_length` is not a positive integer", path.display())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tiny(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models").join(name)
    }

    fn llama_config() -> Value {
        read_json(&tiny("tiny-llama").join("config.json")).unwrap()
    }

    fn compiled_for_tiny_llama() -> BTreeMap<String, u64> {
        [
            ("head_dim", 16),
            ("hidden_size", 64),
            ("intermediate_size", 128),
            ("max_position_embeddings", 512),
            ("num_attention_heads", 4),
            ("num_hidden_layers", 2),
            ("num_key_value_heads", 2),
            ("vocab_size", 384),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn the_folder_it_was_compiled_for_passes() {
        check_config(&llama_config(), Path::new("c.json"), &compiled_for_tiny_llama()).unwrap();
    }

    #[test]
    fn every_changed_size_is_an_error_naming_the_field() {
        let cases: &[(&str, Value, &str)] = &[
            ("vocab_size", 10.into(), "c.json: `vocab_size` is 10, but the executable was compiled for 384"),
            ("num_hidden_layers", 3.into(), "`num_hidden_layers` is 3, but the executable was compiled for 2"),
            ("max_position_embeddings", 1024.into(), "`max_position_embeddings` is 1024, but"),
            ("max_position_embeddings", (1u64 << 40).into(), "`max_position_embeddings` is 1099511627776, but"),
            ("hidden_size", 0.into(), "`hidden_size` is 0, but the executable was compiled for 64"),
            ("hidden_size", Value::Null, "`hidden_size` is missing (the executable was compiled for `hidden_size` 64)"),
            ("hidden_size", (-1).into(), "`hidden_size` is not a non-negative integer"),
            ("num_attention_heads", 3.into(), "`num_attention_heads` is 3, but"),
        ];
        for (key, value, want) in cases {
            let mut config = llama_config();
            config[*key] = value.clone();
            let err = check_config(&config, Path::new("c.json"), &compiled_for_tiny_llama()).unwrap_err();
            assert!(err.contains(want), "{key}: {err}");
        }
    }

    #[test]
    fn derived_sizes_use_the_compilers_defaults() {
        let want: BTreeMap<String, u64> = [("head_dim".to_string(), 16), ("num_key_value_heads".to_string(), 4)].into();
        let config = serde_json::json!({"hidden_size": 64, "num_attention_heads": 4});
        check_config(&config, Path::new("c.json"), &want).unwrap();
        let config = serde_json::json!({"hidden_size": 64, "num_attention_heads": 5});
        let err = check_config(&config, Path::new("c.json"), &want).unwrap_err();
        assert!(err.contains("`num_attention_heads` (5) does not divide `hidden_size` (64)"), "{err}");
        assert!(check_config(&serde_json::json!([1]), Path::new("c.json"), &want).unwrap_err().contains("not a JSON object"));
    }

    #[test]
    fn weights_are_checked_by_name_dtype_and_shape() {
        let weights = Weights::open(&tiny("tiny-llama").join("model.safetensors")).unwrap();
        let spec = |name: &str, dtype: &str, shape: &[u64]| WeightSpec { name: name.into(), dtype: dtype.into(), stored: String::new(), shape: shape.to_vec(), quant: String::new(), stored_bytes: 0 };
        check_weights(&weights, &[spec("lm_head.weight", "F32", &[384, 64])]).unwrap();
        let err = check_weights(&weights, &[spec("lm_head.weight", "F32", &[400, 64])]).unwrap_err();
        assert!(err.ends_with("tensor `lm_head.weight` has shape [384, 64], but the executable was compiled for [400, 64]"), "{err}");
        let err = check_weights(&weights, &[spec("lm_head.weight", "F16", &[384, 64])]).unwrap_err();
        assert!(err.ends_with("tensor `lm_head.weight` is F32, but the executable was compiled for F16"), "{err}");
        let err = check_weights(&weights, &[spec("nope", "F32", &[1])]).unwrap_err();
        assert!(err.ends_with("no tensor `nope` (the executable was compiled to read it)"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_opening_it() {
        let dir = std::env::temp_dir().join(format!("agentc-folder-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("model.safetensors");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        // Opening a FIFO for reading blocks until a writer comes: this returns at once.
        let err = regular_file(&fifo).unwrap_err();
        assert!(err.ends_with("model.safetensors is not a regular file"), "{err}");
        assert!(Weights::open(&fifo).unwrap_err().0.contains("is not a regular file"));
        assert!(read_json(&dir).unwrap_err().contains("is not a regular file"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sentence_config_absent_valid_or_corrupt() {
        assert_eq!(max_seq_length(&tiny("tiny-bert")).unwrap(), Some(64));
        assert_eq!(max_seq_length(&tiny("tiny-llama")).unwrap(), None);
        let dir = std::env::temp_dir().join(format!("agentc-folder-sbert-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sentence_bert_config.json");
        std::fs::write(&file, "{nope").unwrap();
        assert!(max_seq_length(&dir).unwrap_err().contains("sentence_bert_config.json is not valid JSON"));
        std::fs::write(&file, r#"{"max_seq_length": 0}"#).unwrap();
        assert!(max_seq_length(&dir).unwrap_err().contains("`max_seq_length` is not a positive integer"));
        std::fs::write(&file, r#"{"do_lower_case": false}"#).unwrap();
        assert_eq!(max_seq_length(&dir).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn another_architecture_or_an_unknown_key_is_refused() {
        check_numerics(&llama_config(), Path::new("c.json"), "LlamaForCausalLM").unwrap();
        let qwen = read_json(&tiny("tiny-qwen2").join("config.json")).unwrap();
        let err = check_numerics(&qwen, Path::new("c.json"), "LlamaForCausalLM").unwrap_err();
        assert_eq!(err, "c.json: the architecture is `Qwen2ForCausalLM`, but the executable was compiled for `LlamaForCausalLM`");
        let mut config = llama_config();
        config["rope_scaling"] = serde_json::json!({"rope_type": "yarn", "factor": 4.0});
        let err = check_numerics(&config, Path::new("c.json"), "LlamaForCausalLM").unwrap_err();
        assert!(err.contains("rope type `yarn`"), "{err}");
    }
}

/// The folder's chat template must be the one the program was built with (`want`, the
/// plan's `models[].chat`): the executable renders every `chat` prompt with the embedded
/// template and stops at the end-of-turn token this folder's tokenizer has for it.
pub fn check_chat_template(dir: &Path, want: &crate::chat::ChatTemplate) -> Result<(), String> {
    match crate::chat::ChatTemplate::from_model_dir(dir)? {
        Some(found) if found == *want => Ok(()),
        Some(_) => Err(format!(
            "the chat template of {} (tokenizer_config.json / chat_template.jinja) differs from the one the program was built with",
            dir.display()
        )),
        None => Err(format!("{} has no chat template, and the program's `chat` calls need the one it was built with", dir.display())),
    }
}

/// The chat template of a GGUF model's metadata (`tokenizer.chat_template`) must be the one
/// the program was built with, as [`check_chat_template`] checks a folder's.
pub fn check_gguf_chat_template(path: &Path, model: &crate::gguf::GgufModel, want: &crate::chat::ChatTemplate) -> Result<(), String> {
    match model.chat_template()? {
        Some(found) if found == *want => Ok(()),
        Some(_) => Err(format!("the chat template of {} (`tokenizer.chat_template`) differs from the one the program was built with", path.display())),
        None => Err(format!("{} has no chat template, and the program's `chat` calls need the one it was built with", path.display())),
    }
}
