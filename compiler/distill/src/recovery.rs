//! Recovery by knowledge distillation: a short fine-tune of a student's RMSNorm weights on
//! the teacher's next-token distributions over the calibration prompts.
//!
//! The loss is the mean KL(teacher ‖ student) over every position of every calibration
//! prompt (full-sequence forwards, no KV cache), differentiated by candle's autodiff with
//! respect to the norms only (`input_layernorm`, `post_attention_layernorm` of each layer,
//! the final `model.norm`) and minimised by AdamW. The quantized linear weights, the
//! embedding and the `lm_head` (the embedding itself when tied) stay exactly what the GGUF
//! stores; the norms are f32 in the file, so the trained values are written there as they
//! are and the file holds what was measured. The norms of the step with the lowest
//! calibration KL are kept, and the student is left as it was when no step improves on it.

use std::collections::BTreeMap;

use candle_core::backprop::GradStore;
use candle_core::{D, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::Serialize;

use crate::checkpoint::{Matrix, Shape};
use crate::forward::Model;
use crate::measure::kl;
use crate::quant::Format;
use crate::student::{Student, gguf_name};

/// How long and how fast the norms are trained.
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryOptions {
    /// AdamW steps, each over the whole calibration set (0 measures and changes nothing).
    pub steps: usize,
    /// AdamW's learning rate (no weight decay: the norms are not pulled towards 0).
    pub learning_rate: f64,
}

impl Default for RecoveryOptions {
    /// 20 steps at learning rate 0.001 (on tiny-llama, more steps or a higher rate lower the
    /// calibration KL further but raise the held-out KL: 2k norm weights fit ~130 positions).
    fn default() -> Self {
        RecoveryOptions { steps: 20, learning_rate: 1e-3 }
    }
}

/// What a recovery did, measured on the calibration prompts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recovery {
    /// Mean KL(teacher ‖ student) in nats per position before training.
    pub kl_before: f64,
    /// The same with the norms kept (never above `kl_before`).
    pub kl_after: f64,
    /// The AdamW steps that produced the kept norms (0 when the student is unchanged).
    pub steps: usize,
}

fn err(e: candle_core::Error) -> String {
    format!("recovery: {e}")
}

/// Log-softmax in f64.
fn log_softmax(row: &[f32]) -> Vec<f64> {
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let lse = row.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln() + max;
    row.iter().map(|&x| x as f64 - lse).collect()
}

/// The HF names of the RMSNorm weights.
fn norm_names(shape: &Shape) -> Vec<String> {
    let mut names = Vec::with_capacity(2 * shape.layers + 1);
    for l in 0..shape.layers {
        names.push(format!("model.layers.{l}.input_layernorm.weight"));
        names.push(format!("model.layers.{l}.post_attention_layernorm.weight"));
    }
    names.push("model.norm.weight".into());
    names
}

/// Mean KL(teacher ‖ `model`) over every position, in f64 as [`crate::measure`] computes it,
/// from the teacher's log-probabilities `teacher[prompt][position]`.
fn calibration_kl(model: &Model, calib: &[Vec<u32>], teacher: &[Vec<Vec<f64>>]) -> Result<f64, String> {
    let (mut sum, mut count) = (0.0, 0usize);
    for (p, t) in calib.iter().zip(teacher) {
        let logits = model.logits(p).and_then(|l| l.to_vec2::<f32>()).map_err(err)?;
        for (row, lp) in logits.iter().zip(t) {
            sum += kl(lp, &log_softmax(row));
            count += 1;
        }
    }
    Ok(sum / count.max(1) as f64)
}

/// One training step's loss and gradients: the mean KL(teacher ‖ student) in f32 over
/// every position, from the teacher's probabilities and log-probabilities `(T, vocab)` per
/// prompt, and its gradient with respect to each of `vars`. One backward per prompt, so
/// only one prompt's graph is alive at a time.
fn loss_and_grads(
    model: &Model,
    calib: &[Vec<u32>],
    teacher: &[(Tensor, Tensor)],
    vars: &[Var],
    positions: usize,
) -> candle_core::Result<(f64, GradStore)> {
    let mut value = 0.0;
    let mut sums: Vec<Option<Tensor>> = vec![None; vars.len()];
    for (p, (prob, logp)) in calib.iter().zip(teacher) {
        let logq = candle_nn::ops::log_softmax(&model.logits(p)?, D::Minus1)?;
        let loss = ((prob * (logp - logq)?)?.sum_all()? / positions as f64)?;
        value += loss.to_scalar::<f32>()? as f64;
        let grads = loss.backward()?;
        for (sum, var) in sums.iter_mut().zip(vars) {
            if let Some(g) = grads.get(var) {
                let g = g.detach();
                *sum = Some(match sum.take() {
                    Some(s) => (s + g)?,
                    None => g,
                });
            }
        }
    }
    let mut store = GradStore::default();
    for (sum, var) in sums.into_iter().zip(vars) {
        if let Some(g) = sum {
            store.insert(var.as_tensor(), g);
        }
    }
    Ok((value, store))
}

