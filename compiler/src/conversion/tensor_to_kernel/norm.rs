//! Normalisations and activations of the model functions: `rmsnorm`, `layernorm` (over
//! the last dimension, in the order of operations of HF's LlamaRMSNorm and torch's
//! layer_norm), `silu` and `gelu` (exact: erf, computed in f64 by the Abramowitz–Stegun
//! 7.1.26 approximation, |error| ≤ 1.5e-7, since there is no erf intrinsic on the CPU).

use super::emitter::*;
use super::model::reduce_axes;
use super::transform::Tiling;
use crate::ir::Op;

/// Converts `op` if it is one of this file's ops; `Ok(false)` if it is not.
pub(super) fn convert(e: &mut Emitter, op: Op) -> Result<bool, Unsupported> {
    let r = match op.name().as_str() {
        "tgraph.rmsnorm" => rmsnorm(e, op)?,
        "tgraph.layernorm" => layernorm(e, op)?,
        "tgraph.silu" => silu(e, op)?,
        "tgraph.gelu" => gelu(e, op)?,
        _ => return Ok(false),
    };
    e.bind(op.result(0), r);
    Ok(true)
}

/// Maps of a row-wise op over x [..., H]: identity, the leading dims, the last dim.
fn row_maps(rank: usize) -> (String, String, String) {
    let all = dims_list(rank);
    let lead = dims_list(rank - 1);
    (identity_map(rank), format!("affine_map<({all}) -> ({lead})>"), format!("affine_map<({all}) -> (d{})>", rank - 1))
}

/// An empty tensor shaped like `x`.
fn empty_like(e: &mut Emitter, x: &(String, Tt), ty: &Tt) -> String {
    let sizes: Vec<String> = (0..x.1.rank()).map(|i| e.dim(x, i)).collect();
    e.empty_sized(ty, &sizes)
}

/// x / √(mean(x²) + ε) · w.
fn rmsnorm(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let (x, w) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?);
    let out = result_tensor(op)?;
    let eps = float_attr(op, "epsilon")?;
    let rank = x.1.rank();
    let h = x.1.shape[rank - 1];
    let elem = out.elem.clone();
    let (ss, ss_ty) = reduce_axes(e, x.clone(), &[rank as i64 - 1], "0.0", "arith.addf", true);
    let init = empty_like(e, &x, &out);
    let (id, lead, last) = row_maps(rank);
    let ins = [(x.0, x.1, id.clone()), (ss, ss_ty, lead), (w.0, w.1, last)];
    let iters = vec!["parallel"; rank];
    Ok(e.linalg(&ins, &init, &out, &iters, &id, Tiling::Loops(vec![]), &move |e, a| {
        let n = e.let_(&format!("arith.constant {h}.0 : {elem}"));
        let eps = e.let_(&format!("arith.constant {eps} : {elem}"));
        let mean = e.let_(&format!("arith.divf {}, {n} : {elem}", a[1]));
        let var = e.let_(&format!("arith.addf {mean}, {eps} : {elem}"));
        let r = e.let_(&format!("math.rsqrt {var} : {elem}"));
        let y = e.let_(&format!("arith.mulf {}, {r} : {elem}", a[0]));
        e.let_(&format!("arith.mulf {}, {y} : {elem}", a[2]))
    }))
}

