//! The ops of user tensor fns: elementwise, matmul, reductions, softmax, transpose,
//! reshape, constants and scalar conversions.

use super::emitter::*;
use super::transform::Tiling;
use crate::ir::Op;

pub(super) fn binary_op(name: &str) -> Option<&'static str> {
    Some(match name {
        "tgraph.add" => "arith.addf",
        "tgraph.sub" => "arith.subf",
        "tgraph.mul" => "arith.mulf",
        "tgraph.div" => "arith.divf",
        _ => return None,
    })
}

pub(super) fn unary_op(name: &str) -> Option<&'static str> {
    Some(match name {
        "tgraph.neg" => "arith.negf",
        "tgraph.exp" => "math.exp",
        "tgraph.sqrt" => "math.sqrt",
        _ => return None,
    })
}

/// Converts one op of a tensor fn body.
pub(super) fn convert_op(e: &mut Emitter, op: Op) -> Result<(), Unsupported> {
    let name = op.name();
    if let Some(arith) = binary_op(&name) {
        let (a, b) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?);
        let out = result_tensor(op)?;
        let elem = out.elem.clone();
        let r = e.elementwise(&[a, b], &out, &move |e, x| {
            let r = e.fresh("v");
            e.line(&format!("  {r} = {arith} {}, {} : {elem}", x[0], x[1]));
            r
        });
        e.bind(op.result(0), r);
    } else if let Some(math) = unary_op(&name) {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        let elem = out.elem.clone();
        let r = e.elementwise(&[a], &out, &move |e, x| {
            let r = e.fresh("v");
            e.line(&format!("  {r} = {math} {} : {elem}", x[0]));
            r
        });
        e.bind(op.result(0), r);
    } else if name == "tgraph.matmul" {
        if let Some(r) = super::quantized::matmul(e, op)? {
            e.bind(op.result(0), r);
            return Ok(());
        }
        let out = result_tensor(op)?;
        let in_place = reads_transpose_in_place(op, op.operand(1));
        if let Some(w) = e.transposed.get(&(op.operand(1).0.ptr as usize)).filter(|_| in_place).cloned() {
            let a = op_tensor(e, op, 0)?;
            // A static x has one row (a decode step's linear layer, `in_place`): it is cast
            // to a dynamic row count, so that the transform script's vectoriser leaves the
            // op alone (a static one would become one vector of N·K elements); the
            // canonicalisation after the script folds the casts back to static trip counts.
            // Then the register-tiled GEMM (its one-row tile for a decode step); where its
            // tiles do not fit the shapes, the dot-product generic.
            let one_row = a.1.is_static();
            let xd = Tt { shape: vec![-1, a.1.shape[1]], elem: a.1.elem.clone() };
            let od = Tt { shape: vec![-1, out.shape[1]], elem: out.elem.clone() };
            let x = e.cast_to(&a.0, &a.1, &xd);
            let weights = super::gemm::Weights::F32(&w);
            let r = match super::gemm::linear(e, &(x.clone(), xd.clone()), &weights, w.1.shape[0], w.1.shape[1], &od, one_row) {
                Some(r) => r,
                None => matmul_transposed(e, (x, xd), w, &od),
            };
            let r = e.cast_to(&r, &od, &out);
            e.bind(op.result(0), r);
            return Ok(());
        }
        let (a, b) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?);
        let init = e.empty(&out, &[a.clone(), b.clone()]);
        let zero = e.fill(&init, &out, "0.0");
        let (linalg, tiling) = match (a.1.rank(), b.1.rank()) {
            (2, 2) if a.1.is_static() && b.1.is_static() => {
                let (m, k, n) = (a.1.shape[0], a.1.shape[1], b.1.shape[1]);
                ("linalg.matmul", Tiling::Matmul { k_tile: pick(k, &[256, 128, 64]), k, m: pick(m, &[4, 2, 1]), n: pick(n, &[64, 32, 16, 8, 4, 2, 1]) })
            }
            (2, 2) => ("linalg.matmul", Tiling::Loops(vec![])),
            (1, 2) => ("linalg.vecmat", Tiling::Loops(vec![])),
            (2, 1) => ("linalg.matvec", Tiling::Loops(vec![])),
            (1, 1) => ("linalg.dot", Tiling::Loops(vec![])),
            (3, 3) if a.1.shape[0] == b.1.shape[0] => ("linalg.batch_matmul", Tiling::Loops(vec![])),
            _ => return Err(Unsupported(op, "matmul with broadcast batch dimensions".into())),
        };
        let tag = e.tag(tiling);
        let r = e.fresh("mm");
        e.line(&format!(
            "{r} = {linalg} {{kernel.op = {tag} : i64}} ins({}, {} : {}, {}) outs({zero} : {}) -> {}",
            a.0,
            b.0,
            a.1.tensor(),
            b.1.tensor(),
            out.tensor(),
            out.tensor()
        ));
        e.bind(op.result(0), r);
    } else if matches!(name.as_str(), "tgraph.reduce_sum" | "tgraph.reduce_mean" | "tgraph.reduce_max" | "tgraph.norm")
        && array_attr(op, "axes").is_some_and(|axes| axes.len() < op_tensor(e, op, 0).map(|a| a.1.rank()).unwrap_or(0))
    {
        // Some axes only: reduce them with a generic, then finish (mean, norm) elementwise.
        let a = op_tensor(e, op, 0)?;
        let axes = array_attr(op, "axes").unwrap_or_default();
        let out = result_tensor(op)?;
        let elem = out.elem.clone();
        let (combine, init, square) = match name.as_str() {
            "tgraph.reduce_max" => ("arith.maximumf", NEG_INF, false),
            "tgraph.norm" => ("arith.addf", "0.0", true),
            _ => ("arith.addf", "0.0", false),
        };
        let count = (name == "tgraph.reduce_mean").then(|| super::model::count_axes(e, &a, &axes));
        let (r, ty) = super::model::reduce_axes(e, a, &axes, init, combine, square);
        let r = match (name.as_str(), count) {
            ("tgraph.norm", _) => e.elementwise(&[(r, ty)], &out, &move |e, x| e.let_(&format!("math.sqrt {} : {elem}", x[0]))),
            (_, Some(n)) => e.elementwise(&[(r, ty)], &out, &move |e, x| e.let_(&format!("arith.divf {}, {n} : {elem}", x[0]))),
            _ => r,
        };
        e.bind(op.result(0), r);
    } else if matches!(name.as_str(), "tgraph.reduce_sum" | "tgraph.reduce_mean" | "tgraph.reduce_max" | "tgraph.norm") {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        let r = match name.as_str() {
            "tgraph.reduce_max" => e.reduce_all(a, NEG_INF, "arith.maximumf", false),
            "tgraph.norm" => {
                let s = e.reduce_all(a, "0.0", "arith.addf", true);
                let elem = out.elem.clone();
                e.scalar_map(&s, &out, &move |e, x| {
                    let r = e.fresh("v");
                    e.line(&format!("{r} = math.sqrt {x} : {elem}"));
                    r
                })
            }
            _ => {
                let mean = name == "tgraph.reduce_mean";
                let count = if mean { Some(e.count(&a)) } else { None };
                let s = e.reduce_all(a, "0.0", "arith.addf", false);
                match count {
                    Some(n) => {
                        let elem = out.elem.clone();
                        e.scalar_map(&s, &out, &move |e, x| {
                            let r = e.fresh("v");
                            e.line(&format!("{r} = arith.divf {x}, {n} : {elem}"));
                            r
                        })
                    }
                    None => s,
                }
            }
        };
        e.bind(op.result(0), r);
    } else if name == "tgraph.softmax" {
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        if a.1.rank() == 0 {
            return Err(Unsupported(op, "softmax of a 0-d tensor".into()));
        }
        let (max, max_ty) = e.reduce_last(a.clone(), NEG_INF, "arith.maximumf");
        let ex = rowwise(e, a, (max, max_ty), &out, true);
        let ex = (ex, out.clone());
        let (sum, sum_ty) = e.reduce_last(ex.clone(), "0.0", "arith.addf");
        let r = rowwise(e, ex, (sum, sum_ty), &out, false);
        e.bind(op.result(0), r);
    } else if name == "tgraph.transpose" {
        if super::quantized::transpose(e, op) {
            return Ok(());
        }
        let a = op_tensor(e, op, 0)?;
        let out = result_tensor(op)?;
        let perm = op
            .attribute("permutation")
            .map(|a| a.to_string())
            .and_then(|t| t.strip_prefix("array<i64:").and_then(|s| s.strip_suffix('>')).map(|s| s.trim().to_string()))
            .ok_or_else(|| Unsupported(op, "transpose without a permutation".into()))?;
        let t = op.result(0);
        if a.1.rank() == 2 && a.1.is_static() && perm.replace(' ', "") == "1,0" {
            // A matmul over dynamic rows reads the (static) source in place
            // (`matmul_transposed`); when every user is one, the transpose is not
            // materialised at all.
            e.transposed.insert(t.0.ptr as usize, a.clone());
            let users = t.users();
            if !users.is_empty() && users.iter().all(|u| reads_transpose_in_place(*u, t)) {
                return Ok(());
            }
        }
        // Result size i is the input's size perm[i] (dynamic ones by `tensor.dim`).
        let order: Vec<usize> = perm.split(',').filter_map(|x| x.trim().parse().ok()).collect();
        if order.len() != a.1.rank() || order.iter().any(|i| *i >= a.1.rank()) {
            return Err(Unsupported(op, format!("transpose permutation [{perm}] of a rank-{} tensor", a.1.rank())));
        }
        let sizes: Vec<String> = if out.is_static() { Vec::new() } else { order.iter().map(|i| e.dim(&a, *i)).collect() };
        let init = e.empty_sized(&out, &sizes);
        let tag = e.tag(Tiling::Loops(loop_tiles(&out)));
        let r = e.fresh("tr");
        e.line(&format!(
            "{r} = linalg.transpose {{kernel.op = {tag} : i64}} ins({} : {}) outs({init} : {}) permutation = [{perm}]",
            a.0,
            a.1.tensor(),
            out.tensor()
        ));
        e.bind(op.result(0), r);
    } else if name == "tgraph.reshape" {
        let a = operand(e, op, 0)?;
        let out = result_tensor(op)?;
        let r = if out.is_static() && a.1.is_static() {
            let shape = e.fresh("shape");
            let dims: Vec<String> = out.shape.iter().map(|d| d.to_string()).collect();
            e.line(&format!("{shape} = arith.constant dense<[{}]> : tensor<{}xi64>", dims.join(", "), out.rank()));
            let r = e.fresh("rs");
            e.line(&format!("{r} = tensor.reshape {}({shape}) : ({}, tensor<{}xi64>) -> {}", a.0, a.1.tensor(), out.rank(), out.tensor()));
            r
        } else {
            super::model::reshape_dynamic(e, op, a, out)?
        };
        e.bind(op.result(0), r);
    } else if let Some((literal, ty)) = (name == "arith.constant").then(|| splat(op)).flatten() {
        // A large splat (the zero KV caches of a prefill): a fill, not a global, into a
        // `tensor.empty` that empty-tensor elimination can replace by the output buffer the
        // result is materialised in, so the cache is written in place (an `alloc_tensor`
        // cost SmolLM2 a 377 MB buffer, its zeroing and a 377 MB copy per prefill). Each
        // empty carries its own name as `kernel.splat`: cse would otherwise merge two equal
        // empties (the K and V caches), and the elimination would then place both results
        // in one output buffer (seen: the V cache returned as a copy of the K cache).
        let empty = e.fresh("splat");
        e.line(&format!("{empty} = tensor.empty() {{kernel.splat = \"{}\"}} : {}", &empty[1..], ty.tensor()));
        // A KV cache that starts empty (its only users write into it): the slots past
        // those written are never read (attention reads slots 0 .. position + T, all
        // written; dialects/tgraph/README.md says that the returned caches hold nothing
        // defined past them), so it is not zeroed. Zeroing SmolLM2's two 189 MB caches
        // touched every page of both on every prefill, most of the time to first token
        // for a short prompt and most of the peak RSS.
        let user_ops = op.result(0).users();
        let only_written = !user_ops.is_empty() && user_ops.iter().all(|u| u.name() == "tgraph.kv_write" && u.operand(0).0.ptr == op.result(0).0.ptr);
        let r = if only_written { empty } else { e.fill(&empty, &ty, &literal) };
        e.bind(op.result(0), r);
    } else if name == "arith.constant" {
        let value = op.attribute("value").map(|a| a.to_string()).unwrap_or_default();
        let r = e.fresh("k");
        if Tt::of(op.result(0)).is_some() {
            e.line(&format!("{r} = arith.constant {value}"));
        } else {
            e.line(&format!("{r} = arith.constant {value}"));
        }
        e.bind(op.result(0), r);
    } else if name == "tensor.from_elements" {
        let out = result_tensor(op)?;
        let args: Vec<String> = op.operands().into_iter().map(|v| e.name(v)).collect();
        let r = e.fresh("t");
        e.line(&format!("{r} = tensor.from_elements {} : {}", args.join(", "), out.tensor()));
        e.bind(op.result(0), r);
    } else if name == "tensor.extract" {
        let (a, t) = op_tensor(e, op, 0)?;
        if t.rank() != 0 {
            return Err(Unsupported(op, "tensor.extract with indices".into()));
        }
        let r = e.fresh("s");
        e.line(&format!("{r} = tensor.extract {a}[] : {}", t.tensor()));
        e.bind(op.result(0), r);
    } else if matches!(name.as_str(), "arith.truncf" | "arith.extf") {
        let from = op.operand(0).ty().to_string();
        let to = op.result(0).ty().to_string();
        let r = e.fresh("s");
        let src = e.name(op.operand(0));
        e.line(&format!("{r} = {name} {src} : {from} to {to}"));
        e.bind(op.result(0), r);
    } else if !(super::model::convert(e, op)? || super::norm::convert(e, op)? || super::attention::convert(e, op)?) {
        return Err(Unsupported(op, format!("`{name}` is not lowered to kernels yet")));
    }
    Ok(())
}

