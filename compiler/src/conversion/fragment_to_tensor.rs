//! `convert-fragment-to-tensor`: the models behind the LLM fragments become tensor
//! functions in the `tgraph` dialect.
//!
//! Input: fragment IR (planned, scheduled or not). For every `workflow.model` that a
//! `fragment.prefill`, `fragment.decode` or `fragment.encode` names, in module order, the
//! pass reads the model folder's `config.json` and the header of its `model.safetensors`
//! (header only: `crate::weights`) and appends to the module:
//!
//! - LlamaForCausalLM: `@<model>_prefill(%ids: tensor<?xi64>) -> (tensor<Vxf32>,
//!   tensor<LxCxKxDxf32>, tensor<LxCxKxDxf32>)` (logits of the last prompt position, the K
//!   and V caches with the prompt written at slots 0..T-1) and `@<model>_decode_step(%token:
//!   tensor<i64>, %position: tensor<i64>, %k_cache, %v_cache) -> (logits, k_cache, v_cache)`
//!   (the token at `position` written into the caches and attended over slots 0..=position);
//!   C is `max_position_embeddings`, K the KV heads, D the head size, L the layers.
//! - BertModel: `@<model>_encode(%ids: tensor<?xi64>, %mask: tensor<?xf32>) -> tensor<Hxf32>`
//!   (mask 1 for real tokens, 0 for padding; mean pooling over real tokens, L2-normalised).
//!
//! Every parameter is a `tgraph.weight` naming its safetensors tensor (in `model.safetensors`
//! or the shard `model.safetensors.index.json` names); a missing tensor or one whose shape
//! differs from what config.json implies is an error at the `workflow.model`, naming the
//! file and the tensor. A weight keeps its stored type (f32, f16, bf16: the kernels extend
//! 16-bit weights to f32 as they read them), or is typed f32 with `tgraph.stored` when the
//! model is declared `dtype: "f32"` (converted at load, [`dtype_policy`]). Each fragment op gets
//! `fragment.kernel = @<function>` (a decode names its decode step). User `fn`s are tensor
//! functions already and stay as they are.
//!
//! The functions are written as MLIR text (`emit.rs`) and parsed in the module's context:
//! a model graph reads best as the IR it becomes, and the parser checks its structure. The
//! parsed ops take the `workflow.model`'s location, so diagnostics point at the declaration.

mod bert;
mod emit;
mod llama;
pub mod rope;

use std::collections::BTreeMap;

use agentc_dialects::{fragment as fr, workflow as wf};
use agentc_runtime::model_config::{self, Rope, RopeScaling};
use melior::ir::attribute::FlatSymbolRefAttribute;
use melior::ir::{Location, Module};

use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};
use crate::planner::model_spec::{Family, ModelSpec};
use crate::weights::safetensors::Header;

/// Discardable symbol attribute on prefill / decode / encode fragments: the tensor function
/// that computes them (`@tiny_prefill`, `@tiny_decode_step`, `@enc_encode`).
pub const KERNEL_ATTR: &str = "fragment.kernel";

/// The architecture numbers the tensor functions need.
#[derive(Clone, Debug)]
pub struct Config {
    /// Decoder or encoder.
    pub family: Family,
    /// `hidden_size`.
    pub hidden: i64,
    /// `num_hidden_layers`.
    pub layers: i64,
    /// `num_attention_heads`.
    pub heads: i64,
    /// `num_key_value_heads`.
    pub kv_heads: i64,
    /// `head_dim`.
    pub head_dim: i64,
    /// `intermediate_size`.
    pub intermediate: i64,
    /// `vocab_size`.
    pub vocab: i64,
    /// `max_position_embeddings`: the KV cache's slots (decoders), the position table (BERT).
    pub max_positions: i64,
    /// `type_vocab_size` (BERT).
    pub type_vocab: i64,
    /// `rms_norm_eps` (Llama) or `layer_norm_eps` (BERT).
    pub norm_eps: f64,
    /// `rope_theta` (decoders; also `rope_parameters.rope_theta`).
    pub rope_theta: f64,
    /// How RoPE's inverse frequencies are scaled (`rope_scaling` / `rope_parameters`;
    /// [`RopeScaling::Default`] for encoders).
    pub rope_scaling: RopeScaling,
    /// `tie_word_embeddings` (decoders): the output projection is the embedding table.
    pub tied_embeddings: bool,
    /// The q, k and v projections have biases (`Qwen2ForCausalLM`).
    pub qkv_bias: bool,
}

