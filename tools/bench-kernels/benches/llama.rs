//! Prefill and decode-step time of the tiny Llama (examples/models/tiny-llama).
//!
//! The model functions are compiled the way lit-tests/numerics/tiny-llama.mlir does
//! (`agentc build lit-tests/numerics/Inputs/llama.agent --emit=obj`, with the workspace's
//! built `agentc`: `cargo build -p agentc` first, or set `AGENTC=/path/to/agentc`), linked
//! with clang-22 into a shared library next to `llama_shim.c`, and loaded with
//! libloading. Weights are bound from model.safetensors by the object's
//! `llama_<fn>__weights` lists (names in argument order). Times the prefill of the first
//! reference prompt (reference.json case 0) and one decode step with its KV cache
//! (median of many calls), after checking both logits against the reference.
//! Run: `cargo bench -p bench-kernels --bench llama`.

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr};
use std::path::{Path, PathBuf};
use std::time::Instant;

// Model shape (examples/models/tiny-llama/config.json): 2 layers, context 512, 2 KV
// heads of 16; vocabulary 384.
const LAYERS: i64 = 2;
const CONTEXT: i64 = 512;
const KV_HEADS: i64 = 2;
const HEAD_DIM: i64 = 16;
const VOCAB: i64 = 384;
const MAXARGS: usize = 160;

/// A memref descriptor of rank ≤ 4: {allocated, aligned, offset, sizes, strides}.
#[repr(C)]
struct Desc {
    allocated: *mut c_void,
    aligned: *mut c_void,
    offset: i64,
    rest: [i64; 8],
}

fn desc<T>(p: *const T, sizes: &[i64]) -> Desc {
    let mut rest = [0i64; 8];
    let mut stride = 1;
    for i in (0..sizes.len()).rev() {
        rest[i] = sizes[i];
        rest[sizes.len() + i] = stride;
        stride *= sizes[i];
    }
    Desc { allocated: p as *mut c_void, aligned: p as *mut c_void, offset: 0, rest }
}

type Call = unsafe extern "C" fn(*const c_void, *const *const c_void);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The agentc binary: $AGENTC, else the newest of target/{release,debug}/agentc.
fn agentc() -> PathBuf {
    if let Ok(path) = std::env::var("AGENTC") {
        return PathBuf::from(path);
    }
    let root = workspace();
    ["release", "debug"]
        .iter()
        .map(|p| root.join("target").join(p).join("agentc"))
        .filter(|p| p.exists())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .expect("no target/{release,debug}/agentc: run `cargo build -p agentc` or set AGENTC")
}

/// The f32 tensors of a safetensors file, by name (copied, so aligned).
fn load_safetensors(path: &Path) -> HashMap<String, Vec<f32>> {
    let bytes = std::fs::read(path).expect("read model.safetensors");
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).expect("safetensors header");
    let data = &bytes[8 + n..];
    let mut out = HashMap::new();
    for (name, entry) in header.as_object().expect("header object") {
        if name == "__metadata__" {
            continue;
        }
        assert_eq!(entry["dtype"], "F32", "{name}: only F32 weights");
        let offsets = entry["data_offsets"].as_array().unwrap();
        let (start, end) = (offsets[0].as_u64().unwrap() as usize, offsets[1].as_u64().unwrap() as usize);
        let values = data[start..end].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        let shape: Vec<i64> = entry["shape"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        out.insert(name.clone(), values);
        out.insert(format!("{name}#shape"), shape.iter().map(|x| *x as f32).collect());
    }
    out
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

/// Seconds per call: median of 11 samples of ~0.2 s each.
fn time(mut f: impl FnMut()) -> (f64, f64, f64) {
    f();
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-7);
    let reps = ((0.2 / once) as usize).clamp(1, 1_000_000);
    let samples: Vec<f64> = (0..11)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                f();
            }
            start.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    let (lo, hi) = samples.iter().fold((f64::MAX, 0f64), |(l, h), x| (l.min(*x), h.max(*x)));
    (median(samples), lo, hi)
}

fn check(what: &str, got: &[f32], want: &[f64]) {
    let worst = got.iter().zip(want).map(|(g, w)| (*g as f64 - w).abs() / (1e-5 + 1e-4 * w.abs())).fold(0f64, f64::max);
    assert!(worst <= 1.0, "{what}: logits differ from reference.json (worst error/tolerance {worst})");
}

