//! Recovery by knowledge distillation on tiny-llama: a Q4_0 RTN student's norms trained on
//! the teacher's logits over a few calibration prompts lower the calibration KL, only the
//! norms change (in the f32 tensors and in the GGUF bytes alike, and in the file written),
//! and the KL recomputed independently from a fresh forward equals the one reported; the
//! differentiable forward computes the measured forward's logits.
//! The held-out KL is printed, not asserted (`-- --nocapture`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use agentc_distill::checkpoint::Checkpoint;
use candle_core::{Device, Var};
use agentc_distill::forward::{Cache, Model};
use agentc_distill::measure::measure;
use agentc_distill::quant::Format;
use agentc_distill::recovery::{RecoveryOptions, recover};
use agentc_distill::student::{Method, Plan, build, gguf_name, metadata};
use agentc_distill::gguf_writer;
use agentc_runtime::gguf::GgufModel;

const CALIB: &[&str] = &[
    "Once upon a time",
    "The quick brown fox jumps over the lazy dog",
    "In a hole in the ground there lived a hobbit",
    "It was the best of times, it was the worst of times",
    "Call me Ishmael. Some years ago",
    "All happy families are alike",
];

const HELD_OUT: &[&str] = &["It is a truth universally acknowledged", "The sky above the port was the color of television"];

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/models/tiny-llama")
}

fn is_norm(name: &str) -> bool {
    name == "model.norm.weight" || name.ends_with("input_layernorm.weight") || name.ends_with("post_attention_layernorm.weight")
}

fn log_softmax(row: &[f32]) -> Vec<f64> {
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let lse = row.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln() + max;
    row.iter().map(|&x| x as f64 - lse).collect()
}

/// Mean KL(teacher ‖ student) over every position of `prompts`, from the public forward.
fn mean_kl(teacher: &Model, student: &Model, prompts: &[Vec<u32>]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for p in prompts {
        let t = teacher.forward(p, &mut Cache::default(), None).unwrap();
        let s = student.forward(p, &mut Cache::default(), None).unwrap();
        for (a, b) in t.iter().zip(&s) {
            let (lp, lq) = (log_softmax(a), log_softmax(b));
            sum += lp.iter().zip(&lq).map(|(&x, &y)| x.exp() * (x - y)).sum::<f64>();
            n += 1;
        }
    }
    sum / n as f64
}

