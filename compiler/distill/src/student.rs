//! A student: the teacher's weights under a quantization plan (a format per linear layer,
//! RTN or GPTQ), as f32 values for the forward and as the GGUF tensors and metadata of a
//! `llama` file the runtime reads back (config and tokenizer included).

use std::collections::BTreeMap;
use std::path::Path;

use agentc_runtime::gguf::{GgufFile, Value};
use agentc_runtime::model_config::Architecture;

use crate::checkpoint::{Checkpoint, Matrix, Shape, Source};
use crate::forward::{LINEARS, input_slot};
use crate::gguf_writer::TensorOut;
use crate::gptq::gptq;
use crate::hessian::Hessians;
use crate::quant::{Format, Quantized, check_shape, rtn};

/// How a plan rounds its linear layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// Round to nearest.
    #[default]
    Rtn,
    /// GPTQ with the calibration Hessians.
    Gptq,
}

/// A compression plan: the decoder layers dropped (structural shrinking) and the format of
/// every remaining linear layer (by HF weight name; those not listed take `default`). The
/// embedding and an untied `lm_head` are Q8_0 (RTN) in every plan, the norms f32.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Its name in the report (`q4_1-gptq`).
    pub name: String,
    /// Rounding.
    pub method: Method,
    /// The linear layers' format.
    pub default: Format,
    /// Layers kept at another format (mixed precision).
    pub overrides: BTreeMap<String, Format>,
    /// The teacher's decoder layers left out, by index; the others are renumbered in order.
    pub drop: Vec<usize>,
    /// Whether the student's norms are then fine-tuned on the teacher's logits
    /// ([`crate::recovery`]).
    pub recover: bool,
}

/// The student of a plan.
pub struct Student {
    /// Its shape: the teacher's with the dropped layers removed.
    pub shape: Shape,
    /// Dequantised weights under HF names (what the reader gives back).
    pub tensors: BTreeMap<String, Matrix>,
    /// The GGUF tensors.
    pub gguf: Vec<TensorOut>,
    /// Bytes of all weights as stored.
    pub bytes: usize,
    /// Bytes of the teacher's weights in f32.
    pub f32_bytes: usize,
    /// Bits per weight over the decoder's linear layers.
    pub linear_bits: f64,
}

/// llama.cpp's name of an HF weight name (the inverse of the runtime's `gguf::llama::hf_name`).
pub fn gguf_name(hf: &str) -> Option<String> {
    match hf {
        "model.embed_tokens.weight" => return Some("token_embd.weight".into()),
        "model.norm.weight" => return Some("output_norm.weight".into()),
        "lm_head.weight" => return Some("output.weight".into()),
        _ => {}
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, part) = rest.split_once('.')?;
    let g = match part {
        "input_layernorm.weight" => "attn_norm.weight",
        "post_attention_layernorm.weight" => "ffn_norm.weight",
        "self_attn.q_proj.weight" => "attn_q.weight",
        "self_attn.k_proj.weight" => "attn_k.weight",
        "self_attn.v_proj.weight" => "attn_v.weight",
        "self_attn.o_proj.weight" => "attn_output.weight",
        "mlp.gate_proj.weight" => "ffn_gate.weight",
        "mlp.up_proj.weight" => "ffn_up.weight",
        "mlp.down_proj.weight" => "ffn_down.weight",
        _ => return None,
    };
    Some(format!("blk.{layer}.{g}"))
}

/// llama.cpp's permutation of Q/K rows for its RoPE layout, on whole rows of `row_bytes`:
/// HF row `(h, i, j)` of `(heads, 2, dim)` is stored at `(h, j, i)`.
fn permute_rows(bytes: &[u8], rows: usize, heads: usize) -> Vec<u8> {
    let row = bytes.len() / rows;
    let dim = rows / heads / 2;
    let mut out = vec![0u8; bytes.len()];
    for h in 0..heads {
        for i in 0..2 {
            for j in 0..dim {
                let from = (h * 2 * dim + i * dim + j) * row;
                let to = (h * 2 * dim + j * 2 + i) * row;
                out[to..to + row].copy_from_slice(&bytes[from..from + row]);
            }
        }
    }
    out
}

impl Plan {
    /// The format of the linear weight `name` (a teacher name).
    pub fn format_of(&self, name: &str) -> Format {
        self.overrides.get(name).copied().unwrap_or(self.default)
    }

    /// The name of the teacher's weight `name` in the student: the same outside the
    /// decoder layers, the layer renumbered past the dropped ones, `None` when its layer is
    /// dropped.
    pub fn student_name(&self, name: &str) -> Option<String> {
        let Some((layer, rest)) = layer_of(name) else { return Some(name.to_string()) };
        if self.drop.contains(&layer) {
            return None;
        }
        let below = self.drop.iter().filter(|&&d| d < layer).count();
        Some(format!("model.layers.{}.{rest}", layer - below))
    }

