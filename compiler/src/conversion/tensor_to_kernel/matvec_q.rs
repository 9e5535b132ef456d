//! A linear layer over one row `x · Wᵀ` by an int8/int4 W with exact (f32) activations —
//! every linear layer of a decode step of a model computed from its quantised blocks, and a
//! prefill's lm_head over the last position — with each group's scale and min factored out
//! of the group's sum.
//!
//! Why: `gemm.rs` dequantises every weight in registers before its multiply-add
//! (`(q·s + m)·x`: a widening, an int→float conversion, a multiply by the scale, an add of
//! the min, then the fused multiply-add, per vector of W). Here a row's group of G weights
//! meets x as integers turned into floats, `P = Σ_i q_i·x_i` (one conversion and one
//! multiply-add per vector), and the group's scale multiplies P once, `acc += s·P`; the
//! mins' share `Σ_g m_g·X_g` (`X_g` = Σ of x over group g, once per call) is one short dot
//! product per row after its K loop, as in `dot_i8.rs`: about 19 instructions per row and
//! group of 32 on AVX2 instead of ~50 with spills. On SmolLM2's Q4_1 decode step on an
//! AVX2 EPYC that alone took the step from 14.3 to ≈ 11–13 ms; the rest came from reading
//! one row of W at a time ([`RJ`]), 10.5 ms.
//!
//! Numerics: the same real number as `gemm.rs`'s, the dot product of x with the
//! dequantised W (`q·s + m`, `quantized::value`), rounded differently: each group's sum is
//! rounded before its scale multiplies it. Every lane of a vector adds its products in
//! order of k, then the lanes are summed (`vector.reduction`, reassociable); the tiny
//! GGUF's greedy text still equals transformers' (lit-tests/e2e/tiny-gguf-quantized.agent).
//!
//! The kernel (MLIR text on tensors, as `gemm.rs`): with mins, `X` [K/32] once per call;
//! `scf.forall` over tiles of W's rows (the same split as every linear layer), blocks of
//! [`RJ`] rows (one) sharing each vector of x, the K loop over groups, per group the G/VL
//! vectors of x (VL: the target's floats per register, `target.rs`) and per row: for each vector of
//! the group, its bytes read (`vector<VL x i8>`), widened to i32 (int4: the low nibbles,
//! `and 15`, meet x at the vector's own offset, the high ones, `>> 4`, x 16 further on),
//! `sitofp`, multiplied into P; then `acc = fma(s, P, acc)`. An int4 W without mins (Q4_0,
//! `(q − 8)·s`) takes its offset out as a min of `−8·s` would be: one short dot product per
//! row after its K loop, `Σ_g s_g·(−8·X_g)` (`−8·X` once per call), instead of starting
//! every row's P of every group at `−8·Σ x` (three adds and a multiply per row and group
//! on AVX2, once per row since `RJ` is one).

use super::emitter::{Emitter, Tt};
use super::gemm::Weights;

/// Rows of W per register block: each vector of x is read once for `RJ` rows. One, so that
/// a thread reads its tile of W (consecutive rows, contiguous) as one sequential stream the
/// hardware prefetcher follows; with 4 rows at once the reads are 4 streams of one row each
/// (288 bytes for a Q4_1 row at K = 576), each too short for the prefetcher, and the loop
/// waited on memory (perf: the samples on the first use of each load). SmolLM2 decode
/// step, AVX2 EPYC, 2 threads, medians of 7 runs in turns: Q4_1 10.5 ms (1 row) vs 13.1
/// (4 rows), Q8_0 9.9 vs 15.2; x's vectors are re-read per row from L1, which costs less.
const RJ: usize = 1;

