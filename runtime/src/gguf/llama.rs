//! A `llama` GGUF as the Hugging Face model it was converted from, the way transformers'
//! GGUF loader reads it (integrations/gguf: the config mapping, the tensor name mapping and
//! `LlamaTensorProcessor`): the `config.json` the metadata stands for, the HF name and
//! shape of each tensor, and its f32 elements with the Q/K row permutation that llama.cpp's
//! converter applies for its RoPE layout undone.

use super::reader::{GgufFile, TensorEntry};
use super::GgufError;

/// The HF name of a llama.cpp tensor name, when the compiler binds it.
pub fn hf_name(gguf: &str) -> Option<String> {
    let fixed = match gguf {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(name) = fixed {
        return Some(name.to_string());
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (layer, part) = rest.split_once('.')?;
    if layer.is_empty() || !layer.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hf = match part {
        "attn_norm.weight" => "input_layernorm.weight",
        "ffn_norm.weight" => "post_attention_layernorm.weight",
        "attn_q.weight" => "self_attn.q_proj.weight",
        "attn_k.weight" => "self_attn.k_proj.weight",
        "attn_v.weight" => "self_attn.v_proj.weight",
        "attn_output.weight" => "self_attn.o_proj.weight",
        "ffn_gate.weight" => "mlp.gate_proj.weight",
        "ffn_up.weight" => "mlp.up_proj.weight",
        "ffn_down.weight" => "mlp.down_proj.weight",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{hf}"))
}

fn required(file: &GgufFile, key: &str) -> Result<u64, GgufError> {
    file.get(key)
        .and_then(|v| v.as_u64())
        .filter(|&n| n > 0)
        .ok_or_else(|| GgufError(format!("{}: metadata `{key}` is missing or not a positive integer", file.path().display())))
}

/// The `config.json` of a `llama` file (transformers' GGUF config mapping): architecture
/// `LlamaForCausalLM`, sizes from `llama.*`, the vocabulary from `llama.vocab_size` or the
/// token list, tied embeddings when there is no `output.weight`, the special token ids.
pub fn hf_config(file: &GgufFile) -> Result<serde_json::Value, GgufError> {
    let path = file.path().display();
    let arch = file.get("general.architecture").and_then(|v| v.as_str()).unwrap_or("");
    if arch != "llama" {
        let shown = if arch.is_empty() { "(none)" } else { arch };
        return Err(GgufError(format!(
            "{path}: metadata `general.architecture` is `{shown}`; agentc reads `llama` GGUF files"
        )));
    }
    let hidden = required(file, "llama.embedding_length")?;
    let heads = required(file, "llama.attention.head_count")?;
    let kv_heads = match file.get("llama.attention.head_count_kv") {
        Some(_) => required(file, "llama.attention.head_count_kv")?,
        None => heads,
    };
    let head_dim = match file.get("llama.rope.dimension_count") {
        Some(_) => required(file, "llama.rope.dimension_count")?,
        None => hidden / heads,
    };
    let vocab = match file.get("llama.vocab_size") {
        Some(_) => required(file, "llama.vocab_size")?,
        None => file.get("tokenizer.ggml.tokens").and_then(|t| t.as_array()).map_or(0, |t| t.len() as u64),
    };
    if vocab == 0 {
        return Err(GgufError(format!("{path}: no vocabulary size (`llama.vocab_size` or `tokenizer.ggml.tokens`)")));
    }
    let float = |key: &str, default: f64| file.get(key).and_then(|v| v.as_f64()).unwrap_or(default);
    let id = |key: &str| file.get(key).and_then(|v| v.as_u64());
    let mut config = serde_json::json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "hidden_size": hidden,
        "intermediate_size": required(file, "llama.feed_forward_length")?,
        "num_hidden_layers": required(file, "llama.block_count")?,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "max_position_embeddings": required(file, "llama.context_length")?,
        "rms_norm_eps": float("llama.attention.layer_norm_rms_epsilon", 1e-6),
        "rope_theta": float("llama.rope.freq_base", 10000.0),
        "vocab_size": vocab,
        "tie_word_embeddings": file.tensor("output.weight").is_none(),
        "torch_dtype": "float32",
    });
    if file.get("llama.rope.scaling.type").and_then(|v| v.as_str()).is_some_and(|t| t != "none") || file.tensor("rope_freqs.weight").is_some() {
        config["rope_scaling"] = serde_json::json!({"rope_type": "scaled (GGUF rope scaling)"});
    }
    for (hf, key) in [("bos_token_id", "tokenizer.ggml.bos_token_id"), ("eos_token_id", "tokenizer.ggml.eos_token_id")] {
        if let Some(id) = id(key) {
            config[hf] = id.into();
        }
    }
    Ok(config)
}

/// Undoes llama.cpp's permutation of Q/K rows (transformers' `_reverse_permute_weights`):
/// per head, rows `(dim, 2)` back to `(2, dim)`. `rows × cols` row-major.
pub fn reverse_permute(weights: &[f32], rows: usize, cols: usize, heads: usize) -> Vec<f32> {
    let dim = rows / heads / 2;
    let mut out = vec![0f32; weights.len()];
    for h in 0..heads {
        for i in 0..2 {
            for j in 0..dim {
                let to = (h * 2 * dim + i * dim + j) * cols;
                let from = (h * 2 * dim + j * 2 + i) * cols;
                out[to..to + cols].copy_from_slice(&weights[from..from + cols]);
            }
        }
    }
    out
}

/// One weight as the compiler binds it: HF name, row-major shape, the GGUF entry.
#[derive(Debug, Clone)]
pub struct HfTensor<'a> {
    /// `model.layers.0.self_attn.q_proj.weight`.
    pub name: String,
    /// Row-major shape.
    pub shape: Vec<usize>,
    /// The file's entry.
    pub entry: &'a TensorEntry,
}

