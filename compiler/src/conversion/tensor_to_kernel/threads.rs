//! Linear layers and attention split over the runtime's threads: the one place that turns
//! "a linear layer over W's rows" into parallel tiles, for every op that reads a weight
//! matrix row by row (`x · Wᵀ` in `basic.rs`, the int8/int4 linear layers of
//! `quantized.rs`; `gemm.rs` writes the same split by hand), and attention's two products
//! into one tile per head (`attention.rs`).
//!
//! A model function (prefill, decode step, encode) is one workgroup (`kernel.grid = 1`), so
//! its parallelism lives inside it: a linear layer's generic is tiled with `scf.forall` over
//! W's output rows, after the transform script has vectorised the rest of the function
//! (`transform.rs`), so each tile stays scalar loops whose innermost loop (along a row of W
//! and a row of x, both contiguous) LLVM vectorises. The LLVM-dialect pipeline runs the
//! tiles in parallel (`async-parallel-for`, on the runtime's `async_runtime.rs`).

use super::transform::Tiling;

/// Rows of W per parallel tile: 32 rows of a 576-wide f32 W are 72 KiB, enough work per
/// tile (about 10 µs of memory traffic) to hide the dispatch, and fine enough that two or
/// more threads balance; `async-parallel-for` groups consecutive tiles into one task per
/// block, so a 49152-row lm_head does not make 1536 tasks.
pub(super) const TILE_ROWS: i64 = 32;

/// The tiling of a linear layer whose iteration space has `loops` dimensions, W's `rows`
/// output rows being dimension `row_dim`: `scf.forall` tiles of [`TILE_ROWS`] rows, the
/// other dimensions whole. Layers narrower than two tiles stay on one thread (untiled).
pub(super) fn over_weight_rows(rows: i64, row_dim: usize, loops: usize) -> Tiling {
    if rows < 2 * TILE_ROWS {
        return Tiling::Loops(vec![]);
    }
    let mut sizes = vec![0; loops];
    sizes[row_dim] = TILE_ROWS;
    Tiling::Threads(sizes)
}

/// The tiling of an attention product whose iteration space has `loops` dimensions, the
/// query head being dimension `head_dim`: one `scf.forall` tile per head (a model has 4 to
/// 32 heads, a few per thread), the other dimensions whole. Each output element is still
/// computed by one thread in the same order, so the split does not change the numerics.
pub(super) fn over_heads(head_dim: usize, loops: usize) -> Tiling {
    let mut sizes = vec![0; loops];
    sizes[head_dim] = 1;
    Tiling::Threads(sizes)
}
