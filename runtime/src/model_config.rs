//! What agentc makes of a Hugging Face `config.json`: the architectures it compiles, and for
//! every key one of three answers — understood (read, and its value checked), known not to
//! change the numbers a forward pass computes ([`NO_NUMERIC_EFFECT`]), or an error naming
//! the key. A key agentc would silently ignore could make it compute a different model than
//! transformers does; so nothing is ignored that is not listed here.
//!
//! The checker (`agentc check`) and `convert-fragment-to-tensor` both call [`check`]; the
//! compiler takes the RoPE parameters ([`Rope`]) and the norm epsilon from its answer.
//! (It lives in the runtime crate so that an executable loading another folder can make the
//! same check; [`Checked::record`] is the line such a check would compare.)

use serde_json::{Map, Value};

/// An architecture agentc compiles, by `architectures[0]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// `LlamaForCausalLM`.
    Llama,
    /// `Qwen2ForCausalLM`: Llama's shape with biases on the q, k and v projections.
    Qwen2,
    /// `MistralForCausalLM`: Llama's shape, optionally a sliding attention window.
    Mistral,
    /// `BertModel`.
    Bert,
}

/// Every supported architecture: its `architectures[0]` name and whether it is a decoder.
pub const ARCHITECTURES: &[(&str, Architecture, bool)] = &[
    ("LlamaForCausalLM", Architecture::Llama, true),
    ("Qwen2ForCausalLM", Architecture::Qwen2, true),
    ("MistralForCausalLM", Architecture::Mistral, true),
    ("BertModel", Architecture::Bert, false),
];

impl Architecture {
    /// The architecture named `name` (`architectures[0]`), if supported.
    pub fn from_name(name: &str) -> Option<Architecture> {
        ARCHITECTURES.iter().find(|(n, _, _)| *n == name).map(|(_, a, _)| *a)
    }

    /// Whether it is a decoder (`generate`, `chat`) rather than an encoder (`embed`).
    pub fn is_decoder(self) -> bool {
        self != Architecture::Bert
    }

    /// Its `architectures[0]` name.
    pub fn name(self) -> &'static str {
        ARCHITECTURES.iter().find(|(_, a, _)| *a == self).map(|(n, _, _)| *n).unwrap_or("")
    }

    /// Whether the q, k and v projections have biases (`…q_proj.bias`).
    pub fn qkv_bias(self) -> bool {
        self == Architecture::Qwen2
    }

    /// The keys this architecture reads (besides [`NO_NUMERIC_EFFECT`]): the family's
    /// list and the architecture's own.
    fn understood(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Architecture::Llama => (DECODER_KEYS, &["attention_bias", "mlp_bias", "rope_interleaved"]),
            Architecture::Qwen2 => (DECODER_KEYS, &["use_sliding_window", "sliding_window", "max_window_layers", "layer_types"]),
            Architecture::Mistral => (DECODER_KEYS, &["sliding_window", "layer_types"]),
            Architecture::Bert => (BERT_KEYS, &[]),
        }
    }
}

/// A help line listing the supported architectures.
pub fn supported_help() -> String {
    let names: Vec<String> = ARCHITECTURES
        .iter()
        .map(|(n, _, decoder)| format!("`{n}` ({})", if *decoder { "decoder" } else { "encoder" }))
        .collect();
    format!("supported architectures: {}", names.join(", "))
}

/// Keys every decoder reads: sizes, norm, activation, RoPE, embedding tying, weight dtype.
const DECODER_KEYS: &[&str] = &[
    "architectures",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "rms_norm_eps",
    "hidden_act",
    "rope_theta",
    "rope_scaling",
    "rope_parameters",
    "tie_word_embeddings",
    "torch_dtype",
    "dtype",
];

/// Keys `BertModel` reads.
const BERT_KEYS: &[&str] = &[
    "architectures",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "type_vocab_size",
    "layer_norm_eps",
    "hidden_act",
    "position_embedding_type",
    "is_decoder",
    "add_cross_attention",
    // BertModel has no output projection: tying it to the embedding changes nothing.
    "tie_word_embeddings",
    "torch_dtype",
    "dtype",
];

/// Keys known not to change what a forward pass computes: bookkeeping, training-only
/// settings (dropout, initialisation), token ids (agentc takes them from the tokenizer
/// files), and switches of how transformers runs (caching, outputs, chunking).
pub const NO_NUMERIC_EFFECT: &[&str] = &[
    "_name_or_path",
    "model_type",
    "transformers_version",
    "transformers.js_config",
    "is_llama_config",
    "use_cache",
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    "sep_token_id",
    "decoder_start_token_id",
    "initializer_range",
    "initializer_factor",
    "attention_dropout",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "classifier_dropout",
    "gradient_checkpointing",
    "pretraining_tp",
    "output_attentions",
    "output_hidden_states",
    "return_dict",
    "torchscript",
    "chunk_size_feed_forward",
    "use_return_dict",
    "id2label",
    "label2id",
    "problem_type",
];

