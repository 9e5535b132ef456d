//! Model declarations: `model m = hf("folder", dtype: "f16")` or
//! `model m = gguf("file.gguf", dtype: "f32")`, and reading the folder's `config.json` or the
//! GGUF's metadata (the checker's only IO) to learn the architecture and `hidden_size`, and a
//! decoder's chat template (`tokenizer_config.json` / `chat_template.jinja`, or
//! `tokenizer.chat_template`).

use std::path::Path;

use crate::ast::{ExprKind, ModelDecl};
use crate::diagnostic::Diagnostic;
use crate::hir::{Model, ModelConfig, ModelKind};
use agentc_runtime::model_config;
use crate::span::Span;
use crate::types::DType;

use super::{CheckMode, CheckOptions};

/// Checks a model declaration. `None` when it is malformed (errors were reported).
pub(crate) fn check_model(decl: &ModelDecl, options: &CheckOptions, diags: &mut Vec<Diagnostic>) -> Option<Model> {
    let ExprKind::Call { callee, args } = &decl.source.kind else {
        diags.push(shape_error(decl.source.span));
        return None;
    };
    let source = callee.name.as_str();
    if source != "hf" && source != "gguf" {
        diags.push(shape_error(callee.span));
        return None;
    }
    let mut path: Option<(String, Span)> = None;
    let mut dtype = None;
    let mut int8_activations = None;
    let mut ok = true;
    for (i, arg) in args.iter().enumerate() {
        match (&arg.name, i) {
            (None, 0) => match &arg.value.kind {
                ExprKind::Str(folder) => path = Some((folder.clone(), arg.value.span)),
                _ if source == "gguf" => {
                    diags.push(
                        Diagnostic::error("the GGUF file must be a text literal", arg.value.span)
                            .with_help("write `gguf(\"models/model.gguf\", dtype: \"f32\")`"),
                    );
                    ok = false;
                }
                _ => {
                    diags.push(
                        Diagnostic::error("the model folder must be a text literal", arg.value.span)
                            .with_help("write `hf(\"models/tiny-llama\")`"),
                    );
                    ok = false;
                }
            },
            (Some(name), _) if name.name == "dtype" && source == "gguf" => match &arg.value.kind {
                ExprKind::Str(d) if d == "f32" => dtype = DType::from_name(d),
                _ => {
                    diags.push(
                        Diagnostic::error("`dtype` of a `gguf` model must be \"f32\" (its weights are dequantised to f32 at load; without `dtype:` the kernels compute from the quantised blocks)", arg.value.span),
                    );
                    ok = false;
                }
            },
            (Some(name), _) if name.name == "activations" && source == "gguf" => match &arg.value.kind {
                ExprKind::Str(a) if a == "int8" => int8_activations = Some(name.span.to(arg.value.span)),
                _ => {
                    diags.push(
                        Diagnostic::error("`activations` must be \"int8\" (the decode steps' linear layers round each activation row to int8 per block of the weight's group and use integer dot products)", arg.value.span),
                    );
                    ok = false;
                }
            },
            (Some(name), _) if name.name == "activations" => {
                diags.push(
                    Diagnostic::error("`activations` is an option of `gguf` models (their quantised kernels)", name.span)
                        .with_help("write `model m = gguf(\"models/m.gguf\", activations: \"int8\")`"),
                );
                ok = false;
            }
            (Some(name), _) if name.name == "dtype" => match &arg.value.kind {
                ExprKind::Str(d) if matches!(d.as_str(), "f32" | "f16" | "bf16") => {
                    dtype = DType::from_name(d);
                }
                _ => {
                    diags.push(
                        Diagnostic::error("`dtype` must be \"f32\", \"f16\" or \"bf16\"", arg.value.span),
                    );
                    ok = false;
                }
            },
            (Some(name), _) => {
                diags.push(
                    Diagnostic::error(format!("unknown argument `{}` of `{source}`", name.name), name.span)
                        .with_help(usage(source)),
                );
                ok = false;
            }
            (None, _) => {
                diags.push(
                    Diagnostic::error(format!("`{source}` takes 1 positional argument"), arg.span).with_help(usage(source)),
                );
                ok = false;
            }
        }
    }
    if let (Some(span), Some(_)) = (int8_activations, dtype) {
        diags.push(
            Diagnostic::error("`activations: \"int8\"` needs the quantised kernels, and `dtype: \"f32\"` dequantises the weights at load", span)
                .with_help("drop one of the two options"),
        );
        ok = false;
    }
    if source == "gguf" {
        return check_gguf(decl, path, dtype, int8_activations.is_some(), ok, options, diags);
    }
    let Some((path, path_span)) = path else {
        if ok {
            diags.push(
                Diagnostic::error("`hf` needs the model folder", decl.source.span)
                    .with_help("write `hf(\"models/tiny-llama\")`"),
            );
        }
        return None;
    };
    let resolved_path = options.base_dir.join(&path);
    let config = read_config(&path, &resolved_path, path_span, options, diags);
    if !ok {
        return None;
    }
    let config = config?;
    Some(Model {
        name: decl.name.name.clone(),
        path,
        resolved_path,
        dtype,
        int8_activations: false,
        config,
        span: decl.span,
    })
}

