//! What the planner knows about a model, from its Hugging Face `config.json` alone: enough
//! to count parameters, FLOPs and bytes, so a user can plan for Llama-3-70B with nothing
//! but its config at hand. When the folder also holds its weights, their safetensors
//! headers give the real precision ([`ModelSpec::load`]). Formulas are in
//! docs/cost-model.md ("Model profiles").

use agentc_runtime::gguf::quant::Scheme;
use std::path::{Path, PathBuf};

use agentc_runtime::model_config::Architecture;
use serde_json::Value;

/// Decoder or encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `LlamaForCausalLM` and the decoders of its shape (`Qwen2ForCausalLM`,
    /// `MistralForCausalLM`).
    Llama,
    /// `BertModel`.
    Bert,
}

/// The architecture numbers of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// Decoder or encoder family.
    pub family: Family,
    /// `hidden_size`.
    pub hidden: f64,
    /// `num_hidden_layers`.
    pub layers: f64,
    /// `num_attention_heads`.
    pub heads: f64,
    /// `num_key_value_heads` (GQA; = heads when absent).
    pub kv_heads: f64,
    /// `head_dim` (= hidden / heads when absent).
    pub head_dim: f64,
    /// `intermediate_size`.
    pub intermediate: f64,
    /// `vocab_size`.
    pub vocab: f64,
    /// `max_position_embeddings` (the context length).
    pub max_positions: f64,
    /// Bytes per activation and KV-cache element (`torch_dtype`/`dtype`, or the program's
    /// `dtype:` option; 4 for a folder agentc compiles, whose kernels keep both in f32).
    pub dtype_bytes: f64,
    /// Bytes per parameter as the kernels read the weights: the folder's stored dtypes when
    /// its safetensors headers are there (bf16: 2; 4 when `dtype: "f32"` converts at load),
    /// else `dtype_bytes`.
    pub weight_dtype_bytes: f64,
    /// The weights' arithmetic as the scheduler names it (`f32`, `f16`, `bf16`, `fp8`): the
    /// program's `dtype:` when given, else config.json's; `f32` for a folder with its
    /// weights (agentc's kernels compute in f32, whatever the weights are stored in).
    pub dtype: &'static str,
    /// `tie_word_embeddings` (Llama): the output projection reuses the embedding.
    pub tied_embeddings: bool,
    /// BERT's `type_vocab_size`.
    pub type_vocab: f64,
    /// The q, k and v projections have biases (Qwen2).
    pub qkv_bias: bool,
    /// Weights the kernels read from 8-bit blocks (GGUF Q8_0, Q6_K); 0 for float weights.
    pub int8_weights: f64,
    /// Weights the kernels read from 4-bit blocks (GGUF Q4_0, Q4_1, Q4_K); 0 for float weights.
    pub int4_weights: f64,
}

/// Why a config cannot be planned.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError(pub String);

/// The scheduler's name and the bytes per weight of a dtype as config.json or `hf(...,
/// dtype:)` spells it (int8 weights run at the scheduler's 8-bit (`fp8`) rate).
fn dtype_of(name: &str) -> Option<(&'static str, f64)> {
    Some(match name {
        "float32" | "f32" => ("f32", 4.0),
        "float16" | "f16" => ("f16", 2.0),
        "bfloat16" | "bf16" => ("bf16", 2.0),
        "float8_e4m3fn" | "fp8" | "int8" => ("fp8", 1.0),
        _ => return None,
    })
}

/// A model's `config.json` and the path to name in errors: the folder's file, or for a GGUF
/// file (`gguf("m.gguf")`) the config its metadata stands for (agentc_runtime::gguf).
pub fn config_json(folder: &Path) -> Result<(Value, PathBuf), SpecError> {
    if agentc_runtime::gguf::is_gguf(folder) {
        let model = agentc_runtime::gguf::GgufModel::open(folder).map_err(|e| SpecError(e.0))?;
        return Ok((model.config().clone(), folder.to_path_buf()));
    }
    let path = folder.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| SpecError(format!("cannot read `{}`: {e}", path.display())))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| SpecError(format!("`{}` is not valid JSON: {e}", path.display())))?;
    Ok((json, path))
}

