//! The project's pass registry: every pass agentc owns, by flag name.
//!
//! MLIR's C API cannot register external passes for textual pipelines, so agentc keeps its
//! own table (name → entry point) and its own pipeline syntax (`pipeline.rs`); names not in
//! the table are handed to MLIR's own pipeline parser. A pass file is
//! `passes/<level>/<verb_object>.rs`, its flag `<level>-<verb>-<object>`, its lit test
//! `lit-tests/<level>/<flag>.mlir`.

use crate::ir::Op;

pub mod fragment;
pub mod kernel;
pub mod tensor;
pub mod workflow;

/// A pass failed; it has already emitted its diagnostics through the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassFailed;

/// What passes may need from outside the IR: where the `.agent` file's relative model
/// folders are, and the scheduling target and objective.
#[derive(Clone, Debug, Default)]
pub struct PassContext {
    /// The folder model paths (`hf("models/x")`) are relative to.
    pub base_dir: std::path::PathBuf,
    /// The target name or TOML path for `fragment-schedule` (default: the `host` preset).
    pub target: Option<String>,
    /// `--objective` override (`latency` or `cost`).
    pub objective: Option<String>,
    /// `--sla` override, in seconds.
    pub sla_seconds: Option<f64>,
    /// `--sla-basis`: what the SLA is judged on when the program branches (default: the
    /// worst path).
    pub sla_basis: agentc_scheduler::SlaBasis,
    /// The x86-64 CPU the kernels are compiled for (`--cpu`); `None`: the host CPU.
    /// `convert-tensor-to-kernel` asks it for AVX-512 (the GEMM's vector width and
    /// register tiles) and AVX512-VNNI (the int8 kernels' byte form), `kernel-x86-vnni`
    /// for AVX512-VNNI, `kernel-x86-avx2-dot` for AVX2.
    pub cpu: Option<String>,
}

/// One registered pass.
pub struct PassInfo {
    /// The flag (`workflow-canonicalize`).
    pub name: &'static str,
    /// One line: what it does, its input invariant and its output.
    pub summary: &'static str,
    /// Runs the pass on a `builtin.module`.
    pub run: fn(Op, &PassContext) -> Result<(), PassFailed>,
}

