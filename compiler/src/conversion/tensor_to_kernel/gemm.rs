//! A linear layer over many rows (a prefill or an encoder pass: `x · Wᵀ` with `x` [M, K],
//! M dynamic, and a static `W` [N, K], f32 or in the int8/int4 planar arrays of
//! `quantized.rs`) as a register-tiled GEMM.
//!
//! Why: the generic of `basic::matmul_transposed` computes each output as one dot product
//! of a row of x and a row of W. That reads W once, but each step of the dot product is a
//! load of x, a load of W and one multiply-add: bound by loads and by the horizontal sum
//! at the end of every output, about 11 GFLOP/s on SmolLM2's prompt, 6 % of the 190
//! GFLOP/s one core can do. Here a register tile of `rj` rows of W × `ri` rows of x
//! (`Weights::tile`, sized to the target's vector registers) keeps `rj·ri` vector
//! accumulators live over the whole K loop: each step loads `rj + ri` vectors and issues
//! `rj·ri` fused multiply-adds, and the horizontal sums happen once per output at the end.
//!
//! The loop nest (written as MLIR text on tensors; one-shot bufferisation makes every
//! `iter_args` tensor the output buffer itself):
//! - `scf.forall` over tiles of [`super::threads::TILE_ROWS`] rows of W (the same split over
//!   the runtime's threads as every linear layer, `threads.rs`);
//! - chunks of [`IC`] rows of x, so a chunk of x (at most 64 × K floats) and the thread's
//!   tile of W both stay in L2 while the chunk is multiplied by the whole tile;
//! - blocks of `rj` rows of W, then groups of `ri` rows of x (the rows left one at a time);
//! - the K loop in vectors of one register's floats ([`VectorRegs`]: 16 with AVX-512, 8
//!   with AVX2; a quantised W's one-row tile keeps 16; `vector.fma` into the
//!   accumulators). For a quantised W the loop runs over its groups (32 or 16 elements),
//!   each step reading the group's scale (and min) once per row of W (an f16 one widened
//!   to f32, `arith.extf`) and dequantising each vector of W in registers (int8: `sitofp`,
//!   times the scale; int4: the low or high nibbles of the group's 16 bytes, `uitofp`,
//!   times the scale plus the min), exactly the values of `quantized::value`. The
//!   dequantisation is paid once per row of x in the register tile, so the int8/int4 tile
//!   is 2 rows of W × 4 rows of x (f32: 4 × 4 with AVX-512's 32 registers, 4 × 2 with
//!   AVX2's 16).
//!
//! Numerics: each output is a sum over k in `VL` interleaved partial sums (`VL` the
//! vector's floats; lane l adds the products of k ≡ l mod VL in order of k, each product
//! fused into its add), then the lanes are added (`vector.reduction <add>`, reassociable).
//! The dot-product generic also sums in partial sums chosen by LLVM's vectoriser, without
//! fusing; both stay within the numerics tests' tolerance of transformers
//! (lit-tests/numerics) and keep its greedy text. The sums depend on `VL`, so the target
//! CPU's vector width can change an output's last bits (never beyond the tests'
//! tolerance). Used only when the shapes fit the tiles exactly (K a multiple of `VL`, N of
//! the tile's rows of W and of the thread tile); anything else keeps the generic.

use super::emitter::{Emitter, Tt};
use super::target::VectorRegs;

/// Rows of x per cache chunk.
const IC: i64 = 64;