impl Config {
    /// Reads `folder/config.json`; errors name what is unsupported.
    pub fn load(folder: &std::path::Path) -> Result<Config, String> {
        let spec = ModelSpec::load(folder, None).map_err(|e| e.0)?;
        let (json, path) = crate::planner::model_spec::config_json(folder).map_err(|e| e.0)?;
        let shown = path.display();
        // Every key is understood or known not to change numerics; the values that change
        // them are checked (the same check as `agentc check`'s).
        let checked = model_config::check(&json).map_err(|e| format!("`{shown}`: {e}"))?;
        // (An absent `hidden_act` is transformers' default: silu for decoders, gelu for BERT.)
        let rope = checked.rope.clone().unwrap_or(Rope { theta: 10000.0, scaling: RopeScaling::Default });
        check_sizes(&spec).map_err(|e| format!("`{shown}`: {e}"))?;
        Ok(Config {
            family: spec.family,
            hidden: spec.hidden as i64,
            layers: spec.layers as i64,
            heads: spec.heads as i64,
            kv_heads: spec.kv_heads as i64,
            head_dim: spec.head_dim as i64,
            intermediate: spec.intermediate as i64,
            vocab: spec.vocab as i64,
            max_positions: spec.max_positions as i64,
            type_vocab: spec.type_vocab as i64,
            norm_eps: checked.norm_eps,
            rope_theta: rope.theta,
            rope_scaling: rope.scaling,
            tied_embeddings: spec.tied_embeddings,
            qkv_bias: spec.qkv_bias,
        })
    }
}

/// Discardable attribute on each model function: the `config.json` sizes it was compiled
/// for, a dictionary of i64 (`{hidden_size = 64 : i64, ...}`); the plan records it as
/// `models[].config` and the executable checks the folder it loads against it.
pub const CONFIG_ATTR: &str = "tgraph.config";

impl Config {
    /// The sizes the compiled functions depend on, by `config.json` key (defaults applied).
    pub fn recorded(&self) -> Vec<(&'static str, i64)> {
        let mut keys = vec![
            ("head_dim", self.head_dim),
            ("hidden_size", self.hidden),
            ("intermediate_size", self.intermediate),
            ("max_position_embeddings", self.max_positions),
            ("num_attention_heads", self.heads),
            ("num_hidden_layers", self.layers),
            ("num_key_value_heads", self.kv_heads),
        ];
        if self.family == Family::Bert {
            keys.push(("type_vocab_size", self.type_vocab));
        }
        keys.push(("vocab_size", self.vocab));
        keys
    }

    /// The [`CONFIG_ATTR`] entry of a function's attribute dictionary, as MLIR text.
    pub fn attribute_text(&self) -> String {
        let entries: Vec<String> = self.recorded().iter().map(|(k, v)| format!("{k} = {v} : i64")).collect();
        format!("{CONFIG_ATTR} = {{{}}}", entries.join(", "))
    }
}

/// The largest size of one dimension the compiled functions take (MLIR shapes and the
/// kernels' index arithmetic stay far from overflow below it).
pub const MAX_DIM: f64 = (1u64 << 31) as f64;

/// The most f32 elements of one buffer a compiled model function allocates or reads
/// (the KV cache, a weight): 2^36, 256 GiB.
pub const MAX_ELEMENTS: f64 = (1u64 << 36) as f64;

