//! Weight-only quantised kernels: a `tgraph.weight {tgraph.quant = "int8_g32h" | "int8_g16" |
//! "int4s_g32h" | "int4_g32h" | "int4_g32" | …}` (a GGUF matrix computed from its blocks) is
//! bound as the planar arrays the runtime repacks at load (agentc_runtime::gguf::quant:
//! values, scales, mins; the scales and mins f16 in a form whose name ends in `h`, f32
//! otherwise), and the ops that read it dequantise in registers (an f16 scale or min
//! widened to f32 first, `arith.extf`, exact):
//!
//! - `x · Wᵀ` (a linear layer, [`matmul`], in a prefill or a decode step): with one row of
//!   x, the kernel of `matvec_q.rs` (each group's integers times x, summed, then the
//!   group's scale once); with many, the register-tiled GEMM of `gemm.rs`, which
//!   dequantises each vector of W in its tile. Where neither fits the shapes: one generic
//!   over (n, m, group, j) whose maps are projected permutations — x reshaped
//!   `[M, K/G, G]` (int4: its low and high half-groups `[M, K/32, 16]` each), values `[N, K/G, G]` (int4 `[N, K/32, 16]`, two per byte),
//!   scales and mins `[N, K/G]` — so the innermost loop walks one group of x and of the
//!   values contiguously and LLVM vectorises it (the add is `fastmath<reassoc>`, as the f32
//!   `matmul_transposed`); each weight byte is read once per row of x.
//! - an embedding gather ([`embedding`]): the row's values and scales, per element.
//! - any other use: the weight dequantised to f32 once in the kernel ([`materialise`]).
//!
//! The value of an element is `q·scale` (int8) or `q·scale + min` (int4, q in 0..15), in f32,
//! exactly the dequantised weight (agentc_runtime::gguf::quant); only the order of the dot
//! product's sums differs from the f32 kernels'.

use std::collections::HashMap;

use agentc_runtime::gguf::quant::{ScaleType, Scheme};

use super::emitter::*;
use super::transform::Tiling;
use crate::ir::{Op, Val};

/// A quantised weight bound to kernel arguments.
#[derive(Clone, Debug)]
pub(super) struct QWeight {
    scheme: Scheme,
    /// N (rows, outputs of a linear layer) and K (columns, along which groups run).
    rows: i64,
    cols: i64,
    /// The argument names and types: values, scales (, mins).
    args: Vec<(String, Tt)>,
    /// Seen through a 2-D transpose (the `Wᵀ` of a linear layer).
    transposed: bool,
    /// `tgraph.activations = "int8"`: a decode step's linear layer by it rounds its
    /// activations to int8 (`dot_i8.rs`).
    int8_activations: bool,
}

/// The quantised weights of the kernel being written, by value (a `tgraph.weight` result or
/// a transpose of one).
pub(super) type Quantized = HashMap<usize, QWeight>;

fn key(v: Val) -> usize {
    v.0.ptr as usize
}

/// The argument bound to `name` of type `ty` (one per name, in order of first use).
fn argument(e: &mut Emitter, name: String, ty: Tt) -> String {
    if let Some(i) = e.weights.iter().position(|(n, _)| *n == name) {
        return format!("%w{i}");
    }
    e.weights.push((name, ty));
    format!("%w{}", e.weights.len() - 1)
}

/// Is `user` a use of weight value `w` that reads it quantised: an embedding's table, or a
/// 2-D transpose whose every user is an in-place `x · Wᵀ` matmul?
fn reads_quantised(user: Op, w: Val) -> bool {
    match user.name().as_str() {
        "tgraph.embedding" => user.operand(0).0.ptr == w.0.ptr && user.operand(1).0.ptr != w.0.ptr,
        "tgraph.transpose" => {
            let t = user.result(0);
            let users = t.users();
            !users.is_empty() && users.iter().all(|u| super::basic::reads_transpose_in_place(*u, t))
        }
        _ => false,
    }
}

