//! The teacher: a decoder's shape, its f32 weights under Hugging Face names and its
//! tokenizer, read through the runtime's loaders (model folders with safetensors, or GGUF
//! files dequantised the way `dtype: "f32"` loads them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agentc_runtime::gguf::{self, GgufModel};
use agentc_runtime::model_config::{self, Architecture, RopeScaling};
use agentc_runtime::tokenizer::Tokenizer;
use agentc_runtime::weights::Weights;

/// The sizes and constants of a Llama-family decoder (Llama, Qwen2, Mistral).
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// The architecture (`Qwen2` adds q/k/v biases).
    pub architecture: Architecture,
    /// `hidden_size`.
    pub hidden: usize,
    /// `intermediate_size`.
    pub intermediate: usize,
    /// `num_hidden_layers`.
    pub layers: usize,
    /// `num_attention_heads`.
    pub heads: usize,
    /// `num_key_value_heads`.
    pub kv_heads: usize,
    /// `head_dim`.
    pub head_dim: usize,
    /// `vocab_size`.
    pub vocab: usize,
    /// `max_position_embeddings`.
    pub max_positions: usize,
    /// `rms_norm_eps`.
    pub eps: f64,
    /// `rope_theta`.
    pub rope_theta: f64,
}

fn size(config: &serde_json::Value, key: &str) -> Result<usize, String> {
    config[key]
        .as_u64()
        .filter(|&n| n > 0)
        .map(|n| n as usize)
        .ok_or_else(|| format!("config: `{key}` is missing or not a positive integer"))
}

impl Shape {
    /// Reads a `config.json` (as JSON) checked by the runtime's [`model_config::check`];
    /// encoders and scaled RoPE are errors (the distillation engine computes plain RoPE).
    pub fn from_config(config: &serde_json::Value) -> Result<Shape, String> {
        let checked = model_config::check(config)?;
        if !checked.architecture.is_decoder() {
            return Err(format!("`{}` is not a decoder: distill shrinks generative models", checked.architecture.name()));
        }
        let rope = checked.rope.expect("decoders have RoPE");
        if rope.scaling != RopeScaling::Default {
            return Err("scaled RoPE is not implemented by the distillation engine yet".into());
        }
        let hidden = size(config, "hidden_size")?;
        let heads = size(config, "num_attention_heads")?;
        let kv_heads = if config["num_key_value_heads"].is_null() { heads } else { size(config, "num_key_value_heads")? };
        let head_dim = if config["head_dim"].is_null() { hidden / heads } else { size(config, "head_dim")? };
        if heads % kv_heads != 0 {
            return Err(format!("config: {heads} attention heads are not a multiple of {kv_heads} key/value heads"));
        }
        Ok(Shape {
            architecture: checked.architecture,
            hidden,
            intermediate: size(config, "intermediate_size")?,
            layers: size(config, "num_hidden_layers")?,
            heads,
            kv_heads,
            head_dim,
            vocab: size(config, "vocab_size")?,
            max_positions: size(config, "max_position_embeddings")?,
            eps: checked.norm_eps,
            rope_theta: rope.theta,
        })
    }
}

/// A row-major f32 tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Row-major shape (one or two dimensions).
    pub shape: Vec<usize>,
    /// The elements.
    pub data: Vec<f32>,
}

impl Matrix {
    /// Rows (the first dimension) and columns (the product of the rest).
    pub fn rows_cols(&self) -> (usize, usize) {
        let rows = self.shape.first().copied().unwrap_or(1);
        (rows, self.data.len() / rows.max(1))
    }
}

/// Where the teacher came from: what the GGUF writer copies metadata from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A Hugging Face folder (config.json, safetensors, tokenizer.json).
    Folder(PathBuf),
    /// A `llama` GGUF file.
    Gguf(PathBuf),
}

/// A loaded teacher.
pub struct Checkpoint {
    /// Its source.
    pub source: Source,
    /// The `config.json` (derived from the metadata for GGUF files).
    pub config: serde_json::Value,
    /// The decoder's shape.
    pub shape: Shape,
    /// Every weight, f32, under its Hugging Face name.
    pub tensors: BTreeMap<String, Matrix>,
    /// The tokenizer (with its EOS ids).
    pub tokenizer: Tokenizer,
}

impl Checkpoint {
    /// Loads a model folder or a `.gguf` file; errors name the path.
    pub fn load(path: &Path) -> Result<Checkpoint, String> {
        if gguf::is_gguf(path) {
            let model = GgufModel::open(path).map_err(|e| e.0)?;
            let weights = model.load_f32().map_err(|e| e.0)?;
            let tokenizer = model.tokenizer().map_err(|e| e.0)?;
            let config = model.config().clone();
            Checkpoint::new(Source::Gguf(path.to_path_buf()), config, &weights, tokenizer)
        } else {
            let text = std::fs::read_to_string(path.join("config.json"))
                .map_err(|e| format!("{}: cannot read config.json: {e}", path.display()))?;
            let config: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{}/config.json: {e}", path.display()))?;
            let weights = Weights::open_folder(path).map_err(|e| e.0)?;
            let tokenizer = Tokenizer::from_model_dir(path).map_err(|e| e.0)?;
            Checkpoint::new(Source::Folder(path.to_path_buf()), config, &weights, tokenizer)
        }
    }

    fn new(source: Source, config: serde_json::Value, weights: &Weights, tokenizer: Tokenizer) -> Result<Checkpoint, String> {
        let shape = Shape::from_config(&config).map_err(|e| format!("{}: {e}", weights.path().display()))?;
        let mut tensors = BTreeMap::new();
        for name in weights.names() {
            let info = weights.info(name).expect("listed names have infos");
            let data = weights.to_f32(name).map_err(|e| e.0)?;
            tensors.insert(name.to_string(), Matrix { shape: info.shape.clone(), data });
        }
        Ok(Checkpoint { source, config, shape, tensors, tokenizer })
    }
}