/// W as the register tile reads it.
pub(super) enum Weights<'a> {
    /// f32 `[N, K]`.
    F32(&'a (String, Tt)),
    /// int8 values `[N, K/G, G]` and f32 or f16 scales `[N, K/G]`: element `q·scale`.
    Int8 { values: &'a (String, Tt), scales: &'a (String, Tt), group: i64 },
    /// int4 bytes `[N, K/32, 16]` (element i of a group is the low nibble of byte i, element
    /// 16 + i its high nibble), f32 or f16 scales and mins `[N, K/32]`: element
    /// `q·scale + min`; without mins (`int4s_g32h`, Q4_0) `(q − 8)·scale`.
    Int4 { values: &'a (String, Tt), scales: &'a (String, Tt), mins: Option<&'a (String, Tt)> },
}

impl Weights<'_> {
    /// Elements of K per step of the K loop (one vector, or one group).
    fn block(&self, regs: VectorRegs) -> i64 {
        match self {
            Weights::F32(_) => regs.floats,
            Weights::Int8 { group, .. } => *group,
            Weights::Int4 { .. } => 32,
        }
    }

    /// Floats per vector of the K loop: one register's, except that a quantised W's
    /// one-row tile (a decode step) keeps 16 — half an int4 group, one 16-byte load of
    /// nibbles — even where a register holds 8: its 4 accumulators are 8 of AVX2's 16
    /// registers, and on SmolLM2's Q4_1 decode step 8-float vectors were 13 % slower.
    fn vl(&self, one_row: bool, regs: VectorRegs) -> i64 {
        let quantised = if one_row { regs.floats.max(16) } else { regs.floats };
        match self {
            Weights::F32(_) => regs.floats,
            Weights::Int4 { .. } => quantised,
            Weights::Int8 { group, .. } => quantised.min(*group),
        }
    }

    /// The register tile: (rows of W, rows of x). The `rj·ri` accumulators, the `rj`
    /// vectors of W of a step and one of x fit the registers: with 32 (AVX-512), f32 4 × 4
    /// (16 + 4 + 1); with 16 (AVX2), f32 4 × 2 (8 + 4 + 1). On an AVX2 EPYC, SmolLM2's
    /// prefill of 64 tokens ran 1.55× faster with 4 × 2 than with AVX-512's tile, and 2 × 6
    /// was 3–8 % slower than 4 × 2; on a 4-layer model of SmolLM2's shape 4 × 3 (17
    /// registers) was 1.5× slower than 4 × 2.
    /// int8/int4 also keep a scale (and min) per row of W and pay the dequantisation once
    /// per row of x in the tile: 2 × 4 on either. With one row of x (a decode step) the
    /// tile is 8 (int8/int4: 4) rows of W, so that as many rows of W stream at once (an
    /// int8/int4 W's one row reaches this only where `matvec_q.rs` declines the shapes).
    fn tile(&self, one_row: bool, regs: VectorRegs) -> (usize, usize) {
        match (self, one_row) {
            (Weights::F32(_), false) if regs.count >= 32 => (4, 4),
            (Weights::F32(_), false) => (4, 2),
            (Weights::F32(_), true) => (8, 1),
            (_, false) => (2, 4),
            (_, true) => (4, 1),
        }
    }
}

/// The names a register tile needs, shared by both of its row loops.
struct Ctx<'a> {
    x: &'a (String, Tt),
    w: &'a Weights<'a>,
    vl: i64,
    slice: String,
    vec: String,
    k: String,
    kb: String,
    c0: String,
    pad: String,
    zero: String,
}

