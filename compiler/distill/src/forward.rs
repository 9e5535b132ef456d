//! The decoder's forward pass on candle, f32 on the CPU, as transformers computes a
//! Llama-family model (RMSNorm, RoPE with `rotate_half`, grouped-query attention, SwiGLU,
//! q/k/v biases for Qwen2): logits for a run of tokens after a KV cache, and, when asked,
//! the inputs of every linear layer for the calibration statistics ([`crate::hessian`]).
//! [`Model::with_norms`] takes the RMSNorm weights from candle `Var`s so that
//! [`Model::logits`] can be differentiated with respect to them ([`crate::recovery`]).

use std::collections::BTreeMap;

use candle_core::{CpuStorage, CustomOp1, D, DType, Device, Layout, Tensor, Var};

use crate::checkpoint::{Matrix, Shape};

/// The linear layers of one decoder layer, in the order of [`LINEARS`].
pub const LINEARS: [&str; 7] = [
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
];

/// Which input a linear layer reads: q/k/v share the attention norm's output (0), o_proj
/// reads the attention's output (1), gate/up share the MLP norm's output (2), down_proj
/// reads `silu(gate)·up` (3).
pub fn input_slot(linear: &str) -> usize {
    match linear {
        "self_attn.q_proj" | "self_attn.k_proj" | "self_attn.v_proj" => 0,
        "self_attn.o_proj" => 1,
        "mlp.gate_proj" | "mlp.up_proj" => 2,
        _ => 3,
    }
}

/// Something that sees the input of each linear layer: `(layer, slot, x)` with `x` of shape
/// `(tokens, in_features)`.
pub trait Observer {
    /// Called once per layer and slot of every forward that observes.
    fn observe(&mut self, layer: usize, slot: usize, x: &Tensor) -> candle_core::Result<()>;
}

struct Layer {
    attn_norm: Tensor,
    /// Transposed weights `(in, out)`, contiguous.
    q: Tensor,
    k: Tensor,
    v: Tensor,
    o: Tensor,
    biases: Option<(Tensor, Tensor, Tensor)>,
    ffn_norm: Tensor,
    gate: Tensor,
    up: Tensor,
    down: Tensor,
}

/// A decoder ready to run.
pub struct Model {
    shape: Shape,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    /// `(hidden, vocab)`.
    lm_head: Tensor,
    /// `(max_positions, head_dim / 2)`.
    cos: Tensor,
    sin: Tensor,
    /// Set by [`Model::with_norms`] only, so the measured forward is unchanged: attention's
    /// softmax as max/exp/sum ops, which candle can differentiate
    /// (`candle_nn::ops::softmax_last_dim` is one kernel without a backward), and the linear
    /// layers as [`FrozenLinear`].
    differentiable: bool,
    /// Set by [`Model::with_int8_activations`]: the block size (32) the inputs of the
    /// quantised linear layers are rounded in, as the executable's kernels round them.
    int8_activations: Option<usize>,
}

/// The keys and values of every layer so far: `(kv_heads, positions, head_dim)` each.
#[derive(Default)]
pub struct Cache {
    layers: Vec<(Tensor, Tensor)>,
}

impl Cache {
    /// Positions already cached.
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, |(k, _)| k.dims()[1])
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `x · W` for a fixed `W` `(in, out)`, whose backward gives `x`'s gradient only. candle's
/// matmul backward also computes (and, summed over several backward contributions, keeps a
/// graph of) the gradient of `W`, weight-sized tensors that the norms' training does not
/// need: a third of its arithmetic, and memory growing by twice the weights per prompt.
struct FrozenLinear(Tensor);

impl CustomOp1 for FrozenLinear {
    fn name(&self) -> &'static str {
        "frozen-linear"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, candle_core::Shape)> {
        let Some((from, to)) = layout.contiguous_offsets() else {
            candle_core::bail!("frozen-linear: the input is not contiguous");
        };
        let x = Tensor::from_slice(&storage.as_slice::<f32>()?[from..to], layout.shape(), &Device::Cpu)?;
        let y = x.matmul(&self.0)?;
        Ok((CpuStorage::F32(y.flatten_all()?.to_vec1::<f32>()?), y.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad.matmul(&self.0.t()?)?))
    }
}