impl ModelSpec {
    /// Reads `folder/config.json`; `dtype` (from `hf(..., dtype: "f16")`) overrides the
    /// stored weight type.
    /// stored weight type. When the folder holds its weights (`model.safetensors` or a
    /// sharded index), their headers set the real precision: f32 arithmetic and activations
    /// (what agentc's kernels compute in) and the stored bytes per parameter (a folder
    /// without weights, planned but not compiled, keeps config.json's dtype for all three).
    pub fn load(folder: &Path, dtype: Option<&str>) -> Result<ModelSpec, SpecError> {
        let (json, _) = config_json(folder)?;
        let mut spec = ModelSpec::from_config(&json, dtype)?;
        if agentc_runtime::gguf::is_gguf(folder) {
            // A GGUF's weights: quantised blocks at their real bits per weight, unless
            // `dtype: "f32"` dequantises them at load.
            let model = agentc_runtime::gguf::GgufModel::open(folder).map_err(|e| SpecError(e.0))?;
            spec.use_stored_weights(&crate::weights::gguf::header(&model, dtype != Some("f32")), dtype == Some("f32"));
        } else if let Ok(header) = crate::weights::safetensors::Header::read_folder(folder) {
            spec.use_stored_weights(&header, dtype == Some("f32"));
        }
        Ok(spec)
    }

    /// The precision of compiled kernels over the weights in `header`: f32 arithmetic and
    /// activations, and bytes per parameter averaged over the stored float tensors (4 when
    /// they are converted to f32 at load).
    pub fn use_stored_weights(&mut self, header: &crate::weights::safetensors::Header, converted_to_f32: bool) {
        let (mut bytes, mut elements) = (0u64, 0u64);
        let (mut int8, mut int4) = (0u64, 0u64);
        let counted = |d: &str| matches!(d, "F32" | "F16" | "BF16") || agentc_runtime::gguf::dequant::GgmlType::from_name(d).is_some();
        for tensor in header.tensors.values().filter(|t| counted(&t.dtype)) {
            let n = tensor.shape.iter().product::<i64>() as u64;
            bytes += tensor.data_offsets.1 - tensor.data_offsets.0;
            elements += n;
            // The kernel form the runtime repacks the tensor's blocks into.
            match agentc_runtime::gguf::dequant::GgmlType::from_name(&tensor.dtype).and_then(Scheme::of) {
                Some(Scheme::Int8 { .. }) => int8 += n,
                Some(Scheme::Int4 { .. } | Scheme::Int4Sym { .. }) => int4 += n,
                None => {}
            }
        }
        (self.int8_weights, self.int4_weights) = if converted_to_f32 { (0.0, 0.0) } else { (int8 as f64, int4 as f64) };
        self.dtype = "f32";
        self.dtype_bytes = 4.0;
        self.weight_dtype_bytes = if converted_to_f32 || elements == 0 { 4.0 } else { bytes as f64 / elements as f64 };
    }