/// `x · Wᵀ` as a register-tiled GEMM, or `None` when the shapes or types do not fit (the
/// caller then emits the dot-product generic). `n`, `k`: W's rows and columns; `one_row`:
/// x is known to have one row (a decode step cast to a dynamic row count).
pub(super) fn linear(e: &mut Emitter, x: &(String, Tt), w: &Weights, n: i64, k: i64, out: &Tt, one_row: bool) -> Option<String> {
    let regs = e.cpu.regs;
    if let Weights::F32(w) = w
        && (w.1.elem != "f32" || w.1.rank() != 2 || !w.1.is_static() || w.1.shape != [n, k])
    {
        return None;
    }
    if x.1.elem != "f32" || out.elem != "f32" || x.1.rank() != 2 || out.rank() != 2 || x.1.shape[0] >= 0 {
        return None;
    }
    let (rj, ri) = w.tile(one_row, regs);
    let block = w.block(regs);
    let vl = w.vl(one_row, regs);
    if x.1.shape[1] != k || out.shape[1] != n || k % block != 0 || block % vl != 0 || n % rj as i64 != 0 {
        return None;
    }
    let tj = super::threads::tile_width(n);
    if tj % rj as i64 != 0 {
        return None;
    }
    let tiles = n / tj;
    let ot = out.tensor();
    let slice = format!("tensor<?x{tj}xf32>");
    let vec = format!("vector<{vl}xf32>");

    let c0 = e.index(0);
    let m = e.dim(x, 0);
    let init = e.empty(out, std::slice::from_ref(x));
    let (c1, cri, crj, cic, ctj) = (e.index(1), e.index(ri as i64), e.index(rj as i64), e.index(IC), e.index(tj));
    let (ck, ckb) = (e.index(k), e.index(block));
    let pad = e.float("0.0", "f32");
    let zero = e.fresh("zv");
    e.line(&format!("{zero} = arith.constant dense<0.0> : {vec}"));
    let cx = Ctx { x, w, vl, slice: slice.clone(), vec, k: ck, kb: ckb, c0: c0.clone(), pad, zero };

    let tiled = super::threads::open_row_tiles(e, tiles, tj, &init, &ot, &m);
    let (j0, tile) = (tiled.j0.clone(), tiled.tile.clone());

    // Chunks of IC rows of x.
    let (i0, oc, chunks) = (e.fresh("i0"), e.fresh("oc"), e.fresh("chunks"));
    e.line(&format!("  {chunks} = scf.for {i0} = {c0} to {m} step {cic} iter_args({oc} = {tile}) -> ({slice}) {{"));
    let (iend, ifull) = (e.fresh("iend"), e.fresh("ifull"));
    e.line(&format!("    {iend} = affine.min affine_map<(d0)[s0] -> (d0 + {IC}, s0)>({i0})[{m}]"));
    e.line(&format!("    {ifull} = affine.apply affine_map<(d0, d1) -> (d0 + ((d1 - d0) floordiv {ri}) * {ri})>({i0}, {iend})"));

    // Blocks of rj rows of W.
    let (jj, oj, blocks) = (e.fresh("jj"), e.fresh("oj"), e.fresh("blocks"));
    e.line(&format!("    {blocks} = scf.for {jj} = {c0} to {ctj} step {crj} iter_args({oj} = {oc}) -> ({slice}) {{"));
    let js = super::threads::block_rows(e, &j0, &jj, rj);

    // Groups of ri rows of x, then the rows left one at a time.
    let full = register_tile(e, &cx, ri, (&i0, &ifull, &cri), &oj, &js, &jj);
    let last = register_tile(e, &cx, 1, (&ifull, &iend, &c1), &full, &js, &jj);
    e.line(&format!("      scf.yield {last} : {slice}"));
    e.line("    }");
    e.line(&format!("    scf.yield {blocks} : {slice}"));
    e.line("  }");
    super::threads::close_row_tiles(e, &tiled, &chunks);
    Some(tiled.result)
}