/// The tensors the compiler can bind, under their HF names (others, such as llama.cpp's
/// `rope_freqs.weight`, are left out).
pub fn hf_tensors(file: &GgufFile) -> Vec<HfTensor<'_>> {
    file.tensors()
        .iter()
        .filter_map(|entry| Some(HfTensor { name: hf_name(&entry.name)?, shape: entry.shape(), entry }))
        .collect()
}

/// The head count whose Q/K row permutation an HF tensor undoes (`None`: not a Q or K
/// projection), checked to divide its rows.
fn permuted_heads(file: &GgufFile, tensor: &HfTensor<'_>, config: &serde_json::Value) -> Result<Option<(usize, usize, usize)>, GgufError> {
    let heads = if tensor.name.ends_with("self_attn.q_proj.weight") {
        config["num_attention_heads"].as_u64()
    } else if tensor.name.ends_with("self_attn.k_proj.weight") {
        config["num_key_value_heads"].as_u64()
    } else {
        None
    };
    let Some(heads) = heads else { return Ok(None) };
    let heads = heads as usize;
    let (rows, cols) = match tensor.shape[..] {
        [rows, cols] => (rows, cols),
        _ => return Err(GgufError(format!("{}: tensor `{}` is not a matrix", file.path().display(), tensor.entry.name))),
    };
    if heads == 0 || rows % (2 * heads) != 0 {
        return Err(GgufError(format!(
            "{}: tensor `{}` has {rows} rows, not a multiple of 2 × {heads} heads",
            file.path().display(),
            tensor.entry.name
        )));
    }
    Ok(Some((rows, cols, heads)))
}

/// Row `to` of the unpermuted Q/K weight is row `order[to]` of the stored one
/// ([`reverse_permute`]'s order).
pub fn unpermuted_rows(rows: usize, heads: usize) -> Vec<usize> {
    let dim = rows / heads / 2;
    let mut order = vec![0; rows];
    for h in 0..heads {
        for i in 0..2 {
            for j in 0..dim {
                order[h * 2 * dim + i * dim + j] = h * 2 * dim + j * 2 + i;
            }
        }
    }
    order
}

/// An HF tensor of `file` in its quantised kernel form ([`super::quant`]), Q/K rows in HF
/// order: `None` when its type has no quantised kernel or it is not a matrix (it is then
/// bound as f32, [`hf_f32`]).
pub fn hf_planar(file: &GgufFile, tensor: &HfTensor<'_>, config: &serde_json::Value) -> Result<Option<super::quant::Planar>, GgufError> {
    if super::quant::Scheme::of(tensor.entry.ggml_type).is_none() || tensor.shape.len() != 2 {
        return Ok(None);
    }
    let planar = super::quant::repack(tensor.entry.ggml_type, file.bytes(tensor.entry), tensor.entry.elements() as usize)
        .map_err(|e| GgufError(format!("{}: tensor `{}`: {e}", file.path().display(), tensor.entry.name)))?;
    Ok(Some(match permuted_heads(file, tensor, config)? {
        Some((rows, cols, heads)) => planar.permute_rows(cols, &unpermuted_rows(rows, heads)),
        None => planar,
    }))
}