/// How RoPE's inverse frequencies are scaled (`rope_type` of `rope_scaling` /
/// `rope_parameters`).
#[derive(Clone, Debug, PartialEq)]
pub enum RopeScaling {
    /// `default` (or no scaling given): inv_freq[j] = θ^(-2j/D).
    Default,
    /// `linear`: inv_freq / `factor` (positions interpolated).
    Linear {
        /// `factor`.
        factor: f64,
    },
    /// `llama3`: low frequencies divided by `factor`, high ones kept, a smooth ramp
    /// between (by wavelength against `original_max_position_embeddings`).
    Llama3 {
        /// `factor`.
        factor: f64,
        /// `low_freq_factor`.
        low_freq_factor: f64,
        /// `high_freq_factor`.
        high_freq_factor: f64,
        /// `original_max_position_embeddings`.
        original_max_positions: f64,
    },
}

/// A decoder's rotary embedding: base and scaling.
#[derive(Clone, Debug, PartialEq)]
pub struct Rope {
    /// `rope_theta` (top level or in `rope_parameters`; 10000 when absent).
    pub theta: f64,
    /// The scaling of the inverse frequencies.
    pub scaling: RopeScaling,
}

/// What [`check`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The architecture.
    pub architecture: Architecture,
    /// RoPE (decoders; `None` for encoders).
    pub rope: Option<Rope>,
    /// `rms_norm_eps` (decoders, default 1e-6) or `layer_norm_eps` (BERT, default 1e-12).
    pub norm_eps: f64,
}

impl Checked {
    /// What the compiled functions depend on beyond the sizes, as one line: architecture,
    /// norm epsilon, RoPE base and scaling. Two
    /// configs with the same record compute the same function of the same weights.
    pub fn record(&self) -> String {
        let mut text = format!("{} eps={:e}", self.architecture.name(), self.norm_eps);
        if let Some(rope) = &self.rope {
            text += &format!(" rope_theta={:e}", rope.theta);
            text += &match &rope.scaling {
                RopeScaling::Default => " rope_type=default".to_string(),
                RopeScaling::Linear { factor } => format!(" rope_type=linear factor={factor:e}"),
                RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_positions } => format!(
                    " rope_type=llama3 factor={factor:e} low_freq_factor={low_freq_factor:e} high_freq_factor={high_freq_factor:e} original_max_position_embeddings={original_max_positions:e}"
                ),
            };
        }
        text
    }
}

/// A positive number of `map` (`None` when absent or null).
fn positive_number(map: &Map<String, Value>, key: &str) -> Result<Option<f64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().filter(|x| *x > 0.0).map(Some).ok_or_else(|| format!("`{key}` must be a positive number, not {v}")),
    }
}

/// Checks a parsed `config.json`: the architecture is supported, every key is understood
/// or listed in [`NO_NUMERIC_EFFECT`], and the understood keys that change numerics hold
/// values agentc computes as transformers does. Keys that are absent take transformers'
/// defaults. The error is one line naming the key (callers add the file).
pub fn check(json: &Value) -> Result<Checked, String> {
    let Some(map) = json.as_object() else { return Err("config.json is not a JSON object".into()) };
    let name = map.get("architectures").and_then(|a| a.get(0)).and_then(Value::as_str).unwrap_or("");
    let architecture = Architecture::from_name(name).ok_or_else(|| {
        format!("unsupported model architecture `{}`", if name.is_empty() { "(none)" } else { name })
    })?;
    let (family, own) = architecture.understood();
    for key in map.keys() {
        let key_str = key.as_str();
        if !family.contains(&key_str) && !own.contains(&key_str) && !NO_NUMERIC_EFFECT.contains(&key_str) {
            return Err(format!(
                "config key `{key}` is not understood for `{name}` (agentc refuses a key it would ignore)"
            ));
        }
    }
    let act = if architecture == Architecture::Bert { "gelu" } else { "silu" };
    if let Some(value) = map.get("hidden_act").filter(|v| v.as_str() != Some(act)) {
        return Err(format!("`hidden_act` {value} is not supported (expected \"{act}\")"));
    }
    match architecture {
        Architecture::Bert => {
            if let Some(value) = map.get("position_embedding_type").filter(|v| v.as_str() != Some("absolute")) {
                return Err(format!("`position_embedding_type` {value} is not supported (expected \"absolute\")"));
            }
            for flag in ["is_decoder", "add_cross_attention"] {
                must_be_false(map, flag)?;
            }
            let norm_eps = positive_number(map, "layer_norm_eps")?.unwrap_or(1e-12);
            Ok(Checked { architecture, rope: None, norm_eps })
        }
        _ => {
            for flag in ["attention_bias", "mlp_bias", "rope_interleaved"] {
                must_be_false(map, flag)?;
            }
            check_sliding_window(architecture, map)?;
            let norm_eps = positive_number(map, "rms_norm_eps")?.unwrap_or(1e-6);
            Ok(Checked { architecture, rope: Some(rope(map)?), norm_eps })
        }
    }
}