/// `x · Wᵀ` for one row of x (`x` cast to `[?, K]`, one row) by an int8/int4 W, or `None`
/// when the shapes do not fit (the caller then keeps `gemm.rs`'s kernel).
pub(super) fn linear(e: &mut Emitter, x: &(String, Tt), w: &Weights, n: i64, k: i64, out: &Tt) -> Option<String> {
    if x.1.elem != "f32" || out.elem != "f32" || x.1.rank() != 2 || x.1.shape[1] != k || out.shape[1] != n {
        return None;
    }
    let vl = e.cpu.regs.floats;
    // Elements per group, and the K offsets of a group's vectors of bytes.
    let (g, chunks): (i64, Vec<i64>) = match w {
        Weights::F32(_) => return None,
        Weights::Int8 { group, .. } if group % vl == 0 => (*group, (0..*group).step_by(vl as usize).collect()),
        Weights::Int8 { .. } => return None,
        Weights::Int4 { .. } if 16 % vl == 0 => (32, (0..16).step_by(vl as usize).collect()),
        Weights::Int4 { .. } => return None,
    };
    if k % g != 0 || n % RJ as i64 != 0 {
        return None;
    }
    let tj = super::threads::tile_width(n);
    if tj % RJ as i64 != 0 {
        return None;
    }
    let groups = k / g;
    let (values, scales, mins, int4) = match w {
        Weights::Int8 { values, scales, .. } => (*values, *scales, None, false),
        Weights::Int4 { values, scales, mins } => (*values, *scales, *mins, true),
        Weights::F32(_) => return None,
    };

    let (c0, c1) = (e.index(0), e.index(1));
    let pad = e.float("0.0", "f32");
    let z8 = e.fresh("z8");
    e.line(&format!("{z8} = arith.constant 0 : i8"));
    let vf = format!("vector<{vl}xf32>");
    let vb = format!("vector<{vl}xi8>");
    let vi = format!("vector<{vl}xi32>");
    let zero = e.fresh("mz");
    e.line(&format!("{zero} = arith.constant dense<0.0> : {vf}"));
    let (mask, four) = (e.fresh("mlo"), e.fresh("mfour"));
    if int4 {
        e.line(&format!("{mask} = arith.constant dense<15> : {vi}"));
        e.line(&format!("{four} = arith.constant dense<4> : {vi}"));
    }
    // With mins: X, each group's sum of x; Q4_0: −8·X, what its scales multiply (the
    // offset of `q − 8`); the weights of that dot product: the mins, or the scales.
    let sums = match (mins, int4) {
        (Some(_), _) => Some(group_sums(e, x, groups, g, None, (&c0, &c1, &pad))),
        (None, true) => {
            let eight = e.float("-8.0", "f32");
            Some(group_sums(e, x, groups, g, Some(&eight), (&c0, &c1, &pad)))
        }
        (None, false) => None,
    };
    let offsets = mins.unwrap_or(scales);
    let half = [Some(scales), mins].into_iter().flatten().any(|t| t.1.elem == "f16");
    let pads = (pad.clone(), if half { e.float("0.0", "f16") } else { pad.clone() });

    let tiles = n / tj;
    let ot = out.tensor();
    let slice = format!("tensor<?x{tj}xf32>");
    let m = e.dim(x, 0);
    let init = e.empty(out, std::slice::from_ref(x));
    let (crj, cgroups, ctj) = (e.index(RJ as i64), e.index(groups), e.index(tj));
    let tiled = super::threads::open_row_tiles(e, tiles, tj, &init, &ot, &m);
    let (jj, oj, blocks) = (e.fresh("jj"), e.fresh("oj"), e.fresh("blocks"));
    e.line(&format!("  {blocks} = scf.for {jj} = {c0} to {ctj} step {crj} iter_args({oj} = {}) -> ({slice}) {{", tiled.tile));
    let js = super::threads::block_rows(e, &tiled.j0, &jj, RJ);
    let (gi, accs) = (e.fresh("mg"), e.fresh("macc"));
    let carried: Vec<String> = (0..RJ).map(|_| e.fresh("ma")).collect();
    let inits = carried.iter().map(|a| format!("{a} = {zero}")).collect::<Vec<_>>().join(", ");
    let types = [vf.as_str(); RJ].join(", ");
    e.line(&format!("    {accs}:{RJ} = scf.for {gi} = {c0} to {cgroups} step {c1} iter_args({inits}) -> ({types}) {{"));
    let kv = e.fresh("mk");
    e.line(&format!("      {kv} = affine.apply affine_map<(d0) -> (d0 * {g})>({gi})"));
    // The group's vectors of x, by K offset within the group, shared by the RJ rows.
    let mut xs = std::collections::BTreeMap::new();
    for off in (0..g).step_by(vl as usize) {
        let col = e.fresh("mc");
        e.line(&format!("      {col} = affine.apply affine_map<(d0) -> (d0 + {off})>({kv})"));
        let v = e.fresh("mx");
        e.line(&format!("      {v} = vector.transfer_read {}[{c0}, {col}], {pad} {{in_bounds = [true]}} : {}, {vf}", x.0, x.1.tensor()));
        xs.insert(off, v);
    }
    let mut next = Vec::new();
    for (q, j) in js.iter().enumerate() {
        // The row's weights of this group as f32 integers, with the x each meets.
        let mut terms: Vec<(i64, String)> = Vec::new();
        for &off in &chunks {
            let at = e.index(off);
            let (b, wide) = (e.fresh("mb"), e.fresh("mw"));
            e.line(&format!("      {b} = vector.transfer_read {}[{j}, {gi}, {at}], {z8} {{in_bounds = [true]}} : {}, {vb}", values.0, values.1.tensor()));
            let ext = if int4 { "arith.extui" } else { "arith.extsi" };
            e.line(&format!("      {wide} = {ext} {b} : {vb} to {vi}"));
            if int4 {
                let (lo, hi) = (e.fresh("mlo"), e.fresh("mhi"));
                e.line(&format!("      {lo} = arith.andi {wide}, {mask} : {vi}"));
                e.line(&format!("      {hi} = arith.shrui {wide}, {four} : {vi}"));
                terms.push((off, lo));
                terms.push((off + 16, hi));
            } else {
                terms.push((off, wide));
            }
        }
        // Low nibbles first, then high ones: each lane adds its products in order of k.
        terms.sort_by_key(|(off, _)| *off);
        let mut p = String::new();
        for (off, qi) in &terms {
            let xv = &xs[off];
            let f = e.fresh("mf");
            e.line(&format!("      {f} = arith.sitofp {qi} : {vi} to {vf}"));
            p = mul_add(e, "mp", f.as_str(), xv, &p, &vf);
        }
        let s = super::gemm::broadcast(e, scales, j, &gi, &vf);
        let acc = e.fresh("mn");
        e.line(&format!("      {acc} = vector.fma {p}, {s}, {} : {vf}", carried[q]));
        next.push(acc);
    }
    e.line(&format!("      scf.yield {} : {types}", next.join(", ")));
    e.line("    }");
    let mut outs = super::threads::lane_sums(e, &accs, RJ, &vf);
    if let Some(sums) = &sums {
        for (q, j) in js.iter().enumerate() {
            outs[q] = add_mins_share(e, offsets, sums, j, groups, &pads, &outs[q]);
        }
    }
    let written = super::threads::write_block(e, &outs, &oj, (&c0, &jj), &slice);
    e.line(&format!("    scf.yield {written} : {slice}"));
    e.line("  }");
    super::threads::close_row_tiles(e, &tiled, &blocks);
    Some(tiled.result)
}

