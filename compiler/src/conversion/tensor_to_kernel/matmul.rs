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

/// The per-workgroup matmul kernel (MLIR-NOTES §2): C tile (wg / nj, wg mod nj).
pub(super) fn matmul_kernel(name: &str, m: i64, k: i64, n: i64, elem: &str) -> Kernel {
    let wm = pick(m, &[64, 32, 16, 8, 4]);
    let wn = pick(n, &[256, 128, 64, 32, 16, 8]);
    let (gi, gj) = (m / wm, n / wn);
    let a = format!("tensor<{m}x{k}x{elem}>");
    let b = format!("tensor<{k}x{n}x{elem}>");
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
    let _ = writeln!(text, "    %b = tensor.extract_slice %arg1[0, %j] [{k}, {wn}] [1, 1] : {b} to tensor<{k}x{wn}x{elem}>");
    let _ = writeln!(text, "    %cs = memref.subview %out0[%i, %j] [{wm}, {wn}] [1, 1] : {c} to {cs}");
    let _ = writeln!(text, "    %c = bufferization.to_tensor %cs restrict writable : {cs} to {ct}");
    let _ = writeln!(text, "    %zero = arith.constant 0.0 : {elem}");
    let _ = writeln!(text, "    %cz = linalg.fill {{kernel.op = 1 : i64}} ins(%zero : {elem}) outs(%c : {ct}) -> {ct}");
    let _ = writeln!(
        text,
        "    %r = linalg.matmul {{kernel.op = 2 : i64}} ins(%a, %b : tensor<{wm}x{k}x{elem}>, tensor<{k}x{wn}x{elem}>) outs(%cz : {ct}) -> {ct}"
    );
    let _ = writeln!(text, "    bufferization.materialize_in_destination %r in restrict writable %cs : ({ct}, {cs}) -> ()");
    let _ = writeln!(text, "    return\n  }}");
    let (rm, rn) = (pick(wm, &[4, 2, 1]), pick(wn, &[64, 32, 16, 8, 4, 2, 1]));
    Kernel {
        text,
        tilings: vec![
            (1, Tiling::Loops(vec![rm, rn])),
            (2, Tiling::Matmul { k_tile: pick(k, &[256, 128, 64]), k, m: rm, n: rn }),
        ],
    }
}