fn must_be_false(map: &Map<String, Value>, flag: &str) -> Result<(), String> {
    match map.get(flag) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(()),
        Some(value) => Err(format!("`{flag}: {value}` is not supported (only false)")),
    }
}

/// A positive integer of `map`, if present.
fn positive(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|&n| n > 0).map(Some).ok_or_else(|| format!("`{key}` must be a positive integer, not {v}")),
    }
}

/// A sliding attention window cannot change the numbers when it spans every position the
/// compiled model attends over (the KV cache holds `max_position_embeddings` slots; a query
/// at p sees keys p - window < k <= p). A narrower window is not implemented: an error.
fn check_sliding_window(architecture: Architecture, map: &Map<String, Value>) -> Result<(), String> {
    let window = positive(map, "sliding_window")?;
    let layers = positive(map, "num_hidden_layers")?.unwrap_or(0);
    let slides = match map.get("layer_types") {
        None | Some(Value::Null) => match architecture {
            // transformers: Qwen2 slides only with use_sliding_window, from layer
            // max_window_layers on.
            Architecture::Qwen2 => {
                let used = match map.get("use_sliding_window") {
                    None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                    Some(Value::Bool(true)) => true,
                    Some(v) => return Err(format!("`use_sliding_window` must be true or false, not {v}")),
                };
                let from = match map.get("max_window_layers") {
                    None | Some(Value::Null) => 28,
                    Some(v) => v.as_u64().ok_or_else(|| format!("`max_window_layers` must be a non-negative integer, not {v}"))?,
                };
                used && from < layers
            }
            _ => true,
        },
        Some(Value::Array(types)) => {
            let mut any = false;
            for t in types {
                match t.as_str() {
                    Some("full_attention") => {}
                    Some("sliding_attention") => any = true,
                    _ => return Err(format!("`layer_types` entry {t} is not supported (\"full_attention\" or \"sliding_attention\")")),
                }
            }
            any
        }
        Some(v) => return Err(format!("`layer_types` must be a list, not {v}")),
    };
    let Some(window) = window.filter(|_| slides) else { return Ok(()) };
    let positions = positive(map, "max_position_embeddings")?.unwrap_or(2048);
    if window < positions {
        return Err(format!(
            "`sliding_window` {window} is narrower than `max_position_embeddings` {positions}: sliding-window attention is not supported (a window of at least the context changes nothing)"
        ));
    }
    Ok(())
}

/// Keys a RoPE dictionary may hold.
const ROPE_KEYS: &[&str] =
    &["rope_type", "type", "rope_theta", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"];

/// RoPE from `rope_theta`, `rope_scaling` (transformers 4) and `rope_parameters`
/// (transformers 5). When two of them are given they must agree.
fn rope(map: &Map<String, Value>) -> Result<Rope, String> {
    let top_theta = positive_number(map, "rope_theta")?;
    let mut found: Vec<(&str, Rope)> = Vec::new();
    for key in ["rope_scaling", "rope_parameters"] {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(dict)) => found.push((key, rope_dict(key, dict, top_theta)?)),
            Some(v) => return Err(format!("`{key}` must be an object, not {v}")),
        }
    }
    let rope = match found.as_slice() {
        [] => Rope { theta: top_theta.unwrap_or(10000.0), scaling: RopeScaling::Default },
        [(_, one)] => one.clone(),
        [(_, a), (_, b)] if a == b => a.clone(),
        _ => return Err("`rope_scaling` and `rope_parameters` disagree".into()),
    };
    if let Some(theta) = top_theta.filter(|t| *t != rope.theta) {
        return Err(format!("`rope_theta` {theta} disagrees with the RoPE parameters' {}", rope.theta));
    }
    Ok(rope)
}