/// `X` [groups]: the sum of x's row 0 over each group of `g` elements, times the f32
/// `factor` when one is given.
fn group_sums(e: &mut Emitter, x: &(String, Tt), groups: i64, g: i64, factor: Option<&str>, (c0, c1, pad): (&str, &str, &str)) -> (String, Tt) {
    let t = Tt { shape: vec![groups], elem: "f32".into() };
    let (empty, b, acc, res) = (e.fresh("mse"), e.fresh("msb"), e.fresh("msa"), e.fresh("msum"));
    e.line(&format!("{empty} = tensor.empty() : {}", t.tensor()));
    let cgroups = e.index(groups);
    e.line(&format!("{res} = scf.for {b} = {c0} to {cgroups} step {c1} iter_args({acc} = {empty}) -> ({}) {{", t.tensor()));
    let (at, v, s, r) = (e.fresh("msat"), e.fresh("msv"), e.fresh("mss"), e.fresh("msi"));
    e.line(&format!("  {at} = affine.apply affine_map<(d0) -> (d0 * {g})>({b})"));
    e.line(&format!("  {v} = vector.transfer_read {}[{c0}, {at}], {pad} {{in_bounds = [true]}} : {}, vector<{g}xf32>", x.0, x.1.tensor()));
    e.line(&format!("  {s} = vector.reduction <add>, {v} fastmath<reassoc> : vector<{g}xf32> into f32"));
    let s = match factor {
        Some(f) => {
            let scaled = e.fresh("mss");
            e.line(&format!("  {scaled} = arith.mulf {s}, {f} : f32"));
            scaled
        }
        None => s,
    };
    e.line(&format!("  {r} = tensor.insert {s} into {acc}[{b}] : {}", t.tensor()));
    e.line(&format!("  scf.yield {r} : {}", t.tensor()));
    e.line("}");
    (res, t)
}

/// `out + Σ_b mins[j, b]·sums[b]` over the `groups` groups of a row: the share of an int4
/// row's mins (or of Q4_0's offset, with its scales as `mins` and `sums` = −8·X), a short
/// f32 dot product (16 at a time, the last vector masked). `pads`: an f32 and an f16 zero.
/// Shared with `dot_i8.rs`, whose `sums` are each block's `d·Σxq`.
pub(super) fn add_mins_share(e: &mut Emitter, mins: &(String, Tt), sums: &(String, Tt), j: &str, groups: i64, pads: &(String, String), out: &str) -> String {
    let vm = "vector<16xf32>";
    let mut acc = String::new();
    for t in 0..(groups + 15) / 16 {
        let (at, whole) = (e.index(16 * t), 16 * (t + 1) <= groups);
        let mv = super::dot_i8::read_f32(e, mins, &format!("{j}, {at}"), whole, 16, pads);
        let sv = e.fresh("qsb");
        e.line(&format!("    {sv} = vector.transfer_read {}[{at}], {} {{in_bounds = [{whole}]}} : {}, {vm}", sums.0, pads.0, sums.1.tensor()));
        acc = mul_add(e, "qma", &mv, &sv, &acc, vm);
    }
    let (share, total) = (e.fresh("qms"), e.fresh("qrt"));
    e.line(&format!("    {share} = vector.reduction <add>, {acc} fastmath<reassoc> : {vm} into f32"));
    e.line(&format!("    {total} = arith.addf {out}, {share} : f32"));
    total
}

/// `a·b + acc` into a fresh vector named from `prefix` (`vector.fma`), or `a·b` when `acc`
/// is empty (the first term of a sum).
fn mul_add(e: &mut Emitter, prefix: &str, a: &str, b: &str, acc: &str, ty: &str) -> String {
    let r = e.fresh(prefix);
    if acc.is_empty() {
        e.line(&format!("      {r} = arith.mulf {a}, {b} : {ty}"));
    } else {
        e.line(&format!("      {r} = vector.fma {a}, {b}, {acc} : {ty}"));
    }
    r
}