    /// Reads the numbers from a parsed `config.json`.
    pub fn from_config(json: &Value, dtype: Option<&str>) -> Result<ModelSpec, SpecError> {
        let architecture = json["architectures"][0].as_str().unwrap_or("");
        let Some(known) = Architecture::from_name(architecture) else {
            return Err(SpecError(format!("the planner does not know architecture `{architecture}`")));
        };
        let family = if known == Architecture::Bert { Family::Bert } else { Family::Llama };
        // Sizes are positive integers: a 0, a fraction or a negative size is an error here,
        // not a kernel of zero width or an out-of-bounds read later.
        let number = |key: &str| -> Result<Option<f64>, SpecError> {
            match &json[key] {
                Value::Null => Ok(None),
                v => v
                    .as_u64()
                    .filter(|&n| n > 0)
                    .map(|n| Some(n as f64))
                    .ok_or_else(|| SpecError(format!("config.json: `{key}` must be a positive integer, not {v}"))),
            }
        };
        let need = |key: &str| number(key)?.ok_or_else(|| SpecError(format!("config.json has no numeric `{key}`")));
        let hidden = need("hidden_size")?;
        let heads = need("num_attention_heads")?;
        let kv_heads = number("num_key_value_heads")?.unwrap_or(heads);
        let head_dim = match number("head_dim")? {
            Some(d) => d,
            None if hidden % heads == 0.0 => hidden / heads,
            None => {
                return Err(SpecError(format!(
                    "config.json: `num_attention_heads` ({heads}) does not divide `hidden_size` ({hidden}) and there is no `head_dim`"
                )))
            }
        };
        if heads % kv_heads != 0.0 {
            return Err(SpecError(format!(
                "config.json: `num_key_value_heads` ({kv_heads}) does not divide `num_attention_heads` ({heads})"
            )));
        }
        let stored = json["torch_dtype"].as_str().or(json["dtype"].as_str()).unwrap_or("float32");
        let chosen = dtype.unwrap_or(stored);
        let (dtype, dtype_bytes) = dtype_of(chosen).ok_or_else(|| SpecError(format!("unknown weight dtype `{chosen}`")))?;
        Ok(ModelSpec {
            family,
            hidden,
            layers: need("num_hidden_layers")?,
            heads,
            kv_heads,
            head_dim,
            intermediate: need("intermediate_size")?,
            vocab: need("vocab_size")?,
            max_positions: number("max_position_embeddings")?.unwrap_or(2048.0),
            dtype_bytes,
            weight_dtype_bytes: dtype_bytes,
            dtype,
            tied_embeddings: json["tie_word_embeddings"].as_bool().unwrap_or(false),
            type_vocab: number("type_vocab_size")?.unwrap_or(2.0),
            qkv_bias: known.qkv_bias(),
            int8_weights: 0.0,
            int4_weights: 0.0,
        })
    }

    /// Width of the attention output (`heads × head_dim`).
    fn attention_width(&self) -> f64 {
        self.heads * self.head_dim
    }

    /// Parameters of one transformer layer that take part in matrix products.
    fn layer_matmul_params(&self) -> f64 {
        let h = self.hidden;
        let q = h * self.attention_width();
        let kv = 2.0 * h * self.kv_heads * self.head_dim;
        let o = self.attention_width() * h;
        let mlp = match self.family {
            Family::Llama => 3.0 * h * self.intermediate, // gate, up, down (SwiGLU)
            Family::Bert => 2.0 * h * self.intermediate,
        };
        q + kv + o + mlp
    }

    /// Biases of one decoder layer's q, k and v projections (Qwen2), else 0.
    fn layer_qkv_bias_params(&self) -> f64 {
        if self.qkv_bias {
            self.attention_width() + 2.0 * self.kv_heads * self.head_dim
        } else {
            0.0
        }
    }

    /// Every parameter (weights the model keeps resident).
    pub fn parameters(&self) -> f64 {
        let h = self.hidden;
        match self.family {
            Family::Llama => {
                let embedding = self.vocab * h;
                let head = if self.tied_embeddings { 0.0 } else { self.vocab * h };
                embedding + head + self.layers * (self.layer_matmul_params() + self.layer_qkv_bias_params() + 2.0 * h) + h
            }
            Family::Bert => {
                let embedding = (self.vocab + self.max_positions + self.type_vocab) * h + 2.0 * h;
                // Biases (q, k, v, o, two MLP) and two layer norms per layer; the pooler.
                let per_layer = self.layer_matmul_params() + 4.0 * h + self.intermediate + h + 4.0 * h;
                embedding + self.layers * per_layer + h * h + h
            }
        }
    }

