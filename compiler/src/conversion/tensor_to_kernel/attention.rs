//! Attention and the KV cache: `attention` (causal or not, grouped-query, optional key
//! mask), `attention_cached` (over one layer of a `[L, C, Hkv, D]` cache, slots
//! 0 ..= position + t), `kv_write` (an `insert_slice` into the cache) and `rope`.
//!
//! Attention is five linalg generics on dynamically typed tensors (scalar loops, see
//! [`Emitter::dynamic`]): scores[h, t, s] = Σ_d q[t, h, d] · k[s, h / g, d] (the KV head
//! by a `floordiv` in the indexing map), scale and mask, softmax over s (max, exp, sum,
//! divide), out[t, h, d] = Σ_s p[h, t, s] · v[s, h / g, d] (loops t, h, s, d: the
//! innermost along rows of v). The two products (scores and p · v) are split over the
//! runtime's threads by query head. The cached form attends over the slots that can be seen,
//! 0 .. position + T of the layer (a slice of dynamic size), not over all C: a decode step
//! costs what the tokens so far need, not what the cache could hold.

use super::emitter::*;
use super::model::reduce_axes;
use super::transform::Tiling;
use crate::ir::Op;

/// Converts `op` if it is one of this file's ops; `Ok(false)` if it is not.
pub(super) fn convert(e: &mut Emitter, op: Op) -> Result<bool, Unsupported> {
    let r = match op.name().as_str() {
        "tgraph.attention" => attention(e, op)?,
        "tgraph.attention_cached" => attention_cached(e, op)?,
        "tgraph.kv_write" => kv_write(e, op)?,
        "tgraph.rope" => rope(e, op)?,
        _ => return Ok(false),
    };
    e.bind(op.result(0), r);
    Ok(true)
}

/// Position `p` (a 0-d i64 tensor) as an `index`.
fn position(e: &mut Emitter, p: &(String, Tt)) -> String {
    let s = e.fresh("s");
    e.line(&format!("{s} = tensor.extract {}[] : {}", p.0, p.1.tensor()));
    let i = e.fresh("pos");
    e.line(&format!("{i} = arith.index_cast {s} : i64 to index"));
    i
}

/// Which keys query t may see, besides the mask.
enum Limit {
    /// All of them.
    None,
    /// s ≤ t + offset (an `index` value).
    Upto(String),
}

fn attention(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let (q, k, v) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?, op_tensor(e, op, 2)?);
    let mask = if op.operand_count() > 3 { Some(op_tensor(e, op, 3)?) } else { None };
    let out = result_tensor(op)?;
    let causal = op.attribute("causal").is_some_and(|a| a.to_string() == "true");
    let scale = float_attr(op, "scale")?;
    let limit = if causal {
        // Query t sees keys s ≤ t + S − T.
        let t = e.dim(&q, 0);
        let s = e.dim(&k, 0);
        let off = e.fresh("off");
        e.line(&format!("{off} = arith.subi {s}, {t} : index"));
        Limit::Upto(off)
    } else {
        Limit::None
    };
    attend(e, op, q, k, v, mask, limit, &scale, &out)
}