fn rope_dict(key: &str, dict: &Map<String, Value>, top_theta: Option<f64>) -> Result<Rope, String> {
    if let Some(unknown) = dict.keys().find(|k| !ROPE_KEYS.contains(&k.as_str())) {
        return Err(format!("`{key}.{unknown}` is not understood (agentc refuses a key it would ignore)"));
    }
    let number = |name: &str| -> Result<f64, String> {
        let v = dict.get(name).ok_or_else(|| format!("`{key}` of this rope type needs `{name}`"))?;
        v.as_f64().filter(|x| *x > 0.0).ok_or_else(|| format!("`{key}.{name}` must be a positive number, not {v}"))
    };
    let theta = match dict.get("rope_theta") {
        None => top_theta.unwrap_or(10000.0),
        Some(_) => number("rope_theta")?,
    };
    let kind = dict.get("rope_type").or(dict.get("type")).and_then(Value::as_str).unwrap_or("default");
    let extra = |allowed: &[&str]| -> Result<(), String> {
        match dict.keys().find(|k| !["rope_type", "type", "rope_theta"].contains(&k.as_str()) && !allowed.contains(&k.as_str())) {
            Some(k) => Err(format!("`{key}.{k}` does not apply to rope type `{kind}`")),
            None => Ok(()),
        }
    };
    let scaling = match kind {
        "default" => {
            extra(&[])?;
            RopeScaling::Default
        }
        "linear" => {
            extra(&["factor"])?;
            RopeScaling::Linear { factor: number("factor")? }
        }
        "llama3" => {
            extra(&["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"])?;
            let (low, high) = (number("low_freq_factor")?, number("high_freq_factor")?);
            if high <= low {
                return Err(format!("`{key}.high_freq_factor` ({high}) must exceed `low_freq_factor` ({low})"));
            }
            RopeScaling::Llama3 {
                factor: number("factor")?,
                low_freq_factor: low,
                high_freq_factor: high,
                original_max_positions: number("original_max_position_embeddings")?,
            }
        }
        other => {
            return Err(format!(
                "rope type `{other}` of `{key}` is not supported (supported: default, linear, llama3)"
            ))
        }
    };
    Ok(Rope { theta, scaling })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn llama(extra: Value) -> Value {
        let mut base = json!({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "max_position_embeddings": 512});
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = check(&llama(json!({"quantization_config": {}}))).unwrap_err();
        assert!(err.contains("`quantization_config` is not understood"), "{err}");
        assert!(check(&llama(json!({"transformers_version": "5.0", "use_cache": true}))).is_ok());
    }

    #[test]
    fn rope_types() {
        let r = check(&llama(json!({"rope_scaling": {"rope_type": "linear", "factor": 2.0}, "rope_theta": 500000.0})))
            .unwrap()
            .rope
            .unwrap();
        assert_eq!(r, Rope { theta: 500000.0, scaling: RopeScaling::Linear { factor: 2.0 } });
        let err = check(&llama(json!({"rope_scaling": {"rope_type": "yarn", "factor": 2.0}}))).unwrap_err();
        assert!(err.contains("rope type `yarn`"), "{err}");
        let err = check(&llama(json!({"rope_parameters": {"rope_type": "llama3", "factor": 8.0}}))).unwrap_err();
        assert!(err.contains("needs `low_freq_factor`"), "{err}");
        let err = check(&llama(json!({"rope_theta": 1.0, "rope_parameters": {"rope_theta": 2.0}}))).unwrap_err();
        assert!(err.contains("disagrees"), "{err}");
    }

    #[test]
    fn a_window_narrower_than_the_context_is_refused() {
        let mistral = |w: u64| json!({"architectures": ["MistralForCausalLM"], "max_position_embeddings": 512, "sliding_window": w});
        assert!(check(&mistral(512)).is_ok());
        assert!(check(&mistral(511)).unwrap_err().contains("`sliding_window` 511"));
        let qwen = json!({"architectures": ["Qwen2ForCausalLM"], "max_position_embeddings": 512, "num_hidden_layers": 2,
            "sliding_window": 4, "use_sliding_window": false, "max_window_layers": 28});
        assert!(check(&qwen).is_ok());
        let mut sliding = qwen.clone();
        sliding["layer_types"] = json!(["full_attention", "sliding_attention"]);
        assert!(check(&sliding).is_err());
    }

    #[test]
    fn the_record_names_what_changes_numerics() {
        let record = |extra: Value| check(&llama(extra)).unwrap().record();
        assert_eq!(record(json!({})), "LlamaForCausalLM eps=1e-6 rope_theta=1e4 rope_type=default");
        assert_ne!(record(json!({"rms_norm_eps": 1e-5})), record(json!({})));
        assert_ne!(record(json!({"rope_scaling": {"rope_type": "linear", "factor": 2.0}})), record(json!({})));
        // rope_theta spelled at the top level or in rope_parameters is the same model.
        assert_eq!(record(json!({"rope_theta": 10000.0})), record(json!({"rope_parameters": {"rope_theta": 10000.0}})));
    }
}
