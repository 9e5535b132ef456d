//! The models of a running program: each folder's tokenizer, memory-mapped weights and
//! compiled functions, bound once at start-up; `prefill`, the decode loop of `generate`, and
//! `embed` (dialects/tgraph/README.md, "Calling the compiled model functions"). Each runs
//! its kernel on the [`Executor`] the fragment's placement picked: the CPU pool or a CUDA
//! device (docs/cuda.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::kernels::{Executor, Kernel, KernelTable, Memref};
use crate::kv_cache::{KvCache, KvShape};
use crate::plan::Plan;
use crate::sampling::{GenerateOptions, Generation, Pcg32, Step};
use crate::tokenizer::Tokenizer;
use crate::weights::Weights;

/// A compiled model function with its weight arguments bound to the mapped file.
#[derive(Debug)]
struct Bound {
    kernel: Kernel,
    /// One descriptor per weight argument, over the memory map of [`Model::weights`]
    /// ([`Memref::weight`]: a GPU uploads each once).
    weights: Vec<Memref>,
}

/// A model folder, loaded: what `prefill`, `decode` and `encode` fragments run on.
#[derive(Debug)]
pub struct Model {
    /// The name the program gives it.
    pub name: String,
    /// The folder it was loaded from.
    pub dir: PathBuf,
    tokenizer: Tokenizer,
    /// The memory map the bound weight descriptors point into (kept alive with them).
    #[expect(dead_code, reason = "owned only to keep the mapping alive")]
    weights: Weights,
    kv_shape: Option<KvShape>,
    vocab: usize,
    hidden: usize,
    max_seq_length: Option<usize>,
    prefill: Option<Bound>,
    decode: Option<Bound>,
    encode: Option<Bound>,
}

/// The KV cache and last logits after a prompt was prefilled: a `kv` value.
#[derive(Debug)]
pub struct Prefilled {
    model: Arc<Model>,
    cache: KvCache,
    logits: Vec<f32>,
}

/// Where `--models DIR` and the build-time folder put a model's files.
#[derive(Clone, Debug, Default)]
pub struct ModelPaths {
    /// The folder of the `.agent` file when the program was built (models are relative to it).
    pub base: PathBuf,
    /// `--models DIR`: model `m = hf("models/tiny-llama")` is then `DIR/tiny-llama`.
    pub override_dir: Option<PathBuf>,
}

