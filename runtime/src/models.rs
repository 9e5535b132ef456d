//! The models of a running program: each folder's tokenizer, memory-mapped weights and
//! compiled functions, bound once at start-up; `prefill`, the decode loop of `generate`, and
//! `embed` (dialects/tgraph/README.md, "Calling the compiled model functions"). Each runs
//! its kernel on the [`Executor`] the fragment's placement picked: the CPU pool or a CUDA
//! device (docs/cuda.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::grammar::TokenTable;
use crate::kernels::{Executor, Kernel, KernelTable, Memref};
use crate::kv_cache::{KvCache, KvShape};
use crate::model_folder;
use crate::plan::{Model as PlanModel, Plan, WeightSpec};
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
    /// The memory maps the bound weight descriptors point into (kept alive with them).
    #[expect(dead_code, reason = "owned only to keep the mapping alive")]
    weights: Weights,
    /// The f32 copies of weights converted at load, which descriptors point into (moving
    /// the map does not move the vectors' buffers).
    #[expect(dead_code, reason = "owned only to keep the copies alive")]
    converted: BTreeMap<String, Vec<f32>>,
    kv_shape: Option<KvShape>,
    vocab: usize,
    hidden: usize,
    /// An encoder's input limit in tokens: the smaller of `max_seq_length` and
    /// `max_position_embeddings`.
    max_input: Option<usize>,
    prefill: Option<Bound>,
    decode: Option<Bound>,
    encode: Option<Bound>,
    /// The end-of-turn token of the chat template (`chat` stops at it as at an EOS), when
    /// the program chats with this model and the template writes a special token there.
    end_of_turn: Option<u32>,
    /// [`Model::token_table`], once built.
    token_table: OnceLock<TokenTable>,
}