/// Every pass of agentc, in pipeline order within each level.
pub static REGISTRY: &[PassInfo] = &[
    PassInfo {
        name: "workflow-canonicalize",
        summary: "folds literal text, list and arithmetic built-ins, folds `if` on constant \
                  conditions, and removes unused pure values (dead lets)",
        run: workflow::canonicalize::canonicalize,
    },
    PassInfo {
        name: "workflow-inline-agents",
        summary: "inlines every call of a sub-agent into its caller and removes agents no \
                  longer called (main stays); agents form a DAG, so this terminates",
        run: workflow::inline_agents::inline_agents,
    },
    PassInfo {
        name: "workflow-eliminate-dead-nodes",
        summary: "removes workflow nodes whose results are unused and that the purity table \
                  says have no effect (greedy generate, embed, pure control), and \
                  declarations that main cannot reach",
        run: workflow::eliminate_dead_nodes::eliminate_dead_nodes,
    },
    PassInfo {
        name: "convert-workflow-to-fragment",
        summary: "the planner: splits model calls into prefill/decode/encode fragments, tool \
                  calls into tool fragments, marks host and compute fragments, and attaches \
                  resource profiles from config.json, trip counts and branch weights",
        run: crate::conversion::workflow_to_fragment::convert_workflow_to_fragment,
    },
    PassInfo {
        name: "fragment-schedule",
        summary: "places every fragment of main on a device of the target (HEFT with \
                  insertion, then an improvement phase for the objective under the SLA), \
                  inserts kv_transfer where prefill and decode split, and records devices, \
                  start/finish estimates and costs",
        run: fragment::schedule::fragment_schedule,
    },
    PassInfo {
        name: "convert-fragment-to-tensor",
        summary: "the models behind prefill/decode/encode fragments become tgraph functions \
                  (Llama: <m>_prefill and <m>_decode_step over a KV cache; BERT: <m>_encode \
                  with mean pooling), weights bound by safetensors name and checked against \
                  config.json; fragments get fragment.kernel",
        run: crate::conversion::fragment_to_tensor::convert_fragment_to_tensor,
    },
    PassInfo {
        name: "tensor-specialize-shapes",
        summary: "propagates static shapes through tgraph ops (from tensor.cast sources and \
                  the ops' shape rules), casting back where a non-tgraph user needs the old type",
        run: tensor::specialize_shapes::specialize_shapes,
    },
    PassInfo {
        name: "tensor-fuse-norm-matmul",
        summary: "groups an rmsnorm/layernorm with each matmul it feeds (duplicating the norm \
                  per matmul) into a fusion group",
        run: tensor::fuse_norm_matmul::fuse_norm_matmul,
    },
    PassInfo {
        name: "tensor-fuse-matmul-bias-activation",
        summary: "groups a matmul with the bias add and the activation (silu, gelu) that \
                  follow it into a fusion group",
        run: tensor::fuse_matmul_bias_activation::fuse_matmul_bias_activation,
    },
    PassInfo {
        name: "tensor-fuse-elementwise",
        summary: "groups chains of single-use elementwise ops, with the producer they \
                  consume (an epilogue), into fusion groups",
        run: tensor::fuse_elementwise::fuse_elementwise,
    },
    PassInfo {
        name: "tensor-eliminate-dead-values",
        summary: "removes tgraph ops, constants and casts whose results are unused",
        run: tensor::eliminate_dead_values::eliminate_dead_values,
    },
    PassInfo {
        name: "convert-tensor-to-kernel",
        summary: "tensor fns (tgraph) become per-workgroup kernels in linalg on tensors \
                  (func.func {kernel.grid, kernel.target}, kernel.workgroup_id, outputs in \
                  destination-passing style) plus the transform script that tiles and \
                  vectorises them; the linear layers' register tiles follow the CPU's vector \
                  registers (--cpu, else the host: AVX-512 or AVX2)",
        run: crate::conversion::tensor_to_kernel::convert_tensor_to_kernel,
    },
    PassInfo {
        name: "kernel-drop-transform-scripts",
        summary: "erases the transform-script modules once transform-interpreter has applied them",
        run: crate::conversion::tensor_to_kernel::drop_transform_scripts,
    },
    PassInfo {
        name: "kernel-lower-workgroup-ids",
        summary: "cpu kernels: kernel.workgroup_id becomes a trailing index argument and \
                  kernel.num_workgroups a constant from kernel.grid (the runtime's calling \
                  convention), before the upstream conversions to LLVM",
        run: crate::codegen::lower_workgroup_ids,
    },
    PassInfo {
        name: "kernel-outline-gpu",
        summary: "nvptx: moves every kernel into gpu.module @kernels as a gpu.func kernel \
                  (kernel.workgroup_id becomes gpu.block_id x, one thread per workgroup)",
        run: crate::codegen::gpu::outline_gpu,
    },
    PassInfo {
        name: "kernel-pack-buffers",
        summary: "after bufferisation: a function's fixed-size intermediates (entry-block \
                  memref.allocs of static shape) become memref.views of one allocation per \
                  call, sharing bytes where their lifetimes do not overlap",
        run: kernel::pack_buffers::pack_buffers,
    },
    PassInfo {
        name: "kernel-free-buffers",
        summary: "after bufferisation: frees every memref.alloc (a kernel's intermediates) \
                  with a memref.dealloc before its block's terminator",
        run: crate::conversion::tensor_to_kernel::free_buffers,
    },
    PassInfo {
        name: "kernel-guard-argument-copies",
        summary: "after bufferisation: a whole-buffer memref.copy from one function argument \
                  into another runs only when their aligned pointers differ (a caller may \
                  pass the decode step's caches as both input and output)",
        run: kernel::guard_argument_copies::guard_argument_copies,
    },
    PassInfo {
        name: "kernel-coarsen-parallel-loops",
        summary: "cpu kernels, before async-parallel-for: each one-dimensional scf.parallel \
                  runs as min(iterations, worker threads) contiguous parts (the worker count \
                  asked at run time), so a loop makes one task per thread instead of up to \
                  8; every iteration computes the same values",
        run: kernel::coarsen_parallel_loops::coarsen_parallel_loops,
    },
    PassInfo {
        name: "kernel-noinline-parallel-bodies",
        summary: "LLVM dialect: the outlined bodies of parallel loops (parallel_compute_fn…) \
                  get no_inline, so LLVM vectorises each as a function of its own instead of \
                  inside an async coroutine, where the frame defeats alias analysis",
        run: kernel::noinline_parallel_bodies::noinline_parallel_bodies,
    },
    PassInfo {
        name: "kernel-x86-vnni",
        summary: "cpu kernels: the byte dot-product helpers of the int8-activation decode \
                  kernels (kernel.dot_u8i8) get one vpdpbusd as their body when the CPU \
                  (--cpu, else the host) has AVX512-VNNI; the same sums, faster",
        run: kernel::x86_vnni::x86_vnni,
    },
    PassInfo {
        name: "kernel-x86-avx2-dot",
        summary: "cpu kernels: the byte dot-product helpers kernel-x86-vnni left generic get \
                  vpmaddubsw + vpmaddwd as their body when the CPU (--cpu, else the host) \
                  has AVX2 (unsigned bytes split into exact nibble halves); the same sums, faster",
        run: kernel::x86_avx2_dot::x86_avx2_dot,
    },
];

/// The registered pass called `name`.
pub fn lookup(name: &str) -> Option<&'static PassInfo> {
    REGISTRY.iter().find(|p| p.name == name)
}