/// Does `user` (a use of the 2-D transpose `t`) lower to [`matmul_transposed`]: a
/// `tgraph.matmul(x, t)` with `x` 2-D and either of dynamic shape (the scalar-loop path)
/// or static with one row ([`IN_PLACE_STATIC_ROWS`])?
pub(super) fn reads_transpose_in_place(user: Op, t: crate::ir::Val) -> bool {
    let is_t = |v: crate::ir::Val| v.0.ptr == t.0.ptr;
    user.name() == "tgraph.matmul"
        && user.operand_count() == 2
        && is_t(user.operand(1))
        && !is_t(user.operand(0))
        && Tt::of(user.operand(0))
            .is_some_and(|x| x.rank() == 2 && (!x.is_static() || (1..=IN_PLACE_STATIC_ROWS).contains(&x.shape[0])))
}

/// The most rows a static `x · wᵀ` may have and still read `w` in place. With one row
/// (every linear layer of a decode step, and the prefill's lm_head on its last position)
/// each element of `w` is used once: materialising `wᵀ` (a strided gather of every weight
/// on every call) costs as much memory traffic as the product itself, ≈ 70 % of the tiny
/// Llama's decode step (docs/codegen-benchmark.md). With more rows the transpose is
/// amortised over them and the tiled, vectorised `linalg.matmul` reuses each row of `wᵀ`
/// in its register tile, which the dot product per output does not.
const IN_PLACE_STATIC_ROWS: i64 = 1;