/// `tgraph.weight` with `tgraph.quant`: binds its arrays. Returns the value's name: a
/// placeholder when every user reads it quantised, else the weight dequantised to f32.
pub(super) fn weight(e: &mut Emitter, op: Op, name: &str, scheme_name: &str) -> Result<String, Unsupported> {
    let scheme = Scheme::parse(scheme_name).ok_or_else(|| Unsupported(op, format!("unknown quantised form `{scheme_name}`")))?;
    let ty = result_tensor(op)?;
    let (rows, cols) = match ty.shape[..] {
        [rows, cols] if cols % scheme.group() as i64 == 0 => (rows, cols),
        _ => return Err(Unsupported(op, format!("a {scheme_name} weight of type {}", ty.tensor()))),
    };
    let mut args = Vec::new();
    for (suffix, dtype, shape) in scheme.arrays(rows as usize, cols as usize) {
        let elem = match dtype {
            "F32" => "f32",
            "F16" => "f16",
            _ => "i8",
        };
        let t = Tt { shape: shape.iter().map(|&d| d as i64).collect(), elem: elem.into() };
        let arg = argument(e, format!("{name}{suffix}"), t.clone());
        args.push((arg, t));
    }
    let int8_activations = op.attribute("tgraph.activations").is_some_and(|a| a.to_string() == "\"int8\"");
    let q = QWeight { scheme, rows, cols, args, transposed: false, int8_activations };
    let w = op.result(0);
    if w.users().iter().all(|u| reads_quantised(*u, w)) {
        e.quantized.insert(key(w), q);
        return Ok("%quantised".into());
    }
    Ok(materialise(e, &q, &ty))
}

/// `tgraph.transpose` of a quantised weight (every user an in-place matmul, [`weight`]).
pub(super) fn transpose(e: &mut Emitter, op: Op) -> bool {
    let Some(q) = e.quantized.get(&key(op.operand(0))).cloned() else { return false };
    e.quantized.insert(key(op.result(0)), QWeight { transposed: true, ..q });
    true
}

/// `v`, a scalar of the scheme's scale type read with `tensor.extract`, as f32: itself, or
/// an f16 widened (exact). (A linalg body needs no such step: [`Emitter::linalg`] widens its
/// 16-bit inputs as it reads them.)
fn widen(e: &mut Emitter, scheme: Scheme, v: &str) -> String {
    match scheme.scale_type() {
        ScaleType::F32 => v.to_string(),
        ScaleType::F16 => e.let_(&format!("arith.extf {v} : f16 to f32")),
    }
}

/// The f32 value of quantised element `q` (an i8 block argument) with f32 `scale` (and
/// `min`; f16 ones already widened): int8 `q·scale`; int4 with `q` already the 0..15
/// nibble: `q·scale + min`, or without a min (`int4s_g32h`) `(q − 8)·scale`.
fn value(e: &mut Emitter, scheme: Scheme, q: &str, scale: &str, min: Option<&str>) -> String {
    match scheme {
        Scheme::Int8 { .. } => {
            let f = e.let_(&format!("arith.sitofp {q} : i8 to f32"));
            e.let_(&format!("arith.mulf {f}, {scale} : f32"))
        }
        Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => {
            let f = e.let_(&format!("arith.uitofp {q} : i8 to f32"));
            match min {
                Some(min) => {
                    let p = e.let_(&format!("arith.mulf {f}, {scale} : f32"));
                    e.let_(&format!("arith.addf {p}, {min} : f32"))
                }
                None => {
                    let eight = e.let_("arith.constant 8.0 : f32");
                    let c = e.let_(&format!("arith.subf {f}, {eight} : f32"));
                    e.let_(&format!("arith.mulf {c}, {scale} : f32"))
                }
            }
        }
    }
}

/// The low (`high` false) or high nibble of byte `b`, as an i8 in 0..15.
fn nibble(e: &mut Emitter, b: &str, high: bool) -> String {
    if high {
        let four = e.let_("arith.constant 4 : i8");
        e.let_(&format!("arith.shrui {b}, {four} : i8"))
    } else {
        let mask = e.let_("arith.constant 15 : i8");
        e.let_(&format!("arith.andi {b}, {mask} : i8"))
    }
}

