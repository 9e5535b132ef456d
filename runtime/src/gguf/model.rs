//! A GGUF file as a model source: what a model folder's files give (config, tokenizer, chat
//! template, f32 weights) derived from the file's metadata and tensors. The compiler's
//! checker, planner and tensor level and the runtime's loader use this one definition.

use std::path::Path;

use super::reader::GgufFile;
use super::{GgufError, llama, tokenizer};
use crate::chat::ChatTemplate;
use crate::tokenizer::Tokenizer;
use crate::weights::{Weights, WeightsError};

/// A `llama` GGUF opened as a model: the mapped file and the `config.json` it stands for.
#[derive(Debug)]
pub struct GgufModel {
    file: GgufFile,
    config: serde_json::Value,
}

impl GgufModel {
    /// Opens `path` and derives its config ([`llama::hf_config`]). Errors name the file and
    /// the field.
    pub fn open(path: &Path) -> Result<GgufModel, GgufError> {
        let file = GgufFile::open(path)?;
        let config = llama::hf_config(&file)?;
        Ok(GgufModel { file, config })
    }

    /// The file.
    pub fn file(&self) -> &GgufFile {
        &self.file
    }

    /// The `config.json` the metadata stands for.
    pub fn config(&self) -> &serde_json::Value {
        &self.config
    }