/// `x · wᵀ` for `x` [M, K] (M dynamic; a one-row static `x` is cast to this type by the
/// caller) and a static `w` [N, K] (an HF linear weight, `[out, in]`)
/// without materialising `wᵀ`: a generic over (j, i, k) reading `w[j, k]` in place. The
/// dynamic op runs as scalar loops in this order, so the innermost loop walks a row of `x`
/// and a row of `w`, both contiguous, and each row of `w` is read from memory once for all
/// M rows of `x`. (`linalg.matmul` on a materialised `wᵀ` loops (i, j, k): its innermost
/// loop strode down a column of `wᵀ`, N·4 bytes per step, a cache miss each, and the
/// transpose itself was a strided copy of every weight on every call.) The add is
/// `fastmath<reassoc>`: the k loop is a dot product, and in order of k it is bound by the
/// latency of one add per step; reassociable, LLVM's loop vectoriser splits it over vector
/// lanes (partial sums, then a horizontal sum), 7× faster on MiniLM. Products are still
/// rounded before the add (no fused multiply-add), and the split is fixed per target CPU.
/// W's rows are split into parallel tiles (`threads.rs`); each output is still computed by
/// one thread with the same loop over k, so threads do not change the numerics.
fn matmul_transposed(e: &mut Emitter, x: (String, Tt), w: (String, Tt), out: &Tt) -> String {
    let init = e.empty(out, std::slice::from_ref(&x));
    let zero = e.fill(&init, out, "0.0");
    let ins = [
        (x.0, x.1, "affine_map<(d0, d1, d2) -> (d1, d2)>".to_string()),
        (w.0, w.1, "affine_map<(d0, d1, d2) -> (d0, d2)>".to_string()),
    ];
    let out_map = "affine_map<(d0, d1, d2) -> (d1, d0)>";
    let elem = out.elem.clone();
    e.linalg(&ins, &zero, out, &["parallel", "parallel", "reduction"], out_map, super::threads::over_weight_rows(out.shape[1], 0, 3), &move |e, v| {
        let p = e.let_(&format!("arith.mulf {}, {} : {elem}", v[0], v[1]));
        e.let_(&format!("arith.addf {}, {p} fastmath<reassoc> : {elem}", v[2]))
    })
}