/// `tgraph.matmul(x, Wᵀ)` with W quantised: `Ok(None)` when W is not a quantised weight.
pub(super) fn matmul(e: &mut Emitter, op: Op) -> Result<Option<String>, Unsupported> {
    let Some(q) = e.quantized.get(&key(op.operand(1))).cloned() else { return Ok(None) };
    if !q.transposed {
        return Err(Unsupported(op, "a matmul by an untransposed quantised weight".into()));
    }
    let a = op_tensor(e, op, 0)?;
    let out = result_tensor(op)?;
    // One static row (a decode step) is cast to a dynamic row count, so that the
    // vectoriser of the transform script leaves the op alone (as the f32 linear layers).
    // Then the one-row kernel (matvec_q.rs) or the register-tiled GEMM, dequantising in
    // its tile; where neither fits, the generic, vectorised by LLVM's loop vectoriser.
    let xd = Tt { shape: vec![-1, a.1.shape[1]], elem: a.1.elem.clone() };
    let od = Tt { shape: vec![-1, out.shape[1]], elem: out.elem.clone() };
    let x = e.cast_to(&a.0, &a.1, &xd);
    let weights = match q.scheme {
        Scheme::Int8 { group, .. } => super::gemm::Weights::Int8 { values: &q.args[0], scales: &q.args[1], group: group as i64 },
        Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => super::gemm::Weights::Int4 { values: &q.args[0], scales: &q.args[1], mins: q.args.get(2) },
    };
    if q.int8_activations && a.1.shape[0] == 1 {
        let mut helpers = std::mem::take(&mut e.helpers);
        let r = super::dot_i8::linear(e, &(x.clone(), xd.clone()), &weights, q.rows, q.cols, &od, &mut helpers);
        e.helpers = helpers;
        if let Some(r) = r {
            return Ok(Some(e.cast_to(&r, &od, &out)));
        }
    }
    let one_row = a.1.shape[0] == 1;
    let matvec = if one_row { super::matvec_q::linear(e, &(x.clone(), xd.clone()), &weights, q.rows, q.cols, &od) } else { None };
    let r = match matvec.or_else(|| super::gemm::linear(e, &(x.clone(), xd.clone()), &weights, q.rows, q.cols, &od, one_row)) {
        Some(r) => r,
        None => matmul_dynamic(e, (x, xd), &q, &od),
    };
    Ok(Some(e.cast_to(&r, &od, &out)))
}