    /// Bytes of the student's weights, computed from the formats without quantizing.
    pub fn bytes(&self, teacher: &Checkpoint) -> usize {
        let mut bytes = 0;
        for (name, m) in &teacher.tensors {
            if self.student_name(name).is_none() {
                continue;
            }
            let (_, cols) = m.rows_cols();
            let format = if LINEARS.iter().any(|l| name.ends_with(&format!("{l}.weight"))) {
                self.format_of(name)
            } else if m.shape.len() == 2 && cols % 32 == 0 {
                Format::Q8_0
            } else {
                Format::F32
            };
            bytes += (format.bits() * m.data.len() as f64 / 8.0).round() as usize;
        }
        bytes
    }
}

/// `(layer, rest)` of a decoder layer's weight name `model.layers.L.rest`.
pub fn layer_of(name: &str) -> Option<(usize, &str)> {
    let (layer, rest) = name.strip_prefix("model.layers.")?.split_once('.')?;
    Some((layer.parse().ok()?, rest))
}

/// The teacher's weights (f32, unquantized) with the layers `drop` left out and the others
/// renumbered, and the shape that goes with them: what the layer ranking measures.
pub fn without_layers(teacher: &Checkpoint, drop: &[usize]) -> (Shape, BTreeMap<String, Matrix>) {
    let plan = Plan { drop: drop.to_vec(), ..Plan::default() };
    let tensors = teacher.tensors.iter().filter_map(|(n, m)| Some((plan.student_name(n)?, m.clone()))).collect();
    (student_shape(&teacher.shape, &plan), tensors)
}

fn student_shape(teacher: &Shape, plan: &Plan) -> Shape {
    Shape { layers: teacher.layers - plan.drop.iter().filter(|&&d| d < teacher.layers).count(), ..teacher.clone() }
}

/// Builds the student of `plan` (GPTQ needs `hessians`).
pub fn build(teacher: &Checkpoint, plan: &Plan, hessians: Option<&Hessians>) -> Result<Student, String> {
    if teacher.shape.architecture == Architecture::Qwen2 {
        return Err("a Qwen2 student cannot be written: the runtime reads `llama` GGUF files, which have no q/k/v biases".into());
    }
    if let Some(&bad) = plan.drop.iter().find(|&&d| d >= teacher.shape.layers) {
        return Err(format!("plan `{}` drops layer {bad} of {}", plan.name, teacher.shape.layers));
    }
    let s = &teacher.shape;
    let mut tensors = BTreeMap::new();
    let mut gguf = Vec::new();
    let (mut bytes, mut linear_bits, mut linear_elems) = (0usize, 0f64, 0usize);
    let f32_bytes = teacher.tensors.values().map(|m| m.data.len() * 4).sum();
    for (name, m) in &teacher.tensors {
        let Some(new_name) = plan.student_name(name) else { continue };
        let gname = gguf_name(&new_name).ok_or_else(|| format!("weight `{name}` has no GGUF name"))?;
        let (rows, cols) = m.rows_cols();
        let linear = LINEARS.iter().position(|l| name.ends_with(&format!("{l}.weight")));
        let q: Quantized = match linear {
            Some(idx) => {
                let format = plan.format_of(name);
                check_shape(format, name, cols)?;
                linear_bits += format.bits() * m.data.len() as f64;
                linear_elems += m.data.len();
                match (plan.method, format) {
                    (Method::Gptq, f) if f != Format::F32 => {
                        let (layer, _) = layer_of(name).ok_or_else(|| format!("`{name}`: not a decoder layer's weight"))?;
                        let h = hessians.ok_or("GPTQ needs calibration Hessians")?;
                        let (hm, n) = &h.h[layer][input_slot(LINEARS[idx])];
                        if *n != cols {
                            return Err(format!("`{name}`: no calibration statistics"));
                        }
                        gptq(format, &m.data, rows, cols, hm)?
                    }
                    (_, f) => rtn(f, &m.data, rows, cols),
                }
            }
            None if m.shape.len() == 2 && cols % 32 == 0 => rtn(Format::Q8_0, &m.data, rows, cols),
            None => rtn(Format::F32, &m.data, rows, cols),
        };
        let mut data = q.to_bytes();
        if name.ends_with("self_attn.q_proj.weight") {
            data = permute_rows(&data, rows, s.heads);
        } else if name.ends_with("self_attn.k_proj.weight") {
            data = permute_rows(&data, rows, s.kv_heads);
        }
        bytes += data.len();
        gguf.push(TensorOut { name: gname, dims: m.shape.iter().rev().map(|&d| d as u64).collect(), format: q.format, bytes: data });
        tensors.insert(new_name, Matrix { shape: m.shape.clone(), data: q.values });
    }
    Ok(Student { shape: student_shape(s, plan), tensors, gguf, bytes, f32_bytes, linear_bits: linear_bits / linear_elems.max(1) as f64 })
}

