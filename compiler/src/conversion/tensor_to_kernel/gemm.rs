//! A linear layer over many rows (a prefill or an encoder pass: `x · Wᵀ` with `x` [M, K],
//! M dynamic, and a static f32 `W` [N, K]) as a register-tiled GEMM.
//!
//! Why: the generic of `basic::matmul_transposed` computes each output as one dot product
//! of a row of x and a row of W. That reads W once, but each step of the dot product is a
//! load of x, a load of W and one multiply-add: bound by loads and by the horizontal sum
//! at the end of every output, about 11 GFLOP/s on SmolLM2's prompt, 6 % of the 190
//! GFLOP/s one core can do. Here a register tile of [`RJ`] rows of W × [`RI`] rows of x
//! keeps `RJ·RI` vector accumulators live over the whole K loop: each step loads `RJ + RI`
//! vectors and issues `RJ·RI` fused multiply-adds, and the horizontal sums happen once per
//! output at the end.
//!
//! The loop nest (written as MLIR text on tensors; one-shot bufferisation makes every
//! `iter_args` tensor the output buffer itself):
//! - `scf.forall` over tiles of [`super::threads::TILE_ROWS`] rows of W (the same split over
//!   the runtime's threads as every linear layer, `threads.rs`);
//! - chunks of [`IC`] rows of x, so a chunk of x (at most 64 × K floats) and the thread's
//!   tile of W both stay in L2 while the chunk is multiplied by the whole tile;
//! - blocks of `RJ` rows of W, then pairs of rows of x (a last odd row alone);
//! - the K loop in vectors of [`VL`] floats (`vector.fma` into the accumulators).
//!
//! Numerics: each output is a sum over k in `VL` interleaved partial sums (lane l adds the
//! products of k ≡ l mod VL in order of k, each product fused into its add), then the
//! lanes are added (`vector.reduction <add>`, reassociable). The dot-product generic also
//! sums in partial sums chosen by LLVM's vectoriser, without fusing; both stay within the
//! numerics tests' tolerance of transformers (lit-tests/numerics) and keep its greedy text.
//! Used only when the shapes fit the tiles exactly (K a multiple of `VL`, N of `RJ` and of
//! the thread tile); anything else keeps the generic.

use super::emitter::{Emitter, Tt};

/// Floats per vector: one 256-bit register (the x86-64 backend's preferred width on this
/// machine, which splits wider vectors in two).
const VL: i64 = 8;
/// Rows of W per register tile.
const RJ: usize = 4;
/// Rows of x per register tile: `RJ·RI` = 8 accumulators plus `RJ + 1` loaded vectors fit
/// in the 16 vector registers of 256-bit code.
const RI: usize = 2;
/// Rows of x per cache chunk.
const IC: i64 = 64;

/// `x · Wᵀ` as a register-tiled GEMM, or `None` when the shapes or types do not fit (the
/// caller then emits the dot-product generic).
pub(super) fn linear_many_rows(e: &mut Emitter, x: &(String, Tt), w: &(String, Tt), out: &Tt) -> Option<String> {
    let f32_only = [&x.1, &w.1, out].iter().all(|t| t.elem == "f32");
    if !f32_only || x.1.rank() != 2 || w.1.rank() != 2 || out.rank() != 2 || !w.1.is_static() || x.1.shape[0] >= 0 {
        return None;
    }
    let (n, k) = (w.1.shape[0], w.1.shape[1]);
    if x.1.shape[1] != k || out.shape[1] != n || k % VL != 0 || n % RJ as i64 != 0 {
        return None;
    }
    let rows = super::threads::TILE_ROWS;
    let tj = if n >= 2 * rows && n % rows == 0 { rows } else { n };
    if tj % RJ as i64 != 0 {
        return None;
    }
    let tiles = n / tj;
    let (xt, wt, ot) = (x.1.tensor(), w.1.tensor(), out.tensor());
    let slice = format!("tensor<?x{tj}xf32>");
    let vec = format!("vector<{VL}xf32>");

    let c0 = e.index(0);
    let m = e.dim(x, 0);
    let init = e.empty(out, std::slice::from_ref(x));
    let (c1, c2, crj, cvl, cic, ck, ctj) = (e.index(1), e.index(2), e.index(RJ as i64), e.index(VL), e.index(IC), e.index(k), e.index(tj));
    let pad = e.float("0.0", "f32");
    let zero = e.fresh("zv");
    e.line(&format!("{zero} = arith.constant dense<0.0> : {vec}"));

    let (t, o, r) = (e.fresh("gt"), e.fresh("go"), e.fresh("gemm"));
    e.line(&format!("{r} = scf.forall ({t}) in ({tiles}) shared_outs({o} = {init}) -> ({ot}) {{"));
    let j0 = e.fresh("j0");
    e.line(&format!("  {j0} = affine.apply affine_map<(d0) -> (d0 * {tj})>({t})"));
    let tile = e.fresh("tile");
    e.line(&format!("  {tile} = tensor.extract_slice {o}[0, {j0}] [{m}, {tj}] [1, 1] : {ot} to {slice}"));

    // Chunks of IC rows of x.
    let (i0, oc, chunks) = (e.fresh("i0"), e.fresh("oc"), e.fresh("chunks"));
    e.line(&format!("  {chunks} = scf.for {i0} = {c0} to {m} step {cic} iter_args({oc} = {tile}) -> ({slice}) {{"));
    let (iend, ipairs) = (e.fresh("iend"), e.fresh("ipairs"));
    e.line(&format!("    {iend} = affine.min affine_map<(d0)[s0] -> (d0 + {IC}, s0)>({i0})[{m}]"));
    e.line(&format!("    {ipairs} = affine.apply affine_map<(d0, d1) -> (d0 + ((d1 - d0) floordiv {RI}) * {RI})>({i0}, {iend})"));

    // Blocks of RJ rows of W.
    let (jj, oj, blocks) = (e.fresh("jj"), e.fresh("oj"), e.fresh("blocks"));
    e.line(&format!("    {blocks} = scf.for {jj} = {c0} to {ctj} step {crj} iter_args({oj} = {oc}) -> ({slice}) {{"));
    let js: Vec<String> = (0..RJ)
        .map(|q| {
            let j = e.fresh("gj");
            e.line(&format!("      {j} = affine.apply affine_map<(d0, d1) -> (d0 + d1 + {q})>({j0}, {jj})"));
            j
        })
        .collect();

    // Pairs of rows of x, then the odd row left.
    let pairs = register_tile(e, RI, (&ipairs, c2.as_str()), (&i0, &oj), &js, &jj, (&xt, &wt, &slice, &vec), (x, w), (&ck, &cvl, &c0, &pad, &zero));
    let last = register_tile(e, 1, (&iend, c1.as_str()), (&ipairs, &pairs), &js, &jj, (&xt, &wt, &slice, &vec), (x, w), (&ck, &cvl, &c0, &pad, &zero));
    e.line(&format!("      scf.yield {last} : {slice}"));
    e.line("    }");
    e.line(&format!("    scf.yield {blocks} : {slice}"));
    e.line("  }");
    e.line("  scf.forall.in_parallel {");
    e.line(&format!("    tensor.parallel_insert_slice {chunks} into {o}[0, {j0}] [{m}, {tj}] [1, 1] : {slice} into {ot}"));
    e.line("  }");
    e.line("}");
    Some(r)
}