/// Refuses sizes no kernel can be compiled for: a dimension of 2^31 or more, or a KV cache
/// or weight of more than [`MAX_ELEMENTS`] elements (a `max_position_embeddings` of 2^40
/// is this error, not an allocation abort).
fn check_sizes(spec: &ModelSpec) -> Result<(), String> {
    let dims = [
        ("hidden_size", spec.hidden),
        ("num_hidden_layers", spec.layers),
        ("num_attention_heads", spec.heads),
        ("num_key_value_heads", spec.kv_heads),
        ("head_dim", spec.head_dim),
        ("intermediate_size", spec.intermediate),
        ("vocab_size", spec.vocab),
        ("max_position_embeddings", spec.max_positions),
        ("type_vocab_size", spec.type_vocab),
    ];
    for (key, value) in dims {
        if value >= MAX_DIM {
            return Err(format!("`{key}` is {value}, more than the {} agentc compiles for", MAX_DIM - 1.0));
        }
    }
    let cache = spec.layers * spec.max_positions * spec.kv_heads * spec.head_dim;
    let largest_weight = [spec.vocab * spec.hidden, spec.intermediate * spec.hidden, spec.max_positions * spec.hidden]
        .into_iter()
        .fold(0.0, f64::max);
    for (what, elements) in [("the KV cache", if spec.family == Family::Llama { cache } else { 0.0 }), ("a weight", largest_weight)] {
        if elements > MAX_ELEMENTS {
            return Err(format!("{what} would hold {elements} f32 elements, more than the {MAX_ELEMENTS} agentc compiles for"));
        }
    }
    Ok(())
}

/// Applies the model's `dtype:` option to its weights' header: none keeps every weight as
/// stored; `"f32"` converts 16-bit weights at load; `"bf16"`/`"f16"` keep weights stored in
/// that format (and f32 ones, as a mixed folder's norms) and refuse a folder whose 16-bit
/// weights are in the other format or that has none (agentc does not round weights to a
/// narrower type at load).
fn dtype_policy(header: &mut Header, dtype: Option<&str>) -> Result<(), String> {
    let wanted = match dtype {
        None => return Ok(()),
        Some("f32") => {
            header.convert_to_f32 = true;
            return Ok(());
        }
        Some("bf16") => "BF16",
        Some("f16") => "F16",
        Some(other) => return Err(format!("dtype `{other}` is not one agentc compiles (f32, f16, bf16)")),
    };
    let shown = header.path.display();
    let other = if wanted == "BF16" { "F16" } else { "BF16" };
    if let Some((name, _)) = header.tensors.iter().find(|(_, t)| t.dtype == other) {
        return Err(format!(
            "`{shown}`: tensor `{name}` is {other}, but the model is declared dtype `{}`; agentc does not convert between 16-bit formats (drop `dtype:` or use \"f32\")",
            wanted.to_lowercase()
        ));
    }
    if !header.tensors.values().any(|t| t.dtype == wanted) {
        return Err(format!(
            "`{shown}` stores no {wanted} weights, but the model is declared dtype `{}`; agentc does not round weights to a narrower type at load (drop `dtype:` to compute with the weights as stored)",
            wanted.to_lowercase()
        ));
    }
    Ok(())
}

/// The functions of one model, as MLIR text; `dtype` is the model's `dtype:` option.
fn model_functions(symbol: &str, folder: &std::path::Path, dtype: Option<&str>, int8_activations: bool) -> Result<String, String> {
    let config = Config::load(folder)?;
    if agentc_runtime::gguf::is_gguf(folder) {
        // A GGUF model: its tensors under their HF names, quantised matrices bound in their
        // kernel form (without `dtype: "f32"`) or F32 as the runtime dequantises them, and the tokenizer its metadata describes, built here so that a
        // file the executable could not tokenize with is refused now.
        let model = agentc_runtime::gguf::GgufModel::open(folder).map_err(|e| e.0)?;
        model.tokenizer().map_err(|e| e.0)?;
        if let Some((tensor, ty)) = model.unsupported_tensor() {
            return Err(format!("`{}`: tensor `{tensor}` is {ty}; agentc computes from F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K and Q6_K", folder.display()));
        }
        let mut header = crate::weights::gguf::header(&model, dtype != Some("f32"));
        header.int8_activations = int8_activations;
        return Ok(match config.family {
            Family::Llama => llama::prefill(symbol, &config, &header)? + &llama::decode_step(symbol, &config, &header)?,
            Family::Bert => bert::encode(symbol, &config, &header)?,
        });
    }
    let mut header = Header::read_folder(folder).map_err(|e| e.0)?;
    dtype_policy(&mut header, dtype)?;
    let functions = match config.family {
        Family::Llama => llama::prefill(symbol, &config, &header)? + &llama::decode_step(symbol, &config, &header)?,
        Family::Bert => bert::encode(symbol, &config, &header)?,
    };
    // The executable loads the tokenizer at start-up: a folder without one is refused
    // here, where the model is compiled, rather than at the first run. (Planning alone
    // needs only config.json: `--emit=fragment` plans a 70B model from its config.)
    let tokenizer = folder.join("tokenizer.json");
    match std::fs::metadata(&tokenizer) {
        Ok(metadata) if metadata.is_file() => {}
        Ok(_) => return Err(format!("`{}` is not a regular file", tokenizer.display())),
        Err(error) => return Err(format!("the folder has no `tokenizer.json`, which the executable loads ({error})")),
    }
    Ok(functions)
}