#[test]
fn recovery_lowers_calibration_kl_and_changes_only_the_norms() {
    let teacher = Checkpoint::load(&tiny()).unwrap();
    let shape = &teacher.shape;
    let model = Model::new(shape, &teacher.tensors).unwrap();
    let plan = Plan { name: "q4_0-rtn".into(), method: Method::Rtn, default: Format::Q4_0, overrides: Default::default(), ..Plan::default() };
    let mut student = build(&teacher, &plan, None).unwrap();
    let encode = |ps: &[&str]| -> Vec<Vec<u32>> { ps.iter().map(|p| teacher.tokenizer.encode(p).unwrap()).collect() };
    let (calib, held) = (encode(CALIB), encode(HELD_OUT));

    let before_tensors = student.tensors.clone();
    let before_gguf: Vec<(String, Vec<u8>)> = student.gguf.iter().map(|t| (t.name.clone(), t.bytes.clone())).collect();
    let held_before = measure(&model, &Model::new(shape, &student.tensors).unwrap(), &held, 8).unwrap();

    let options = RecoveryOptions::default();
    let start = Instant::now();
    let r = recover(&model, &mut student, shape, &calib, &options).unwrap();
    let took = start.elapsed();

    let after = Model::new(shape, &student.tensors).unwrap();
    let held_after = measure(&model, &after, &held, 8).unwrap();
    eprintln!(
        "recovery ({} steps, lr {}, kept step {}) in {:.2?}: calibration KL {:.5} -> {:.5} ({:.1}% lower); held-out KL {:.5} -> {:.5}, agreement {} -> {}, first divergence {} -> {}",
        options.steps,
        options.learning_rate,
        r.steps,
        took,
        r.kl_before,
        r.kl_after,
        100.0 * (1.0 - r.kl_after / r.kl_before),
        held_before.kl,
        held_after.kl,
        held_before.agreement,
        held_after.agreement,
        held_before.first_divergence,
        held_after.first_divergence,
    );

    // It buys something on the calibration set.
    assert!(r.kl_before > 0.0 && r.kl_after.is_finite());
    assert!(r.kl_after < 0.9 * r.kl_before, "calibration KL {} -> {}", r.kl_before, r.kl_after);
    assert!(r.steps > 0 && r.steps <= options.steps);

    // Only the norms changed (every one of them), in the tensors and the GGUF alike.
    assert_eq!(student.tensors.len(), before_tensors.len());
    let mut norms = 0;
    for (name, m) in &student.tensors {
        let old = &before_tensors[name];
        assert_eq!(m.shape, old.shape, "{name}");
        if is_norm(name) {
            norms += 1;
            assert_ne!(m.data, old.data, "{name} did not change");
        } else {
            let same = m.data.iter().zip(&old.data).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same && m.data.len() == old.data.len(), "{name} changed");
        }
    }
    assert_eq!(norms, 2 * shape.layers + 1);
    assert_eq!(student.gguf.len(), before_gguf.len());
    for (t, (name, bytes)) in student.gguf.iter().zip(&before_gguf) {
        assert_eq!(&t.name, name);
        let hf = student.tensors.keys().find(|hf| gguf_name(hf).as_deref() == Some(name)).unwrap();
        if is_norm(hf) {
            assert_eq!(t.format, Format::F32, "{name}");
            let want: Vec<u8> = student.tensors[hf].data.iter().flat_map(|x| x.to_le_bytes()).collect();
            assert_eq!(t.bytes, want, "{name}: GGUF bytes are not the trained norm");
        } else {
            assert_eq!(&t.bytes, bytes, "{name} changed in the GGUF");
        }
    }

    // The reported KL is what a fresh forward of the student measures.
    let recomputed = mean_kl(&model, &after, &calib);
    assert!((recomputed - r.kl_after).abs() <= 1e-4 * r.kl_after, "recomputed {recomputed} vs reported {}", r.kl_after);
    let recomputed_before = mean_kl(&model, &Model::new(shape, &before_tensors).unwrap(), &calib);
    assert!((recomputed_before - r.kl_before).abs() <= 1e-4 * r.kl_before, "{recomputed_before} vs {}", r.kl_before);

    // The file written holds the trained norms, read back by the runtime.
    let dir = std::env::temp_dir().join(format!("agentc-distill-recovery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("student.gguf");
    gguf_writer::write(&path, &metadata(&teacher, &student.shape, "student").unwrap(), &student.gguf).unwrap();
    let weights = GgufModel::open(&path).unwrap().load_f32().unwrap();
    for (name, m) in &student.tensors {
        assert_eq!(weights.to_f32(name).unwrap(), m.data, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn zero_steps_change_nothing() {
    let teacher = Checkpoint::load(&tiny()).unwrap();
    let model = Model::new(&teacher.shape, &teacher.tensors).unwrap();
    let plan = Plan { name: "q4_0-rtn".into(), method: Method::Rtn, default: Format::Q4_0, overrides: Default::default(), ..Plan::default() };
    let mut student = build(&teacher, &plan, None).unwrap();
    let before = student.tensors.clone();
    let calib: Vec<Vec<u32>> = CALIB.iter().map(|p| teacher.tokenizer.encode(p).unwrap()).collect();
    let r = recover(&model, &mut student, &teacher.shape, &calib, &RecoveryOptions { steps: 0, learning_rate: 0.01 }).unwrap();
    assert_eq!((r.kl_after, r.steps), (r.kl_before, 0));
    assert!(student.tensors == before);
    // A rate far too high: the kept norms are never worse than the student's own.
    let r = recover(&model, &mut student, &teacher.shape, &calib, &RecoveryOptions { steps: 5, learning_rate: 10.0 }).unwrap();
    eprintln!("lr 10: {r:?}");
    assert!(r.kl_after <= r.kl_before);
    if r.steps == 0 {
        assert!(student.tensors == before);
    }
    assert!(recover(&model, &mut student, &teacher.shape, &[], &RecoveryOptions::default()).is_err());
}

#[test]
fn the_differentiable_forward_computes_the_same_logits() {
    let teacher = Checkpoint::load(&tiny()).unwrap();
    let shape = &teacher.shape;
    let names = ["model.norm.weight", "model.layers.1.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight"];
    let vars: BTreeMap<String, Var> = names
        .iter()
        .map(|n| (n.to_string(), Var::from_slice(&teacher.tensors[*n].data, shape.hidden, &Device::Cpu).unwrap()))
        .collect();
    let plain = Model::new(shape, &teacher.tensors).unwrap();
    let trained = Model::with_norms(shape, &teacher.tensors, &vars).unwrap();
    for p in CALIB {
        let ids = teacher.tokenizer.encode(p).unwrap();
        let a = plain.forward(&ids, &mut Cache::default(), None).unwrap();
        let b = trained.logits(&ids).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(a, plain.logits(&ids).unwrap().to_vec2::<f32>().unwrap());
        for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
            assert!((x - y).abs() <= 1e-5 + 1e-5 * x.abs(), "{p}: {x} vs {y}");
        }
    }
    // Gradients reach every norm variable.
    let ids = teacher.tokenizer.encode(CALIB[1]).unwrap();
    let grads = trained.logits(&ids).unwrap().sqr().unwrap().sum_all().unwrap().backward().unwrap();
    for n in names {
        let g = grads.get(&vars[n]).unwrap().abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(g > 0.0 && g.is_finite(), "{n}: {g}");
    }
    let wrong: BTreeMap<String, Var> = [("model.layers.0.mlp.up_proj.weight".to_string(), vars[names[0]].clone())].into();
    assert!(Model::with_norms(shape, &teacher.tensors, &wrong).is_err());
}