fn err(e: candle_core::Error) -> String {
    format!("forward: {e}")
}

impl Model {
    /// Builds the model from f32 weights under Hugging Face names; a missing or misshapen
    /// weight is an error naming it.
    pub fn new(shape: &Shape, tensors: &BTreeMap<String, Matrix>) -> Result<Model, String> {
        let dev = Device::Cpu;
        let get = |name: &str, want: &[usize]| -> Result<Tensor, String> {
            let m = tensors.get(name).ok_or_else(|| format!("weight `{name}` is missing"))?;
            if m.shape != want {
                return Err(format!("weight `{name}` has shape {:?}, expected {want:?}", m.shape));
            }
            Tensor::from_slice(&m.data, want, &dev).map_err(err)
        };
        let linear = |name: &str, out: usize, inp: usize| -> Result<Tensor, String> {
            get(name, &[out, inp])?.t().and_then(|t| t.contiguous()).map_err(err)
        };
        let (h, q_out, kv_out) = (shape.hidden, shape.heads * shape.head_dim, shape.kv_heads * shape.head_dim);
        let mut layers = Vec::with_capacity(shape.layers);
        for l in 0..shape.layers {
            let p = format!("model.layers.{l}");
            let biases = if shape.architecture.qkv_bias() {
                Some((
                    get(&format!("{p}.self_attn.q_proj.bias"), &[q_out])?,
                    get(&format!("{p}.self_attn.k_proj.bias"), &[kv_out])?,
                    get(&format!("{p}.self_attn.v_proj.bias"), &[kv_out])?,
                ))
            } else {
                None
            };
            layers.push(Layer {
                attn_norm: get(&format!("{p}.input_layernorm.weight"), &[h])?,
                q: linear(&format!("{p}.self_attn.q_proj.weight"), q_out, h)?,
                k: linear(&format!("{p}.self_attn.k_proj.weight"), kv_out, h)?,
                v: linear(&format!("{p}.self_attn.v_proj.weight"), kv_out, h)?,
                o: linear(&format!("{p}.self_attn.o_proj.weight"), h, q_out)?,
                biases,
                ffn_norm: get(&format!("{p}.post_attention_layernorm.weight"), &[h])?,
                gate: linear(&format!("{p}.mlp.gate_proj.weight"), shape.intermediate, h)?,
                up: linear(&format!("{p}.mlp.up_proj.weight"), shape.intermediate, h)?,
                down: linear(&format!("{p}.mlp.down_proj.weight"), h, shape.intermediate)?,
            });
        }
        let embed = get("model.embed_tokens.weight", &[shape.vocab, h])?;
        let head_name = if tensors.contains_key("lm_head.weight") { "lm_head.weight" } else { "model.embed_tokens.weight" };
        let lm_head = linear(head_name, shape.vocab, h)?;
        // transformers' default RoPE: inv_freq[j] = θ^(-2j/D), angles pos·inv_freq.
        let half = shape.head_dim / 2;
        let mut cos = Vec::with_capacity(shape.max_positions * half);
        let mut sin = Vec::with_capacity(shape.max_positions * half);
        for pos in 0..shape.max_positions {
            for j in 0..half {
                let inv = 1.0 / (shape.rope_theta as f32).powf((2 * j) as f32 / shape.head_dim as f32);
                let angle = pos as f32 * inv;
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        let cos = Tensor::from_vec(cos, (shape.max_positions, half), &dev).map_err(err)?;
        let sin = Tensor::from_vec(sin, (shape.max_positions, half), &dev).map_err(err)?;
        Ok(Model { shape: shape.clone(), embed, layers, norm: get("model.norm.weight", &[h])?, lm_head, cos, sin, differentiable: false, int8_activations: None })
    }

    /// Builds the model as [`Model::new`] does, with the RMSNorm weights named in `norms`
    /// (`model.layers.{l}.input_layernorm.weight`, `model.layers.{l}.post_attention_layernorm.weight`,
    /// `model.norm.weight`) taken from those variables instead of `tensors`: the model shares
    /// their storage, so it sees every update of them, and [`Model::logits`] is
    /// differentiable with respect to them. Its attention softmax is computed from candle's
    /// differentiable ops (the same function, rounded in another order), and its linear
    /// layers' backward computes no gradients of their (fixed) weights. A name that is not a
    /// norm, or a variable of another shape, is an error.
    pub fn with_norms(shape: &Shape, tensors: &BTreeMap<String, Matrix>, norms: &BTreeMap<String, Var>) -> Result<Model, String> {
        let mut model = Model::new(shape, tensors)?;
        for (name, var) in norms {
            let slot = if name == "model.norm.weight" {
                &mut model.norm
            } else {
                let layer = name.strip_prefix("model.layers.").and_then(|rest| rest.split_once('.'));
                let layer = layer.and_then(|(l, part)| Some((l.parse::<usize>().ok()?, part)));
                match layer {
                    Some((l, "input_layernorm.weight")) if l < shape.layers => &mut model.layers[l].attn_norm,
                    Some((l, "post_attention_layernorm.weight")) if l < shape.layers => &mut model.layers[l].ffn_norm,
                    _ => return Err(format!("`{name}` is not a norm weight of this model")),
                }
            };
            if var.dims() != [shape.hidden] || var.dtype() != DType::F32 {
                return Err(format!("norm `{name}` is {:?} {:?}, expected F32 [{}]", var.dtype(), var.dims(), shape.hidden));
            }
            *slot = var.as_tensor().clone();
        }
        model.differentiable = true;
        Ok(model)
    }

    /// The model as an executable declared `gguf(..., activations: "int8")` computes it
    /// (docs/language.md §4.1): in each decode step (one token after a non-empty cache)
    /// the input row of every linear layer, and in every forward the lm_head's input rows,
    /// are rounded to int8 per block of `group` elements, `x ≈ d·xq` with `d = max|x|/127`
    /// and `xq = round_ties_even(x·(127/max|x|))` (a block of zeros stays zero); the layers
    /// then see the rounded row. The kernels sum the integer products exactly and scale
    /// once, so this is the same dot product up to the order of the f32 sums. A prefill
    /// (an empty cache) keeps its exact GEMMs but for the lm_head. Only for a student whose
    /// linear layers are all quantised in blocks of `group` (agentc-distill's students:
    /// 32).
    pub fn with_int8_activations(mut self, group: usize) -> Model {
        self.int8_activations = Some(group);
        self
    }

    /// Whether [`Model::with_int8_activations`] made it.
    pub fn rounds_activations(&self) -> bool {
        self.int8_activations.is_some()
    }

    /// The model's shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Logits `(tokens.len(), vocab)` of `tokens` placed after `cache` (which grows by them).
    /// `observer` sees every linear layer's input.
    pub fn forward(&self, tokens: &[u32], cache: &mut Cache, observer: Option<&mut dyn Observer>) -> Result<Vec<Vec<f32>>, String> {
        let logits = self.forward_tensor(tokens, cache, observer).map_err(err)?;
        logits.to_vec2::<f32>().map_err(err)
    }

    /// The logits tensor `(tokens.len(), vocab)` of a fresh forward over `tokens` (no KV
    /// cache), part of the autodiff graph when the model was built by [`Model::with_norms`].
    pub fn logits(&self, tokens: &[u32]) -> candle_core::Result<Tensor> {
        self.forward_tensor(tokens, &mut Cache::default(), None)
    }

    /// `x · w` (`w` transposed, `(in, out)`): a plain matmul, or [`FrozenLinear`] when
    /// differentiable; `x` rounded per block of `round` elements first, when given
    /// ([`round_int8_blocks`]).
    fn linear(&self, x: &Tensor, w: &Tensor, round: Option<usize>) -> candle_core::Result<Tensor> {
        let rounded;
        let x = match round {
            Some(group) => {
                rounded = round_int8_blocks(x, group)?;
                &rounded
            }
            None => x,
        };
        if self.differentiable {
            x.contiguous()?.apply_op1(FrozenLinear(w.clone()))
        } else {
            x.matmul(w)
        }
    }

    fn forward_tensor(&self, tokens: &[u32], cache: &mut Cache, mut observer: Option<&mut dyn Observer>) -> candle_core::Result<Tensor> {
        let s = &self.shape;
        let start = cache.len();
        let t = tokens.len();
        if start + t > s.max_positions {
            candle_core::bail!("{} positions exceed max_position_embeddings {}", start + t, s.max_positions);
        }
        if tokens.iter().any(|&id| id as usize >= s.vocab) {
            candle_core::bail!("a token id is outside the vocabulary of {}", s.vocab);
        }
        let ids = Tensor::new(tokens, &Device::Cpu)?;
        let mut x = self.embed.index_select(&ids, 0)?;
        let cos = self.cos.narrow(0, start, t)?;
        let sin = self.sin.narrow(0, start, t)?;
        let mask = causal_mask(t, start)?;
        let groups = s.heads / s.kv_heads;
        // A decode step (one token after a cache) rounds every linear layer's input.
        let step = self.int8_activations.filter(|_| t == 1 && start > 0);
        for (l, layer) in self.layers.iter().enumerate() {
            let a = rms_norm(&x, &layer.attn_norm, s.eps)?;
            if let Some(obs) = observer.as_deref_mut() {
                obs.observe(l, 0, &a)?;
            }
            let (mut q, mut k, mut v) = (self.linear(&a, &layer.q, step)?, self.linear(&a, &layer.k, step)?, self.linear(&a, &layer.v, step)?);
            if let Some((qb, kb, vb)) = &layer.biases {
                q = q.broadcast_add(qb)?;
                k = k.broadcast_add(kb)?;
                v = v.broadcast_add(vb)?;
            }
            let heads = |m: Tensor, n: usize| m.reshape((t, n, s.head_dim))?.transpose(0, 1)?.contiguous();
            let q = rope(&heads(q, s.heads)?, &cos, &sin)?;
            let k = rope(&heads(k, s.kv_heads)?, &cos, &sin)?;
            let v = heads(v, s.kv_heads)?;
            let (k, v) = match cache.layers.get(l) {
                Some((ck, cv)) => (Tensor::cat(&[ck, &k], 1)?, Tensor::cat(&[cv, &v], 1)?),
                None => (k, v),
            };
            if l < cache.layers.len() {
                cache.layers[l] = (k.clone(), v.clone());
            } else {
                cache.layers.push((k.clone(), v.clone()));
            }
            let total = start + t;
            let repeat = |m: &Tensor| -> candle_core::Result<Tensor> {
                m.unsqueeze(1)?.expand((s.kv_heads, groups, total, s.head_dim))?.reshape((s.heads, total, s.head_dim))
            };
            let (k, v) = (repeat(&k)?, repeat(&v)?);
            let scores = (q.matmul(&k.t()?)? / (s.head_dim as f64).sqrt())?.broadcast_add(&mask)?;
            let probs = if self.differentiable {
                candle_nn::ops::softmax(&scores, D::Minus1)?
            } else {
                candle_nn::ops::softmax_last_dim(&scores)?
            };
            let attn = probs.matmul(&v)?.transpose(0, 1)?.reshape((t, s.heads * s.head_dim))?;
            if let Some(obs) = observer.as_deref_mut() {
                obs.observe(l, 1, &attn)?;
            }
            x = (x + self.linear(&attn, &layer.o, step)?)?;
            let m = rms_norm(&x, &layer.ffn_norm, s.eps)?;
            if let Some(obs) = observer.as_deref_mut() {
                obs.observe(l, 2, &m)?;
            }
            let act = (candle_nn::ops::silu(&self.linear(&m, &layer.gate, step)?)? * self.linear(&m, &layer.up, step)?)?;
            if let Some(obs) = observer.as_deref_mut() {
                obs.observe(l, 3, &act)?;
            }
            x = (x + self.linear(&act, &layer.down, step)?)?;
        }
        self.linear(&rms_norm(&x, &self.norm, s.eps)?, &self.lm_head, self.int8_activations)
    }
}

/// Each row of `x` `(t, K)` rounded to int8 per block of `group` elements and scaled back:
/// `d·xq` with `d = max|x|/127`, `xq = round_ties_even(x·(127/max|x|))`, f32 operations in
/// the order the int8-activation kernel does them (dot_i8.rs); 0 for a block of zeros.
pub fn round_int8_blocks(x: &Tensor, group: usize) -> candle_core::Result<Tensor> {
    let (t, k) = x.dims2()?;
    if group == 0 || k % group != 0 {
        candle_core::bail!("int8 activations: a row of {k} is not whole blocks of {group}");
    }
    let mut data = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    for block in data.chunks_mut(group) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
        for v in block.iter_mut() {
            *v = d * (*v * inv).round_ties_even();
        }
    }
    Tensor::from_vec(data, (t, k), x.device())
}

/// `(t, start + t)`: 0 where query `i` (at position `start + i`) may see key `j`, -inf after.
fn causal_mask(t: usize, start: usize) -> candle_core::Result<Tensor> {
    let total = start + t;
    let mask: Vec<f32> =
        (0..t).flat_map(|i| (0..total).map(move |j| if j <= start + i { 0.0 } else { f32::NEG_INFINITY })).collect();
    Tensor::from_vec(mask, (t, total), &Device::Cpu)
}

/// transformers' `LlamaRMSNorm`: `x / sqrt(mean(x²) + eps) · w`, in f32.
fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let rms = (x.sqr()?.mean_keepdim(D::Minus1)? + eps)?.sqrt()?;
    x.broadcast_div(&rms)?.broadcast_mul(w)
}