/// One loop over rows of x in steps of `ri` (`bounds`: from, to, step constant) updating
/// the thread tile `tile`: for each step, the K loop with `ri × rj` accumulators, then each
/// row's `rj` outputs written as one vector. Returns the updated tile.
fn register_tile(e: &mut Emitter, cx: &Ctx, ri: usize, bounds: (&str, &str, &str), tile: &str, js: &[String], jj: &str) -> String {
    let Ctx { x, w, vl, slice, vec, k, kb, c0, pad, zero } = cx;
    let vl = *vl;
    let rj = js.len();
    let (i, op, res) = (e.fresh("gi"), e.fresh("op"), e.fresh("rows"));
    e.line(&format!("      {res} = scf.for {i} = {} to {} step {} iter_args({op} = {tile}) -> ({slice}) {{", bounds.0, bounds.1, bounds.2));
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
    // The K loop over blocks of `w.block(regs)` elements: accumulators acc[r][q] for row is[r]
    // of x and row js[q] of W.
    let kv = e.fresh("gk");
    let accs: Vec<String> = (0..ri * rj).map(|_| e.fresh("ga")).collect();
    let sums = e.fresh("acc");
    let inits = accs.iter().map(|a| format!("{a} = {zero}")).collect::<Vec<_>>().join(", ");
    let types = vec![vec.as_str(); ri * rj].join(", ");
    e.line(&format!("        {sums}:{} = scf.for {kv} = {c0} to {k} step {kb} iter_args({inits}) -> ({types}) {{", ri * rj));
    // Each row of W as this block reads it: the group's scale (and min) once per block.
    let rows: Vec<BlockRow> = js.iter().map(|j| block_row(e, w, j, &kv, vec)).collect();
    let mut acc: Vec<String> = accs.clone();
    for step in 0..(w.block(e.cpu.regs) / vl) {
        let off = step * vl;
        let ws: Vec<String> = rows.iter().map(|row| w_vector(e, row, &kv, off, (pad, vec, vl))).collect();
        let col = if off == 0 {
            kv.clone()
        } else {
            let c = e.fresh("kx");
            e.line(&format!("          {c} = affine.apply affine_map<(d0) -> (d0 + {off})>({kv})"));
            c
        };
        for (r, row) in is.iter().enumerate() {
            let xv = e.fresh("gx");
            e.line(&format!("          {xv} = vector.transfer_read {}[{row}, {col}], {pad} {{in_bounds = [true]}} : {}, {vec}", x.0, x.1.tensor()));
            for (q, wv) in ws.iter().enumerate() {
                let f = e.fresh("gf");
                e.line(&format!("          {f} = vector.fma {xv}, {wv}, {} : {vec}", acc[r * rj + q]));
                acc[r * rj + q] = f;
            }
        }
    }
    e.line(&format!("          scf.yield {} : {types}", acc.join(", ")));
    e.line("        }");
    // Horizontal sums; each row's rj outputs (consecutive columns) are one vector write.
    let mut tile = op.clone();
    for (r, row) in is.iter().enumerate() {
        let outs: Vec<String> = (0..rj)
            .map(|q| {
                let s = e.fresh("gs");
                e.line(&format!("        {s} = vector.reduction <add>, {sums}#{} fastmath<reassoc> : {vec} into f32", r * rj + q));
                s
            })
            .collect();
        let v = e.fresh("row");
        e.line(&format!("        {v} = vector.from_elements {} : vector<{rj}xf32>", outs.join(", ")));
        let written = e.fresh("written");
        e.line(&format!("        {written} = vector.transfer_write {v}, {tile}[{row}, {jj}] {{in_bounds = [true]}} : vector<{rj}xf32>, {slice}"));
        tile = written;
    }
    e.line(&format!("        scf.yield {tile} : {slice}"));
    e.line("      }");
    res
}

/// One row of W as a block of the K loop reads it.
enum BlockRow<'a> {
    /// f32: the matrix and the row.
    F32 { w: &'a (String, Tt), j: String },
    /// int8: the values, the row, the block's group and the row's broadcast scale.
    Int8 { values: &'a (String, Tt), j: String, group: String, scale: String },
    /// int4: the bytes, the row, the block's group, the row's broadcast scale and min.
    Int4 { values: &'a (String, Tt), j: String, group: String, scale: String, min: String },
}

/// Row `j` of `w` for the block starting at K offset `kv`: for a quantised W, the block's
/// group and the row's scale (and min) read once and broadcast.
fn block_row<'a>(e: &mut Emitter, w: &Weights<'a>, j: &str, kv: &str, vec: &str) -> BlockRow<'a> {
    let group = |e: &mut Emitter| {
        let g = e.fresh("grp");
        e.line(&format!("          {g} = affine.apply affine_map<(d0) -> (d0 floordiv {})>({kv})", w.block(e.cpu.regs)));
        g
    };
    match *w {
        Weights::F32(w) => BlockRow::F32 { w, j: j.to_string() },
        Weights::Int8 { values, scales, .. } => {
            let g = group(e);
            let scale = broadcast(e, scales, j, &g, vec);
            BlockRow::Int8 { values, j: j.to_string(), group: g, scale }
        }
        Weights::Int4 { values, scales, mins } => {
            let g = group(e);
            let scale = broadcast(e, scales, j, &g, vec);
            let min = match mins {
                Some(mins) => broadcast(e, mins, j, &g, vec),
                None => {
                    // −8·scale: exact in f32 (an f16 value times 8), so `q·scale + min` is
                    // `(q − 8)·scale` rounded once, as ggml's Q4_0.
                    let (eight, m) = (e.fresh("gm8"), e.fresh("gmin"));
                    e.line(&format!("          {eight} = arith.constant dense<-8.0> : {vec}"));
                    e.line(&format!("          {m} = arith.mulf {scale}, {eight} : {vec}"));
                    m
                }
            };
            BlockRow::Int4 { values, j: j.to_string(), group: g, scale, min }
        }
    }
}