fn attention_cached(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let (q, kc, vc) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?, op_tensor(e, op, 2)?);
    let pos = operand(e, op, 3)?;
    let out = result_tensor(op)?;
    let scale = float_attr(op, "scale")?;
    let layer = int_attr(op, "layer")?;
    if !kc.1.is_static() || kc.1.rank() != 4 {
        return Err(Unsupported(op, "a KV cache must be a static [L, C, Hkv, D] tensor".into()));
    }
    // Only slots 0 .. position + T can be seen: slice n = min(position + T, C) of them
    // (the min keeps the slice inside the cache whatever the position; a position < C is
    // the caller's contract). The slots past n were masked to −∞ before, so their exp was
    // 0: leaving them out gives the same max, the same sums in the same order of s (less
    // the + 0 terms) and the same results bit for bit.
    let p = position(e, &pos);
    let t = if q.1.shape[0] >= 0 { e.index(q.1.shape[0]) } else { e.dim(&q, 0) };
    let end = e.fresh("end");
    e.line(&format!("{end} = arith.addi {p}, {t} : index"));
    let cap = e.index(kc.1.shape[1]);
    let n = e.fresh("n");
    e.line(&format!("{n} = arith.minui {end}, {cap} : index"));
    let layer_of = |e: &mut Emitter, cache: &(String, Tt)| {
        let s = &cache.1.shape;
        let ty = Tt { shape: vec![-1, s[2], s[3]], elem: cache.1.elem.clone() };
        let r = e.fresh("layer");
        e.line(&format!(
            "{r} = tensor.extract_slice {}[{layer}, 0, 0, 0] [1, {n}, {}, {}] [1, 1, 1, 1] : {} to {}",
            cache.0,
            s[2],
            s[3],
            cache.1.tensor(),
            ty.tensor()
        ));
        (r, ty)
    };
    let (k, v) = (layer_of(e, &kc), layer_of(e, &vc));
    // Query t sees slots s ≤ position + t. With one query (a decode step) that is every
    // slot of the slice, so no mask is computed.
    let limit = if q.1.shape[0] == 1 { Limit::None } else { Limit::Upto(p) };
    attend(e, op, q, k, v, None, limit, &scale, &out)
}