/// The KV cache and last logits after a prompt was prefilled: a `kv` value.
#[derive(Debug)]
pub struct Prefilled {
    model: Arc<Model>,
    cache: KvCache,
    logits: Vec<f32>,
    /// The prompt's token ids (`repetition_penalty` counts them as seen).
    prompt_ids: Vec<u32>,
    /// When the compiled prefill kernel started and ended (the trace's `prefill kernel`
    /// slice: the kernel alone, without tokenizing and allocating the cache).
    kernel_span: (Instant, Instant),
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

/// Binds each weight argument of `kernel`: a descriptor over the mapping in the stored
/// format (F32, or F16/BF16 a kernel extends to f32 as it reads), or over the f32 copy in
/// `converted` of a weight the plan records as converted at load ([`WeightSpec::stored`]).
fn bind(weights: &Weights, converted: &BTreeMap<String, Vec<f32>>, kernel: &Kernel, model: &str, compiled_for: &[WeightSpec]) -> Result<Bound, String> {
    let mut descriptors = Vec::with_capacity(kernel.weights.len());
    for name in &kernel.weights {
        // Every weight a kernel reads was checked against the plan's record
        // (`model_folder::check_weights`); one the record lacks was not. The arrays of a
        // quantised weight (`W#q`, `W#scale`, `W#min`) are recorded as `W`.
        let recorded = match name.split_once('#') {
            Some((base, _)) => compiled_for.iter().any(|w| w.name == base && !w.quant.is_empty()),
            None => compiled_for.iter().any(|w| &w.name == name),
        };
        if !recorded {
            return Err(format!("model `{model}`: internal error: kernel `{}` reads weight `{name}`, which the plan does not record", kernel.name));
        }
        let (bytes, info) = weights.raw(name).map_err(|e| format!("model `{model}`: {}", e.0))?;
        let descriptor = match (converted.get(name), info.dtype.as_str()) {
            (Some(copy), _) => Memref::new(copy.as_ptr(), &info.shape),
            (None, "F32") => Memref::new(bytes.as_ptr() as *const f32, &info.shape),
            (None, "F16" | "BF16") => Memref::new(bytes.as_ptr() as *const u16, &info.shape),
            (None, "I8" | "U8") => Memref::new(bytes.as_ptr(), &info.shape),
            (None, other) => return Err(format!("model `{model}`: internal error: weight `{name}` is {other}, which no kernel reads")),
        };
        descriptors.push(descriptor.weight());
    }
    Ok(Bound { kernel: kernel.clone(), weights: descriptors })
}

impl Model {
    /// Loads the model `declared` from `dir` and binds the kernels the plan names for it.
    /// The folder is untrusted: its `config.json` and the header of its `model.safetensors`
    /// are checked against what the kernels were compiled for (`declared.config`,
    /// `declared.weights`; [`crate::model_folder`]) before anything is bound or allocated.
    pub fn load(declared: &PlanModel, dir: &Path, table: &KernelTable) -> Result<Model, String> {
        let name = declared.name.as_str();
        let fail = |e: String| format!("model `{name}`: {e}");
        // A `gguf("file.gguf", dtype: "f32")` model: config, tokenizer and chat template from
        // the file's metadata, weights dequantised to f32 here (crate::gguf).
        let gguf = if crate::gguf::is_gguf(dir) {
            if !dir.is_file() {
                return Err(format!("model `{name}`: file {} not found (give the folder that holds it with --models DIR)", dir.display()));
            }
            Some(crate::gguf::GgufModel::open(dir).map_err(|e| fail(e.0))?)
        } else {
            None
        };
        if gguf.is_none() && !dir.is_dir() {
            return Err(format!("model `{name}`: folder {} not found (give the folder that holds it with --models DIR)", dir.display()));
        }
        let (config, config_path) = match &gguf {
            Some(g) => (g.config().clone(), dir.to_path_buf()),
            None => {
                let path = dir.join("config.json");
                (model_folder::read_json(&path).map_err(fail)?, path)
            }
        };
        model_folder::check_config(&config, &config_path, &declared.config).map_err(fail)?;
        if gguf.is_none() {
            // A GGUF's config is made from its metadata by crate::gguf, not read from a file.
            model_folder::check_numerics(&config, &config_path, &declared.architecture).map_err(fail)?;
        }
        // The tokenizer before the weights: building it (a GGUF's vocabulary and merges as
        // JSON) allocates and frees tens of MB, which then happens below the weights' peak,
        // not on top of it.
        let tokenizer = match &gguf {
            Some(g) => g.tokenizer().map_err(|e| fail(e.0))?,
            None => {
                let eos = crate::tokenizer::eos_token_ids(dir).map_err(|e| fail(e.0))?;
                Tokenizer::from_model_dir(dir).map_err(|e| fail(e.0))?.with_eos_ids(eos)
            }
        };
        tokenizer.warm_up();
        // A GGUF model computes from its quantised blocks unless it was declared `dtype:
        // "f32"`: its plan then records quantised weights, repacked here (crate::gguf::quant).
        let quantized = declared.weights.iter().any(|w| !w.quant.is_empty());
        let weights = match &gguf {
            Some(g) if quantized => g.load_quantized(),
            Some(g) => g.load_f32(),
            None => Weights::open_folder(dir),
        }
        .map_err(|e| fail(e.0))?;
        model_folder::check_weights(&weights, &declared.weights).map_err(fail)?;
        // Weights the kernels read as f32 but the folder stores in 16 bits (`dtype: "f32"`):
        // converted once here, shared by every role's kernel.
        let mut converted = BTreeMap::new();
        for spec in declared.weights.iter().filter(|w| !w.stored.is_empty() && w.quant.is_empty()) {
            converted.insert(spec.name.clone(), weights.to_f32(&spec.name).map_err(|e| fail(e.0))?);
        }
        let end_of_turn = match &declared.chat {
            Some(chat) => {
                match &gguf {
                    Some(g) => model_folder::check_gguf_chat_template(dir, g, chat).map_err(fail)?,
                    None => model_folder::check_chat_template(dir, chat).map_err(fail)?,
                }
                let special = tokenizer.special_tokens();
                let texts: Vec<String> = special.iter().map(|(_, t)| t.clone()).collect();
                chat.end_of_turn(&texts).and_then(|text| special.iter().find(|(_, t)| *t == text).map(|(id, _)| *id))
            }
            None => None,
        };
        let size = |key: &str| declared.config.get(key).map(|&n| usize::try_from(n).unwrap_or(usize::MAX));
        let vocab = size("vocab_size").ok_or_else(|| fail("internal error: the plan records no `vocab_size`".into()))?;
        let hidden = size("hidden_size").ok_or_else(|| fail("internal error: the plan records no `hidden_size`".into()))?;
        let max_positions = size("max_position_embeddings").unwrap_or(usize::MAX);
        let mut bound = BTreeMap::new();
        for (role, symbol) in &declared.kernels {
            let kernel = table.get(symbol).ok_or_else(|| fail(format!("the executable has no kernel `{symbol}` for `{role}`")))?;
            bound.insert(role.as_str(), bind(&weights, &converted, kernel, name, &declared.weights)?);
        }
        let kv_shape = if bound.contains_key("prefill") {
            Some(KvShape::from_config(&config).map_err(|e| fail(e.0))?)
        } else {
            None
        };
        // An encoder reads one position row per token: cut its input at the smaller of
        // sentence-transformers' `max_seq_length` and the position table.
        let max_input = if bound.contains_key("encode") {
            let sentence = model_folder::max_seq_length(dir).map_err(fail)?;
            Some(sentence.map_or(max_positions, |m| m.min(max_positions)))
        } else {
            None
        };
        Ok(Model {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            tokenizer,
            kv_shape,
            vocab,
            hidden,
            max_input,
            prefill: bound.remove("prefill"),
            decode: bound.remove("decode"),
            encode: bound.remove("encode"),
            weights,
            converted,
            end_of_turn,
            token_table: OnceLock::new(),
        })
    }