/// `x [M, K] · Wᵀ` for M dynamic: the generic over (n, m, group, j) of the file's comment.
fn matmul_dynamic(e: &mut Emitter, x: (String, Tt), q: &QWeight, out: &Tt) -> String {
    let (g, groups) = (q.scheme.group() as i64, q.cols / q.scheme.group() as i64);
    let m = e.dim(&x, 0);
    let init = e.empty_sized(out, &[m.clone(), String::new()]);
    let zero = e.fill(&init, out, "0.0");
    let xs = Tt { shape: vec![-1, groups, g], elem: "f32".into() };
    let xr = e.fresh("xg");
    e.line(&format!(
        "{xr} = tensor.expand_shape {} [[0], [1, 2]] output_shape [{m}, {groups}, {g}] : {} into {}",
        x.0,
        x.1.tensor(),
        xs.tensor()
    ));
    let x_map = "affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>".to_string();
    let w_map = "affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>".to_string();
    let s_map = "affine_map<(d0, d1, d2, d3) -> (d0, d2)>".to_string();
    let out_map = "affine_map<(d0, d1, d2, d3) -> (d1, d0)>";
    let iters = ["parallel", "parallel", "reduction", "reduction"];
    let (values, scales) = (q.args[0].clone(), q.args[1].clone());
    let scheme = q.scheme;
    match q.scheme {
        Scheme::Int8 { .. } => {
            let ins = [(xr, xs, x_map), (values.0, values.1, w_map), (scales.0, scales.1, s_map)];
            e.linalg(&ins, &zero, out, &iters, out_map, super::threads::over_weight_rows(out.shape[1], 0, 4), &|e, v| {
                let w = value(e, scheme, &v[1], &v[2], None);
                let p = e.let_(&format!("arith.mulf {}, {w} : f32", v[0]));
                e.let_(&format!("arith.addf {}, {p} fastmath<reassoc> : f32", v[3]))
            })
        }
        Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => {
            // x's groups as [M, K/32, 2, 16]: the low nibbles multiply half 0, the high half 1.
            let halves = Tt { shape: vec![-1, groups, 2, 16], elem: "f32".into() };
            let xh = e.fresh("xh");
            e.line(&format!(
                "{xh} = tensor.expand_shape {} [[0], [1, 2, 3]] output_shape [{m}, {groups}, 2, 16] : {} into {}",
                x.0,
                x.1.tensor(),
                halves.tensor()
            ));
            let half = Tt { shape: vec![-1, groups, 16], elem: "f32".into() };
            let mut parts = Vec::new();
            for h in 0..2 {
                let s = e.fresh("xhalf");
                e.line(&format!(
                    "{s} = tensor.extract_slice {xh}[0, 0, {h}, 0] [{m}, {groups}, 1, 16] [1, 1, 1, 1] : {} to {}",
                    halves.tensor(),
                    half.tensor()
                ));
                parts.push(s);
            }
            let mut ins = vec![
                (parts[0].clone(), half.clone(), x_map.clone()),
                (parts[1].clone(), half, x_map),
                (values.0, values.1, w_map),
                (scales.0, scales.1, s_map.clone()),
            ];
            if let Some(mins) = q.args.get(2) {
                ins.push((mins.0.clone(), mins.1.clone(), s_map));
            }
            e.linalg(&ins, &zero, out, &iters, out_map, super::threads::over_weight_rows(out.shape[1], 0, 4), &|e, v| {
                let min = (v.len() == 6).then(|| v[4].clone());
                let lo = nibble(e, &v[2], false);
                let hi = nibble(e, &v[2], true);
                let wlo = value(e, scheme, &lo, &v[3], min.as_deref());
                let whi = value(e, scheme, &hi, &v[3], min.as_deref());
                let plo = e.let_(&format!("arith.mulf {}, {wlo} : f32", v[0]));
                let phi = e.let_(&format!("arith.mulf {}, {whi} : f32", v[1]));
                let a = e.let_(&format!("arith.addf {}, {plo} fastmath<reassoc> : f32", v[v.len() - 1]));
                e.let_(&format!("arith.addf {a}, {phi} fastmath<reassoc> : f32"))
            })
        }
    }
}

/// `tgraph.embedding(W, ids)` with W quantised: `Ok(None)` when it is not.
pub(super) fn embedding(e: &mut Emitter, op: Op) -> Result<Option<String>, Unsupported> {
    let Some(q) = e.quantized.get(&key(op.operand(0))).cloned() else { return Ok(None) };
    let ids = e.dynamic(&operand(e, op, 1)?);
    let out = result_tensor(op)?;
    let r = out.rank();
    let mut sizes: Vec<String> = (0..r - 1).map(|i| e.dim(&ids, i)).collect();
    sizes.push(e.index(q.cols));
    let dyn_out = Tt { shape: vec![-1; r], elem: out.elem.clone() };
    let init = e.empty_sized(&dyn_out, &sizes);
    let ids_map = format!("affine_map<({}) -> ({})>", dims_list(r), dims_list(r - 1));
    let g = q.scheme.group();
    let args = q.args.clone();
    let scheme = q.scheme;
    let gathered = e.linalg(&[(ids.0, ids.1, ids_map)], &init, &dyn_out, &vec!["parallel"; r], &identity_map(r), Tiling::Loops(vec![]), &move |e, a| {
        let row = e.let_(&format!("arith.index_cast {} : i64 to index", a[0]));
        let col = e.let_(&format!("linalg.index {} : index", r - 1));
        let gsize = e.let_(&format!("arith.constant {g} : index"));
        let group = e.let_(&format!("arith.divui {col}, {gsize} : index"));
        let j = e.let_(&format!("arith.remui {col}, {gsize} : index"));
        let scale = e.let_(&format!("tensor.extract {}[{row}, {group}] : {}", args[1].0, args[1].1.tensor()));
        let scale = widen(e, scheme, &scale);
        match scheme {
            Scheme::Int8 { .. } => {
                let v = e.let_(&format!("tensor.extract {}[{row}, {group}, {j}] : {}", args[0].0, args[0].1.tensor()));
                value(e, scheme, &v, &scale, None)
            }
            Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => {
                // Element j of a group: byte j % 16, the high nibble when j >= 16.
                let sixteen = e.let_("arith.constant 16 : index");
                let at = e.let_(&format!("arith.remui {j}, {sixteen} : index"));
                let half = e.let_(&format!("arith.divui {j}, {sixteen} : index"));
                let byte = e.let_(&format!("tensor.extract {}[{row}, {group}, {at}] : {}", args[0].0, args[0].1.tensor()));
                let h = e.let_(&format!("arith.index_cast {half} : index to i8"));
                let four = e.let_("arith.constant 4 : i8");
                let shift = e.let_(&format!("arith.muli {h}, {four} : i8"));
                let shifted = e.let_(&format!("arith.shrui {byte}, {shift} : i8"));
                let mask = e.let_("arith.constant 15 : i8");
                let nib = e.let_(&format!("arith.andi {shifted}, {mask} : i8"));
                let min = args.get(2).map(|m| {
                    let v = e.let_(&format!("tensor.extract {}[{row}, {group}] : {}", m.0, m.1.tensor()));
                    widen(e, scheme, &v)
                });
                value(e, scheme, &nib, &scale, min.as_deref())
            }
        }
    });
    Ok(Some(e.cast_to(&gathered, &dyn_out, &out)))
}

