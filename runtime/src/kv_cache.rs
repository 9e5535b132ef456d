//! The KV cache of one `generate` call, shaped as the compiled model functions expect
//! (`dialects/tgraph/README.md`, "Calling the compiled model functions"): K and V buffers of
//! `[L, C, Hkv, D]` f32, row-major, L = layers, C = `max_position_embeddings` (the slots),
//! Hkv = KV heads, D = head size.
//!
//! One pair of buffers: `prefill` writes its caches into them, and every `decode_step` gets
//! them as both its input caches and its output caches, so it updates them in place and its
//! kernel skips the whole-cache copy into the outputs (`kernel-guard-argument-copies`).
//! Capacity: a prompt of T tokens needs T ≤ C (a longer prompt is an error naming the call,
//! never a silent cut); decode step n writes slot T + n, which must be < C.

use std::fmt;

/// A cache-capacity error; its message names the call (e.g. ``llm.generate at main.agent:7:16``).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvError(pub String);

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KvError {}

/// The dimensions of a decoder's KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvShape {
    /// L: `num_hidden_layers`.
    pub layers: usize,
    /// C: `max_position_embeddings`, the number of slots (the model's context).
    pub capacity: usize,
    /// Hkv: `num_key_value_heads` (defaults to `num_attention_heads`).
    pub kv_heads: usize,
    /// D: `head_dim` (defaults to `hidden_size / num_attention_heads`).
    pub head_dim: usize,
}

impl KvShape {
    /// Reads the shape from a Llama-style `config.json` value.
    pub fn from_config(config: &serde_json::Value) -> Result<Self, KvError> {
        let get = |key: &str| config.get(key).and_then(|v| v.as_u64()).map(|v| v as usize);
        let need = |key: &str| get(key).ok_or_else(|| KvError(format!("config.json has no `{key}`")));
        let layers = need("num_hidden_layers")?;
        let capacity = need("max_position_embeddings")?;
        let heads = need("num_attention_heads")?;
        let kv_heads = get("num_key_value_heads").unwrap_or(heads);
        let head_dim = match get("head_dim") {
            Some(d) => d,
            None => need("hidden_size")? / heads.max(1),
        };
        if [layers, capacity, kv_heads, head_dim].contains(&0) {
            return Err(KvError("config.json gives a KV cache dimension of 0".into()));
        }
        Ok(KvShape { layers, capacity, kv_heads, head_dim })
    }

    /// `[L, C, Hkv, D]`.
    pub fn dims(&self) -> [usize; 4] {
        [self.layers, self.capacity, self.kv_heads, self.head_dim]
    }

    /// Row-major strides of `[L, C, Hkv, D]`, in elements.
    pub fn strides(&self) -> [usize; 4] {
        let d = self.head_dim;
        let kd = self.kv_heads * d;
        [self.capacity * kd, kd, d, 1]
    }

    /// Elements of one K (or V) buffer.
    pub fn elements(&self) -> usize {
        self.dims().iter().product()
    }
}

/// The cache buffers of one call to a compiled model function. `prefill` passes them as
/// its `k_out`/`v_out`; a decode step passes each twice, as `k_cache` and `k_out` (and the
/// same for V): it reads and updates them in place.
#[derive(Debug)]
pub struct StepBuffers<'a> {
    /// The K cache.
    pub k: &'a mut [f32],
    /// The V cache.
    pub v: &'a mut [f32],
}

/// The KV cache of one generate call: one pair of zeroed `[L, C, Hkv, D]` f32 buffers and
/// the number of filled slots.
#[derive(Debug)]
pub struct KvCache {
    shape: KvShape,
    call: String,
    k: Vec<f32>,
    v: Vec<f32>,
    len: usize,
}

impl KvCache {
    /// A cache for the call named `call` (used in errors), all slots empty.
    pub fn new(shape: KvShape, call: impl Into<String>) -> Self {
        let n = shape.elements();
        KvCache { shape, call: call.into(), k: vec![0.0; n], v: vec![0.0; n], len: 0 }
    }

    /// The shape.
    pub fn shape(&self) -> KvShape {
        self.shape
    }