impl ModelPaths {
    /// The folder of a model whose path was written `path`.
    pub fn resolve(&self, path: &str) -> PathBuf {
        match &self.override_dir {
            Some(dir) => dir.join(Path::new(path).file_name().unwrap_or(path.as_ref())),
            None => self.base.join(path),
        }
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

fn bind(weights: &Weights, kernel: &Kernel, model: &str) -> Result<Bound, String> {
    let mut descriptors = Vec::with_capacity(kernel.weights.len());
    for name in &kernel.weights {
        let view = weights.tensor(name).map_err(|e| format!("model `{model}`: {}", e.0))?;
        descriptors.push(Memref::new(view.data.as_ptr(), view.shape).weight());
    }
    Ok(Bound { kernel: kernel.clone(), weights: descriptors })
}

impl Model {
    /// Loads the model `name` from `dir` and binds the kernels the plan names for it.
    pub fn load(name: &str, dir: &Path, kernels: &BTreeMap<String, String>, table: &KernelTable) -> Result<Model, String> {
        if !dir.is_dir() {
            return Err(format!("model `{name}`: folder {} not found (give the folder that holds it with --models DIR)", dir.display()));
        }
        let config = read_json(&dir.join("config.json")).map_err(|e| format!("model `{name}`: {e}"))?;
        let eos = crate::tokenizer::eos_token_ids(dir).map_err(|e| format!("model `{name}`: {}", e.0))?;
        let tokenizer = Tokenizer::from_model_dir(dir).map_err(|e| format!("model `{name}`: {}", e.0))?.with_eos_ids(eos);
        let weights = Weights::open(&dir.join("model.safetensors")).map_err(|e| format!("model `{name}`: {}", e.0))?;
        let number = |key: &str| config.get(key).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
        let max_seq_length = read_json(&dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|c| c.get("max_seq_length").and_then(|v| v.as_u64()))
            .map(|n| n as usize);
        let mut bound = BTreeMap::new();
        for (role, symbol) in kernels {
            let kernel = table.get(symbol).ok_or_else(|| format!("model `{name}`: the executable has no kernel `{symbol}` for `{role}`"))?;
            bound.insert(role.as_str(), bind(&weights, kernel, name)?);
        }
        let kv_shape = if bound.contains_key("prefill") {
            Some(KvShape::from_config(&config).map_err(|e| format!("model `{name}`: {}", e.0))?)
        } else {
            None
        };
        Ok(Model {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            tokenizer,
            kv_shape,
            vocab: number("vocab_size"),
            hidden: number("hidden_size"),
            max_seq_length,
            prefill: bound.remove("prefill"),
            decode: bound.remove("decode"),
            encode: bound.remove("encode"),
            weights,
        })
    }

    /// Tokenizes `prompt`, runs the compiled prefill and keeps the cache and the logits of
    /// the last position. `call` names the call in errors (`llm.generate`).
    pub fn prefill(self: &Arc<Self>, prompt: &str, call: &str, on: Executor) -> Result<Prefilled, String> {
        let bound = self.prefill.as_ref().ok_or_else(|| format!("model `{}` has no compiled prefill", self.name))?;
        let shape = self.kv_shape.ok_or_else(|| format!("model `{}` has no KV cache shape", self.name))?;
        let ids: Vec<i64> = self.tokenizer.encode(prompt).map_err(|e| e.0)?.into_iter().map(i64::from).collect();
        let mut cache = KvCache::new(shape, call);
        let mut logits = vec![0f32; self.vocab];
        {
            let buffers = cache.prefill(ids.len()).map_err(|e| e.0)?;
            let dims = shape.dims();
            let ids_d = Memref::new(ids.as_ptr(), &[ids.len()]).read_only();
            let logits_d = Memref::new(logits.as_mut_ptr(), &[self.vocab]);
            let k_d = Memref::new(buffers.k.as_mut_ptr(), &dims);
            let v_d = Memref::new(buffers.v.as_mut_ptr(), &dims);
            let mut args: Vec<&Memref> = vec![&ids_d];
            args.extend(&bound.weights);
            args.extend([&logits_d, &k_d, &v_d]);
            on.launch(&bound.kernel, &args)?;
        }
        cache.commit(ids.len());
        Ok(Prefilled { model: self.clone(), cache, logits })
    }

    /// `embed(text)`: the sentence embedding (`[hidden]` f32) of the compiled encoder, the
    /// input cut to `max_seq_length` tokens (sentence_bert_config.json) as
    /// sentence-transformers does.
    pub fn encode(&self, text: &str, on: Executor) -> Result<Vec<f32>, String> {
        let bound = self.encode.as_ref().ok_or_else(|| format!("model `{}` has no compiled encoder", self.name))?;
        let mut ids: Vec<i64> = self.tokenizer.encode(text).map_err(|e| e.0)?.into_iter().map(i64::from).collect();
        if let Some(max) = self.max_seq_length.filter(|m| *m >= 2 && ids.len() > *m) {
            // Keep the post-processor's last special token ([SEP]) as truncation does.
            let last = *ids.last().unwrap_or(&0);
            ids.truncate(max - 1);
            ids.push(last);
        }
        let mask = vec![1f32; ids.len()];
        let mut out = vec![0f32; self.hidden];
        let ids_d = Memref::new(ids.as_ptr(), &[ids.len()]).read_only();
        let mask_d = Memref::new(mask.as_ptr(), &[mask.len()]).read_only();
        let out_d = Memref::new(out.as_mut_ptr(), &[self.hidden]);
        let mut args: Vec<&Memref> = vec![&ids_d, &mask_d];
        args.extend(&bound.weights);
        args.push(&out_d);
        on.launch(&bound.kernel, &args)?;
        Ok(out)
    }

    /// The hidden size (the length of an embedding).
    pub fn hidden_size(&self) -> usize {
        self.hidden
    }
}

/// What a decode loop reports as it runs (for `--stream` and the trace).
pub trait DecodeObserver {
    /// The text the last selected token added to the result (streamed as it is produced;
    /// a stop text completed by a later token may still cut it from the result).
    fn text(&mut self, _new_text: &str) {}
    /// Decode step `index` (0-based) ran the compiled kernel from `start` to `end`.
    fn decode_step(&mut self, _index: usize, _start: Instant, _end: Instant) {}
}

impl Prefilled {
    /// Runs the decode loop of `generate` from the prefilled state and returns the new text:
    /// sampling and stop rules of [`Generation`], one compiled decode step per kept token.
    /// Every decode step runs `on` (the decode fragment's placement), whatever ran the prefill.
    pub fn generate(mut self, options: GenerateOptions, rng: Pcg32, on: Executor, observer: &mut dyn DecodeObserver) -> Result<String, String> {
        let model = self.model.clone();
        let bound = model.decode.as_ref().ok_or_else(|| format!("model `{}` has no compiled decode step", model.name))?;
        let dims = self.cache.shape().dims();
        let mut generation = Generation::new(&model.tokenizer, options, rng);
        let mut index = 0;
        let mut shown = 0;
        loop {
            let step = generation.step(&self.logits)?;
            let text = generation.text();
            if text.len() > shown && text.is_char_boundary(shown) {
                observer.text(&text[shown..]);
                shown = text.len();
            }
            let Step::Continue(token) = step else { break };
            let started = Instant::now();
            {
                let (position, buffers) = self.cache.decode_step().map_err(|e| e.0)?;
                let token = [i64::from(token)];
                let position = [position as i64];
                let token_d = Memref::new(token.as_ptr(), &[]).read_only();
                let position_d = Memref::new(position.as_ptr(), &[]).read_only();
                // One pair as both the input caches and the output caches: the step updates
                // them in place and its kernel skips the copy into the outputs
                // (dialects/tgraph/README.md). Read-write: a GPU launch uploads each argument
                // and copies it back, the same host buffer twice (docs/cuda.md).
                let k_d = Memref::new(buffers.k.as_mut_ptr(), &dims);
                let v_d = Memref::new(buffers.v.as_mut_ptr(), &dims);
                let logits_d = Memref::new(self.logits.as_mut_ptr(), &[model.vocab]);
                let mut args: Vec<&Memref> = vec![&token_d, &position_d, &k_d, &v_d];
                args.extend(&bound.weights);
                args.extend([&logits_d, &k_d, &v_d]);
                on.launch(&bound.kernel, &args)?;
            }
            self.cache.commit(1);
            observer.decode_step(index, started, Instant::now());
            index += 1;
        }
        Ok(generation.text().to_string())
    }
}

/// The loaded models of a plan, by name.
#[derive(Debug, Default)]
pub struct Models {
    models: BTreeMap<String, Arc<Model>>,
}

impl Models {
    /// Loads every model of `plan` that names kernels (a plan without kernels, as a
    /// development runner has, loads none).
    pub fn load(plan: &Plan, paths: &ModelPaths, table: &KernelTable) -> Result<Models, String> {
        let mut models = BTreeMap::new();
        for model in &plan.models {
            if model.kernels.is_empty() || table.is_empty() {
                continue;
            }
            let dir = paths.resolve(&model.path);
            models.insert(model.name.clone(), Arc::new(Model::load(&model.name, &dir, &model.kernels, table)?));
        }
        Ok(Models { models })
    }

    /// The model named `name`, when loaded.
    pub fn get(&self, name: &str) -> Option<&Arc<Model>> {
        self.models.get(name)
    }
}
