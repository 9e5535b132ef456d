//! LlamaForCausalLM as tensor functions: prefill over T prompt tokens and one decode step,
//! sharing a fixed-capacity KV cache `[layers, max_position_embeddings, kv_heads, head_dim]`.
//!
//! Per layer (HF `LlamaDecoderLayer`): x += o_proj(attention(rope(q), rope(k), v)) of
//! rmsnorm(x); x += down_proj(silu(gate_proj(h)) * up_proj(h)) with h = rmsnorm(x). GQA by
//! the head counts, RoPE in the rotate-half convention, weights `[out, in]` (x · Wᵀ).
//! Qwen2 adds biases to the q, k and v projections; Mistral is this shape as it is.

use super::emit::{arg, f32s, float, Emitter, V};
use super::{rope, Config};
use crate::verify::tensor::Shape;
use crate::weights::safetensors::Header;

fn i64s(sizes: &[Option<i64>]) -> Shape {
    Shape { dims: sizes.to_vec(), elem: "i64".into() }
}

fn cache_shape(c: &Config) -> Shape {
    f32s(&[Some(c.layers), Some(c.max_positions), Some(c.kv_heads), Some(c.head_dim)])
}

/// How a layer's attention reads keys and values.
enum Mode<'a> {
    /// Prefill: attention over the prompt's own keys and values; the caches start at zero.
    Prefill,
    /// Decode: write the token into the caches at `position`, attend over the caches.
    Decode { position: &'a V },
}

/// One decoder layer over `x` [T, H]; returns the new x and the updated caches.
fn layer(e: &mut Emitter, c: &Config, l: i64, x: &V, positions: &V, caches: (V, V), write_at: &V, mode: &Mode) -> (V, V, V) {
    let p = format!("model.layers.{l}.");
    let t = x.dims()[0];
    let (h, hq, hkv, d) = (c.hidden, c.heads, c.kv_heads, c.head_dim);
    let norm_w = e.weight(&format!("{p}input_layernorm.weight"), &[h]);
    let eps = format!("epsilon = {}", float(c.norm_eps, "f32"));
    let hn = e.op("tgraph.rmsnorm", &[x, &norm_w], &eps, x.shape.clone());
    let projection = |e: &mut Emitter, name: &str, out: i64| {
        let bias = c.qkv_bias.then(|| format!("{p}self_attn.{name}.bias"));
        e.linear(&hn, &format!("{p}self_attn.{name}.weight"), out, bias.as_deref())
    };
    let q = projection(e, "q_proj", hq * d);
    let k = projection(e, "k_proj", hkv * d);
    let v = projection(e, "v_proj", hkv * d);
    let q = e.reshape(&q, &[t, Some(hq), Some(d)]);
    let k = e.reshape(&k, &[t, Some(hkv), Some(d)]);
    let v = e.reshape(&v, &[t, Some(hkv), Some(d)]);
    let theta = rope_attributes(c);
    let q = e.op("tgraph.rope", &[&q, positions], &theta, q.shape.clone());
    let k = e.op("tgraph.rope", &[&k, positions], &theta, k.shape.clone());
    let layer_attr = format!("layer = {l} : i64");
    let k_cache = e.op("tgraph.kv_write", &[&caches.0, &k, write_at], &layer_attr, caches.0.shape.clone());
    let v_cache = e.op("tgraph.kv_write", &[&caches.1, &v, write_at], &layer_attr, caches.1.shape.clone());
    let scale = float(1.0 / (d as f64).sqrt(), "f32");
    let attended = match mode {
        Mode::Prefill => e.op("tgraph.attention", &[&q, &k, &v], &format!("causal = true, scale = {scale}"), q.shape.clone()),
        Mode::Decode { position } => e.op(
            "tgraph.attention_cached",
            &[&q, &k_cache, &v_cache, position],
            &format!("layer = {l} : i64, scale = {scale}"),
            q.shape.clone(),
        ),
    };
    let attended = e.reshape(&attended, &[t, Some(hq * d)]);
    let o = e.linear(&attended, &format!("{p}self_attn.o_proj.weight"), h, None);
    let x = e.binary("tgraph.add", x, &o);
    let norm_w = e.weight(&format!("{p}post_attention_layernorm.weight"), &[h]);
    let hn = e.op("tgraph.rmsnorm", &[&x, &norm_w], &eps, x.shape.clone());
    let gate = e.linear(&hn, &format!("{p}mlp.gate_proj.weight"), c.intermediate, None);
    let up = e.linear(&hn, &format!("{p}mlp.up_proj.weight"), c.intermediate, None);
    let gate = e.unary("tgraph.silu", &gate);
    let product = e.binary("tgraph.mul", &gate, &up);
    let down = e.linear(&product, &format!("{p}mlp.down_proj.weight"), h, None);
    let x = e.binary("tgraph.add", &x, &down);
    (x, k_cache, v_cache)
}