fn shape_error(span: Span) -> Diagnostic {
    Diagnostic::error("a model is declared with `hf(...)` or `gguf(...)`", span)
        .with_help("write `model m = hf(\"models/tiny-llama\", dtype: \"f16\")` or `model m = gguf(\"models/m.gguf\", dtype: \"f32\")`")
}

fn usage(source: &str) -> &'static str {
    if source == "gguf" { "`gguf` takes a file, `dtype: \"f32\"` or `activations: \"int8\"`" } else { "`hf` takes a folder and `dtype: \"f16\"`" }
}

/// A `gguf("file.gguf")` declaration: the file's metadata stands for `config.json`
/// (agentc_runtime::gguf). Without `dtype:` the kernels compute from the quantised blocks;
/// `dtype: "f32"` dequantises them at load. A tensor of a ggml type agentc reads in neither
/// way (Q5_K…) is an error naming it.
fn check_gguf(
    decl: &ModelDecl,
    path: Option<(String, Span)>,
    dtype: Option<DType>,
    int8_activations: bool,
    ok: bool,
    options: &CheckOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<Model> {
    let Some((path, path_span)) = path else {
        if ok {
            diags.push(
                Diagnostic::error("`gguf` needs the GGUF file", decl.source.span)
                    .with_help("write `gguf(\"models/model.gguf\", dtype: \"f32\")`"),
            );
        }
        return None;
    };
    let resolved_path = options.base_dir.join(&path);
    if !ok {
        return None;
    }
    if !resolved_path.is_file() {
        let message = format!("GGUF file `{path}` not found");
        return match options.mode {
            CheckMode::Check => {
                diags.push(Diagnostic::warning(message, path_span).with_help("`agentc build` needs it"));
                Some(Model { name: decl.name.name.clone(), path, resolved_path, dtype, int8_activations, config: None, span: decl.span })
            }
            CheckMode::Build => {
                diags.push(Diagnostic::error(message, path_span));
                None
            }
        };
    }
    let model = match agentc_runtime::gguf::GgufModel::open(&resolved_path) {
        Ok(model) => model,
        Err(error) => {
            diags.push(Diagnostic::error(format!("cannot use GGUF file `{path}`: {}", error.0), path_span));
            return None;
        }
    };
    if let Some((tensor, ty)) = model.unsupported_tensor() {
        diags.push(
            Diagnostic::error(format!("GGUF file `{path}`: tensor `{tensor}` is {ty}, which agentc cannot compute from"), path_span)
                .with_help("agentc reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K and Q6_K tensors (re-quantise the model to one of them)"),
        );
        return None;
    }
    let json = model.config();
    let hidden_size = json["hidden_size"].as_u64()?;
    let max_positions = json["max_position_embeddings"].as_u64();
    let config = ModelConfig {
        architecture: "LlamaForCausalLM".to_string(),
        kind: ModelKind::Decoder,
        hidden_size,
        max_positions,
        chat_template: model.chat_template(),
    };
    Some(Model { name: decl.name.name.clone(), path, resolved_path, dtype, int8_activations, config: Some(config), span: decl.span })
}

/// Reads `config.json`. `Some(None)`: folder absent in check mode (a warning);
/// `None`: an error was reported.
fn read_config(
    path: &str,
    folder: &Path,
    span: Span,
    options: &CheckOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<Option<ModelConfig>> {
    if !folder.is_dir() {
        let message = format!("model folder `{path}` not found");
        return match options.mode {
            CheckMode::Check => {
                diags.push(Diagnostic::warning(message, span).with_help(
                    "`embed` is typed `tensor<?xf32>` until the folder exists; `agentc build` needs it",
                ));
                Some(None)
            }
            CheckMode::Build => {
                diags.push(
                    Diagnostic::error(message, span)
                        .with_help("a model folder holds config.json, model.safetensors and tokenizer.json"),
                );
                None
            }
        };
    }
    let unreadable = |reason: String| {
        Diagnostic::error(format!("model folder `{path}` has no readable config.json: {reason}"), span)
    };
    let config_path = folder.join("config.json");
    if let Err(reason) = regular_file(&config_path) {
        diags.push(unreadable(reason));
        return None;
    }
    let text = match std::fs::read_to_string(&config_path) {
        Ok(text) => text,
        Err(error) => {
            diags.push(unreadable(error.to_string()));
            return None;
        }
    };
    let json: serde_json::Value = match serde_json::from_str(&text) {
        Ok(json) => json,
        Err(error) => {
            diags.push(unreadable(error.to_string()));
            return None;
        }
    };
    let architecture = json
        .get("architectures")
        .and_then(|a| a.get(0))
        .and_then(|a| a.as_str())
        .unwrap_or("")
        .to_string();
    let Some(known) = model_config::Architecture::from_name(&architecture) else {
        let shown = if architecture.is_empty() { "(none)".to_string() } else { architecture };
        diags.push(
            Diagnostic::error(format!("unsupported model architecture `{shown}`"), span)
                .with_label(format!("config.json of `{path}`"))
                .with_help(model_config::supported_help()),
        );
        return None;
    };
    let kind = if known.is_decoder() { ModelKind::Decoder } else { ModelKind::Encoder };
    // Every key is understood or known not to change numerics.
    if let Err(message) = model_config::check(&json) {
        diags.push(
            Diagnostic::error(format!("model folder `{path}`: {message}"), span)
                .with_label(format!("config.json of `{path}`")),
        );
        return None;
    }
    let Some(hidden_size) = json.get("hidden_size").and_then(|h| h.as_u64()).filter(|&h| h > 0) else {
        diags.push(unreadable("`hidden_size` is missing or not a positive integer".into()));
        return None;
    };
    let max_positions = json.get("max_position_embeddings").and_then(|n| n.as_u64());
    // The chat template is read (and parsed) by the runtime's one definition; an error is
    // kept for a `chat` call to report, since a folder used only with `generate` needs none.
    let chat_template = match kind {
        ModelKind::Decoder => agentc_runtime::chat::ChatTemplate::from_model_dir(folder),
        ModelKind::Encoder => Ok(None),
    };
    Some(Some(ModelConfig { architecture, kind, hidden_size, max_positions, chat_template }))
}

/// Errors unless `path` is a regular file: reading a FIFO or a device would block.
fn regular_file(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(()),
        Ok(_) => Err("not a regular file".into()),
        Err(error) => Err(error.to_string()),
    }
}