#[allow(clippy::too_many_arguments)]
fn attend(
    e: &mut Emitter,
    op: Op,
    q: (String, Tt),
    k: (String, Tt),
    v: (String, Tt),
    mask: Option<(String, Tt)>,
    limit: Limit,
    scale: &str,
    out: &Tt,
) -> Result<String, Unsupported> {
    let (hq, hkv) = (q.1.shape[1], k.1.shape[1]);
    if hq <= 0 || hkv <= 0 || hq % hkv != 0 {
        return Err(Unsupported(op, "attention needs static head counts, query heads a multiple of KV heads".into()));
    }
    let g = hq / hkv;
    let elem = out.elem.clone();
    let (q, k, v) = (e.dynamic(&q), e.dynamic(&k), e.dynamic(&v));
    let (t, h, d, s) = (e.dim(&q, 0), e.dim(&q, 1), e.dim(&q, 2), e.dim(&k, 0));
    let ty3 = Tt { shape: vec![-1; 3], elem: elem.clone() };
    let map4 = |r: &str| format!("affine_map<(d0, d1, d2, d3) -> ({r})>");
    let map3 = |r: &str| format!("affine_map<(d0, d1, d2) -> ({r})>");
    let red = ["parallel", "parallel", "parallel", "reduction"];
    // scores[h, t, s] = Σ_d q[t, h, d] k[s, h / g, d]
    let empty = e.empty_sized(&ty3, &[h.clone(), t.clone(), s.clone()]);
    let zero = e.fill(&empty, &ty3, "0.0");
    let el = elem.clone();
    let ins = [(q.0.clone(), q.1.clone(), map4("d1, d0, d3")), (k.0, k.1, map4(&format!("d2, d0 floordiv {g}, d3")))];
    // Split over the runtime's threads by query head (`threads.rs`); the add may be
    // reassociated so that LLVM vectorises the dot product over d (as in the linear layers).
    let scores = e.linalg(&ins, &zero, &ty3, &red, &map4("d0, d1, d2"), super::threads::over_heads(0, 4), &move |e, a| {
        let m = e.let_(&format!("arith.mulf {}, {} : {el}", a[0], a[1]));
        e.let_(&format!("arith.addf {}, {m} fastmath<reassoc> : {el}", a[2]))
    });
    // Scale, then hide the keys past the limit and the masked ones (−∞).
    let mut ins = vec![(scores, ty3.clone(), map3("d0, d1, d2"))];
    if let Some(m) = &mask {
        let m = e.dynamic(m);
        ins.push((m.0, m.1, map3("d2")));
    }
    let has_mask = mask.is_some();
    let offset = match &limit {
        Limit::Upto(o) => Some(o.clone()),
        Limit::None => None,
    };
    let empty = e.empty_sized(&ty3, &[h.clone(), t.clone(), s.clone()]);
    let (el, scale) = (elem.clone(), scale.to_string());
    let masked = e.linalg(&ins, &empty, &ty3, &["parallel"; 3], &map3("d0, d1, d2"), Tiling::Loops(vec![]), &move |e, a| {
        let c = e.let_(&format!("arith.constant {scale} : {el}"));
        let ninf = e.let_(&format!("arith.constant {NEG_INF} : {el}"));
        let mut x = e.let_(&format!("arith.mulf {}, {c} : {el}", a[0]));
        if let Some(off) = &offset {
            let ti = e.let_("linalg.index 1 : index");
            let si = e.let_("linalg.index 2 : index");
            let lim = e.let_(&format!("arith.addi {ti}, {off} : index"));
            let ok = e.let_(&format!("arith.cmpi ule, {si}, {lim} : index"));
            x = e.let_(&format!("arith.select {ok}, {x}, {ninf} : {el}"));
        }
        if has_mask {
            let zero = e.let_(&format!("arith.constant 0.0 : {el}"));
            let hidden = e.let_(&format!("arith.cmpf oeq, {}, {zero} : {el}", a[1]));
            x = e.let_(&format!("arith.select {hidden}, {ninf}, {x} : {el}"));
        }
        x
    });
    // Softmax over s.
    let (max, max_ty) = reduce_axes(e, (masked.clone(), ty3.clone()), &[2], NEG_INF, "arith.maximumf", false);
    let empty = e.empty_sized(&ty3, &[h.clone(), t.clone(), s.clone()]);
    let el = elem.clone();
    let ins = [(masked, ty3.clone(), map3("d0, d1, d2")), (max, max_ty, map3("d0, d1"))];
    let ex = e.linalg(&ins, &empty, &ty3, &["parallel"; 3], &map3("d0, d1, d2"), Tiling::Loops(vec![]), &move |e, a| {
        let dlt = e.let_(&format!("arith.subf {}, {} : {el}", a[0], a[1]));
        e.let_(&format!("math.exp {dlt} : {el}"))
    });
    let (sum, sum_ty) = reduce_axes(e, (ex.clone(), ty3.clone()), &[2], "0.0", "arith.addf", false);
    let empty = e.empty_sized(&ty3, &[h.clone(), t.clone(), s.clone()]);
    let el = elem.clone();
    let ins = [(ex, ty3.clone(), map3("d0, d1, d2")), (sum, sum_ty, map3("d0, d1"))];
    let p = e.linalg(&ins, &empty, &ty3, &["parallel"; 3], &map3("d0, d1, d2"), Tiling::Loops(vec![]), &move |e, a| {
        e.let_(&format!("arith.divf {}, {} : {el}", a[0], a[1]))
    });
    // out[t, h, d] = Σ_s p[h, t, s] v[s, h / g, d], loops (t, h, s, d): the innermost loop
    // walks a row of v and of out (contiguous in d) for one p[h, t, s]. (With s innermost
    // it strode down v by H·D elements per step.) Each out[t, h, d] is still summed in
    // order of s.
    let empty = e.empty_sized(&ty3, &[t, h, d]);
    let zero = e.fill(&empty, &ty3, "0.0");
    let el = elem.clone();
    let ins = [(p, ty3.clone(), map4("d1, d0, d2")), (v.0, v.1, map4(&format!("d2, d1 floordiv {g}, d3")))];
    let pv = ["parallel", "parallel", "reduction", "parallel"];
    let o = e.linalg(&ins, &zero, &ty3, &pv, &map4("d0, d1, d3"), super::threads::over_heads(1, 4), &move |e, a| {
        let m = e.let_(&format!("arith.mulf {}, {} : {el}", a[0], a[1]));
        e.let_(&format!("arith.addf {}, {m} : {el}", a[2]))
    });
    Ok(e.cast_to(&o, &ty3, out))
}