/// Trains `student`'s RMSNorm weights to minimise the mean KL(teacher ‖ student) over every
/// position of the calibration prompts `calib` (token ids), with AdamW on candle's autodiff
/// (see the module doc). The kept norms (those of the step with the lowest calibration KL;
/// the student's own when no step improves) are written to both `student.tensors` and the
/// F32 norm tensors of `student.gguf`; everything else is left untouched. `kl_before` and
/// `kl_after` are computed by the measured forward ([`Model::new`]) in f64.
pub fn recover(
    teacher: &Model,
    student: &mut Student,
    shape: &Shape,
    calib: &[Vec<u32>],
    options: &RecoveryOptions,
) -> Result<Recovery, String> {
    if calib.is_empty() || calib.iter().any(|p| p.is_empty()) {
        return Err("recovery: needs at least one calibration prompt, none of them empty".into());
    }
    // The student may have fewer layers (structural plans); everything else is the teacher's.
    if (Shape { layers: shape.layers, ..teacher.shape().clone() }) != *shape {
        return Err("recovery: the teacher's shape is not the student's (beyond its layer count)".into());
    }
    let dev = Device::Cpu;
    let names = norm_names(shape);
    for name in &names {
        let m = student.tensors.get(name).ok_or_else(|| format!("recovery: the student has no `{name}`"))?;
        if m.shape != [shape.hidden] {
            return Err(format!("recovery: `{name}` has shape {:?}, expected [{}]", m.shape, shape.hidden));
        }
        let g = gguf_name(name).expect("norms have GGUF names");
        match student.gguf.iter().find(|t| t.name == g) {
            Some(t) if t.format == Format::F32 && t.bytes.len() == 4 * shape.hidden => {}
            _ => return Err(format!("recovery: the student's GGUF has no F32 `{g}` of {} elements", shape.hidden)),
        }
    }

    // The teacher's log-probabilities: f64 rows for the measured KL, f32 tensors for the loss.
    let mut teacher_rows = Vec::with_capacity(calib.len());
    let mut teacher_tensors = Vec::with_capacity(calib.len());
    for p in calib {
        let logits = teacher.logits(p).and_then(|l| l.to_vec2::<f32>()).map_err(err)?;
        let rows: Vec<Vec<f64>> = logits.iter().map(|r| log_softmax(r)).collect();
        let flat: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
        let logp = Tensor::from_vec(flat, (p.len(), shape.vocab), &dev).map_err(err)?;
        let prob = logp.exp().map_err(err)?;
        teacher_tensors.push((prob, logp));
        teacher_rows.push(rows);
    }
    let positions: usize = calib.iter().map(Vec::len).sum();

    let kl_before = calibration_kl(&Model::new(shape, &student.tensors)?, calib, &teacher_rows)?;
    let (mut kept, mut best) = (0, Vec::new());
    if options.steps > 0 {
        let mut vars = BTreeMap::new();
        for name in &names {
            vars.insert(name.clone(), Var::from_slice(&student.tensors[name].data, shape.hidden, &dev).map_err(err)?);
        }
        let model = Model::with_norms(shape, &student.tensors, &vars)?;
        let params = ParamsAdamW { lr: options.learning_rate, weight_decay: 0.0, ..ParamsAdamW::default() };
        let mut opt = AdamW::new(vars.values().cloned().collect(), params).map_err(err)?;
        let snapshot = || -> Result<Vec<Vec<f32>>, String> {
            names.iter().map(|n| vars[n].as_tensor().to_vec1::<f32>().map_err(err)).collect()
        };
        let list: Vec<Var> = names.iter().map(|n| vars[n].clone()).collect();
        let mut best_loss = f64::INFINITY;
        // Step `s` evaluates the norms after `s` updates, then (but for the last) updates them.
        for s in 0..=options.steps {
            let (value, grads) = loss_and_grads(&model, calib, &teacher_tensors, &list, positions).map_err(err)?;
            if value < best_loss {
                best_loss = value;
                best = snapshot()?;
                kept = s;
            }
            if s < options.steps {
                opt.step(&grads).map_err(err)?;
            }
        }
    }

    if kept == 0 {
        return Ok(Recovery { kl_before, kl_after: kl_before, steps: 0 });
    }
    let mut saved = Vec::with_capacity(names.len());
    for (name, data) in names.iter().zip(best) {
        let g = gguf_name(name).expect("norms have GGUF names");
        let t = student.gguf.iter_mut().find(|t| t.name == g).expect("checked above");
        let bytes = std::mem::replace(&mut t.bytes, data.iter().flat_map(|x| x.to_le_bytes()).collect());
        let matrix = Matrix { shape: vec![shape.hidden], data };
        saved.push((student.tensors.insert(name.clone(), matrix).expect("checked above"), bytes));
    }
    // The measured forward decides: never worse than before.
    let kl_after = calibration_kl(&Model::new(shape, &student.tensors)?, calib, &teacher_rows)?;
    if kl_after < kl_before {
        return Ok(Recovery { kl_before, kl_after, steps: kept });
    }
    for (name, (matrix, bytes)) in names.iter().zip(saved) {
        let g = gguf_name(name).expect("norms have GGUF names");
        student.gguf.iter_mut().find(|t| t.name == g).expect("checked above").bytes = bytes;
        student.tensors.insert(name.clone(), matrix);
    }
    Ok(Recovery { kl_before, kl_after: kl_before, steps: 0 })
}
