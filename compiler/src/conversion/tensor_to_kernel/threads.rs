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
/// more threads balance; the CPU pipeline then runs consecutive tiles as one part per
/// worker thread (`kernel-coarsen-parallel-loops`), so a 49152-row lm_head does not make
/// 1536 tasks.
pub(super) const TILE_ROWS: i64 = 32;

/// The width (output columns, i.e. rows of W) of each parallel tile of a hand-written
/// linear layer (`gemm.rs`, `dot_i8.rs`, `matvec_q.rs`) with `n` outputs: [`TILE_ROWS`], or
/// `n` itself (one tile) when `n` is not a multiple of it or fills fewer than two tiles.
pub(super) fn tile_width(n: i64) -> i64 {
    if n >= 2 * TILE_ROWS && n % TILE_ROWS == 0 { TILE_ROWS } else { n }
}

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

/// The parallel loop of a hand-written linear layer (`gemm.rs`, `dot_i8.rs`), opened by
/// [`open_row_tiles`]: an `scf.forall` over tiles of `tj` output columns (rows of W) whose
/// body updates `tile`, the tile's slice of the output.
pub(super) struct RowTiles {
    /// The forall's result: the whole output.
    pub(super) result: String,
    /// The shared output inside the body.
    out: String,
    /// The first row of W of this tile.
    pub(super) j0: String,
    /// The tile's slice of the output (`tensor<?x{tj}xf32>`), to update.
    pub(super) tile: String,
    /// The output type, the slice type, the row count and the tile width.
    out_type: String,
    slice: String,
    m: String,
    tj: i64,
}

/// Opens `scf.forall` over `tiles` tiles of `tj` columns of `init` (type `out_type`, `m`
/// rows): the body starts with the tile's first row of W and its output slice.
pub(super) fn open_row_tiles(e: &mut super::emitter::Emitter, tiles: i64, tj: i64, init: &str, out_type: &str, m: &str) -> RowTiles {
    let (t, out, result) = (e.fresh("rt"), e.fresh("ro"), e.fresh("rows"));
    e.line(&format!("{result} = scf.forall ({t}) in ({tiles}) shared_outs({out} = {init}) -> ({out_type}) {{"));
    let j0 = e.fresh("j0");
    e.line(&format!("  {j0} = affine.apply affine_map<(d0) -> (d0 * {tj})>({t})"));
    let tile = e.fresh("tile");
    let slice = format!("tensor<?x{tj}xf32>");
    e.line(&format!("  {tile} = tensor.extract_slice {out}[0, {j0}] [{m}, {tj}] [1, 1] : {out_type} to {slice}"));
    RowTiles { result, out, j0, tile, out_type: out_type.to_string(), slice, m: m.to_string(), tj }
}

/// Closes the forall of `tiles`: the tile's slice, updated to `updated`, is inserted back.
pub(super) fn close_row_tiles(e: &mut super::emitter::Emitter, tiles: &RowTiles, updated: &str) {
    let RowTiles { out, j0, out_type, slice, m, tj, .. } = tiles;
    e.line("  scf.forall.in_parallel {");
    e.line(&format!("    tensor.parallel_insert_slice {updated} into {out}[0, {j0}] [{m}, {tj}] [1, 1] : {slice} into {out_type}"));
    e.line("  }");
    e.line("}");
}

/// The `n` rows `j0 + jj + q` (q < n) of a block of rows of W, as `index` values.
pub(super) fn block_rows(e: &mut super::emitter::Emitter, j0: &str, jj: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|q| {
            let j = e.fresh("bj");
            e.line(&format!("    {j} = affine.apply affine_map<(d0, d1) -> (d0 + d1 + {q})>({j0}, {jj})"));
            j
        })
        .collect()
}

/// The horizontal sums of the `count` vector accumulators `results#0 ..` (of type `vec`),
/// one f32 output each (`vector.reduction`, reassociable).
pub(super) fn lane_sums(e: &mut super::emitter::Emitter, results: &str, count: usize, vec: &str) -> Vec<String> {
    (0..count)
        .map(|q| {
            let v = e.fresh("ls");
            e.line(&format!("    {v} = vector.reduction <add>, {results}#{q} fastmath<reassoc> : {vec} into f32"));
            v
        })
        .collect()
}

/// Writes a block's outputs `outs` (consecutive rows of W) as one vector into `tile` at
/// `[row, jj]`; returns the updated tile.
pub(super) fn write_block(e: &mut super::emitter::Emitter, outs: &[String], tile: &str, (row, jj): (&str, &str), slice: &str) -> String {
    let n = outs.len();
    let (v, written) = (e.fresh("bv"), e.fresh("bw"));
    e.line(&format!("    {v} = vector.from_elements {} : vector<{n}xf32>", outs.join(", ")));
    e.line(&format!("    {written} = vector.transfer_write {v}, {tile}[{row}, {jj}] {{in_bounds = [true]}} : vector<{n}xf32>, {slice}"));
    written
}
