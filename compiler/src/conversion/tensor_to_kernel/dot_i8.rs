//! A linear layer over one row `x · Wᵀ` (every linear layer of a decode step, and a
//! prefill's lm_head over the last position) by an int8/int4 W with the
//! activations rounded to int8 (a model declared `gguf(..., activations: "int8")`): integer
//! dot products, as llama.cpp's quantised matvec kernels compute them.
//!
//! Why: the exact kernel of `gemm.rs` converts every weight to f32 in registers (a widening,
//! an int→float conversion, the scale and min, then a fused multiply-add: five to six
//! vector instructions per 16 weights); a SmolLM2 decode step then runs at ~1.5·10¹⁰
//! weights/s on two cores, half of what the memory could deliver. Here each block of G
//! activations (G = W's group: 32, or 16 for Q6_K's int8) is rounded once per step,
//! `x ≈ d·xq` with `d = max|x|/127` and `xq` in −127..127, and a row of W meets it in
//! 8-bit integer products summed in 32 bits — one `vpdpbusd` per 64 weights on a CPU with
//! AVX512-VNNI — then one conversion to f32 and one multiply-add per 16 lanes.
//!
//! Numerics: the result is exactly `Σ_g (s_g·d_g·Σ_i q_i·xq_i + m_g·d_g·Σ_i xq_i)` (up to
//! the order of the f32 sums): the dot product of the dequantised W (`q·s + m`, as
//! `quantized::value`) with the rounded x. The integer sums are exact, so every lowering
//! of the helper below gives the same bits.
//!
//! The kernel (MLIR text on tensors, as `gemm.rs`):
//! 1. x's blocks, once per call: `xq` (int8: in order; int4: the halves each nibble of a
//!    byte meets, `xlo` [K/2] and `xhi` [K/2]) and per-lane arrays for the lanes of the
//!    32-bit accumulator (each lane sums 4 bytes): `dl` the lane's block scale `d`;
//!    int8 on a CPU with AVX512-VNNI `neg` = −128·(Σ of the lane's 4 xq) (W's signed bytes
//!    enter `vpdpbusd`'s unsigned operand as `q + 128`, `q xor 0x80`, and the excess is
//!    taken out by starting the lane there; elsewhere W's bytes go to a signed-by-signed
//!    helper as they are and lanes start at 0);
//!    int4 `sb` = `d·Σxq` of each block (what the block's min multiplies), or for int4
//!    without mins (`int4s_g32h`, `q − 8`) `neg` = −8·(Σ of the 8 xq the lane meets), the
//!    lane start that takes the offset out of the integer sum, as int8's −128.
//! 2. `scf.forall` over tiles of W's rows (the same split as every linear layer), blocks of
//!    [`RJ`] rows (one) sharing each vector of x, the K loop in vectors of VB bytes (64, or 32 when
//!    K's blocks do not fill 64), per row: the byte dot product into the lane start (int4:
//!    low nibbles with `xlo`, high with `xhi`), `sitofp`, times the scales (f16 ones widened
//!    to f32 first, `arith.extf`: one `vcvtph2ps`) expanded to the
//!    lanes and `dl`, added to an f32 accumulator; the lanes are summed once per output
//!    (int4: plus Σ_b min[j, b]·sb[b], one short f32 dot product per row after its K loop:
//!    per vector of weights, a min fma with the min expanded to the lanes cost as much as
//!    the scale's, three to four of fourteen instructions).
//!
//! The byte dot product is a call of a private helper, `@agentc_dot_u8i8_<bits>` (lane l
//! of the i32 result: `acc[l] + Σ_{k<4} zext(a[4l+k])·sext(b[4l+k])`; `@agentc_dot_u4i8_<bits>`
//! for int4, whose unsigned bytes are nibbles; `@agentc_dot_i8i8_<bits>`, `sext(a)`, for
//! int8 on a CPU without VNNI), written here with target-independent vector
//! ops; the CPU pipeline's `kernel-x86-vnni` gives it the `vpdpbusd` body on a CPU that has
//! the instruction (passes/kernel/x86_vnni.rs), `kernel-x86-avx2-dot` a `vpmaddubsw` body
//! on one with AVX2 (passes/kernel/x86_avx2_dot.rs).

