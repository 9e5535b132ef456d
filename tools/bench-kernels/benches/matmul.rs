//! Generated matmul kernels against the `gemm` crate, in the same run.
//!
//! For each shape the tensor fn `matmul(a, b) = a x b` goes through agentc's own pipeline
//! (convert-tensor-to-kernel → transform-script tiling/vectorisation → bufferisation →
//! LLVM → inkwell, host CPU, -O3), the object is linked into a shared library with
//! clang-22 and loaded with libloading. Multi-threaded runs spread the workgroups over
//! `std::thread` workers, as the runtime will. Prints GFLOP/s (median of several runs)
//! and the ratio generated / gemm, for the compiler's tiling and a forced baseline tiling
//! (see `variants`). Run: `cargo bench -p bench-kernels --bench matmul` (optional
//! arguments: thread count, e.g. `cargo bench -p bench-kernels --bench matmul -- 2`).

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use agentc_compiler::codegen::{self, Artifact, CodegenOptions};
use agentc_compiler::conversion::tensor_to_kernel::extract_tensor_fns;
use agentc_compiler::ir::Op;
use agentc_compiler::passes::PassContext;
use agentc_compiler::pipeline::{PassRunner, RunOptions};
use melior::ir::Module;

#[repr(C)]
struct Desc2 {
    allocated: *mut f32,
    aligned: *mut f32,
    offset: i64,
    sizes: [i64; 2],
    strides: [i64; 2],
}

type Kernel = unsafe extern "C" fn(*const Desc2, *const Desc2, *const Desc2, i64);

fn desc(data: &[f32], rows: usize, cols: usize) -> Desc2 {
    let p = data.as_ptr() as *mut f32;
    Desc2 { allocated: p, aligned: p, offset: 0, sizes: [rows as i64, cols as i64], strides: [cols as i64, 1] }
}

/// Compiles `matmul_MxKxN` to an object with agentc; returns (object bytes, grid).
fn compile(m: usize, k: usize, n: usize) -> (Vec<u8>, i64) {
    let name = format!("mm_{m}x{k}x{n}");
    let text = format!(
        "module {{\n  func.func private @{name}(%a: tensor<{m}x{k}xf32>, %b: tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32> attributes {{workflow.fn}} {{\n    %c = \"tgraph.matmul\"(%a, %b) : (tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32>\n    return %c : tensor<{m}x{n}xf32>\n  }}\n}}\n"
    );
    let context = agentc_compiler::context::create_context().expect("MLIR context");
    let mut module = Module::parse(&context, &text).expect("tensor module parses");
    let op = Op::of(&module.as_operation());
    extract_tensor_fns(op);
    let mut runner = PassRunner::new(&context, RunOptions::default(), PassContext::default());
    runner.run(&mut module, &agentc_compiler::kernel_pipeline()).expect("kernel pipeline");
    let grid_attr = agentc_compiler::ir::module_ops(op)
        .into_iter()
        .find_map(|f| f.attribute("kernel.grid").map(|a| a.to_string()))
        .expect("kernel.grid");
    let grid: i64 = grid_attr.trim_start_matches("array<i64:").trim_end_matches('>').trim().parse().expect("1-D grid");
    runner.run(&mut module, &agentc_compiler::llvm_dialect_pipeline()).expect("LLVM pipeline");
    let object = codegen::emit_cpu(op, &CodegenOptions { opt: 3, cpu: None }, Artifact::Object).expect("codegen");
    (object, grid)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

/// Seconds per call of `f`, median over repetitions sized to ~0.3 s per sample.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-7);
    let reps = ((0.3 / once) as usize).clamp(1, 10_000);
    let samples = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                f();
            }
            start.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    median(samples)
}

/// The tilings compared in one run: the compiler's choice, and (`BENCH_BASELINE`, default
/// the pre-packing split `64,256,256,0`, empty to skip) a fixed one forced through
/// `AGENTC_MATMUL_TILES=wm,wn,kt,pack` (see compiler/src/conversion/tensor_to_kernel/matmul.rs);
/// `BENCH_VARIANTS="wm,wn,kt,pack;..."` adds more.
fn variants() -> Vec<(String, Option<String>)> {
    let mut v = vec![("default".to_string(), None)];
    let base = std::env::var("BENCH_BASELINE").unwrap_or_else(|_| "64,256,256,0".into());
    let extra = std::env::var("BENCH_VARIANTS").unwrap_or_default();
    for t in base.split(';').chain(extra.split(';')).map(str::trim).filter(|t| !t.is_empty()) {
        v.push((t.to_string(), Some(t.to_string())));
    }
    v
}