fn main() {
    let root = workspace();
    let model_dir = root.join("examples/models/tiny-llama");
    let dir = std::env::temp_dir().join(format!("agentc-bench-llama-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (obj, lib) = (dir.join("llama.o"), dir.join("libllama.so"));
    let agentc = agentc();
    let status = std::process::Command::new(&agentc)
        .arg("build")
        .arg(root.join("lit-tests/numerics/Inputs/llama.agent"))
        .args(["--emit=obj", "-o"])
        .arg(&obj)
        .status()
        .expect("run agentc");
    assert!(status.success(), "agentc build --emit=obj failed");
    let status = std::process::Command::new("clang-22")
        .args(["-shared", "-fPIC", "-O2", "-fuse-ld=lld", "-o"])
        .arg(&lib)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/llama_shim.c"))
        .arg(&obj)
        .arg("-lm")
        .status()
        .expect("run clang-22");
    assert!(status.success(), "clang-22 could not link the model library");
    let library = unsafe { libloading::Library::new(&lib) }.expect("load model library");
    let call: Call = unsafe { *library.get::<Call>(b"bench_call").expect("bench_call") };
    let sym = |name: &str| -> *const c_void { unsafe { *library.get::<*const c_void>(name.as_bytes()).expect(name) } };
    let weights_of = |name: &str| -> Vec<String> {
        let list = unsafe { CStr::from_ptr(sym(name) as *const c_char) }.to_str().unwrap().to_string();
        list.lines().map(str::to_string).collect()
    };
    let (prefill_fn, decode_fn) = (sym("_mlir_ciface_llama_prefill"), sym("_mlir_ciface_llama_decode_step"));
    let tensors = load_safetensors(&model_dir.join("model.safetensors"));
    let bind = |names: &[String]| -> Vec<Desc> {
        names
            .iter()
            .map(|n| {
                let data = tensors.get(n).unwrap_or_else(|| panic!("weight {n} not in model.safetensors"));
                let shape: Vec<i64> = tensors[&format!("{n}#shape")].iter().map(|x| *x as i64).collect();
                desc(data.as_ptr(), &shape)
            })
            .collect()
    };
    let prefill_w = bind(&weights_of("llama_prefill__weights"));
    let decode_w = bind(&weights_of("llama_decode_step__weights"));

    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model_dir.join("reference.json")).expect("reference.json")).expect("json");
    let case = &reference["cases"][0];
    let floats = |v: &serde_json::Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
    let ids: Vec<i64> = case["input_ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
    let t = ids.len() as i64;
    let cache = (LAYERS * CONTEXT * KV_HEADS * HEAD_DIM) as usize;
    let cache_sizes = [LAYERS, CONTEXT, KV_HEADS, HEAD_DIM];
    let mut logits = vec![0f32; VOCAB as usize];
    let (mut k, mut v, mut k2, mut v2) = (vec![0f32; cache], vec![0f32; cache], vec![0f32; cache], vec![0f32; cache]);

    // logits, k, v = prefill(ids)
    let prefill = |logits: &mut [f32], k: &mut [f32], v: &mut [f32]| {
        let (di, dl) = (desc(ids.as_ptr(), &[t]), desc(logits.as_ptr(), &[VOCAB]));
        let (dk, dv) = (desc(k.as_ptr(), &cache_sizes), desc(v.as_ptr(), &cache_sizes));
        let mut a: Vec<*const c_void> = vec![std::ptr::null(); MAXARGS];
        let mut n = 0;
        let mut push = |p: *const c_void| {
            a[n] = p;
            n += 1;
        };
        push(&di as *const Desc as _);
        prefill_w.iter().for_each(|w| push(w as *const Desc as _));
        [&dl, &dk, &dv].into_iter().for_each(|d| push(d as *const Desc as _));
        push(std::ptr::null()); // workgroup 0
        unsafe { call(prefill_fn, a.as_ptr()) };
    };
    // logits, k2, v2 = decode_step(token, position, k, v)
    let token = case["decode_step"]["token"].as_i64().unwrap();
    let position = case["decode_step"]["position"].as_i64().unwrap();
    let decode = |k: &[f32], v: &[f32], logits: &mut [f32], k2: &mut [f32], v2: &mut [f32]| {
        let (dt, dp) = (desc(&token, &[]), desc(&position, &[]));
        let (dk, dv) = (desc(k.as_ptr(), &cache_sizes), desc(v.as_ptr(), &cache_sizes));
        let (dl, dk2, dv2) = (desc(logits.as_ptr(), &[VOCAB]), desc(k2.as_ptr(), &cache_sizes), desc(v2.as_ptr(), &cache_sizes));
        let mut a: Vec<*const c_void> = vec![std::ptr::null(); MAXARGS];
        let mut n = 0;
        let mut push = |p: *const c_void| {
            a[n] = p;
            n += 1;
        };
        [&dt, &dp, &dk, &dv].into_iter().for_each(|d| push(d as *const Desc as _));
        decode_w.iter().for_each(|w| push(w as *const Desc as _));
        [&dl, &dk2, &dv2].into_iter().for_each(|d| push(d as *const Desc as _));
        push(std::ptr::null());
        unsafe { call(decode_fn, a.as_ptr()) };
    };

    prefill(&mut logits, &mut k, &mut v);
    check("prefill", &logits, &floats(&case["last_logits"]));
    decode(&k, &v, &mut logits, &mut k2, &mut v2);
    check("decode step", &logits, &floats(&case["decode_step"]["logits"]));

    let (p, p_lo, p_hi) = time(|| prefill(&mut logits, &mut k, &mut v));
    let (d, d_lo, d_hi) = time(|| decode(&k, &v, &mut logits, &mut k2, &mut v2));
    println!("tiny Llama (examples/models/tiny-llama), agentc {}, 1 thread, median of 11 samples", agentc.display());
    println!(
        "prefill  {t:>3} tokens: {:>9.4} ms  ({:.4}-{:.4})  {:>10.0} tokens/s",
        p * 1e3,
        p_lo * 1e3,
        p_hi * 1e3,
        t as f64 / p
    );
    println!(
        "decode     1 token  : {:>9.4} ms  ({:.4}-{:.4})  {:>10.0} tokens/s  (position {position})",
        d * 1e3,
        d_lo * 1e3,
        d_hi * 1e3,
        1.0 / d
    );
    drop(library);
    let _ = std::fs::remove_dir_all(&dir);
}