    /// The weights' arithmetic as the scheduler names it (`f32`, `bf16`, `f16`, `fp8`).
    pub fn dtype_name(&self) -> &'static str {
        self.dtype
    }

    /// Bytes of weights.
    pub fn weight_bytes(&self) -> f64 {
        self.parameters() * self.weight_dtype_bytes
    }

    /// KV-cache bytes per token of context (keys and values of every layer).
    pub fn kv_bytes_per_token(&self) -> f64 {
        2.0 * self.layers * self.kv_heads * self.head_dim * self.dtype_bytes
    }

    /// Bytes of one tensor-parallel all-reduce round per token (two per layer: after
    /// attention and after the MLP, each of `hidden` activations).
    pub fn allreduce_bytes_per_token(&self) -> f64 {
        2.0 * self.layers * self.hidden * self.dtype_bytes
    }

    /// FLOPs of a prefill over `tokens` prompt tokens: 2 per matmul parameter per token,
    /// causal attention (QKᵀ and AV over half the T×T scores), and the output projection
    /// for the last position only.
    pub fn prefill_flops(&self, tokens: f64) -> f64 {
        let layers = self.layers * (2.0 * self.layer_matmul_params() * tokens + 2.0 * tokens * tokens * self.attention_width());
        layers + 2.0 * self.vocab * self.hidden
    }

    /// FLOPs of decoding `new` tokens after a `prompt`-token prefill.
    pub fn decode_flops(&self, prompt: f64, new: f64) -> f64 {
        // Σ_{s=1..new} (2·P_layers + 2·V·H + 4·L·(prompt+s)·d)
        let per_token = 2.0 * self.layers * self.layer_matmul_params() + 2.0 * self.vocab * self.hidden;
        let context_sum = new * prompt + new * (new + 1.0) / 2.0;
        new * per_token + 4.0 * self.layers * self.attention_width() * context_sum
    }

    /// Bytes read while decoding `new` tokens: all weights every step, plus the KV cache so far.
    pub fn decode_bytes(&self, prompt: f64, new: f64) -> f64 {
        let context_sum = new * prompt + new * (new + 1.0) / 2.0;
        new * self.weight_bytes() + self.kv_bytes_per_token() * context_sum
    }

    /// FLOPs of an encoder pass over `tokens` tokens (bidirectional attention).
    pub fn encode_flops(&self, tokens: f64) -> f64 {
        self.layers * (2.0 * self.layer_matmul_params() * tokens + 4.0 * tokens * tokens * self.attention_width())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llama_70b() -> ModelSpec {
        let json: Value = serde_json::json!({
            "architectures": ["LlamaForCausalLM"], "hidden_size": 8192, "num_hidden_layers": 80,
            "num_attention_heads": 64, "num_key_value_heads": 8, "intermediate_size": 28672,
            "vocab_size": 128256, "max_position_embeddings": 131072, "torch_dtype": "bfloat16",
            "tie_word_embeddings": false
        });
        ModelSpec::from_config(&json, None).unwrap()
    }

    #[test]
    fn llama_3_70b_has_70_6_billion_parameters() {
        // Meta reports 70.6 B parameters for Llama-3-70B.
        let params = llama_70b().parameters();
        assert!((params / 1e9 - 70.55).abs() < 0.1, "{params}");
    }

    #[test]
    fn llama_3_70b_kv_cache_is_320_kib_per_token() {
        // 2 (K, V) × 80 layers × 8 KV heads × 128 dims × 2 bytes.
        assert_eq!(llama_70b().kv_bytes_per_token(), 327_680.0);
    }

    #[test]
    fn the_dtype_asked_for_is_recorded() {
        let json: Value = serde_json::json!({
            "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 256, "torch_dtype": "float16"
        });
        assert_eq!(ModelSpec::from_config(&json, None).unwrap().dtype_name(), "f16");
        assert_eq!(ModelSpec::from_config(&json, Some("f16")).unwrap().dtype_name(), "f16");
        assert_eq!(ModelSpec::from_config(&json, Some("bf16")).unwrap().dtype_name(), "bf16");
        assert_eq!(ModelSpec::from_config(&json, Some("f32")).unwrap().dtype_bytes, 4.0);
        assert_eq!(llama_70b().dtype_name(), "bf16");
    }

    #[test]
    fn stored_weights_set_the_real_precision() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models");
        let f32 = ModelSpec::load(&models.join("tiny-llama"), None).unwrap();
        let bf16 = ModelSpec::load(&models.join("tiny-llama-bf16"), None).unwrap();
        let sharded = ModelSpec::load(&models.join("tiny-llama-sharded"), None).unwrap();
        let converted = ModelSpec::load(&models.join("tiny-llama-bf16"), Some("f32")).unwrap();
        // The kernels compute in f32 whatever the weights are stored in.
        for spec in [&f32, &bf16, &sharded, &converted] {
            assert_eq!((spec.dtype_name(), spec.dtype_bytes), ("f32", 4.0));
        }
        assert_eq!(f32.weight_dtype_bytes, 4.0);
        assert_eq!(bf16.weight_dtype_bytes, 2.0);
        assert_eq!(converted.weight_dtype_bytes, 4.0);
        // bf16 matrices with f32 norms: a little over 2 bytes per parameter.
        assert!(sharded.weight_dtype_bytes > 2.0 && sharded.weight_dtype_bytes < 2.01, "{}", sharded.weight_dtype_bytes);
        // A decode step reads every weight: half the bytes in bf16 (the KV cache is f32 in both).
        let weights = |s: &ModelSpec| s.decode_bytes(10.0, 1.0) - s.kv_bytes_per_token() * 11.0;
        assert_eq!(weights(&bf16) * 2.0, weights(&f32));
        assert_eq!(bf16.kv_bytes_per_token(), f32.kv_bytes_per_token());
    }

    #[test]
    fn malformed_sizes_are_errors() {
        let base = serde_json::json!({
            "architectures": ["BertModel"], "hidden_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 320
        });
        assert!(ModelSpec::from_config(&base, None).is_ok());
        let cases: &[(&str, Value, &str)] = &[
            ("hidden_size", 0.into(), "`hidden_size` must be a positive integer, not 0"),
            ("hidden_size", Value::Null, "no numeric `hidden_size`"),
            ("hidden_size", 64.5.into(), "`hidden_size` must be a positive integer"),
            ("num_attention_heads", 3.into(), "`num_attention_heads` (3) does not divide `hidden_size` (64)"),
            ("num_key_value_heads", 3.into(), "`num_key_value_heads` (3) does not divide `num_attention_heads` (4)"),
            ("vocab_size", (-10).into(), "`vocab_size` must be a positive integer"),
        ];
        for (key, value, want) in cases {
            let mut json = base.clone();
            json[*key] = value.clone();
            let err = ModelSpec::from_config(&json, None).unwrap_err().0;
            assert!(err.contains(want), "{key}: {err}");
        }
    }

    #[test]
    fn decode_reads_the_weights_every_step() {
        let spec = llama_70b();
        let one = spec.decode_bytes(100.0, 1.0);
        assert!(one > spec.weight_bytes() && one < spec.weight_bytes() * 1.01);
    }

    #[test]
    fn qwen2_5_0_5b_has_494_million_parameters() {
        // Qwen reports 494,032,768 parameters for Qwen2.5-0.5B (q/k/v biases, tied embeddings).
        let json: Value = serde_json::json!({
            "architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "num_hidden_layers": 24,
            "num_attention_heads": 14, "num_key_value_heads": 2, "intermediate_size": 4864,
            "vocab_size": 151936, "max_position_embeddings": 32768, "tie_word_embeddings": true
        });
        assert_eq!(ModelSpec::from_config(&json, None).unwrap().parameters(), 494_032_768.0);
    }

    /// The parameters the planner counts for an examples/models folder equal the
    /// elements of its model.safetensors.
    fn counts_match_the_weights(name: &str) {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models").join(name);
        let spec = ModelSpec::load(&folder, None).unwrap();
        let header = crate::weights::safetensors::Header::read(&folder.join("model.safetensors")).unwrap();
        let elements: i64 = header.tensors.values().map(|t| t.shape.iter().product::<i64>()).sum();
        assert_eq!(spec.parameters(), elements as f64, "{name}");
    }

    #[test]
    fn biases_head_dim_and_tied_embeddings_are_counted() {
        // q/k/v biases and tied embeddings; head_dim 32 != hidden/heads with tied
        // embeddings; Mistral and Llama with llama3 RoPE scaling; the untouched tiny Llama.
        for name in ["tiny-qwen2", "tiny-llama-headdim", "tiny-mistral", "tiny-llama3-rope", "tiny-llama"] {
            counts_match_the_weights(name);
        }
    }
}