/// Runs the conversion on a module.
pub fn convert_fragment_to_tensor(module: Op, context: &PassContext) -> Result<(), PassFailed> {
    let top = ir::module_ops(module);
    let fragments: Vec<Op> = top
        .iter()
        .filter(|op| op.name() == "func.func")
        .flat_map(|f| f.nested_ops())
        .filter(|op| matches!(op.name().as_str(), fr::PREFILL | fr::DECODE | fr::ENCODE))
        .collect();
    let used: std::collections::BTreeSet<String> =
        fragments.iter().filter_map(|op| wf::symbol_attr(&op.view(), "model")).collect();
    let existing: BTreeMap<String, Op> = top.iter().filter_map(|op| ir::symbol_name(*op).map(|n| (n, *op))).collect();
    let body = module.region_entry(0).ok_or(PassFailed)?;
    let mut failed = false;
    for model in top.iter().filter(|op| op.name() == wf::MODEL) {
        let symbol = ir::symbol_name(*model).unwrap_or_default();
        if !used.contains(&symbol) {
            continue;
        }
        let folder = context.base_dir.join(wf::string_attr(&model.view(), "path").unwrap_or_default());
        let dtype = wf::string_attr(&model.view(), "dtype").filter(|d| !d.is_empty());
        let int8_activations = wf::string_attr(&model.view(), wf::ACTIVATIONS).is_some_and(|a| a == "int8");
        let text = match model_functions(&symbol, &folder, dtype.as_deref(), int8_activations) {
            Ok(text) => text,
            Err(message) => {
                model.emit_error(&format!("cannot convert model `{symbol}` to tensor functions: {message}"));
                failed = true;
                continue;
            }
        };
        let context_ref = model.context();
        // SAFETY: `context_ref` outlives every use of `mlir` in this block.
        let mlir: &melior::Context = unsafe { context_ref.to_ref() };
        let Some(parsed) = Module::parse(mlir, &format!("module {{\n{text}}}\n")) else {
            model.emit_error(&format!("internal error: the tensor functions of model `{symbol}` do not parse"));
            failed = true;
            continue;
        };
        let location = model.location();
        for function in ir::module_ops(Op::of(&parsed.as_operation())) {
            let name = ir::symbol_name(function).unwrap_or_default();
            if existing.contains_key(&name) {
                model.emit_error(&format!("cannot emit tensor function `@{name}` for model `{symbol}`: the symbol exists"));
                failed = true;
                continue;
            }
            set_location(function, location);
            unsafe {
                mlir_sys::mlirOperationRemoveFromParent(function.0);
                mlir_sys::mlirBlockAppendOwnedOperation(body.0, function.0);
            }
        }
        drop(parsed);
    }
    if failed {
        return Err(PassFailed);
    }
    for op in fragments {
        let model = wf::symbol_attr(&op.view(), "model").unwrap_or_default();
        let suffix = match op.name().as_str() {
            fr::PREFILL => "prefill",
            fr::DECODE => "decode_step",
            _ => "encode",
        };
        let context_ref = op.context();
        // SAFETY: `context_ref` outlives `mlir`'s uses.
        let mlir: &melior::Context = unsafe { context_ref.to_ref() };
        op.set_attribute(KERNEL_ATTR, FlatSymbolRefAttribute::new(mlir, &format!("{model}_{suffix}")).into());
    }
    Ok(())
}

/// Gives `op` and everything nested in it `location`.
fn set_location(op: Op, location: Location) {
    unsafe { mlir_sys::mlirOperationSetLocation(op.0, location.to_raw()) };
    for nested in op.nested_ops() {
        unsafe { mlir_sys::mlirOperationSetLocation(nested.0, location.to_raw()) };
    }
}