    /// The token ids of `text`, each checked to be inside the vocabulary the kernels were
    /// compiled for (an id beyond it would index past the embedding table): a
    /// `tokenizer.json` that does not match the model is an error naming the call.
    fn token_ids(&self, text: &str, special_tokens: bool, call: &str) -> Result<Vec<i64>, String> {
        let ids = self.tokenizer.encode_with(text, special_tokens).map_err(|e| format!("{call}: {}", e.0))?;
        if ids.is_empty() {
            return Err(format!("{call}: the prompt has no tokens"));
        }
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= self.vocab) {
            return Err(format!(
                "{call}: token id {bad} of the input is outside the model's vocabulary of {} (the folder's tokenizer.json does not match its config.json)",
                self.vocab
            ));
        }
        Ok(ids.into_iter().map(i64::from).collect())
    }

    /// Tokenizes `prompt`, runs the compiled prefill and keeps the cache and the logits of
    /// the last position. `call` names the call in errors (`llm.generate`). `special_tokens`:
    /// the post-processor adds its special tokens (a BOS), as `generate` tokenizes; a `chat`
    /// prompt is tokenized without them, as transformers' `apply_chat_template` does (the
    /// template writes its own).
    pub fn prefill(self: &Arc<Self>, prompt: &str, special_tokens: bool, call: &str, on: Executor) -> Result<Prefilled, String> {
        let bound = self.prefill.as_ref().ok_or_else(|| format!("model `{}` has no compiled prefill", self.name))?;
        let shape = self.kv_shape.ok_or_else(|| format!("model `{}` has no KV cache shape", self.name))?;
        let ids = self.token_ids(prompt, special_tokens, call)?;
        let mut cache = KvCache::new(shape, call);
        let mut logits = vec![0f32; self.vocab];
        let kernel_span;
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
            let started = Instant::now();
            on.launch(&bound.kernel, &args)?;
            kernel_span = (started, Instant::now());
        }
        cache.commit(ids.len());
        let prompt_ids = ids.iter().map(|&id| id as u32).collect();
        Ok(Prefilled { model: self.clone(), cache, logits, prompt_ids, kernel_span })
    }

    /// `embed(text)`: the sentence embedding (`[hidden]` f32) of the compiled encoder, the
    /// input cut as sentence-transformers does, at `max_seq_length` tokens
    /// (sentence_bert_config.json) or at `max_position_embeddings` when that is smaller or
    /// the file is absent: the encoder has no position row past it.
    /// `call` names the call in errors (`enc.embed`).
    pub fn encode(&self, text: &str, call: &str, on: Executor) -> Result<Vec<f32>, String> {
        let bound = self.encode.as_ref().ok_or_else(|| format!("model `{}` has no compiled encoder", self.name))?;
        let mut ids = self.token_ids(text, true, call)?;
        let max = self.max_input.unwrap_or(usize::MAX);
        if ids.len() > max {
            // Keep the post-processor's last special token ([SEP]) as truncation does.
            let last = *ids.last().unwrap_or(&0);
            ids.truncate(max.saturating_sub(1).max(1));
            if max >= 2 {
                ids.push(last);
            }
        }
        if ids.is_empty() {
            return Err(format!("{call}: the input has no tokens"));
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

    /// The text of every token for `json:` masks ([`crate::grammar::TokenTable`]), computed
    /// on the first constrained call and kept.
    pub fn token_table(&self) -> &TokenTable {
        self.token_table.get_or_init(|| TokenTable::new(self.tokenizer.token_texts()))
    }

    /// The end-of-turn token id of the chat template, if any ([`Model::load`]).
    pub fn end_of_turn(&self) -> Option<u32> {
        self.end_of_turn
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
    /// The prompt's length in tokens (special tokens included).
    pub fn prompt_tokens(&self) -> usize {
        self.prompt_ids.len()
    }

    /// The prompt's token ids, as the model was fed them.
    pub fn prompt_ids(&self) -> &[u32] {
        &self.prompt_ids
    }

    /// When the compiled prefill kernel started and ended.
    pub fn kernel_span(&self) -> (Instant, Instant) {
        self.kernel_span
    }

    /// Runs the decode loop of `generate` from the prefilled state and returns the new text:
    /// sampling and stop rules of [`Generation`], one compiled decode step per kept token.
    /// Every decode step runs `on` (the decode fragment's placement), whatever ran the prefill.
    pub fn generate(mut self, mut options: GenerateOptions, rng: Pcg32, on: Executor, observer: &mut dyn DecodeObserver) -> Result<String, String> {
        let model = self.model.clone();
        if options.chat {
            options.end_ids.extend(model.end_of_turn);
        }
        let bound = model.decode.as_ref().ok_or_else(|| format!("model `{}` has no compiled decode step", model.name))?;
        let dims = self.cache.shape().dims();
        let max_tokens = options.max_tokens;
        let prompt_ids = std::mem::take(&mut self.prompt_ids);
        let grammar = options.json.clone();
        let mut generation = Generation::new(&model.tokenizer, options, rng).with_prompt_ids(prompt_ids);
        if let Some(grammar) = &grammar {
            generation = generation.with_json(model.token_table(), grammar);
        }
        let mut index = 0;
        let mut shown = 0;
        loop {
            let step = generation.step(&self.logits)?;
            // A trailing U+FFFD may be the first bytes of a character that the next token
            // completes: it is held back until then, or until the end, so the streamed text
            // is the result and not a replacement character in its place.
            let text = match step {
                Step::Continue(_) => generation.text().trim_end_matches('\u{FFFD}'),
                Step::Done(_) => generation.text(),
            };
            if text.len() > shown && text.is_char_boundary(shown) {
                observer.text(&text[shown..]);
                shown = text.len();
            }
            let Step::Continue(token) = step else { break };
            let started = Instant::now();
            {
                // The context is full before `max_tokens` or a stop: the error keeps the
                // text generated so far (escaped, on the error's one line).
                let (position, buffers) = self.cache.decode_step().map_err(|e| {
                    format!("{} before `max_tokens: {}`; the text generated so far: {:?}", e.0, max_tokens, generation.text())
                })?;
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
            models.insert(model.name.clone(), Arc::new(Model::load(model, &dir, table)?));
        }
        Ok(Models { models })
    }

    /// The model named `name`, when loaded.
    pub fn get(&self, name: &str) -> Option<&Arc<Model>> {
        self.models.get(name)
    }
}