fn main() {
    let threads: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let dir = std::env::temp_dir().join(format!("agentc-bench-kernels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let shapes: Vec<(usize, usize, usize)> = match std::env::var("BENCH_SHAPES") {
        Ok(list) => list
            .split(';')
            .filter_map(|s| {
                let d: Vec<usize> = s.split('x').filter_map(|x| x.trim().parse().ok()).collect();
                (d.len() == 3).then(|| (d[0], d[1], d[2]))
            })
            .collect(),
        Err(_) => vec![(64, 64, 64), (64, 64, 128), (256, 256, 256), (1024, 1024, 1024)],
    };
    let variants = variants();
    println!("generated matmul (agentc, host CPU, -O3) vs gemm crate; f32; GFLOP/s, median of 5");
    println!(
        "{:>16} {:>16} {:>7} {:>6} {:>11} {:>11} {:>7}",
        "M x K x N", "tiling", "threads", "grid", "agentc", "gemm", "ratio"
    );
    for (m, k, n) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 8.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0).collect();
        let mut want = vec![0f32; m * n];
        let flops = 2.0 * (m * k * n) as f64;
        let mut kernels = Vec::new();
        for (label, tiles) in &variants {
            // SAFETY: single-threaded here (no kernel or gemm call is running).
            unsafe {
                match tiles {
                    Some(t) => std::env::set_var("AGENTC_MATMUL_TILES", t),
                    None => std::env::remove_var("AGENTC_MATMUL_TILES"),
                }
            }
            let (object, grid) = compile(m, k, n);
            let tag = format!("{m}x{k}x{n}_{}", kernels.len());
            let obj = dir.join(format!("mm_{tag}.o"));
            let lib = dir.join(format!("libmm_{tag}.so"));
            std::fs::write(&obj, &object).expect("write object");
            link(&obj, &lib);
            let library = unsafe { libloading::Library::new(&lib) }.expect("load kernel library");
            let symbol = format!("_mlir_ciface_mm_{m}x{k}x{n}");
            let kernel: Kernel = unsafe { *library.get::<Kernel>(symbol.as_bytes()).expect("kernel symbol") };
            kernels.push((label.clone(), kernel, grid, library));
        }
        unsafe { std::env::remove_var("AGENTC_MATMUL_TILES") };
        let mut ts = vec![1];
        if threads > 1 {
            ts.push(threads);
        }
        for t in ts {
            let parallelism = if t == 1 { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(t) };
            let mut gemm_call = || unsafe {
                gemm::gemm(
                    m, n, k,
                    want.as_mut_ptr(), 1, n as isize, false,
                    a.as_ptr(), 1, k as isize,
                    b.as_ptr(), 1, n as isize,
                    0.0f32, 1.0f32, false, false, false, parallelism,
                )
            };
            // gemm is timed before and after the variants; its median of the two is the
            // baseline (the machine is shared and drifts).
            let before = time(&mut gemm_call);
            let mut rows = Vec::new();
            for (label, kernel, grid, _) in &kernels {
                let c = vec![0f32; m * n];
                let (da, db, dc) = (desc(&a, m, k), desc(&b, k, n), desc(&c, m, n));
                let ours = time(|| run_workgroups(*kernel, &da, &db, &dc, *grid, t));
                rows.push((label.clone(), *grid, ours));
            }
            let after = time(&mut gemm_call);
            let theirs = (before + after) / 2.0;
            for (label, grid, ours) in rows {
                let (g_ours, g_theirs) = (flops / ours / 1e9, flops / theirs / 1e9);
                println!(
                    "{:>16} {:>16} {:>7} {:>6} {:>11.1} {:>11.1} {:>7.2}",
                    format!("{m}x{k}x{n}"),
                    label,
                    t,
                    grid,
                    g_ours,
                    g_theirs,
                    g_ours / g_theirs
                );
            }
        }
        // Every generated result agrees with gemm's.
        for (label, kernel, grid, _) in &kernels {
            let c = vec![0f32; m * n];
            run_workgroups(*kernel, &desc(&a, m, k), &desc(&b, k, n), &desc(&c, m, n), *grid, 1);
            let worst = c.iter().zip(&want).map(|(x, y)| (x - y).abs() / (1e-5 + 1e-4 * y.abs())).fold(0f32, f32::max);
            assert!(worst <= 1.0, "generated matmul {m}x{k}x{n} ({label}) disagrees with gemm (worst error/tolerance {worst})");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs every workgroup of the grid: on the caller (1 thread) or over `threads` scoped
/// workers taking workgroup ids from a shared counter.
fn run_workgroups(kernel: Kernel, a: &Desc2, b: &Desc2, c: &Desc2, grid: i64, threads: usize) {
    if threads <= 1 || grid == 1 {
        for wg in 0..grid {
            unsafe { kernel(a, b, c, wg) };
        }
        return;
    }
    struct Shared<'a>(&'a Desc2, &'a Desc2, &'a Desc2);
    unsafe impl Sync for Shared<'_> {}
    let shared = Shared(a, b, c);
    let next = AtomicI64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let s = &shared;
                loop {
                    let wg = next.fetch_add(1, Ordering::Relaxed);
                    if wg >= grid {
                        break;
                    }
                    unsafe { kernel(s.0, s.1, s.2, wg) };
                }
            });
        }
    });
}

fn link(object: &Path, library: &Path) {
    let status = std::process::Command::new("clang-22")
        .args(["-shared", "-fuse-ld=lld", "-o"])
        .arg(library)
        .arg(object)
        .arg("-lm")
        .status()
        .expect("run clang-22");
    assert!(status.success(), "clang-22 could not link the kernel library");
}
