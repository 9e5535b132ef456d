//! The candle forward against transformers: the tiny models' committed references
//! (tools/gen_tiny_models.py, gen_tiny_archs.py): prompt ids, last-position logits, the
//! decode step's logits after the first generated token (the KV cache), greedy ids.

use std::path::{Path, PathBuf};

use agentc_distill::checkpoint::Checkpoint;
use agentc_distill::forward::{Cache, Model, greedy};

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/models")
}

fn ids(v: &serde_json::Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        // The references' tolerance is abs 1e-5 + rel 1e-4 for agentc's own kernels; candle
        // sums in another order, so allow 1e-4 absolute.
        assert!((g - w).abs() <= 1e-4 + 1e-4 * w.abs(), "{what}[{i}]: {g} vs transformers {w}");
    }
}

fn check(model_name: &str) {
    let dir = models().join(model_name);
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap();
    let teacher = Checkpoint::load(&dir).unwrap();
    let model = Model::new(&teacher.shape, &teacher.tensors).unwrap();
    for case in reference["cases"].as_array().unwrap() {
        let prompt = case["prompt"].as_str().unwrap();
        let input = teacher.tokenizer.encode(prompt).unwrap();
        assert_eq!(input, ids(&case["input_ids"]), "{model_name}: ids of {prompt:?}");
        let mut cache = Cache::default();
        let logits = model.forward(&input, &mut cache, None).unwrap();
        if case.get("last_logits").is_some() {
            close(logits.last().unwrap(), &floats(&case["last_logits"]), &format!("{model_name} {prompt:?} last_logits"));
        }
        let step = &case["decode_step"];
        let after = model.forward(&[step["token"].as_u64().unwrap() as u32], &mut cache, None).unwrap();
        close(&after[0], &floats(&step["logits"]), &format!("{model_name} {prompt:?} decode_step"));
        let want = ids(&case["generate"]["new_ids"]);
        assert_eq!(greedy(&model, &input, want.len()).unwrap(), want, "{model_name}: greedy ids of {prompt:?}");
    }
}

#[test]
fn tiny_llama_matches_transformers() {
    check("tiny-llama");
}

#[test]
fn tiny_qwen2_matches_transformers() {
    check("tiny-qwen2");
}

#[test]
fn tiny_mistral_matches_transformers() {
    check("tiny-mistral");
}

/// Scaled RoPE (tiny-llama-headdim's linear scaling) is not computed yet: refused by name.
#[test]
fn scaled_rope_is_refused() {
    let err = Checkpoint::load(&models().join("tiny-llama-headdim")).err().unwrap();
    assert!(err.contains("scaled RoPE is not implemented by the distillation engine yet"), "{err}");
}