/// `array[row, group]` (a scale or min, f32 or f16) as f32, broadcast to a vector.
pub(super) fn broadcast(e: &mut Emitter, array: &(String, Tt), row: &str, group: &str, vec: &str) -> String {
    let mut s = e.fresh("gp");
    e.line(&format!("          {s} = tensor.extract {}[{row}, {group}] : {}", array.0, array.1.tensor()));
    if array.1.elem != "f32" {
        let wide = e.fresh("gpw");
        e.line(&format!("          {wide} = arith.extf {s} : {} to f32", array.1.elem));
        s = wide;
    }
    let b = e.fresh("gb");
    e.line(&format!("          {b} = vector.broadcast {s} : f32 to {vec}"));
    b
}

/// The f32 vector of `row` at K offset `kv + off` (`off` within the block), read and
/// dequantised.
fn w_vector(e: &mut Emitter, row: &BlockRow, kv: &str, off: i64, (pad, vec, vl): (&str, &str, i64)) -> String {
    let v = e.fresh("gw");
    match row {
        BlockRow::F32 { w, j } => {
            // The block is one vector: `off` is 0.
            e.line(&format!("          {v} = vector.transfer_read {}[{j}, {kv}], {pad} {{in_bounds = [true]}} : {}, {vec}", w.0, w.1.tensor()));
            v
        }
        BlockRow::Int8 { values, j, group, scale } => {
            let at = e.index(off);
            let zero8 = e.fresh("z8");
            e.line(&format!("          {zero8} = arith.constant 0 : i8"));
            e.line(&format!("          {v} = vector.transfer_read {}[{j}, {group}, {at}], {zero8} {{in_bounds = [true]}} : {}, vector<{vl}xi8>", values.0, values.1.tensor()));
            let f = e.fresh("gq");
            e.line(&format!("          {f} = arith.sitofp {v} : vector<{vl}xi8> to {vec}"));
            let r = e.fresh("gd");
            e.line(&format!("          {r} = arith.mulf {f}, {scale} : {vec}"));
            r
        }
        BlockRow::Int4 { values, j, group, scale, min } => {
            // Elements off .. off + vl of the group: bytes off mod 16 .., low nibbles for
            // the first 16 elements, high ones for the rest.
            let at = e.index(off % 16);
            let zero8 = e.fresh("z8");
            e.line(&format!("          {zero8} = arith.constant 0 : i8"));
            e.line(&format!("          {v} = vector.transfer_read {}[{j}, {group}, {at}], {zero8} {{in_bounds = [true]}} : {}, vector<{vl}xi8>", values.0, values.1.tensor()));
            let nib = e.fresh("gn");
            let (op, amount) = if off < 16 { ("arith.andi", 15) } else { ("arith.shrui", 4) };
            let c = e.fresh("gm");
            e.line(&format!("          {c} = arith.constant dense<{amount}> : vector<{vl}xi8>"));
            e.line(&format!("          {nib} = {op} {v}, {c} : vector<{vl}xi8>"));
            let f = e.fresh("gq");
            e.line(&format!("          {f} = arith.uitofp {nib} : vector<{vl}xi8> to {vec}"));
            // Rounded as `quantized::value` rounds: the product, then the sum.
            let p = e.fresh("gd");
            e.line(&format!("          {p} = arith.mulf {f}, {scale} : {vec}"));
            let r = e.fresh("gd");
            e.line(&format!("          {r} = arith.addf {p}, {min} : {vec}"));
            r
        }
    }
}