use std::collections::BTreeSet;

use super::emitter::{Emitter, Tt};
use super::gemm::Weights;
use crate::passes::kernel::DotOperands;

/// Rows of W per register block: each vector of x (and its lane arrays) is read once for
/// `RJ` rows. One: a thread then reads its tile of W as one sequential stream, which the
/// hardware prefetcher follows across rows, where `RJ` rows at once are `RJ` streams of one
/// row each (576 bytes for SmolLM2's Q8_0 at K = 576, too short for a prefetcher to
/// train on). On SmolLM2's Q8_0 decode step with int8 activations (AVX2 EPYC, 2 threads,
/// medians of 7 runs in turns) 1 row took 10.5 ms against 4 rows' 14.1; earlier, 8 rows
/// were no faster than 4 and 2 slower. See `matvec_q::RJ` for the exact kernel's figures.
const RJ: usize = 1;

/// Elements per block of an int8/int4 W (the activations are rounded per block of the
/// same size) and bytes of a row of W per block; `None` for an f32 W.
fn blocks(w: &Weights) -> Option<(i64, i64)> {
    match w {
        Weights::F32(_) => None,
        Weights::Int8 { group, .. } => Some((*group, *group)),
        Weights::Int4 { .. } => Some((32, 16)),
    }
}

/// A byte dot-product helper a kernel calls: its vector width in bytes, and what its first
/// operand holds (any unsigned byte, nibbles below 16, or signed bytes). The generic body
/// differs only in how that operand is widened; a target lowers each kind its own way
/// (passes/kernel/x86_avx2_dot.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct DotHelper {
    /// Bytes per vector operand (64 or 32).
    pub(super) bytes: i64,
    /// What the first operand's bytes are.
    pub(super) operands: DotOperands,
}

/// The name of the byte dot-product helper: `agentc_dot_{u8i8,u4i8,i8i8}_<bits>`.
pub(super) fn helper_name(h: DotHelper) -> String {
    h.operands.name(h.bytes * 8)
}

/// The helper's definition with its target-independent body (see the module comment):
/// four strided byte picks, widened (a zero-extended, or sign-extended when signed; b
/// sign-extended), multiplied and added.
pub(super) fn helper_definition(h: DotHelper) -> String {
    let widen_a = if h.operands.signed() { "arith.extsi" } else { "arith.extui" };
    let (vb, lanes) = (h.bytes, h.bytes / 4);
    let mut text = format!(
        "  func.func private @{}(%acc: vector<{lanes}xi32>, %a: vector<{vb}xi8>, %b: vector<{vb}xi8>) -> vector<{lanes}xi32> attributes {{kernel.dot_u8i8}} {{\n",
        helper_name(h)
    );
    let mut sum = "%acc".to_string();
    for k in 0..4 {
        let picks = (0..lanes).map(|l| (4 * l + k).to_string()).collect::<Vec<_>>().join(", ");
        text.push_str(&format!("    %a{k} = vector.shuffle %a, %a [{picks}] : vector<{vb}xi8>, vector<{vb}xi8>\n"));
        text.push_str(&format!("    %b{k} = vector.shuffle %b, %b [{picks}] : vector<{vb}xi8>, vector<{vb}xi8>\n"));
        text.push_str(&format!("    %u{k} = {widen_a} %a{k} : vector<{lanes}xi8> to vector<{lanes}xi32>\n"));
        text.push_str(&format!("    %s{k} = arith.extsi %b{k} : vector<{lanes}xi8> to vector<{lanes}xi32>\n"));
        text.push_str(&format!("    %p{k} = arith.muli %u{k}, %s{k} : vector<{lanes}xi32>\n"));
        text.push_str(&format!("    %t{k} = arith.addi {sum}, %p{k} : vector<{lanes}xi32>\n"));
        sum = format!("%t{k}");
    }
    text.push_str(&format!("    return {sum} : vector<{lanes}xi32>\n  }}\n"));
    text
}