/// The weight dequantised to f32 `[N, K]` (a use the quantised ops do not cover).
fn materialise(e: &mut Emitter, q: &QWeight, ty: &Tt) -> String {
    let (g, groups) = (q.scheme.group() as i64, q.cols / q.scheme.group() as i64);
    let s_map = |n: usize| format!("affine_map<({}) -> (d0, d1)>", dims_list(n));
    let (expanded, reassociation, text) = match q.scheme {
        Scheme::Int8 { .. } => {
            let t = Tt { shape: vec![q.rows, groups, g], elem: "f32".into() };
            let init = e.empty(&t, &[]);
            let ins = [(q.args[0].0.clone(), q.args[0].1.clone(), identity_map(3)), (q.args[1].0.clone(), q.args[1].1.clone(), s_map(3))];
            let scheme = q.scheme;
            let r = e.linalg(&ins, &init, &t, &["parallel"; 3], &identity_map(3), Tiling::Loops(vec![]), &|e, v| value(e, scheme, &v[0], &v[1], None));
            (t, "[[0], [1, 2]]", r)
        }
        Scheme::Int4 { .. } | Scheme::Int4Sym { .. } => {
            let t = Tt { shape: vec![q.rows, groups, 2, 16], elem: "f32".into() };
            let init = e.empty(&t, &[]);
            let mut ins = vec![
                (q.args[0].0.clone(), q.args[0].1.clone(), "affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>".to_string()),
                (q.args[1].0.clone(), q.args[1].1.clone(), s_map(4)),
            ];
            if let Some(mins) = q.args.get(2) {
                ins.push((mins.0.clone(), mins.1.clone(), s_map(4)));
            }
            let scheme = q.scheme;
            let r = e.linalg(&ins, &init, &t, &["parallel"; 4], &identity_map(4), Tiling::Loops(vec![]), &|e, v| {
                let half = e.let_("linalg.index 2 : index");
                let h = e.let_(&format!("arith.index_cast {half} : index to i8"));
                let four = e.let_("arith.constant 4 : i8");
                let shift = e.let_(&format!("arith.muli {h}, {four} : i8"));
                let shifted = e.let_(&format!("arith.shrui {}, {shift} : i8", v[0]));
                let mask = e.let_("arith.constant 15 : i8");
                let nib = e.let_(&format!("arith.andi {shifted}, {mask} : i8"));
                let min = (v.len() == 4).then(|| v[2].clone());
                value(e, scheme, &nib, &v[1], min.as_deref())
            });
            (t, "[[0], [1, 2, 3]]", r)
        }
    };
    let name = e.fresh("deq");
    e.line(&format!("{name} = tensor.collapse_shape {text} {reassociation} : {} into {}", expanded.tensor(), ty.tensor()));
    name
}
