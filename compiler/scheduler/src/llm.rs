//! Resource profiles of a decoder-only LLM call (prefill and decode), from the model's
//! architecture numbers (a Hugging Face `config.json`). The planner, tests and the
//! benchmark build their prefill/decode fragments with it.

use crate::graph::{Dtype, ModelNeeds, Profile};

/// The architecture numbers of a Llama-style decoder (grouped-query attention, gated MLP).
#[derive(Clone, Debug, PartialEq)]
pub struct DecoderConfig {
    /// `hidden_size`.
    pub hidden: f64,
    /// `num_hidden_layers`.
    pub layers: u32,
    /// `num_attention_heads`.
    pub heads: f64,
    /// `num_key_value_heads`.
    pub kv_heads: f64,
    /// `intermediate_size`.
    pub intermediate: f64,
    /// `vocab_size`.
    pub vocab: f64,
    /// Whether the output projection shares the embedding matrix (`tie_word_embeddings`).
    pub tied_embeddings: bool,
    /// Weight and KV-cache dtype.
    pub dtype: Dtype,
}

impl DecoderConfig {
    /// Llama 3 70B (hidden 8192, 80 layers, 64 heads, 8 KV heads, intermediate 28672,
    /// vocab 128256, bf16, untied embeddings).
    pub fn llama3_70b() -> DecoderConfig {
        DecoderConfig {
            hidden: 8192.0,
            layers: 80,
            heads: 64.0,
            kv_heads: 8.0,
            intermediate: 28672.0,
            vocab: 128256.0,
            tied_embeddings: false,
            dtype: Dtype::Bf16,
        }
    }

    /// Llama 3 8B (hidden 4096, 32 layers, 32 heads, 8 KV heads, intermediate 14336).
    pub fn llama3_8b() -> DecoderConfig {
        DecoderConfig {
            hidden: 4096.0,
            layers: 32,
            heads: 32.0,
            kv_heads: 8.0,
            intermediate: 14336.0,
            vocab: 128256.0,
            tied_embeddings: false,
            dtype: Dtype::Bf16,
        }
    }

    /// Bytes per element of the dtype.
    pub fn dtype_bytes(&self) -> f64 {
        match self.dtype {
            Dtype::F32 => 4.0,
            Dtype::F16 | Dtype::Bf16 => 2.0,
            Dtype::Fp8 => 1.0,
        }
    }

    fn head_dim(&self) -> f64 {
        self.hidden / self.heads
    }

    /// Parameters of one layer: q and o projections (hidden²), k and v (hidden × kv
    /// width), the gated MLP (3 × hidden × intermediate) and two norms.
    pub fn layer_params(&self) -> f64 {
        let kv = self.kv_heads * self.head_dim();
        2.0 * self.hidden * self.hidden
            + 2.0 * self.hidden * kv
            + 3.0 * self.hidden * self.intermediate
            + 2.0 * self.hidden
    }

    /// All parameters (embedding, layers, final norm, output projection unless tied).
    pub fn params(&self) -> f64 {
        let embed = self.vocab * self.hidden;
        let head = if self.tied_embeddings { 0.0 } else { embed };
        embed + head + self.layers as f64 * self.layer_params() + self.hidden
    }

    /// Parameters touched per token by matrix products (everything but the input
    /// embedding table, of which one row is read).
    pub fn matmul_params(&self) -> f64 {
        self.layers as f64 * self.layer_params() + self.vocab * self.hidden
    }

    /// Bytes of weights.
    pub fn weight_bytes(&self) -> f64 {
        self.params() * self.dtype_bytes()
    }

    /// KV-cache bytes per token: 2 (K and V) × layers × kv_heads × head_dim × dtype.
    pub fn kv_bytes_per_token(&self) -> f64 {
        2.0 * self.layers as f64 * self.kv_heads * self.head_dim() * self.dtype_bytes()
    }

    /// The model's memory needs; the all-reduce bytes per token are two hidden-size
    /// activations per layer (after attention and after the MLP).
    pub fn model_needs(&self, name: &str) -> ModelNeeds {
        ModelNeeds {
            name: name.to_string(),
            weight_bytes: self.weight_bytes(),
            allreduce_bytes_per_token: 2.0 * self.hidden * self.dtype_bytes() * self.layers as f64,
            layers: self.layers,
            ..ModelNeeds::default()
        }
    }

    /// Prefill of `prompt` tokens: 2 flops per matmul parameter per token plus causal
    /// attention (2 × layers × hidden × prompt²); reads the weights once, writes the KV
    /// cache; keeps the prompt's KV cache resident.
    pub fn prefill_profile(&self, prompt: f64) -> Profile {
        let flops = 2.0 * self.matmul_params() * prompt
            + 2.0 * self.layers as f64 * self.hidden * prompt * prompt;
        Profile {
            flops,
            bytes_read: self.weight_bytes(),
            bytes_written: self.kv_bytes_per_token() * prompt,
            working_bytes: self.kv_bytes_per_token() * prompt,
            tokens: prompt,
            fixed_seconds: 0.0,
            dtype: self.dtype,
        }
    }

    /// Decode of `generated` tokens after a `prompt`-token context: per token, 2 flops per
    /// matmul parameter plus attention over the context; reads the matmul weights and the
    /// KV cache every token; keeps the whole context's KV cache resident.
    pub fn decode_profile(&self, prompt: f64, generated: f64) -> Profile {
        let mean_ctx = prompt + generated / 2.0;
        let attn_flops = 4.0 * self.layers as f64 * self.hidden * mean_ctx * generated;
        let weight_reads = self.matmul_params() * self.dtype_bytes() * generated;
        let kv_reads = self.kv_bytes_per_token() * mean_ctx * generated;
        Profile {
            flops: 2.0 * self.matmul_params() * generated + attn_flops,
            bytes_read: weight_reads + kv_reads,
            bytes_written: self.kv_bytes_per_token() * generated,
            working_bytes: self.kv_bytes_per_token() * (prompt + generated),
            tokens: generated,
            fixed_seconds: 0.0,
            dtype: self.dtype,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_70b_has_70_6_billion_parameters() {
        let c = DecoderConfig::llama3_70b();
        let p = c.params();
        assert!((p - 70.55e9).abs() < 0.05e9, "{p}");
        assert_eq!(c.kv_bytes_per_token(), 327_680.0);
        assert!((c.weight_bytes() - 141.1e9).abs() < 0.2e9);
    }

    #[test]
    fn llama3_8b_has_8_billion_parameters() {
        let p = DecoderConfig::llama3_8b().params();
        assert!((p - 8.03e9).abs() < 0.02e9, "{p}");
    }
}