/// transformers' `apply_rotary_pos_emb` with `rotate_half`: halves `(x1, x2)` become
/// `(x1·cos − x2·sin, x2·cos + x1·sin)`. `x`: `(heads, t, head_dim)`; `cos`, `sin`: `(t, head_dim/2)`.
fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
    let half = x.dims()[2] / 2;
    let (x1, x2) = (x.narrow(2, 0, half)?, x.narrow(2, half, half)?);
    let a = (x1.broadcast_mul(cos)? - x2.broadcast_mul(sin)?)?;
    let b = (x2.broadcast_mul(cos)? + x1.broadcast_mul(sin)?)?;
    Tensor::cat(&[a, b], 2)?.to_dtype(DType::F32)
}

/// Greedy continuation: `n` tokens after `prompt` (argmax, the lowest id on ties; no stop
/// at EOS, so every continuation has `n` tokens).
pub fn greedy(model: &Model, prompt: &[u32], n: usize) -> Result<Vec<u32>, String> {
    let mut cache = Cache::default();
    let mut logits = model.forward(prompt, &mut cache, None)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let next = argmax(logits.last().expect("at least one position"));
        out.push(next);
        if out.len() == n {
            break;
        }
        logits = model.forward(&[next], &mut cache, None)?;
    }
    Ok(out)
}