    /// Filled slots (the prompt length after prefill, plus one per decode step).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is filled yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks that a prompt of `tokens` tokens fits: `1 ≤ tokens ≤ C`.
    pub fn check_prompt(&self, tokens: usize) -> Result<(), KvError> {
        if tokens == 0 {
            return Err(KvError(format!("{}: the prompt is empty (0 tokens)", self.call)));
        }
        if tokens > self.shape.capacity {
            return Err(KvError(format!(
                "{}: the prompt is {tokens} tokens, longer than the model's context of {} tokens",
                self.call, self.shape.capacity
            )));
        }
        Ok(())
    }

    fn buffers(&mut self) -> StepBuffers<'_> {
        StepBuffers { k: &mut self.k, v: &mut self.v }
    }

    /// Buffers for `prefill` of `tokens` tokens (checked as [`KvCache::check_prompt`]); call
    /// [`KvCache::commit`] with `tokens` once it has run.
    pub fn prefill(&mut self, tokens: usize) -> Result<StepBuffers<'_>, KvError> {
        self.check_prompt(tokens)?;
        if self.len != 0 {
            return Err(KvError(format!("{}: prefill on a cache already in use", self.call)));
        }
        Ok(self.buffers())
    }

    /// The next decode step's position (its slot) and buffers (its input and output
    /// caches); call [`KvCache::commit`] with 1 once it has run. Error when every slot is
    /// filled.
    pub fn decode_step(&mut self) -> Result<(usize, StepBuffers<'_>), KvError> {
        if self.len == 0 {
            return Err(KvError(format!("{}: decode step before prefill", self.call)));
        }
        if self.len >= self.shape.capacity {
            return Err(KvError(format!(
                "{}: the prompt and the generated tokens reached the model's context of {} tokens",
                self.call, self.shape.capacity
            )));
        }
        let position = self.len;
        Ok((position, self.buffers()))
    }

    /// Records that the last call filled `slots` more slots.
    pub fn commit(&mut self, slots: usize) {
        self.len = (self.len + slots).min(self.shape.capacity);
    }

    /// The K and V caches (as the last call left them).
    pub fn current(&self) -> (&[f32], &[f32]) {
        (&self.k, &self.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn tiny_llama_shape() -> KvShape {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/tiny-llama/config.json");
        KvShape::from_config(&serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn shape_from_the_tiny_llama_config() {
        let s = tiny_llama_shape();
        assert_eq!(s.dims(), [2, 512, 2, 16]);
        assert_eq!(s.strides(), [512 * 32, 32, 16, 1]);
        assert_eq!(s.elements(), 2 * 512 * 2 * 16);
        let no_head_dim = serde_json::json!({"num_hidden_layers": 1, "max_position_embeddings": 8,
            "num_attention_heads": 4, "hidden_size": 32});
        assert_eq!(KvShape::from_config(&no_head_dim).unwrap().dims(), [1, 8, 4, 8]);
        assert!(KvShape::from_config(&serde_json::json!({})).unwrap_err().0.contains("num_hidden_layers"));
    }

    #[test]
    fn a_prompt_longer_than_the_context_names_the_call() {
        let cache = KvCache::new(tiny_llama_shape(), "llm.generate");
        assert!(cache.check_prompt(512).is_ok());
        assert_eq!(
            cache.check_prompt(513).unwrap_err().to_string(),
            "llm.generate: the prompt is 513 tokens, longer than the model's context of 512 tokens"
        );
        assert!(cache.check_prompt(0).unwrap_err().0.contains("empty"));
    }

    #[test]
    fn one_pair_is_written_in_place_and_positions_advance() {
        let shape = KvShape { layers: 1, capacity: 4, kv_heads: 1, head_dim: 2 };
        let mut cache = KvCache::new(shape, "m.generate");
        let b = cache.prefill(3).unwrap();
        assert_eq!((b.k.len(), b.v.len()), (8, 8));
        b.k[0] = 1.0;
        let prefill_k = b.k.as_ptr();
        cache.commit(3);
        assert_eq!(cache.current().0[0], 1.0);
        let (pos, b) = cache.decode_step().unwrap();
        assert_eq!(pos, 3);
        assert_eq!(b.k.as_ptr(), prefill_k, "every call gets the same buffers");
        assert_eq!(b.k[0], 1.0, "the step reads what prefill wrote");
        b.k[6] = 2.0;
        cache.commit(1);
        assert_eq!((cache.len(), cache.current().0[0], cache.current().0[6]), (4, 1.0, 2.0));
        let err = cache.decode_step().unwrap_err().0;
        assert!(err.starts_with("m.generate: the prompt and the generated tokens reached the model's context of 4"), "{err}");
    }
}
