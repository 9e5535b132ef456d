//! The engine on tiny-llama: calibration Hessians, RTN and GPTQ students written as GGUF,
//! read back by the runtime's reader and dequantiser (bit-exact with the quantizer's
//! values, same tokenizer), GPTQ beating RTN on the layer-wise reconstruction error, and the
//! budget figures recomputed from the file the runtime reads.

use std::path::{Path, PathBuf};

use agentc_distill::checkpoint::{Checkpoint, Matrix};
use agentc_distill::forward::{Cache, LINEARS, Model, input_slot};
use agentc_distill::hessian::Hessians;
use agentc_distill::measure::measure;
use agentc_distill::quant::Format;
use agentc_distill::student::{Method, Plan, build, metadata};
use agentc_distill::{gguf_writer, gptq};
use agentc_runtime::gguf::GgufModel;

const PROMPTS: &[&str] = &[
    "Once upon a time",
    "The quick brown fox jumps over the lazy dog",
    "In a hole in the ground there lived a hobbit",
    "It was the best of times, it was the worst of times",
    "Call me Ishmael. Some years ago",
    "All happy families are alike",
];

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/models/tiny-llama")
}

fn plan(method: Method, format: Format) -> Plan {
    Plan { name: format!("{format:?}-{method:?}"), method, default: format, ..Plan::default() }
}

fn calibrate(teacher: &Checkpoint, model: &Model) -> Hessians {
    let mut h = Hessians::keeping_inputs(teacher.shape.layers);
    for p in PROMPTS {
        let ids = teacher.tokenizer.encode(p).unwrap();
        model.forward(&ids, &mut Cache::default(), Some(&mut h)).unwrap();
    }
    h
}

/// ‖W Xᵀ − Ŵ Xᵀ‖² over every linear layer, from the kept inputs.
fn reconstruction_error(teacher: &Checkpoint, student: &std::collections::BTreeMap<String, Matrix>, h: &Hessians) -> f64 {
    let x = h.x.as_ref().unwrap();
    let mut total = 0.0;
    for l in 0..teacher.shape.layers {
        for lin in LINEARS {
            let name = format!("model.layers.{l}.{lin}.weight");
            let (w, wq) = (&teacher.tensors[&name], &student[&name]);
            let (rows, cols) = w.rows_cols();
            let xs = &x[l][input_slot(lin)];
            for t in 0..xs.len() / cols {
                let xt = &xs[t * cols..(t + 1) * cols];
                for r in 0..rows {
                    let d: f64 = (0..cols).map(|c| (w.data[r * cols + c] - wq.data[r * cols + c]) as f64 * xt[c] as f64).sum();
                    total += d * d;
                }
            }
        }
    }
    total
}

#[test]
fn gptq_beats_rtn_on_reconstruction_error() {
    let teacher = Checkpoint::load(&tiny()).unwrap();
    let model = Model::new(&teacher.shape, &teacher.tensors).unwrap();
    let h = calibrate(&teacher, &model);
    for format in [Format::Q4_0, Format::Q4_1] {
        let rtn = build(&teacher, &plan(Method::Rtn, format), None).unwrap();
        let gptq = build(&teacher, &plan(Method::Gptq, format), Some(&h)).unwrap();
        let (e_rtn, e_gptq) = (reconstruction_error(&teacher, &rtn.tensors, &h), reconstruction_error(&teacher, &gptq.tensors, &h));
        eprintln!("{format:?}: RTN {e_rtn:.4}, GPTQ {e_gptq:.4}");
        assert!(e_gptq < 0.9 * e_rtn, "{format:?}: GPTQ {e_gptq} is not below RTN {e_rtn}");
        assert_eq!(rtn.bytes, gptq.bytes);
    }
    assert!(gptq::DAMP > 0.0);
}

#[test]
fn student_written_reads_back_and_figures_recompute() {
    let teacher = Checkpoint::load(&tiny()).unwrap();
    let model = Model::new(&teacher.shape, &teacher.tensors).unwrap();
    let h = calibrate(&teacher, &model);
    let dir = std::env::temp_dir().join(format!("agentc-distill-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [(Method::Gptq, Format::Q4_1, vec![]), (Method::Rtn, Format::Q4_0, vec![]), (Method::Rtn, Format::Q8_0, vec![]), (Method::Gptq, Format::Q8_0, vec![0])];
    for (method, format, drop) in cases {
        let student = build(&teacher, &Plan { drop: drop.clone(), ..plan(method, format) }, Some(&h)).unwrap();
        let per_layer = teacher.tensors.keys().filter(|n| n.starts_with("model.layers.0.")).count();
        assert_eq!(student.tensors.len(), teacher.tensors.len() - drop.len() * per_layer);
        assert_eq!(student.shape.layers, teacher.shape.layers - drop.len());
        if drop == [0] {
            // Layer 1 became layer 0; its weights are the teacher's layer 1, quantized.
            let q = build(&teacher, &plan(method, format), Some(&h)).unwrap();
            for (name, m) in &q.tensors {
                if let Some(rest) = name.strip_prefix("model.layers.1.") {
                    assert_eq!(student.tensors[&format!("model.layers.0.{rest}")].data, m.data, "{name}");
                }
            }
        }
        let path = dir.join("student.gguf");
        gguf_writer::write(&path, &metadata(&teacher, &student.shape, "student").unwrap(), &student.gguf).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize >= student.bytes, true);
        // The runtime's reader: every weight dequantises to the quantizer's values exactly.
        let back = GgufModel::open(&path).unwrap();
        let weights = back.load_f32().unwrap();
        assert_eq!(weights.names().count(), student.tensors.len());
        for (name, m) in &student.tensors {
            assert_eq!(weights.to_f32(name).unwrap(), m.data, "{method:?} {format:?}: {name}");
        }
        let counts = back.type_counts();
        assert_eq!(counts.get(format.name()).copied().unwrap_or(0) >= 7 * student.shape.layers, true, "{counts:?}");
        // Config and tokenizer read back as the teacher's.
        let reread = Checkpoint::load(&path).unwrap();
        assert_eq!(reread.shape.layers, student.shape.layers);
        assert_eq!(reread.shape.head_dim, teacher.shape.head_dim);
        for p in PROMPTS {
            assert_eq!(reread.tokenizer.encode(p).unwrap(), teacher.tokenizer.encode(p).unwrap(), "{p}");
        }
        // The figures of the engine's student equal those recomputed from the file.
        let prompts: Vec<Vec<u32>> = PROMPTS[4..].iter().map(|p| teacher.tokenizer.encode(p).unwrap()).collect();
        let engine = measure(&model, &Model::new(&student.shape, &student.tensors).unwrap(), &prompts, 8).unwrap();
        let from_file = measure(&model, &Model::new(&reread.shape, &reread.tensors).unwrap(), &prompts, 8).unwrap();
        assert!((engine.kl - from_file.kl).abs() < 1e-6 && engine.agreement == from_file.agreement, "{engine:?} vs {from_file:?}");
        assert!(engine.kl > 0.0 && engine.kl.is_finite());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
