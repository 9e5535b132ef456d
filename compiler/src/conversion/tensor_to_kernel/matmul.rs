//! A function that is exactly one static 2-D matmul becomes a grid of output tiles.

use std::fmt::Write;

use super::emitter::*;
use super::transform::Tiling;
use super::Kernel;
use crate::ir::{Op, Val};

/// Is `func` exactly `return matmul(arg0, arg1)` on static 2-D f32 operands? Then
/// (M, K, N).
pub(super) fn single_matmul(func: Op) -> Option<(i64, i64, i64, String)> {
    let entry = func.region_entry(0)?;
    let ops = entry.ops();
    let args = entry.arguments();
    if ops.len() != 2 || ops[0].name() != "tgraph.matmul" || args.len() != 2 {
        return None;
    }
    let mm = ops[0];
    let same = |a: Val, b: Val| a.0.ptr == b.0.ptr;
    if !same(mm.operand(0), args[0]) || !same(mm.operand(1), args[1]) || ops[1].operand_count() != 1 || !same(ops[1].operand(0), mm.result(0)) {
        return None;
    }
    let (a, b) = (Tt::of(args[0])?, Tt::of(args[1])?);
    if a.rank() != 2 || b.rank() != 2 || !a.is_static() || !b.is_static() || !a.is_float() || a.elem != b.elem {
        return None;
    }
    Some((a.shape[0], a.shape[1], b.shape[1], a.elem))
}

/// How a matmul is split: the workgroup (output) tile `wm × wn`, the K cache tile, the
/// register tile `rm × rn`, and whether the workgroup first copies its B panel (K × wn)
/// into a contiguous buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tiles {
    wm: i64,
    wn: i64,
    kt: i64,
    rm: i64,
    rn: i64,
    pack_b: bool,
}

/// The tiles for an M×K×N matmul.
///
/// N ≥ 256 and K ≥ 256 (and 64 | M, N): B rows 1 KiB or more apart make the
/// register tile's K × 64 B panel conflict in L1 (every row maps to the same few sets) and
/// touch one page per row at N = 1024, so each workgroup is a tall (up to 256) × 64 strip
/// that first copies its B panel into a contiguous K × 64 buffer (256-byte rows) and
/// reuses it over all its rows (the copy is 1/256 of the work), with a K tile of 128 (a
/// 32 KiB B block). 1.4× the unpacked split at 1024³ (docs/codegen-benchmark.md).
/// Otherwise: 64 × up to 256 workgroup tiles read straight from B (MLIR-NOTES §1–§2), K
/// tile up to 256, register tile 4 × 64 (or what divides).
fn choose(m: i64, k: i64, n: i64) -> Tiles {
    if let Some(t) = override_tiles(m, k, n) {
        return t;
    }
    if n >= 256 && k >= 256 && n % 64 == 0 && m % 64 == 0 {
        let wm = pick(m, &[256, 128, 64]);
        return Tiles { wm, wn: 64, kt: pick(k, &[128, 64]), rm: 4, rn: 64, pack_b: true };
    }
    let wm = pick(m, &[64, 32, 16, 8, 4]);
    let wn = pick(n, &[256, 128, 64, 32, 16, 8]);
    Tiles { wm, wn, kt: pick(k, &[256, 128, 64]), rm: pick(wm, &[4, 2, 1]), rn: pick(wn, &[64, 32, 16, 8, 4, 2, 1]), pack_b: false }
}

/// Benchmarking knob (tools/bench-kernels): `AGENTC_MATMUL_TILES=wm,wn,kt,pack` (pack 0
/// or 1; register tile 4 × 64) overrides [`choose`] when it divides the shape.
fn override_tiles(m: i64, k: i64, n: i64) -> Option<Tiles> {
    let text = std::env::var("AGENTC_MATMUL_TILES").ok()?;
    let v: Vec<i64> = text.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    let [wm, wn, kt, pack] = v[..] else { return None };
    let (wm, wn, kt) = (wm.min(m), wn.min(n), kt.min(k));
    if m % wm != 0 || n % wn != 0 || k % kt != 0 || wm % 4 != 0 || wn % 64 != 0 {
        return None;
    }
    Some(Tiles { wm, wn, kt, rm: 4, rn: 64, pack_b: pack != 0 })
}