/// The metadata of the student's GGUF: the `llama.*` sizes of the student's `shape` and the
/// teacher's tokenizer (copied from a GGUF teacher; from `tokenizer.json` and
/// `tokenizer_config.json` of a folder, as a byte-level BPE `gpt2` tokenizer).
pub fn metadata(teacher: &Checkpoint, shape: &Shape, name: &str) -> Result<Vec<(String, Value)>, String> {
    let s = shape;
    let u = |n: usize| Value::U32(n as u32);
    let mut md: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String("llama".into())),
        ("general.name".into(), Value::String(name.into())),
        ("llama.block_count".into(), u(s.layers)),
        ("llama.context_length".into(), u(s.max_positions)),
        ("llama.embedding_length".into(), u(s.hidden)),
        ("llama.feed_forward_length".into(), u(s.intermediate)),
        ("llama.attention.head_count".into(), u(s.heads)),
        ("llama.attention.head_count_kv".into(), u(s.kv_heads)),
        ("llama.rope.dimension_count".into(), u(s.head_dim)),
        ("llama.rope.freq_base".into(), Value::F32(s.rope_theta as f32)),
        ("llama.attention.layer_norm_rms_epsilon".into(), Value::F32(s.eps as f32)),
        ("llama.vocab_size".into(), u(s.vocab)),
    ];
    match &teacher.source {
        Source::Gguf(path) => {
            let file = GgufFile::open(path).map_err(|e| e.0)?;
            for (key, v) in file.metadata() {
                if key.starts_with("tokenizer.") {
                    md.push((key.clone(), v.clone()));
                }
            }
        }
        Source::Folder(dir) => md.extend(folder_tokenizer(dir, &teacher.config)?),
    }
    Ok(md)
}

fn folder_tokenizer(dir: &Path, config: &serde_json::Value) -> Result<Vec<(String, Value)>, String> {
    let read = |file: &str| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{}/{file}: {e}", dir.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}/{file}: {e}", dir.display()))
    };
    let tj = read("tokenizer.json")?;
    let model = &tj["model"];
    if model["type"] != "BPE" || tj["pre_tokenizer"]["type"] != "ByteLevel" {
        return Err(format!("{}/tokenizer.json: only byte-level BPE tokenizers can be written to GGUF", dir.display()));
    }
    let vocab = model["vocab"].as_object().ok_or("tokenizer.json: no model.vocab")?;
    let mut tokens: BTreeMap<u64, (String, i32)> = vocab.iter().map(|(t, id)| (id.as_u64().unwrap_or(0), (t.clone(), 1))).collect();
    for added in tj["added_tokens"].as_array().into_iter().flatten() {
        let id = added["id"].as_u64().unwrap_or(0);
        let kind = if added["special"] == true { 3 } else { 4 };
        tokens.insert(id, (added["content"].as_str().unwrap_or("").to_string(), kind));
    }
    if tokens.keys().copied().ne(0..tokens.len() as u64) {
        return Err(format!("{}/tokenizer.json: token ids are not 0..n", dir.display()));
    }
    let merges: Vec<Value> = model["merges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| match m {
            serde_json::Value::String(s) => Value::String(s.clone()),
            pair => Value::String(format!("{} {}", pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or(""))),
        })
        .collect();
    let add_bos = tj["post_processor"]["type"] == "TemplateProcessing";
    let mut md = vec![
        ("tokenizer.ggml.model".to_string(), Value::String("gpt2".into())),
        ("tokenizer.ggml.tokens".into(), Value::Array(tokens.values().map(|(t, _)| Value::String(t.clone())).collect())),
        ("tokenizer.ggml.token_type".into(), Value::Array(tokens.values().map(|(_, k)| Value::I32(*k)).collect())),
        ("tokenizer.ggml.merges".into(), Value::Array(merges)),
        ("tokenizer.ggml.add_bos_token".into(), Value::Bool(add_bos)),
    ];
    for (hf, key) in [("bos_token_id", "tokenizer.ggml.bos_token_id"), ("eos_token_id", "tokenizer.ggml.eos_token_id")] {
        if let Some(id) = config[hf].as_u64() {
            md.push((key.into(), Value::U32(id as u32)));
        }
    }
    if let Ok(tc) = read("tokenizer_config.json") {
        if let Some(t) = tc["chat_template"].as_str() {
            md.push(("tokenizer.chat_template".into(), Value::String(t.into())));
        }
    }
    Ok(md)
}