/// The index of the largest value (the first of equal ones).
pub fn argmax(row: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks rounded on their own: `d = max|x|/127`, values `d·round_ties_even(x·127/max)`,
    /// a zero block stays zero, and a whole block of equal magnitudes comes back exactly.
    #[test]
    fn int8_rounding_per_block() {
        let mut row = vec![0.0f32; 8];
        row[..4].copy_from_slice(&[1.27, -0.635, 0.0049, 0.0051]);
        let x = Tensor::from_vec(row, (1, 8), &Device::Cpu).unwrap();
        let got = round_int8_blocks(&x, 4).unwrap().to_vec2::<f32>().unwrap();
        let d = 1.27f32 / 127.0;
        let inv = 127.0f32 / 1.27;
        let want: Vec<f32> = [1.27f32, -0.635, 0.0049, 0.0051].iter().map(|v| d * (v * inv).round_ties_even()).collect();
        assert_eq!(&got[0][..4], &want[..]);
        // In steps of d: -0.635 is about -63.5 and goes to -64, 0.0049 to 0, 0.0051 to 1.
        assert_eq!([want[1] / d, want[2] / d, want[3] / d].map(f32::round), [-64.0, 0.0, 1.0]);
        assert_eq!(&got[0][4..], &[0.0; 4]);
        assert!(round_int8_blocks(&x, 3).is_err());
    }
}