/// (x − mean) / √(var + ε) · w + b, biased variance, two passes.
fn layernorm(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let (x, w, b) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?, op_tensor(e, op, 2)?);
    let out = result_tensor(op)?;
    let eps = float_attr(op, "epsilon")?;
    let rank = x.1.rank();
    let h = x.1.shape[rank - 1];
    let elem = out.elem.clone();
    let (sum, sum_ty) = reduce_axes(e, x.clone(), &[rank as i64 - 1], "0.0", "arith.addf", false);
    let (id, lead, last) = row_maps(rank);
    // Σ (x − mean)² over the last dimension.
    let lead_sizes: Vec<String> = (0..rank - 1).map(|i| e.dim(&x, i)).collect();
    let var_empty = e.empty_sized(&sum_ty, &lead_sizes);
    let var_init = e.fill(&var_empty, &sum_ty, "0.0");
    let mut iters = vec!["parallel"; rank - 1];
    iters.push("reduction");
    let ins = [(x.0.clone(), x.1.clone(), id.clone()), (sum.clone(), sum_ty.clone(), lead.clone())];
    let el = elem.clone();
    let var = e.linalg(&ins, &var_init, &sum_ty, &iters, &lead, Tiling::Loops(vec![]), &move |e, a| {
        let n = e.let_(&format!("arith.constant {h}.0 : {el}"));
        let mean = e.let_(&format!("arith.divf {}, {n} : {el}", a[1]));
        let d = e.let_(&format!("arith.subf {}, {mean} : {el}", a[0]));
        let sq = e.let_(&format!("arith.mulf {d}, {d} : {el}"));
        e.let_(&format!("arith.addf {}, {sq} : {el}", a[2]))
    });
    let init = empty_like(e, &x, &out);
    let ins = [(x.0, x.1, id.clone()), (sum, sum_ty.clone(), lead.clone()), (var, sum_ty, lead), (w.0, w.1, last.clone()), (b.0, b.1, last)];
    Ok(e.linalg(&ins, &init, &out, &vec!["parallel"; rank], &id, Tiling::Loops(vec![]), &move |e, a| {
        let n = e.let_(&format!("arith.constant {h}.0 : {elem}"));
        let eps = e.let_(&format!("arith.constant {eps} : {elem}"));
        let mean = e.let_(&format!("arith.divf {}, {n} : {elem}", a[1]));
        let var = e.let_(&format!("arith.divf {}, {n} : {elem}", a[2]));
        let var = e.let_(&format!("arith.addf {var}, {eps} : {elem}"));
        let r = e.let_(&format!("math.rsqrt {var} : {elem}"));
        let d = e.let_(&format!("arith.subf {}, {mean} : {elem}", a[0]));
        let y = e.let_(&format!("arith.mulf {d}, {r} : {elem}"));
        let y = e.let_(&format!("arith.mulf {y}, {} : {elem}", a[3]));
        e.let_(&format!("arith.addf {y}, {} : {elem}", a[4]))
    }))
}

/// x / (1 + e^−x).
fn silu(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let x = op_tensor(e, op, 0)?;
    let out = result_tensor(op)?;
    let elem = out.elem.clone();
    Ok(e.elementwise(&[x], &out, &move |e, a| {
        let one = e.let_(&format!("arith.constant 1.0 : {elem}"));
        let n = e.let_(&format!("arith.negf {} : {elem}", a[0]));
        let ex = e.let_(&format!("math.exp {n} : {elem}"));
        let d = e.let_(&format!("arith.addf {one}, {ex} : {elem}"));
        e.let_(&format!("arith.divf {}, {d} : {elem}", a[0]))
    }))
}

/// 0.5 · x · (1 + erf(x / √2)).
fn gelu(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let x = op_tensor(e, op, 0)?;
    let out = result_tensor(op)?;
    let elem = out.elem.clone();
    Ok(e.elementwise(&[x], &out, &move |e, a| {
        let c = |e: &mut Emitter, v: &str| e.let_(&format!("arith.constant {v} : f64"));
        let x = if elem == "f64" { a[0].clone() } else { e.let_(&format!("arith.extf {} : {elem} to f64", a[0])) };
        let rsqrt2 = c(e, "0.70710678118654752440");
        let z = e.let_(&format!("arith.mulf {x}, {rsqrt2} : f64"));
        let az = e.let_(&format!("math.absf {z} : f64"));
        let (one, p) = (c(e, "1.0"), c(e, "0.3275911"));
        let pz = e.let_(&format!("arith.mulf {p}, {az} : f64"));
        let den = e.let_(&format!("arith.addf {one}, {pz} : f64"));
        let t = e.let_(&format!("arith.divf {one}, {den} : f64"));
        // Horner: ((((a5 t + a4) t + a3) t + a2) t + a1) t
        let mut poly = c(e, "1.061405429");
        for coeff in ["-1.453152027", "1.421413741", "-0.284496736", "0.254829592"] {
            let k = c(e, coeff);
            let m = e.let_(&format!("arith.mulf {poly}, {t} : f64"));
            poly = e.let_(&format!("arith.addf {m}, {k} : f64"));
        }
        let poly = e.let_(&format!("arith.mulf {poly}, {t} : f64"));
        let z2 = e.let_(&format!("arith.mulf {az}, {az} : f64"));
        let nz2 = e.let_(&format!("arith.negf {z2} : f64"));
        let ex = e.let_(&format!("math.exp {nz2} : f64"));
        let tail = e.let_(&format!("arith.mulf {poly}, {ex} : f64"));
        let erf_abs = e.let_(&format!("arith.subf {one}, {tail} : f64"));
        let erf = e.let_(&format!("math.copysign {erf_abs}, {z} : f64"));
        let half = c(e, "0.5");
        let s = e.let_(&format!("arith.addf {one}, {erf} : f64"));
        let hx = e.let_(&format!("arith.mulf {half}, {x} : f64"));
        let y = e.let_(&format!("arith.mulf {hx}, {s} : f64"));
        if elem == "f64" { y } else { e.let_(&format!("arith.truncf {y} : f64 to {elem}")) }
    }))
}