/// The f32 elements of an HF tensor of `file`, dequantised, Q/K rows in HF order.
pub fn hf_f32(file: &GgufFile, tensor: &HfTensor<'_>, config: &serde_json::Value) -> Result<Vec<f32>, GgufError> {
    let data = file.dequantize(tensor.entry)?;
    match permuted_heads(file, tensor, config)? {
        Some((rows, cols, heads)) => Ok(reverse_permute(&data, rows, cols, heads)),
        None => Ok(data),
    }
}

#[cfg(test)]
mod tests {
    use super::super::reader::tests::Builder;
    use super::*;

    #[test]
    fn names_map_to_hugging_face() {
        assert_eq!(hf_name("blk.12.attn_q.weight").unwrap(), "model.layers.12.self_attn.q_proj.weight");
        assert_eq!(hf_name("blk.0.ffn_down.weight").unwrap(), "model.layers.0.mlp.down_proj.weight");
        assert_eq!(hf_name("blk.3.ffn_norm.weight").unwrap(), "model.layers.3.post_attention_layernorm.weight");
        assert_eq!(hf_name("token_embd.weight").unwrap(), "model.embed_tokens.weight");
        assert_eq!(hf_name("output.weight").unwrap(), "lm_head.weight");
        assert_eq!(hf_name("rope_freqs.weight"), None);
        assert_eq!(hf_name("blk.x.attn_q.weight"), None);
    }

    #[test]
    fn permutation_is_undone_as_transformers_does() {
        // llama.cpp's permute: HF rows (h, 2, dim) stored as (h, dim, 2). Two heads of
        // dim 2, one column: HF [0 1 2 3 | 4 5 6 7] is stored [0 2 1 3 | 4 6 5 7].
        let stored = [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0];
        assert_eq!(reverse_permute(&stored, 8, 1, 2), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let order: Vec<f32> = unpermuted_rows(8, 2).iter().map(|&r| stored[r]).collect();
        assert_eq!(order, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn config_from_metadata() {
        let b = Builder::new()
            .str("general.architecture", "llama")
            .u32("llama.block_count", 2)
            .u32("llama.context_length", 64)
            .u32("llama.embedding_length", 8)
            .u32("llama.feed_forward_length", 16)
            .u32("llama.attention.head_count", 2)
            .u32("llama.attention.head_count_kv", 1)
            .f32("llama.rope.freq_base", 100000.0)
            .f32("llama.attention.layer_norm_rms_epsilon", 1e-5)
            .strings("tokenizer.ggml.tokens", &["a", "b", "c"])
            .u32("tokenizer.ggml.eos_token_id", 2)
            .f32_tensor("output_norm.weight", &[8], &[1.0; 8]);
        let path = b.write("config");
        let file = GgufFile::open(&path).unwrap();
        let config = hf_config(&file).unwrap();
        assert_eq!(config["architectures"][0], "LlamaForCausalLM");
        assert_eq!(config["num_hidden_layers"], 2);
        assert_eq!(config["num_key_value_heads"], 1);
        assert_eq!(config["head_dim"], 4);
        assert_eq!(config["vocab_size"], 3);
        assert_eq!(config["rope_theta"], 100000.0);
        assert_eq!(config["tie_word_embeddings"], true);
        assert_eq!(config["eos_token_id"], 2);
        assert_eq!(hf_tensors(&file)[0].name, "model.norm.weight");
        let _ = std::fs::remove_file(&path);

        let path = Builder::new().str("general.architecture", "gpt2").write("arch");
        let err = hf_config(&GgufFile::open(&path).unwrap()).unwrap_err().0;
        assert!(err.contains("`general.architecture` is `gpt2`; agentc reads `llama`"), "{err}");
        let path2 = Builder::new().str("general.architecture", "llama").write("missing");
        let err = hf_config(&GgufFile::open(&path2).unwrap()).unwrap_err().0;
        assert!(err.contains("metadata `llama.embedding_length` is missing"), "{err}");
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(&path2);
    }
}