/// `x · Wᵀ` for one row of x (`x` cast to `[?, K]`) with int8 activations, or `None` when
/// the shapes do not fit (the caller then keeps the exact kernel). `helpers` collects the
/// helpers used.
pub(super) fn linear(e: &mut Emitter, x: &(String, Tt), w: &Weights, n: i64, k: i64, out: &Tt, helpers: &mut BTreeSet<DotHelper>) -> Option<String> {
    if x.1.elem != "f32" || out.elem != "f32" || x.1.rank() != 2 || x.1.shape[1] != k || out.shape[1] != n {
        return None;
    }
    let (g, block_bytes) = blocks(w)?;
    if k % g != 0 || n % RJ as i64 != 0 {
        return None;
    }
    // Bytes of a row of W per K element, and the vector width: 64 bytes when the row's
    // blocks fill whole vectors, else 32.
    let row_bytes = k / g * block_bytes;
    let vb = [64, 32].into_iter().find(|vb| row_bytes % vb == 0 && vb % block_bytes == 0)?;
    let lanes = vb / 4;
    let steps = row_bytes / vb;
    let blocks_per_vector = vb / block_bytes;
    let lanes_per_block = lanes / blocks_per_vector;
    // An int8 W enters `vpdpbusd`'s unsigned operand as `q + 128` on a CPU with VNNI; on
    // others the signed helper takes `q` itself (target.rs `CpuTarget::vnni`).
    let operands = match w {
        Weights::Int4 { .. } => DotOperands::U4,
        _ if e.cpu.vnni => DotOperands::U8,
        _ => DotOperands::I8,
    };
    let dot = DotHelper { bytes: vb, operands };
    helpers.insert(dot);

    let (c0, c1) = (e.index(0), e.index(1));
    let pad = e.float("0.0", "f32");
    let z8 = e.fresh("z8");
    e.line(&format!("{z8} = arith.constant 0 : i8"));
    let zi = e.fresh("z32");
    e.line(&format!("{zi} = arith.constant 0 : i32"));

    // 1. The activations' blocks.
    let xs = quantise_x(e, x, w, operands, (k, g), lanes_per_block, (&c0, &c1, &pad));

    // 2. The rows of W.
    let tj = super::threads::tile_width(n);
    if tj % RJ as i64 != 0 {
        return None;
    }
    let tiles = n / tj;
    let ot = out.tensor();
    let slice = format!("tensor<?x{tj}xf32>");
    let m = e.dim(x, 0);
    let init = e.empty(out, std::slice::from_ref(x));
    let flat = |e: &mut Emitter, v: &(String, Tt)| -> (String, Tt) {
        let t = Tt { shape: vec![n, row_bytes], elem: "i8".into() };
        let r = e.fresh("wflat");
        e.line(&format!("{r} = tensor.collapse_shape {} [[0], [1, 2]] : {} into {}", v.0, v.1.tensor(), t.tensor()));
        (r, t)
    };
    let (values, scales, mins) = match w {
        Weights::Int8 { values, scales, .. } => (flat(e, values), (*scales).clone(), None),
        Weights::Int4 { values, scales, mins } => (flat(e, values), (*scales).clone(), mins.cloned()),
        Weights::F32(_) => return None,
    };
    let (crj, csteps, ctj) = (e.index(RJ as i64), e.index(steps), e.index(tj));
    let vf = format!("vector<{lanes}xf32>");
    let vi = format!("vector<{lanes}xi32>");
    let vbt = format!("vector<{vb}xi8>");
    let zero = e.fresh("zf");
    e.line(&format!("{zero} = arith.constant dense<0.0> : {vf}"));
    let zero_i = e.fresh("zi");
    e.line(&format!("{zero_i} = arith.constant dense<0> : {vi}"));
    let (mask, four, flip) = (e.fresh("lo4"), e.fresh("four"), e.fresh("flip"));
    e.line(&format!("{mask} = arith.constant dense<15> : {vbt}"));
    e.line(&format!("{four} = arith.constant dense<4> : {vbt}"));
    if operands == DotOperands::U8 {
        e.line(&format!("{flip} = arith.constant dense<-128> : {vbt}"));
    }
    let expand = (0..lanes).map(|l| (l / lanes_per_block).to_string()).collect::<Vec<_>>().join(", ");
    let bpv = format!("vector<{blocks_per_vector}xf32>");
    // Pads for reading the scales and mins: f32, and f16 when they are f16.
    let half = [Some(&scales), mins.as_ref()].into_iter().flatten().any(|t| t.1.elem == "f16");
    let pads = (pad.clone(), if half { e.float("0.0", "f16") } else { pad.clone() });

    let tiled = super::threads::open_row_tiles(e, tiles, tj, &init, &ot, &m);
    let (jj, oj, blocks) = (e.fresh("jj"), e.fresh("oj"), e.fresh("blocks"));
    e.line(&format!("  {blocks} = scf.for {jj} = {c0} to {ctj} step {crj} iter_args({oj} = {}) -> ({slice}) {{", tiled.tile));
    let js = super::threads::block_rows(e, &tiled.j0, &jj, RJ);
    let (s, sums) = (e.fresh("qs"), e.fresh("qacc"));
    let accs: Vec<String> = (0..RJ).map(|_| e.fresh("qa")).collect();
    let inits = accs.iter().map(|a| format!("{a} = {zero}")).collect::<Vec<_>>().join(", ");
    let types = [vf.as_str(); RJ].join(", ");
    e.line(&format!("    {sums}:{RJ} = scf.for {s} = {c0} to {csteps} step {c1} iter_args({inits}) -> ({types}) {{"));
    // This vector's bytes of x and its lanes, shared by the RJ rows.
    let byte = e.fresh("qb");
    e.line(&format!("      {byte} = affine.apply affine_map<(d0) -> (d0 * {vb})>({s})"));
    let lane = e.fresh("ql");
    e.line(&format!("      {lane} = affine.apply affine_map<(d0) -> (d0 * {lanes})>({s})"));
    let block = e.fresh("qg");
    e.line(&format!("      {block} = affine.apply affine_map<(d0) -> (d0 * {blocks_per_vector})>({s})"));
    let read = |e: &mut Emitter, t: &(String, Tt), at: &str, pad: &str, ty: &str| {
        let v = e.fresh("qv");
        e.line(&format!("      {v} = vector.transfer_read {}[{at}], {pad} {{in_bounds = [true]}} : {}, {ty}", t.0, t.1.tensor()));
        v
    };
    let dl = read(e, &xs.dl, &lane, &pad, &vf);
    // Each lane starts at its offset correction, or at zero where the form has none.
    let start = |e: &mut Emitter, neg: &Option<(String, Tt)>| match neg {
        Some(neg) => read(e, neg, &lane, &zi, &vi),
        None => zero_i.clone(),
    };
    let (xa, xb, start) = match &xs.kind {
        XKind::Int8 { xq, neg } => (read(e, xq, &byte, &z8, &vbt), None, start(e, neg)),
        XKind::Int4 { xlo, xhi, neg, .. } => (read(e, xlo, &byte, &z8, &vbt), Some(read(e, xhi, &byte, &z8, &vbt)), start(e, neg)),
    };
    let helper = helper_name(dot);
    let mut next = Vec::new();
    for (q, j) in js.iter().enumerate() {
        let wb = e.fresh("qw");
        e.line(&format!("      {wb} = vector.transfer_read {}[{j}, {byte}], {z8} {{in_bounds = [true]}} : {}, {vbt}", values.0, values.1.tensor()));
        let isum = e.fresh("qi");
        match &xb {
            None if operands.signed() => {
                e.line(&format!("      {isum} = func.call @{helper}({start}, {wb}, {xa}) : ({vi}, {vbt}, {vbt}) -> {vi}"));
            }
            None => {
                let wu = e.fresh("qu");
                e.line(&format!("      {wu} = arith.xori {wb}, {flip} : {vbt}"));
                e.line(&format!("      {isum} = func.call @{helper}({start}, {wu}, {xa}) : ({vi}, {vbt}, {vbt}) -> {vi}"));
            }
            Some(xhi) => {
                let (lo, hi, part) = (e.fresh("qlo"), e.fresh("qhi"), e.fresh("qp"));
                e.line(&format!("      {lo} = arith.andi {wb}, {mask} : {vbt}"));
                e.line(&format!("      {hi} = arith.shrui {wb}, {four} : {vbt}"));
                e.line(&format!("      {part} = func.call @{helper}({start}, {lo}, {xa}) : ({vi}, {vbt}, {vbt}) -> {vi}"));
                e.line(&format!("      {isum} = func.call @{helper}({part}, {hi}, {xhi}) : ({vi}, {vbt}, {vbt}) -> {vi}"));
            }
        }
        let f = e.fresh("qf");
        e.line(&format!("      {f} = arith.sitofp {isum} : {vi} to {vf}"));
        let per_lane = |e: &mut Emitter, t: &(String, Tt)| {
            let v = read_f32(e, t, &format!("{j}, {block}"), true, blocks_per_vector, &pads);
            let x = e.fresh("qx");
            e.line(&format!("      {x} = vector.shuffle {v}, {v} [{expand}] : {bpv}, {bpv}"));
            x
        };
        let sc = per_lane(e, &scales);
        let sd = e.fresh("qsd");
        e.line(&format!("      {sd} = arith.mulf {sc}, {dl} : {vf}"));
        let acc = e.fresh("qn");
        e.line(&format!("      {acc} = vector.fma {f}, {sd}, {} : {vf}", accs[q]));
        next.push(acc);
    }
    e.line(&format!("      scf.yield {} : {types}", next.join(", ")));
    e.line("    }");
    let mut outs = super::threads::lane_sums(e, &sums, RJ, &vf);
    // int4: the mins' share, Σ_b min[j, b]·sb[b], a short f32 dot product per row over
    // its K/32 groups.
    if let (Some(mins), XKind::Int4 { sb: Some(sb), .. }) = (&mins, &xs.kind) {
        for (q, j) in js.iter().enumerate() {
            outs[q] = super::matvec_q::add_mins_share(e, mins, sb, j, k / 32, &pads, &outs[q]);
        }
    }
    let written = super::threads::write_block(e, &outs, &oj, (&c0, &jj), &slice);
    e.line(&format!("    scf.yield {written} : {slice}"));
    e.line("  }");
    super::threads::close_row_tiles(e, &tiled, &blocks);
    Some(tiled.result)
}