/// `kv_write(cache, new [T, Hkv, D], position)`: new into layer `layer`, slots position…
fn kv_write(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let (cache, new) = (op_tensor(e, op, 0)?, op_tensor(e, op, 1)?);
    let pos = operand(e, op, 2)?;
    let layer = int_attr(op, "layer")?;
    let p = position(e, &pos);
    let t = if new.1.shape[0] >= 0 { new.1.shape[0].to_string() } else { e.dim(&new, 0) };
    let r = e.fresh("kv");
    e.line(&format!(
        "{r} = tensor.insert_slice {} into {}[{layer}, {p}, 0, 0] [1, {t}, {}, {}] [1, 1, 1, 1] : {} into {}",
        new.0,
        cache.0,
        new.1.shape[1],
        new.1.shape[2],
        new.1.tensor(),
        cache.1.tensor()
    ));
    Ok(r)
}

/// `rope(x [T, heads, D], positions [T])`, HF rotate-half: with j = i mod D/2,
/// inv_freq = 1 / θ^(2j / D) (or `inv_freq[j]` of the op's table: scaled RoPE) and angle =
/// position · inv_freq (f32, as HF computes them),
/// y[i] = x[i] cos + (i < D/2 ? −x[i + D/2] : x[i − D/2]) sin.
/// The cosines and sines are [T, D/2] tables ([`rope_tables`]) made once per function for
/// each positions value and frequency table, shared by every head and layer: a decode step
/// of SmolLM2 computed 23,040 `powf`s and `sincosf`s, now 32 and 64. The same f32
/// operations on the same values, so the same bits.
fn rope(e: &mut Emitter, op: Op) -> Result<String, Unsupported> {
    let x = op_tensor(e, op, 0)?;
    let positions = operand(e, op, 1)?;
    let out = result_tensor(op)?;
    let d = x.1.shape[2];
    if d <= 0 || d % 2 != 0 {
        return Err(Unsupported(op, "rope needs a static, even head size".into()));
    }
    let half = d / 2;
    let (cos, sin, table_ty) = rope_tables(e, op, &positions, d, &out.elem)?;
    let xd = e.dynamic(&x);
    let sizes: Vec<String> = (0..3).map(|i| e.dim(&xd, i)).collect();
    let ty3 = Tt { shape: vec![-1; 3], elem: out.elem.clone() };
    let init = e.empty_sized(&ty3, &sizes);
    let (xv, xt, el) = (xd.0.clone(), xd.1.tensor(), out.elem.clone());
    let by_pair = format!("affine_map<(d0, d1, d2) -> (d0, d2 mod {half})>");
    let ins = [(xd.0.clone(), xd.1.clone(), identity_map(3)), (cos, table_ty.clone(), by_pair.clone()), (sin, table_ty, by_pair)];
    let r = e.linalg(&ins, &init, &ty3, &["parallel"; 3], &identity_map(3), Tiling::Loops(vec![]), &move |e, a| {
        let t = e.let_("linalg.index 0 : index");
        let h = e.let_("linalg.index 1 : index");
        let i = e.let_("linalg.index 2 : index");
        let half_c = e.let_(&format!("arith.constant {half} : index"));
        let lower = e.let_(&format!("arith.cmpi ult, {i}, {half_c} : index"));
        let up = e.let_(&format!("arith.addi {i}, {half_c} : index"));
        let down = e.let_(&format!("arith.subi {i}, {half_c} : index"));
        let pi = e.let_(&format!("arith.select {lower}, {up}, {down} : index"));
        let xp = e.let_(&format!("tensor.extract {xv}[{t}, {h}, {pi}] : {xt}"));
        let neg = e.let_(&format!("arith.negf {xp} : {el}"));
        let rot = e.let_(&format!("arith.select {lower}, {neg}, {xp} : {el}"));
        let xc = e.let_(&format!("arith.mulf {}, {} : {el}", a[0], a[1]));
        let rs = e.let_(&format!("arith.mulf {rot}, {} : {el}", a[2]));
        e.let_(&format!("arith.addf {xc}, {rs} : {el}"))
    });
    Ok(e.cast_to(&r, &ty3, &out))
}