/// Softmax's row-wise steps, where `row` holds x's leading dims: `exp(x - row)` when
/// `sub_exp`, else `x / row`.
pub(super) fn rowwise(e: &mut Emitter, ex: (String, Tt), sum: (String, Tt), out: &Tt, sub_exp: bool) -> String {
    let elem = out.elem.clone();
    let rank = out.rank();
    let init = e.empty(out, std::slice::from_ref(&ex));
    let maps_sum = format!("affine_map<({}) -> ({})>", dims_list(rank), dims_list(rank - 1));
    // Build the generic by hand: the sum is broadcast along the last dim.
    let tag = e.tag(Tiling::Loops(loop_tiles(out)));
    let (x, s, acc) = (e.fresh("in"), e.fresh("in"), e.fresh("acc"));
    let r = e.fresh("v");
    let name = e.fresh("g");
    e.line(&format!(
        "{name} = linalg.generic {{indexing_maps = [{id}, {maps_sum}, {id}], iterator_types = [{its}]}} ins({}, {} : {}, {}) outs({init} : {}) attrs = {{kernel.op = {tag} : i64}} {{",
        ex.0,
        sum.0,
        ex.1.tensor(),
        sum.1.tensor(),
        out.tensor(),
        id = identity_map(rank),
        its = iterators(&vec!["parallel"; rank]),
    ));
    e.body.push_str(&format!("    ^bb0({x}: {elem}, {s}: {elem}, {acc}: {elem}):\n"));
    if sub_exp {
        let d = e.fresh("v");
        e.line(&format!("  {d} = arith.subf {x}, {s} : {elem}"));
        e.line(&format!("  {r} = math.exp {d} : {elem}"));
    } else {
        e.line(&format!("  {r} = arith.divf {x}, {s} : {elem}"));
    }
    e.line(&format!("  linalg.yield {r} : {elem}"));
    e.line(&format!("}} -> {}", out.tensor()));
    name
}


/// A float `arith.constant dense<x>` splat of a static tensor with more than 64 elements:
/// (x, its type).
fn splat(op: Op) -> Option<(String, Tt)> {
    let ty = Tt::of(op.result(0))?;
    let text = op.attribute("value")?.to_string();
    let literal = text.strip_prefix("dense<")?.split('>').next()?.to_string();
    let big = ty.is_static() && ty.shape.iter().product::<i64>() > 64;
    (big && ty.is_float() && !literal.contains('[')).then_some((literal, ty))
}