/// `n` consecutive scales or mins of `t` (f32 or f16) from `indices`, as a
/// `vector<n x f32>`: an f16 vector widened (`arith.extf`, exact). `pads`: an f32 and an f16
/// zero.
pub(super) fn read_f32(e: &mut Emitter, t: &(String, Tt), indices: &str, in_bounds: bool, n: i64, pads: &(String, String)) -> String {
    let v = e.fresh("qsv");
    let wide = format!("vector<{n}xf32>");
    if t.1.elem == "f32" {
        e.line(&format!("      {v} = vector.transfer_read {}[{indices}], {} {{in_bounds = [{in_bounds}]}} : {}, {wide}", t.0, pads.0, t.1.tensor()));
        return v;
    }
    let narrow = format!("vector<{n}x{}>", t.1.elem);
    let h = e.fresh("qsh");
    e.line(&format!("      {h} = vector.transfer_read {}[{indices}], {} {{in_bounds = [{in_bounds}]}} : {}, {narrow}", t.0, pads.1, t.1.tensor()));
    e.line(&format!("      {v} = arith.extf {h} : {narrow} to {wide}"));
    v
}

/// The lane starts of one block of `g` rounded values `q32` (i32): lane l gets `factor` ·
/// Σ_{o in offsets} q32[4l + o], the values of x that lane's byte products meet.
fn lane_starts(e: &mut Emitter, q32: &str, g: i64, lanes: i64, offsets: &[i64], factor: i64) -> String {
    let vli = format!("vector<{lanes}xi32>");
    let mut sum = String::new();
    for (i, o) in offsets.iter().enumerate() {
        let picks = (0..lanes).map(|l| (4 * l + o).to_string()).collect::<Vec<_>>().join(", ");
        let p = e.fresh("xp");
        e.line(&format!("  {p} = vector.shuffle {q32}, {q32} [{picks}] : vector<{g}xi32>, vector<{g}xi32>"));
        sum = if i == 0 {
            p
        } else {
            let s = e.fresh("xs");
            e.line(&format!("  {s} = arith.addi {sum}, {p} : {vli}"));
            s
        };
    }
    let (c, r) = (e.fresh("xm"), e.fresh("xneg"));
    e.line(&format!("  {c} = arith.constant dense<{factor}> : {vli}"));
    e.line(&format!("  {r} = arith.muli {sum}, {c} : {vli}"));
    r
}