/// The per-workgroup matmul kernel (MLIR-NOTES §2): C tile (wg / nj, wg mod nj).
pub(super) fn matmul_kernel(name: &str, m: i64, k: i64, n: i64, elem: &str) -> Kernel {
    let Tiles { wm, wn, kt, rm, rn, pack_b } = choose(m, k, n);
    let (gi, gj) = (m / wm, n / wn);
    let a = format!("tensor<{m}x{k}x{elem}>");
    let b = format!("tensor<{k}x{n}x{elem}>");
    let bt = format!("tensor<{k}x{wn}x{elem}>");
    let c = format!("memref<{m}x{n}x{elem}>");
    let cs = format!("memref<{wm}x{wn}x{elem}, strided<[{n}, 1], offset: ?>>");
    let ct = format!("tensor<{wm}x{wn}x{elem}>");
    let mut text = String::new();
    let _ = writeln!(
        text,
        "  func.func @{name}(%arg0: {a}, %arg1: {b}, %out0: {c}) attributes {{kernel.grid = array<i64: {}>, kernel.target = \"cpu\", llvm.emit_c_interface}} {{",
        gi * gj
    );
    let _ = writeln!(text, "    %wg = \"kernel.workgroup_id\"() {{dim = 0 : i64}} : () -> index");
    let _ = writeln!(text, "    %i = affine.apply affine_map<(d0) -> ((d0 floordiv {gj}) * {wm})>(%wg)");
    let _ = writeln!(text, "    %j = affine.apply affine_map<(d0) -> ((d0 mod {gj}) * {wn})>(%wg)");
    let _ = writeln!(text, "    %a = tensor.extract_slice %arg0[%i, 0] [{wm}, {k}] [1, 1] : {a} to tensor<{wm}x{k}x{elem}>");
    let _ = writeln!(text, "    %b = tensor.extract_slice %arg1[0, %j] [{k}, {wn}] [1, 1] : {b} to {bt}");
    let bin = if pack_b {
        // The B panel, copied into a contiguous K × wn buffer (bufferised to one aligned
        // allocation, freed by kernel-free-buffers).
        let _ = writeln!(text, "    %be = tensor.empty() : {bt}");
        let _ = writeln!(text, "    %bp = linalg.copy {{kernel.op = 3 : i64}} ins(%b : {bt}) outs(%be : {bt}) -> {bt}");
        "%bp"
    } else {
        "%b"
    };
    let _ = writeln!(text, "    %cs = memref.subview %out0[%i, %j] [{wm}, {wn}] [1, 1] : {c} to {cs}");
    let _ = writeln!(text, "    %c = bufferization.to_tensor %cs restrict writable : {cs} to {ct}");
    let _ = writeln!(text, "    %zero = arith.constant 0.0 : {elem}");
    let _ = writeln!(text, "    %cz = linalg.fill {{kernel.op = 1 : i64}} ins(%zero : {elem}) outs(%c : {ct}) -> {ct}");
    let _ = writeln!(
        text,
        "    %r = linalg.matmul {{kernel.op = 2 : i64}} ins(%a, {bin} : tensor<{wm}x{k}x{elem}>, {bt}) outs(%cz : {ct}) -> {ct}"
    );
    let _ = writeln!(text, "    bufferization.materialize_in_destination %r in restrict writable %cs : ({ct}, {cs}) -> ()");
    let _ = writeln!(text, "    return\n  }}");
    let mut tilings = vec![(1, Tiling::Loops(vec![rm, rn])), (2, Tiling::Matmul { k_tile: kt, k, m: rm, n: rn })];
    if pack_b {
        tilings.push((3, Tiling::Loops(vec![pick(k, &[8, 4, 2, 1]), rn.min(wn)])));
    }
    Kernel { text, tilings, helpers: Default::default() }
}
