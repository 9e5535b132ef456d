//! The transform-dialect script that tiles and vectorises the tagged linalg ops.

use std::fmt::Write;

use super::Kernel;

/// How one tagged linalg op is tiled by the transform script.
pub(super) enum Tiling {
    /// Tile sizes over the op's loops (0 = not tiled).
    Loops(Vec<i64>),
    /// A matmul: K cache tile, then the register tile `[m, n, 1]`.
    Matmul { k_tile: i64, k: i64, m: i64, n: i64 },
    /// Split over threads (`threads.rs`): `scf.forall` tiles of these sizes (0 = not
    /// split), made after the function is vectorised so that the tiles stay scalar loops;
    /// the LLVM-dialect pipeline runs them in parallel (`async-parallel-for`, the
    /// runtime's `async_runtime.rs`).
    Threads(Vec<i64>),
}

/// The transform script tiling every tagged op of `kernel` (inside one named sequence
/// matching by `kernel.op` within each function).
pub(super) fn transform_script(kernels: &[(String, Kernel)]) -> String {
    let any = "!transform.any_op";
    let mut s = String::new();
    let _ = writeln!(s, "  module attributes {{transform.with_named_sequence}} {{");
    let _ = writeln!(s, "    transform.named_sequence @__transform_main(%root: {any} {{transform.readonly}}) {{");
    let mut n = 0;
    for (name, kernel) in kernels {
        n += 1;
        let _ = writeln!(
            s,
            "      %f{n} = transform.structured.match ops{{[\"func.func\"]}} attributes{{sym_name = \"{name}\"}} in %root : ({any}) -> {any}"
        );
        for (tag, tiling) in &kernel.tilings {
            let _ = writeln!(
                s,
                "      %o{n}_{tag} = transform.structured.match attributes{{kernel.op = {tag} : i64}} in %f{n} : ({any}) -> {any}"
            );
            let mut tile = |handle: String, sizes: &[i64], suffix: &str| -> String {
                let loops = sizes.iter().filter(|x| **x != 0).count();
                let list = sizes.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
                let out = format!("%t{n}_{tag}{suffix}");
                let types = std::iter::repeat_n(any, loops + 1).collect::<Vec<_>>().join(", ");
                let lhs = if loops > 0 { format!("{out}, %l{n}_{tag}{suffix}:{loops}") } else { out.clone() };
                let lhs = if loops == 1 { format!("{out}, %l{n}_{tag}{suffix}") } else { lhs };
                let _ = writeln!(s, "      {lhs} = transform.structured.tile_using_for {handle} tile_sizes [{list}] : ({any}) -> ({types})");
                out
            };
            match tiling {
                Tiling::Loops(sizes) if sizes.iter().any(|x| *x != 0) => {
                    tile(format!("%o{n}_{tag}"), sizes, "");
                }
                Tiling::Loops(_) => {}
                // Split over threads after vectorisation (below).
                Tiling::Threads(_) => {}
                Tiling::Matmul { k_tile, k, m, n: nn } => {
                    let h = if k_tile < k { tile(format!("%o{n}_{tag}"), &[0, 0, *k_tile], "k") } else { format!("%o{n}_{tag}") };
                    tile(h, &[*m, *nn, 1], "r");
                }
            }
        }
        let _ = writeln!(s, "      %fv{n} = transform.structured.vectorize_children_and_apply_patterns %f{n} : ({any}) -> {any}");
        let _ = writeln!(s, "      transform.apply_patterns to %fv{n} {{");
        let _ = writeln!(s, "        transform.apply_patterns.canonicalization");
        let _ = writeln!(s, "        transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers");
        let _ = writeln!(s, "      }} : {any}");
        let _ = writeln!(s, "      %loops{n} = transform.structured.match ops{{[\"scf.for\"]}} in %fv{n} : ({any}) -> {any}");
        let _ = writeln!(s, "      transform.loop.hoist_loop_invariant_subsets %loops{n} : {any}");
        let _ = writeln!(s, "      transform.apply_patterns to %fv{n} {{");
        let _ = writeln!(s, "        transform.apply_patterns.vector.lower_contraction lowering_strategy = \"outerproduct\"");
        let _ = writeln!(s, "        transform.apply_patterns.vector.transfer_permutation_patterns");
        let _ = writeln!(s, "        transform.apply_patterns.vector.lower_outerproduct");
        let _ = writeln!(s, "        transform.apply_patterns.vector.lower_multi_reduction lowering_strategy = \"innerreduction\"");
        let _ = writeln!(s, "      }} : {any}");
        // Thread tiles last: the tiled op is then not vectorised (a static tile would be
        // unrolled into one vector op per element of W's tile, which made a 30-layer model
        // take an hour in LLVM), and stays scalar loops whose innermost loop LLVM vectorises.
        for (tag, tiling) in &kernel.tilings {
            if let Tiling::Threads(sizes) = tiling {
                let list = sizes.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
                let _ = writeln!(
                    s,
                    "      %p{n}_{tag} = transform.structured.match attributes{{kernel.op = {tag} : i64}} in %fv{n} : ({any}) -> {any}"
                );
                let _ = writeln!(
                    s,
                    "      %t{n}_{tag}p, %l{n}_{tag}p = transform.structured.tile_using_forall %p{n}_{tag} tile_sizes [{list}] : ({any}) -> ({any}, {any})"
                );
            }
        }
    }
    let _ = writeln!(s, "      transform.yield\n    }}\n  }}");
    s
}