/// The cos and sin tables `[T, D/2]` of `rope`'s angles (position t · inv_freq[j]) and
/// their type, made the first time a positions value and frequency table meet in this
/// function and reused after (`Emitter::rope_tables`).
fn rope_tables(e: &mut Emitter, op: Op, positions: &(String, Tt), d: i64, elem: &str) -> Result<(String, String, Tt), Unsupported> {
    let theta = float_attr(op, "theta")?;
    let half = d / 2;
    let freqs = inv_freq_attr(op)?;
    if let Some(values) = &freqs
        && values.len() as i64 != half
    {
        return Err(Unsupported(op, format!("rope's inv_freq has {} entries for head size {d}", values.len())));
    }
    let table_ty = Tt { shape: vec![-1, half], elem: elem.to_string() };
    let key = format!("{}|{theta}|{d}|{elem}|{freqs:?}", positions.0);
    if let Some((cos, sin)) = e.rope_tables.get(&key) {
        return Ok((cos.clone(), sin.clone(), table_ty));
    }
    let table = match &freqs {
        None => None,
        Some(values) => {
            let literals: Vec<String> = values.iter().map(|f| format!("{f:.8e}")).collect();
            Some(e.let_(&format!("arith.constant dense<[{}]> : tensor<{half}x{elem}>", literals.join(", "))))
        }
    };
    let pd = e.dynamic(positions);
    let t = e.dim(&pd, 0);
    let width = e.index(half);
    let mut made = Vec::new();
    for function in ["math.cos", "math.sin"] {
        let init = e.empty_sized(&table_ty, &[t.clone(), width.clone()]);
        let ins = [(pd.0.clone(), pd.1.clone(), "affine_map<(d0, d1) -> (d0)>".to_string())];
        let (el, theta, table) = (elem.to_string(), theta.clone(), table.clone());
        made.push(e.linalg(&ins, &init, &table_ty, &["parallel"; 2], &identity_map(2), Tiling::Loops(vec![]), &move |e, a| {
            let j_index = e.let_("linalg.index 1 : index");
            let inv = match &table {
                Some(table) => e.let_(&format!("tensor.extract {table}[{j_index}] : tensor<{half}x{el}>")),
                None => {
                    let j = e.let_(&format!("arith.index_cast {j_index} : index to i64"));
                    let two = e.let_("arith.constant 2 : i64");
                    let j2 = e.let_(&format!("arith.muli {j}, {two} : i64"));
                    let j2 = e.let_(&format!("arith.sitofp {j2} : i64 to {el}"));
                    let dim = e.let_(&format!("arith.constant {d}.0 : {el}"));
                    let ex = e.let_(&format!("arith.divf {j2}, {dim} : {el}"));
                    let base = e.let_(&format!("arith.constant {theta} : {el}"));
                    let p = e.let_(&format!("math.powf {base}, {ex} : {el}"));
                    let one = e.let_(&format!("arith.constant 1.0 : {el}"));
                    e.let_(&format!("arith.divf {one}, {p} : {el}"))
                }
            };
            let pos = e.let_(&format!("arith.sitofp {} : i64 to {el}", a[0]));
            let angle = e.let_(&format!("arith.mulf {pos}, {inv} : {el}"));
            e.let_(&format!("{function} {angle} : {el}"))
        }));
    }
    let (cos, sin) = (made[0].clone(), made[1].clone());
    e.rope_tables.insert(key, (cos.clone(), sin.clone()));
    Ok((cos, sin, table_ty))
}

/// The `inv_freq = array<f32: ...>` table of a scaled `tgraph.rope`, if present.
fn inv_freq_attr(op: Op) -> Result<Option<Vec<f32>>, Unsupported> {
    let Some(attr) = op.attribute("inv_freq") else { return Ok(None) };
    let text = attr.to_string();
    let list = text.strip_prefix("array<f32").map(|l| l.trim_start_matches(':').trim_end_matches('>'));
    list.and_then(|l| l.split(',').map(|x| x.trim().parse().ok()).collect::<Option<Vec<f32>>>())
        .map(Some)
        .ok_or_else(|| Unsupported(op, format!("rope's inv_freq must be an array<f32>, not {text}")))
}