/// `tgraph.rope`'s attributes: the base, and the scaled inverse frequencies when
/// config.json scales them (`rope_type` linear / llama3), computed here at compile time.
fn rope_attributes(c: &Config) -> String {
    let theta = format!("theta = {}", float(c.rope_theta, "f64"));
    match rope::inv_freq(c.rope_theta, c.head_dim, &c.rope_scaling) {
        None => theta,
        Some(table) => {
            let values: Vec<String> = table.iter().map(|f| format!("{f:.8e}")).collect();
            format!("inv_freq = array<f32: {}>, {theta}", values.join(", "))
        }
    }
}

/// Final norm and the vocabulary projection of `last` [1, H]: logits [V].
fn logits(e: &mut Emitter, c: &Config, last: &V) -> V {
    let norm_w = e.weight("model.norm.weight", &[c.hidden]);
    let eps = format!("epsilon = {}", float(c.norm_eps, "f32"));
    let hn = e.op("tgraph.rmsnorm", &[last, &norm_w], &eps, last.shape.clone());
    let head = if c.tied_embeddings { "model.embed_tokens.weight" } else { "lm_head.weight" };
    let logits = e.linear(&hn, head, c.vocab, None);
    e.reshape(&logits, &[Some(c.vocab)])
}

fn attributes(model: &str, entry: &str, c: &Config) -> String {
    format!("tgraph.entry = \"{entry}\", tgraph.model = @{model}, {}", c.attribute_text())
}

/// `@<model>_prefill(%ids: tensor<?xi64>) -> (logits [V], k cache, v cache)`.
pub fn prefill(model: &str, c: &Config, header: &Header) -> Result<String, String> {
    let mut e = Emitter::new(model, header);
    let ids = arg("ids", i64s(&[None]));
    let zero = e.splat("0", i64s(&[]));
    let positions = e.op("tgraph.arange", &[&ids, &zero], "", i64s(&[None]));
    let table = e.weight("model.embed_tokens.weight", &[c.vocab, c.hidden]);
    let mut x = e.op("tgraph.embedding", &[&table, &ids], "", f32s(&[None, Some(c.hidden)]));
    let mut k_cache = e.splat("0.0", cache_shape(c));
    let mut v_cache = e.splat("0.0", cache_shape(c));
    for l in 0..c.layers {
        (x, k_cache, v_cache) = layer(&mut e, c, l, &x, &positions, (k_cache, v_cache), &zero, &Mode::Prefill);
    }
    let last = e.op("tgraph.slice", &[&x], "axis = 0 : i64, size = 1 : i64, start = -1 : i64", f32s(&[Some(1), Some(c.hidden)]));
    let logits = logits(&mut e, c, &last);
    if let Some(error) = e.error.take() {
        return Err(error);
    }
    Ok(e.finish(&format!("{model}_prefill"), &[("ids", ids.shape.clone())], &[&logits, &k_cache, &v_cache], &attributes(model, "prefill", c)))
}

/// `@<model>_decode_step(%token: tensor<i64>, %position: tensor<i64>, %k_cache, %v_cache)
/// -> (logits [V], k cache, v cache)`.
pub fn decode_step(model: &str, c: &Config, header: &Header) -> Result<String, String> {
    let mut e = Emitter::new(model, header);
    let token = arg("token", i64s(&[]));
    let position = arg("position", i64s(&[]));
    let mut k_cache = arg("k_cache", cache_shape(c));
    let mut v_cache = arg("v_cache", cache_shape(c));
    let ids = e.reshape(&token, &[Some(1)]);
    let positions = e.op("tgraph.arange", &[&ids, &position], "", i64s(&[Some(1)]));
    let table = e.weight("model.embed_tokens.weight", &[c.vocab, c.hidden]);
    let mut x = e.op("tgraph.embedding", &[&table, &ids], "", f32s(&[Some(1), Some(c.hidden)]));
    let mode = Mode::Decode { position: &position };
    for l in 0..c.layers {
        (x, k_cache, v_cache) = layer(&mut e, c, l, &x, &positions, (k_cache, v_cache), &position, &mode);
    }
    let logits = logits(&mut e, c, &x);
    if let Some(error) = e.error.take() {
        return Err(error);
    }
    let args = [
        ("token", token.shape.clone()),
        ("position", position.shape.clone()),
        ("k_cache", cache_shape(c)),
        ("v_cache", cache_shape(c)),
    ];
    Ok(e.finish(&format!("{model}_decode_step"), &args, &[&logits, &k_cache, &v_cache], &attributes(model, "decode_step", c)))
}