/// One loop over rows of x in steps of `ri` (from `from.0` to `upto.0`, step constant
/// `upto.1`) updating the thread tile `from.1`: for each step, the K loop with `ri × RJ`
/// accumulators, then each row's `RJ` outputs written as one vector. Returns the updated
/// tile.
#[allow(clippy::too_many_arguments)]
fn register_tile(
    e: &mut Emitter,
    ri: usize,
    upto: (&str, &str),
    from: (&str, &str),
    js: &[String],
    jj: &str,
    types: (&str, &str, &str, &str),
    operands: (&(String, Tt), &(String, Tt)),
    consts: (&str, &str, &str, &str, &str),
) -> String {
    let (xt, wt, slice, vec) = types;
    let (x, w) = operands;
    let (ck, cvl, c0, pad, zero) = consts;
    let (i, op, res) = (e.fresh("gi"), e.fresh("op"), e.fresh("rows"));
    e.line(&format!("      {res} = scf.for {i} = {} to {} step {} iter_args({op} = {}) -> ({slice}) {{", from.0, upto.0, upto.1, from.1));
    let is: Vec<String> = (0..ri)
        .map(|r| {
            if r == 0 {
                return i.clone();
            }
            let name = e.fresh("ir");
            e.line(&format!("        {name} = affine.apply affine_map<(d0) -> (d0 + {r})>({i})"));
            name
        })
        .collect();
    // The K loop: accumulators acc[r][q] for row is[r] of x and row js[q] of W.
    let kv = e.fresh("gk");
    let accs: Vec<String> = (0..ri * RJ).map(|_| e.fresh("ga")).collect();
    let sums = e.fresh("acc");
    let inits = accs.iter().map(|a| format!("{a} = {zero}")).collect::<Vec<_>>().join(", ");
    let types = vec![vec; ri * RJ].join(", ");
    e.line(&format!("        {sums}:{} = scf.for {kv} = {c0} to {ck} step {cvl} iter_args({inits}) -> ({types}) {{", ri * RJ));
    let ws: Vec<String> = js
        .iter()
        .map(|j| {
            let v = e.fresh("gw");
            e.line(&format!("          {v} = vector.transfer_read {}[{j}, {kv}], {pad} {{in_bounds = [true]}} : {wt}, {vec}", w.0));
            v
        })
        .collect();
    let mut next = Vec::new();
    for (r, row) in is.iter().enumerate() {
        let xv = e.fresh("gx");
        e.line(&format!("          {xv} = vector.transfer_read {}[{row}, {kv}], {pad} {{in_bounds = [true]}} : {xt}, {vec}", x.0));
        for (q, wv) in ws.iter().enumerate() {
            let f = e.fresh("gf");
            e.line(&format!("          {f} = vector.fma {xv}, {wv}, {} : {vec}", accs[r * RJ + q]));
            next.push(f);
        }
    }
    e.line(&format!("          scf.yield {} : {types}", next.join(", ")));
    e.line("        }");
    // Horizontal sums; each row's RJ outputs (consecutive columns) are one vector write.
    let mut tile = op.clone();
    for (r, row) in is.iter().enumerate() {
        let outs: Vec<String> = (0..RJ)
            .map(|q| {
                let s = e.fresh("gs");
                e.line(&format!("        {s} = vector.reduction <add>, {sums}#{} fastmath<reassoc> : {vec} into f32", r * RJ + q));
                s
            })
            .collect();
        let v = e.fresh("row");
        e.line(&format!("        {v} = vector.from_elements {} : vector<{RJ}xf32>", outs.join(", ")));
        let written = e.fresh("written");
        e.line(&format!("        {written} = vector.transfer_write {v}, {tile}[{row}, {jj}] {{in_bounds = [true]}} : vector<{RJ}xf32>, {slice}"));
        tile = written;
    }
    e.line(&format!("        scf.yield {tile} : {slice}"));
    e.line("      }");
    res
}