    /// The weights the compiler may bind: HF name and row-major shape, all F32 once loaded
    /// with `dtype: "f32"`.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        llama::hf_tensors(&self.file).into_iter().map(|t| (t.name, t.shape)).collect()
    }

    /// The weights the compiler may bind with the ggml type each is stored in.
    pub fn typed_tensors(&self) -> Vec<(String, Vec<usize>, super::dequant::GgmlType)> {
        llama::hf_tensors(&self.file).into_iter().map(|t| (t.name, t.shape, t.entry.ggml_type)).collect()
    }

    /// The first bindable tensor whose ggml type agentc neither computes from nor
    /// dequantises (`Q5_K`…): (GGUF name, type name).
    pub fn unsupported_tensor(&self) -> Option<(String, &'static str)> {
        llama::hf_tensors(&self.file)
            .into_iter()
            .find(|t| matches!(t.entry.ggml_type, super::dequant::GgmlType::Other(..)))
            .map(|t| (t.entry.name.clone(), t.entry.ggml_type.name()))
    }

    /// The weights as the quantised kernels read them (the default of `gguf(...)`): each
    /// matrix of a type with a kernel form ([`super::quant::Scheme`]) as its planar arrays,
    /// named `W#q`, `W#scale` (and `W#min`; f16 where the file stores them so, the bits
    /// copied), beside an entry `W` of its ggml type that holds
    /// no bytes (what the executable checks); every other tensor dequantised to F32. Q/K
    /// rows in HF order. Resident memory is about the quantised size.
    pub fn load_quantized(&self) -> Result<Weights, WeightsError> {
        let mut parts = Vec::new();
        let f32_bytes = |data: Vec<f32>| data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        for t in llama::hf_tensors(&self.file) {
            let entry = t.entry;
            match llama::hf_planar(&self.file, &t, &self.config).map_err(|e| WeightsError(e.0))? {
                Some(planar) => {
                    let arrays = planar.scheme.arrays(t.shape[0], t.shape[1]);
                    let mut data = vec![planar.quants, planar.scales.to_le_bytes(), planar.mins.to_le_bytes()].into_iter();
                    parts.push((t.name.clone(), t.entry.ggml_type.name().to_string(), t.shape.clone(), Vec::new()));
                    for (suffix, dtype, shape) in arrays {
                        parts.push((format!("{}{suffix}", t.name), dtype.to_string(), shape, data.next().unwrap_or_default()));
                    }
                }
                None => {
                    let data = llama::hf_f32(&self.file, &t, &self.config).map_err(|e| WeightsError(e.0))?;
                    parts.push((t.name, "F32".to_string(), t.shape, f32_bytes(data)));
                }
            }
            // The file's pages are not needed beside the repacked copy.
            self.file.release(entry);
        }
        Weights::from_parts(self.file.path(), parts)
    }

    /// The ggml types of the file's tensors and how many tensors have each (`Q4_1: 210`).
    pub fn type_counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for t in self.file.tensors() {
            *counts.entry(t.ggml_type.name()).or_insert(0) += 1;
        }
        counts
    }

    /// The tokenizer of the metadata, with its EOS id.
    pub fn tokenizer(&self) -> Result<Tokenizer, GgufError> {
        tokenizer::tokenizer(&self.file)
    }

    /// The chat template of the metadata (`None` without one).
    pub fn chat_template(&self) -> Result<Option<ChatTemplate>, String> {
        tokenizer::chat_template(&self.file)
    }

    /// Every bindable tensor dequantised to f32 (Q/K rows in HF order), in one owned buffer
    /// that the kernels bind like a mapped safetensors file's F32 tensors.
    pub fn load_f32(&self) -> Result<Weights, WeightsError> {
        let tensors = llama::hf_tensors(&self.file);
        let total = tensors.iter().map(|t| t.shape.iter().product::<usize>()).sum();
        Weights::from_f32(
            self.file.path(),
            total,
            tensors.into_iter().map(|t| {
                let data = llama::hf_f32(&self.file, &t, &self.config).map_err(|e| e.0)?;
                // The file's pages are not needed beside the f32 copy (peak RSS: the f32
                // weights, not the weights plus the file).
                self.file.release(t.entry);
                Ok((t.name, t.shape, data))
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's GGUF, fetched by tools/setup.sh.
    fn smollm2() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    /// The tokenizer built from the metadata gives transformers' ids for the same GGUF
    /// (tools/reference/smollm2-reference.json `tokenize`, `cases[].input_ids`, `chat[].input_ids`),
    /// and the config and chat template are what transformers read.
    #[test]
    fn smollm2_matches_transformers() {
        let path = smollm2();
        if !path.exists() {
            eprintln!("skipped: {} is absent (tools/setup.sh fetches it)", path.display());
            return;
        }
        let reference: serde_json::Value = serde_json::from_str(include_str!("../../../tools/reference/smollm2-reference.json")).unwrap();
        let model = GgufModel::open(&path).unwrap();
        let tok = model.tokenizer().unwrap();
        for case in reference["tokenize"].as_array().unwrap() {
            let want: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
            assert_eq!(tok.encode_with(case["text"].as_str().unwrap(), true).unwrap(), want, "{}", case["text"]);
        }
        for case in reference["cases"].as_array().unwrap() {
            let want: Vec<u32> = serde_json::from_value(case["input_ids"].clone()).unwrap();
            assert_eq!(tok.encode_with(case["prompt"].as_str().unwrap(), true).unwrap(), want);
        }
        let chat = model.chat_template().unwrap().unwrap();
        for case in reference["chat"].as_array().unwrap() {
            let messages: Vec<crate::chat::Message> = case["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| crate::chat::Message { role: m["role"].as_str().unwrap().into(), content: m["content"].as_str().unwrap().into() })
                .collect();
            let prompt = chat.render(&messages, true).unwrap();
            assert_eq!(prompt, case["prompt"].as_str().unwrap());
            let want: Vec<u32> = serde_json::from_value(case["input_ids"].clone()).unwrap();
            assert_eq!(tok.encode_with(&prompt, false).unwrap(), want);
        }
        assert_eq!(tok.eos_ids(), [2]);
        let config = model.config();
        assert_eq!(config["num_hidden_layers"], 30);
        assert_eq!(config["num_key_value_heads"], 3);
        assert_eq!(config["vocab_size"], 49152);
        assert_eq!(config["tie_word_embeddings"], true);
        assert_eq!(model.type_counts().get("Q4_1"), Some(&210));
        assert_eq!(model.tensors().len(), 272);
    }
}