/// x's blocks as the K loop reads them.
struct XBlocks {
    /// Each lane's block scale `d` (f32).
    dl: (String, Tt),
    kind: XKind,
}

enum XKind {
    /// `xq` [K] in order; for W as `q + 128` (VNNI's unsigned operand), `neg` [K/4]:
    /// −128 · (Σ of each lane's 4 xq).
    Int8 { xq: (String, Tt), neg: Option<(String, Tt)> },
    /// `xlo`, `xhi` [K/2]: the first and second half of every block of 32; with mins,
    /// `sb` [K/32]: `d·Σxq` of each block (what the block's min is multiplied by); without
    /// (`int4s_g32`: `q − 8`), `neg` [K/8]: −8 · (Σ of the 8 xq each lane meets).
    Int4 { xlo: (String, Tt), xhi: (String, Tt), sb: Option<(String, Tt)>, neg: Option<(String, Tt)> },
}

/// Rounds x's row 0 (K elements) per block of `g` elements: `d = max|x|/127` (0 for a block of
/// zeros), `xq` = x·127/max|x| rounded to the nearest integer (ties to even), as i8, and the lane arrays of [`XBlocks`].
fn quantise_x(e: &mut Emitter, x: &(String, Tt), w: &Weights, operands: DotOperands, (k, g): (i64, i64), lanes_per_block: i64, (c0, one, pad): (&str, &str, &str)) -> XBlocks {
    let offset = operands == DotOperands::U8;
    let blocks = k / g;
    let symmetric = matches!(w, Weights::Int4 { mins: None, .. });
    let (cblocks, cg) = (e.index(blocks), e.index(g));
    let vg = format!("vector<{g}xf32>");
    let (c127, cz) = (e.float("127.0", "f32"), e.float("0.0", "f32"));
    let i8t = |len: i64| Tt { shape: vec![len], elem: "i8".into() };
    let f32t = |len: i64| Tt { shape: vec![len], elem: "f32".into() };
    let i32t = |len: i64| Tt { shape: vec![len], elem: "i32".into() };
    let lanes_total = blocks * lanes_per_block;
    let empty = |e: &mut Emitter, t: &Tt| {
        let v = e.fresh("qe");
        e.line(&format!("{v} = tensor.empty() : {}", t.tensor()));
        v
    };
    let dl_t = f32t(lanes_total);
    let dl0 = empty(e, &dl_t);
    let mut carried: Vec<(String, Tt)> = vec![(dl0, dl_t)];
    match w {
        Weights::Int8 { .. } => {
            let xq = i8t(k);
            carried.push((empty(e, &xq), xq));
            if offset {
                let neg = i32t(lanes_total);
                carried.push((empty(e, &neg), neg));
            }
        }
        Weights::Int4 { .. } | Weights::F32(_) => {
            let half = i8t(k / 2);
            carried.push((empty(e, &half), half.clone()));
            carried.push((empty(e, &half), half));
            // With mins, each block's d·Σxq; without, each lane's −8·Σxq.
            let extra = if symmetric { i32t(lanes_total) } else { f32t(blocks) };
            carried.push((empty(e, &extra), extra));
        }
    }
    let (b, res) = (e.fresh("xb"), e.fresh("xblk"));
    let args: Vec<String> = carried.iter().map(|_| e.fresh("xc")).collect();
    let iters = args.iter().zip(&carried).map(|(a, (v, _))| format!("{a} = {v}")).collect::<Vec<_>>().join(", ");
    let types = carried.iter().map(|(_, t)| t.tensor()).collect::<Vec<_>>().join(", ");
    e.line(&format!("{res}:{} = scf.for {b} = {c0} to {cblocks} step {one} iter_args({iters}) -> ({types}) {{", carried.len()));
    let at = e.fresh("xat");
    e.line(&format!("  {at} = arith.muli {b}, {cg} : index"));
    let xv = e.fresh("xv");
    e.line(&format!("  {xv} = vector.transfer_read {}[{c0}, {at}], {pad} {{in_bounds = [true]}} : {}, {vg}", x.0, x.1.tensor()));
    let ab = e.fresh("xabs");
    e.line(&format!("  {ab} = math.absf {xv} : {vg}"));
    let amax = e.fresh("xmax");
    e.line(&format!("  {amax} = vector.reduction <maximumf>, {ab} : {vg} into f32"));
    let d = e.fresh("xd");
    e.line(&format!("  {d} = arith.divf {amax}, {c127} : f32"));
    let (pos, inv0, inv) = (e.fresh("xpos"), e.fresh("xinv0"), e.fresh("xinv"));
    e.line(&format!("  {pos} = arith.cmpf ogt, {amax}, {cz} : f32"));
    e.line(&format!("  {inv0} = arith.divf {c127}, {amax} : f32"));
    e.line(&format!("  {inv} = arith.select {pos}, {inv0}, {cz} : f32"));
    let (ib, sc, rd, q) = (e.fresh("xib"), e.fresh("xsc"), e.fresh("xrd"), e.fresh("xq"));
    e.line(&format!("  {ib} = vector.broadcast {inv} : f32 to {vg}"));
    e.line(&format!("  {sc} = arith.mulf {xv}, {ib} : {vg}"));
    // Round to nearest, ties to even, in plain f32 arithmetic (no libm call, so the NVPTX
    // route lowers it too): |sc| ≤ 127, and adding then subtracting 1.5·2²³ leaves the
    // integer nearest to sc (the ops carry no fast-math flags, so neither is folded).
    let (big, up) = (e.fresh("xbig"), e.fresh("xup"));
    e.line(&format!("  {big} = arith.constant dense<12582912.0> : {vg}"));
    e.line(&format!("  {up} = arith.addf {sc}, {big} : {vg}"));
    e.line(&format!("  {rd} = arith.subf {up}, {big} : {vg}"));
    e.line(&format!("  {q} = arith.fptosi {rd} : {vg} to vector<{g}xi8>"));
    let lane_at = e.fresh("xla");
    e.line(&format!("  {lane_at} = affine.apply affine_map<(d0) -> (d0 * {lanes_per_block})>({b})"));
    let vl = format!("vector<{lanes_per_block}xf32>");
    let write = |e: &mut Emitter, v: &str, vty: &str, dest: &str, t: &Tt, at: &str| {
        let r = e.fresh("xw");
        e.line(&format!("  {r} = vector.transfer_write {v}, {dest}[{at}] {{in_bounds = [true]}} : {vty}, {}", t.tensor()));
        r
    };
    let db = e.fresh("xdb");
    e.line(&format!("  {db} = vector.broadcast {d} : f32 to {vl}"));
    let mut yields = vec![write(e, &db, &vl, &args[0], &carried[0].1, &lane_at)];
    // The values widened to i32, for the lane starts and block sums (the signed int8 form
    // needs neither).
    let q32 = e.fresh("xq32");
    if operands != DotOperands::I8 {
        e.line(&format!("  {q32} = arith.extsi {q} : vector<{g}xi8> to vector<{g}xi32>"));
    }
    match w {
        Weights::Int8 { .. } => {
            yields.push(write(e, &q, &format!("vector<{g}xi8>"), &args[1], &carried[1].1, &at));
            if offset {
                // Each lane's 4 values summed, times −128.
                let neg = lane_starts(e, &q32, g, lanes_per_block, &[0, 1, 2, 3], -128);
                yields.push(write(e, &neg, &format!("vector<{lanes_per_block}xi32>"), &args[2], &carried[2].1, &lane_at));
            }
        }
        Weights::Int4 { .. } | Weights::F32(_) => {
            let half_at = e.fresh("xha");
            e.line(&format!("  {half_at} = affine.apply affine_map<(d0) -> (d0 * 16)>({b})"));
            for (h, arg) in [(0, 1), (16, 2)] {
                let part = e.fresh("xh");
                e.line(&format!("  {part} = vector.extract_strided_slice {q} {{offsets = [{h}], sizes = [16], strides = [1]}} : vector<{g}xi8> to vector<16xi8>"));
                yields.push(write(e, &part, "vector<16xi8>", &args[arg], &carried[arg].1, &half_at));
            }
            if symmetric {
                // Lane l of the block meets xq[4l..4l+4] (low nibbles) and xq[16+4l..]
                // (high ones): its start is −8 times their sum.
                let neg = lane_starts(e, &q32, g, lanes_per_block, &[0, 1, 2, 3, 16, 17, 18, 19], -8);
                yields.push(write(e, &neg, &format!("vector<{lanes_per_block}xi32>"), &args[3], &carried[3].1, &lane_at));
            } else {
                let total = e.fresh("xsum");
                e.line(&format!("  {total} = vector.reduction <add>, {q32} : vector<{g}xi32> into i32"));
                let (tf, ds, sb) = (e.fresh("xsf"), e.fresh("xds"), e.fresh("xsb"));
                e.line(&format!("  {tf} = arith.sitofp {total} : i32 to f32"));
                e.line(&format!("  {ds} = arith.mulf {d}, {tf} : f32"));
                e.line(&format!("  {sb} = tensor.insert {ds} into {}[{b}] : {}", args[3], carried[3].1.tensor()));
                yields.push(sb);
            }
        }
    }
    e.line(&format!("  scf.yield {} : {types}", yields.join(", ")));
    e.line("}");
    let out = |i: usize| (format!("{res}#{i}"), carried[i].1.clone());
    let kind = match w {
        Weights::Int8 { .. } => XKind::Int8 { xq: out(1), neg: offset.then(|| out(2)) },
        Weights::Int4 { .. } | Weights::F32(_) if symmetric => XKind::Int4 { xlo: out(1), xhi: out(2), sb: None, neg: Some(out(3)) },
        Weights::Int4 { .. } | Weights::F32(_) => XKind::Int4 { xlo: out(1), xhi: out(2), sb: Some(out(3)), neg: None },
    };
    XBlocks { dl: out(0), kind }
}
