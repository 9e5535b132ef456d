//! `agentc calibrate`: measures this machine with agentc's own compiled kernels and writes
//! a target TOML whose constants make the planner's host estimates match the measured runs
//! (docs/cost-model.md, "Calibrating the host").
//!
//! For each model it builds one executable (`main` generates from its arguments, after an
//! `exec("true")` tool call) and runs it with `--trace` at several prompt lengths. From each
//! trace it takes the `prefill` and `decode` fragment slices, the `prefill kernel` slice (the
//! prompt's length), the `decode step` slices and the tool's slice. It plans the same calls
//! with the prompts written out (the planner counts them with the model's tokenizer), so each
//! measured fragment has the profile the planner gives it, and fits the cpu device's
//! effective FLOP rate, memory bandwidth and per-launch overhead to minimise the worst
//! planned/measured ratio. The per-launch overhead is measured, not fitted: the decode
//! fragments' time outside their step kernels, per step; and the bandwidth is capped at
//! what the largest float model's decode-step kernel reached (otherwise the bandwidth and
//! the overhead trade off along a line: every decode sample reads the same weights once
//! per step).
//!
//! A `.gguf` file is measured twice: dequantised to f32 (the fit above) and as stored, at
//! the shortest prompt length, whose decode-step kernel gives the device's rate of
//! dequantising int8 or int4 weights (`dequant_weights_per_s`, docs/cost-model.md
//! "Quantized weights"). The fit is checked by loading the written TOML as a target and
//! re-timing every fragment with the scheduler's own cost function.
//!
//! It also measures how many cores one call keeps busy (`busy_cores_per_call`, per phase):
//! each traced fragment slice carries the process's CPU time over it and the part its
//! threads spent polling for work (`cpu_s`, `spin_s`, docs/runtime.md "Trace"), so the
//! prefill's or decode's busy cores are `(cpu_s − spin_s) / dur`, the median over the runs;
//! the written value is the largest float model's (every model's is in the header).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use agentc_compiler::diagnostics::DiagnosticCollector;
use agentc_compiler::ir::Op;
use agentc_compiler::passes::fragment::schedule::schedule_module;
use agentc_compiler::pipeline::{PassRunner, RunOptions, Step};
use agentc_compiler::{passes, workflow_pipeline};
use agentc_scheduler::target::DequantRates;
use agentc_scheduler::{DeviceKind, Fragment, FragmentKind, ModelNeeds, Target};
use clap::Args;

use crate::build::{fail_mlir, load_module, new_context, Input, TargetArgs};
use crate::output::write_output;

/// Options of `agentc calibrate`.
#[derive(Args)]
pub struct CalibrateArgs {
    /// The target to calibrate: only `host` (this machine) can be measured.
    #[arg(long, default_value = "host")]
    target: String,
    /// Where to write the calibrated target TOML (default: stdout).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// A model to measure (repeatable): a Hugging Face folder, a `.gguf` file (dequantised to
    /// f32 at load), or a model source expression with an absolute path, e.g.
    /// `gguf("/m/x.gguf")`. Default: `examples/models/tiny-llama` and the `.gguf` files of
    /// `examples/models/smollm2/` under the current folder, those present.
    #[arg(long = "model")]
    models: Vec<String>,
    /// Prompt lengths to measure, in words (about one token each), comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [8usize, 64, 256])]
    prompt_words: Vec<usize>,
    /// Tokens generated per run (`max_tokens`).
    #[arg(long, default_value_t = 16)]
    new_tokens: usize,
    /// Runs per prompt length; the median of each figure is kept.
    #[arg(long, default_value_t = 3)]
    reps: usize,
}

/// One fragment as measured and as planned.
struct Sample {
    /// `tiny-llama prefill, 64 tokens`.
    label: String,
    /// Seconds, measured (median over the repetitions).
    measured: f64,
    /// The fragment the planner made for the same call (its profile).
    fragment: Fragment,
    /// Its model's needs.
    model: Option<ModelNeeds>,
    /// The share of the planned fragment that ran (decode: tokens generated / planned).
    share: f64,
    /// Its model's weights are stored in quantized blocks: reported, not fitted (the
    /// dequantisation rates come from the decode-step kernels).
    quantized: bool,
}

/// What the measurements found, model by model.
#[derive(Default)]
struct Findings {
    /// Every measured fragment.
    samples: Vec<Sample>,
    /// Lines for the TOML's header comment.
    notes: Vec<String>,
    /// Float models: (weight bytes, median decode-step kernel seconds).
    float_steps: Vec<(f64, f64)>,
    /// Quantized models: (int8 weights, int4 weights, median decode-step kernel seconds).
    quantized_steps: Vec<(f64, f64, f64)>,
    /// Per model and prompt length: the decode fragment's time outside its step kernels,
    /// per step (sampling, detokenising, the loop), median over the runs.
    step_overheads: Vec<f64>,
    /// Float models: (weight bytes, the cores a prefill and a decode kept busy), when the
    /// traces carried the CPU times.
    busy_cores: Vec<(f64, Busy)>,
}

/// The cores one call kept busy, per phase (median over the runs).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Busy {
    prefill: f64,
    decode: f64,
}

/// What one traced run reports (seconds).
#[derive(Default, Clone)]
struct Run {
    prefill: f64,
    prefill_kernel: f64,
    prompt_tokens: usize,
    decode: f64,
    steps: Vec<f64>,
    tool: f64,
    /// The cores the prefill and the decode kept busy: (CPU − polling) / wall of their
    /// slices; `None` when the trace lacks `cpu_s`/`spin_s`.
    busy: Option<Busy>,
}

/// Runs `agentc calibrate`.
pub fn run(args: &CalibrateArgs) -> ExitCode {
    if args.target != "host" {
        eprintln!("error: `--target {}`: calibrate measures the machine it runs on, so only `--target host` can be calibrated", args.target);
        return ExitCode::from(2);
    }
    if args.reps == 0 || args.new_tokens < 2 || args.prompt_words.is_empty() || args.prompt_words.contains(&0) {
        eprintln!("error: `--reps` must be at least 1, `--new-tokens` at least 2 and every `--prompt-words` at least 1");
        return ExitCode::from(2);
    }
    let models = if args.models.is_empty() { default_models() } else { args.models.clone() };
    if models.is_empty() {
        eprintln!("error: no model to measure: give `--model FOLDER_OR_GGUF` (the defaults examples/models/tiny-llama and examples/models/smollm2/*.gguf are not under the current folder)");
        return ExitCode::from(2);
    }
    let sources = match models.iter().map(|m| model_source(m)).collect::<Result<Vec<_>, _>>() {
        Ok(sources) => sources,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    let Some(host) = agentc_scheduler::preset("host") else {
        eprintln!("error: internal error: the host preset does not parse");
        return ExitCode::from(1);
    };
    let work = Scratch::new();
    let mut found = Findings::default();
    let shortest = args.prompt_words.iter().copied().min().into_iter().collect::<Vec<_>>();
    for (index, (name, source, stored)) in sources.iter().enumerate() {
        let mut measured = measure_model(args, &work.0, 2 * index, name, source, &args.prompt_words, &mut found);
        if let (Ok(()), Some(stored)) = (&measured, stored) {
            measured = measure_model(args, &work.0, 2 * index + 1, &format!("{name} (as stored)"), stored, &shortest, &mut found);
        }
        if let Err(message) = measured {
            eprintln!("error: model `{name}`: {message}");
            return ExitCode::from(1);
        }
    }
    let Some(fit) = fit(&found) else {
        eprintln!("error: no float model was measured: give one (`--model`) with float weights or a `.gguf` file, which is also measured dequantised to f32");
        return ExitCode::from(2);
    };
    let dequant = dequant_rates(&found);
    let busy = found.busy_cores.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, b)| b);
    let toml = calibrated_toml(&host, &fit, dequant, busy, &found.notes);
    let target = match Target::from_toml_str(&toml, "the calibrated target") {
        Ok(target) => target,
        Err(error) => {
            eprintln!("error: internal error: the calibrated target does not load: {error}");
            return ExitCode::from(1);
        }
    };
    eprintln!("{}", report(&found.samples, &host, &target));
    if let Err(error) = write_output(args.output.as_deref(), &toml) {
        eprintln!("error: {error}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// The default models, those present under the current folder.
fn default_models() -> Vec<String> {
    let mut out = Vec::new();
    if Path::new("examples/models/tiny-llama/config.json").is_file() {
        out.push("examples/models/tiny-llama".to_string());
    }
    if let Ok(entries) = std::fs::read_dir("examples/models/smollm2") {
        let mut ggufs: Vec<String> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
            .map(|p| p.display().to_string())
            .collect();
        ggufs.sort();
        out.extend(ggufs.into_iter().take(1));
    }
    out
}

/// (a short name, the model source expression, and for a `.gguf` file the expression that
/// computes from its stored blocks) of a `--model` argument.
fn model_source(arg: &str) -> Result<(String, String, Option<String>), String> {
    if arg.contains('(') {
        return Ok((arg.to_string(), arg.to_string(), None));
    }
    let path = Path::new(arg);
    let absolute = std::fs::canonicalize(path).map_err(|e| format!("model `{arg}`: {e}"))?;
    let name = absolute.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| arg.to_string());
    let text = absolute.to_str().ok_or_else(|| format!("model `{arg}`: the path is not UTF-8"))?;
    if text.contains('"') || text.contains('\\') {
        return Err(format!("model `{arg}`: the path holds a quote or a backslash"));
    }
    if absolute.is_file() && absolute.extension().is_some_and(|e| e == "gguf") {
        Ok((name, format!("gguf(\"{text}\", dtype: \"f32\")"), Some(format!("gguf(\"{text}\")"))))
    } else if absolute.join("config.json").is_file() {
        Ok((name, format!("hf(\"{text}\")"), None))
    } else {
        Err(format!("model `{arg}`: neither a .gguf file nor a folder with a config.json"))
    }
}

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("agentc-calibrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A prompt of `words` words (common English words, about one token each).
fn prompt(words: usize) -> String {
    const WORDS: [&str; 16] = [
        "the", "cat", "sat", "on", "a", "warm", "mat", "and", "looked", "at", "the", "birds", "in", "the", "old", "tree",
    ];
    (0..words).map(|i| WORDS[i % WORDS.len()]).collect::<Vec<_>>().join(" ")
}

const TOOL: &str = "tool nop() -> text = exec(\"true\", [])\n";

/// Builds and runs the model's executable at each of `prompt_words`, plans the same calls,
/// and adds the samples and the decode-step kernel figures to `found`.
fn measure_model(
    args: &CalibrateArgs,
    work: &Path,
    index: usize,
    name: &str,
    source: &str,
    prompt_words: &[usize],
    found: &mut Findings,
) -> Result<(), String> {
    let program = work.join(format!("measure{index}.agent"));
    let text = format!(
        "model llm = {source}\n{TOOL}\nagent main(args: list<text>) -> text {{\n    llm.generate(join(args, \" \") + nop(), max_tokens: {})\n}}\n",
        args.new_tokens
    );
    std::fs::write(&program, text).map_err(|e| format!("cannot write {}: {e}", program.display()))?;
    let exe = work.join(format!("measure{index}"));
    let agentc = std::env::current_exe().map_err(|e| format!("cannot find agentc itself: {e}"))?;
    eprintln!("calibrate: building the measuring executable of `{name}`");
    let built = Command::new(&agentc)
        .arg("build")
        .arg(&program)
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(|e| format!("cannot run `agentc build`: {e}"))?;
    if !built.status.success() {
        return Err(format!("`agentc build` failed: {}", String::from_utf8_lossy(&built.stderr).trim()));
    }
    let mut tools = Vec::new();
    let mut step_medians = Vec::new();
    let mut kernel_rates = Vec::new();
    let mut model_needs = None;
    let mut busy_runs: Vec<Busy> = Vec::new();
    for &words in prompt_words {
        let samples = &mut found.samples;
        let text = prompt(words);
        let (pre, dec, model) = plan_fragments(work, index, source, &text, args.new_tokens)?;
        // The planner caps the generation at the context: a prompt that leaves less room
        // than `--new-tokens` is not measured.
        if dec.profile.tokens < args.new_tokens as f64 {
            eprintln!("calibrate: `{name}`: {words} words leave no room for {} new tokens in the context; skipped", args.new_tokens);
            continue;
        }
        let mut runs = Vec::new();
        for rep in 0..args.reps {
            eprintln!("calibrate: `{name}`, {words} words, run {}/{}", rep + 1, args.reps);
            runs.push(traced_run(&exe, work, &text)?);
        }
        busy_runs.extend(runs.iter().filter_map(|r| r.busy));
        let med = |f: &dyn Fn(&Run) -> f64| median(runs.iter().map(f).collect());
        let run = &runs[0];
        let prefill = med(&|r| r.prefill);
        let decode = med(&|r| r.decode);
        let steps = run.steps.len();
        tools.push(med(&|r| r.tool));
        step_medians.push(med(&|r| median(r.steps.clone())));
        found.step_overheads.push(med(&|r| ((r.decode - r.steps.iter().sum::<f64>()) / r.steps.len() as f64).max(0.0)));
        kernel_rates.push((run.prompt_tokens, med(&|r| r.prefill_kernel)));
        // Tokens generated: one from the prefill's logits, then one per decode step (an
        // EOS may end the generation before max_tokens).
        let generated = (steps + 1).min(args.new_tokens) as f64;
        let planned_tokens = dec.profile.tokens.max(1.0);
        let quantized = model.as_ref().is_some_and(|m| m.int8_weights + m.int4_weights > 0.0);
        samples.push(Sample {
            label: format!("{name} prefill, {} tokens", run.prompt_tokens),
            measured: prefill,
            fragment: pre,
            model: model.clone(),
            share: 1.0,
            quantized,
        });
        samples.push(Sample {
            label: format!("{name} decode, {generated} tokens after {}", run.prompt_tokens),
            measured: decode,
            fragment: dec,
            model: model.clone(),
            share: generated / planned_tokens,
            quantized,
        });
        model_needs = model;
    }
    if step_medians.is_empty() {
        return Err("no prompt length fits the model's context (lower --prompt-words)".to_string());
    }
    let needs = model_needs.unwrap_or_default();
    let step = median(step_medians);
    let notes = &mut found.notes;
    let busy = (!busy_runs.is_empty()).then(|| Busy {
        prefill: median(busy_runs.iter().map(|b| b.prefill).collect()),
        decode: median(busy_runs.iter().map(|b| b.decode).collect()),
    });
    match busy {
        Some(b) => notes.push(format!(
            "{name}: one call kept {:.3} cores busy in its prefill, {:.3} in its decode ((CPU - polling) / wall, median of {} runs)",
            b.prefill,
            b.decode,
            busy_runs.len()
        )),
        None => notes.push(format!("{name}: the traces carry no CPU times (cpu_s): busy cores not measured")),
    }
    if needs.int8_weights + needs.int4_weights > 0.0 {
        let (int8, int4) = (needs.int8_weights, needs.int4_weights);
        found.quantized_steps.push((int8, int4, step));
        notes.push(format!(
            "{name}: decode step kernel {:.3} ms = {:.3e} weights/s dequantised ({:.3e} in int8 blocks, {:.3e} in int4 blocks)",
            step * 1e3,
            (int8 + int4) / step,
            int8,
            int4
        ));
        return Ok(());
    }
    found.float_steps.push((needs.weight_bytes, step));
    if let Some(b) = busy {
        found.busy_cores.push((needs.weight_bytes, b));
    }
    notes.push(format!(
        "{name}: decode step kernel {:.3} ms = {:.2} GB/s of weights (gemv bandwidth)",
        step * 1e3,
        needs.weight_bytes / step / 1e9
    ));
    if let Some(&(tokens, seconds)) = kernel_rates.iter().max_by_key(|(t, _)| *t) {
        let flops = found.samples.iter().rev().find(|s| s.fragment.kind == FragmentKind::Prefill).map_or(0.0, |s| s.fragment.profile.flops);
        notes.push(format!(
            "{name}: prefill kernel at {tokens} tokens {:.3} ms = {:.2} GFLOP/s (matmul throughput, planner's FLOPs)",
            seconds * 1e3,
            flops / seconds / 1e9
        ));
    }
    notes.push(format!(
        "{name}: exec tool call (`true`) {:.2} ms (the planner assumes {} ms; a planner constant, not a target field)",
        median(tools) * 1e3,
        agentc_compiler::conversion::workflow_to_fragment::EXEC_TOOL_SECONDS * 1e3
    ));
    Ok(())
}

/// Runs the executable once with `--trace` and reads the figures.
fn traced_run(exe: &Path, work: &Path, prompt: &str) -> Result<Run, String> {
    let trace = work.join("trace.json");
    let out = Command::new(exe)
        .arg("--trace")
        .arg(&trace)
        .arg("--")
        .arg(prompt)
        .output()
        .map_err(|e| format!("cannot run the measuring executable: {e}"))?;
    if !out.status.success() {
        return Err(format!("the measuring executable failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = std::fs::read_to_string(&trace).map_err(|e| format!("cannot read the trace: {e}"))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("the trace is not JSON: {e}"))?;
    let events = json.get("traceEvents").and_then(|e| e.as_array()).ok_or("the trace has no traceEvents")?;
    let mut run = Run::default();
    // (CPU − polling, wall) seconds of the prefill and the decode slices.
    let mut cpu: [Option<(f64, f64)>; 2] = [None, None];
    let arg = |event: &serde_json::Value, key: &str| event.get("args").and_then(|a| a.get(key)).and_then(|v| v.as_str()).and_then(|v| v.parse::<f64>().ok());
    for event in events {
        if event.get("ph").and_then(|p| p.as_str()) != Some("X") {
            continue;
        }
        let name = event.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let cat = event.get("cat").and_then(|c| c.as_str()).unwrap_or("");
        let seconds = event.get("dur").and_then(|d| d.as_f64()).unwrap_or(0.0) / 1e6;
        let busy = || arg(event, "cpu_s").zip(arg(event, "spin_s")).map(|(c, s)| ((c - s).max(0.0), seconds));
        match cat {
            "fragment" if name.starts_with("prefill ") => {
                run.prefill = seconds;
                cpu[0] = busy();
            }
            "fragment" if name.starts_with("decode ") => {
                run.decode = seconds;
                cpu[1] = busy();
            }
            "fragment" if name.ends_with(" nop") => run.tool = seconds,
            "prefill_kernel" => {
                run.prefill_kernel = seconds;
                run.prompt_tokens = event.pointer("/args/tokens").and_then(|t| t.as_str()).and_then(|t| t.parse().ok()).unwrap_or(0);
            }
            "decode_step" => run.steps.push(seconds),
            _ => {}
        }
    }
    if run.prefill == 0.0 || run.decode == 0.0 || run.steps.is_empty() || run.prompt_tokens == 0 {
        return Err("the trace lacks the prefill, decode or decode-step slices".to_string());
    }
    if let [Some((pc, pw)), Some((dc, dw))] = cpu {
        run.busy = Some(Busy { prefill: pc / pw, decode: dc / dw });
    }
    Ok(run)
}

/// Plans `llm.generate(PROMPT, max_tokens: N)` with the prompt written out and returns the
/// planner's prefill and decode fragments and the model's needs.
fn plan_fragments(work: &Path, index: usize, source: &str, prompt: &str, new_tokens: usize) -> Result<(Fragment, Fragment, Option<ModelNeeds>), String> {
    let program = work.join(format!("plan{index}.agent"));
    let text = format!("model llm = {source}\n\nagent main() -> text {{\n    llm.generate(\"{prompt}\", max_tokens: {new_tokens})\n}}\n");
    std::fs::write(&program, text).map_err(|e| format!("cannot write {}: {e}", program.display()))?;
    let failed = || format!("planning {} failed (see the diagnostics above)", program.display());
    let input = Input::read(&program).ok_or_else(failed)?;
    let context = new_context().map_err(|_| failed())?;
    let collector = DiagnosticCollector::attach(&context);
    let mut module = load_module(&context, &collector, &input).map_err(|_| failed())?;
    let target = TargetArgs { target: "host".to_string(), objective: None, sla: None, sla_basis: None };
    let pass_context = input.pass_context(&target);
    let mut steps: Vec<Step> = workflow_pipeline(2);
    steps.extend(passes::lookup("convert-workflow-to-fragment").map(Step::Ours));
    let mut runner = PassRunner::new(&context, RunOptions::default(), pass_context.clone());
    if runner.run(&mut module, &steps).is_err() {
        fail_mlir(&collector, &input.file, &input.source);
        return Err(failed());
    }
    let (extracted, _, _) = match schedule_module(Op::of(&module.as_operation()), &pass_context) {
        Ok(result) => result,
        Err(_) => {
            fail_mlir(&collector, &input.file, &input.source);
            return Err(failed());
        }
    };
    let workload = extracted.workload;
    let find = |kind: FragmentKind| workload.fragments.iter().find(|f| f.kind == kind).cloned();
    let (Some(prefill), Some(decode)) = (find(FragmentKind::Prefill), find(FragmentKind::Decode)) else {
        return Err("the planner made no prefill and decode fragments".to_string());
    };
    let model = prefill.model.and_then(|m| workload.models.get(m).cloned());
    Ok((prefill, decode, model))
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// The fitted constants of the cpu device.
#[derive(Clone, Copy, Debug)]
struct Fit {
    /// Effective FLOP/s (peak × compute_eff).
    flops: f64,
    /// Effective bytes/s (bandwidth × memory_eff).
    bandwidth: f64,
    /// Seconds per launch (per prefill, per decode step).
    launch: f64,
}

/// The planner's time of a sample's fragment under `fit` (the scheduler's roofline on one
/// device: `max(flops / F, bytes / B) + launch · steps + fixed`), scaled by its share.
fn planned(sample: &Sample, fit: &Fit) -> f64 {
    let p = &sample.fragment.profile;
    let steps = if sample.fragment.kind == FragmentKind::Decode { p.tokens.max(1.0) } else { 1.0 };
    let t = (p.flops / fit.flops).max((p.bytes_read + p.bytes_written) / fit.bandwidth) + fit.launch * steps + p.fixed_seconds;
    t * sample.fragment.weight * sample.share
}

/// The worst |ln(planned / measured)| over the samples.
fn worst(samples: &[&Sample], fit: &Fit) -> f64 {
    samples.iter().map(|s| (planned(s, fit) / s.measured).ln().abs()).fold(0.0, f64::max)
}

/// The launch overhead measured from the decode-step slices, and F and B minimising the
/// worst ratio over the float models' samples (a log grid, then refined around the best;
/// B at most the decode-step kernel bandwidth of the largest float model). `None` without
/// float samples.
fn fit(found: &Findings) -> Option<Fit> {
    let samples: Vec<&Sample> = found.samples.iter().filter(|s| !s.quantized).collect();
    let cap = found.float_steps.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0)).map(|(bytes, step)| bytes / step)?;
    let launch = median(found.step_overheads.clone()).max(1e-7);
    Some(fit_samples(&samples, cap, launch))
}

/// [`fit`] over `samples` with the bandwidth at most `cap` and the launch overhead fixed.
fn fit_samples(samples: &[&Sample], cap: f64, launch: f64) -> Fit {
    let grid = |lo: f64, hi: f64, n: usize| -> Vec<f64> { (0..n).map(|i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64)).collect() };
    let mut best = Fit { flops: 1e10, bandwidth: 1e10, launch: 1e-6 };
    let mut best_score = f64::INFINITY;
    let mut search = |flops: &[f64], bws: &[f64], launches: &[f64], best: &mut Fit| {
        for &flops in flops {
            for &bandwidth in bws {
                for &launch in launches.iter().filter(|_| bandwidth <= cap) {
                    let candidate = Fit { flops, bandwidth, launch };
                    let score = worst(samples, &candidate);
                    if score < best_score {
                        best_score = score;
                        *best = candidate;
                    }
                }
            }
        }
    };
    search(&grid(1e8, 1e13, 51), &grid(1e8, cap, 41), &[launch], &mut best);
    for _ in 0..2 {
        let around = |x: f64, step: f64| grid(x / step, x * step, 21);
        let (f, b) = (around(best.flops, 1.3), around(best.bandwidth, 1.3));
        search(&f, &b, &[launch], &mut best);
    }
    best
}

/// The dequantisation rates (weights/s) of the quantized models' decode-step kernels, each
/// with how it was measured: a model whose quantized weights are at least 90 % in one
/// format gives that format's rate (the slowest of several); a mixed model gives the other
/// format's rate once one is known (its step less the known format's share), else (or
/// when that share alone outlasts the step) its combined rate.
fn dequant_rates(found: &Findings) -> Measured {
    let mut m = Measured::default();
    let slowest = |old: Option<f64>, new: f64| Some(old.map_or(new, |r: f64| r.min(new)));
    let pure = |int8: f64, int4: f64| int8.max(int4) >= 0.9 * (int8 + int4);
    for &(int8, int4, step) in found.quantized_steps.iter().filter(|&&(a, b, _)| pure(a, b)) {
        let rate = (int8 + int4) / step;
        if int8 > int4 {
            m.rates.int8 = slowest(m.rates.int8, rate);
            m.how[0] = Some("measured");
        } else {
            m.rates.int4 = slowest(m.rates.int4, rate);
            m.how[1] = Some("measured");
        }
    }
    let known = m.rates;
    let mut combined = None;
    for &(int8, int4, step) in found.quantized_steps.iter().filter(|&&(a, b, _)| !pure(a, b)) {
        match (known.int8, known.int4) {
            (Some(r8), None) if step > int8 / r8 => {
                m.rates.int4 = slowest(m.rates.int4, int4 / (step - int8 / r8));
                m.how[1] = Some("measured on a mixed model, its int8 weights timed at the int8 rate");
            }
            (None, Some(r4)) if step > int4 / r4 => {
                m.rates.int8 = slowest(m.rates.int8, int8 / (step - int4 / r4));
                m.how[0] = Some("measured on a mixed model, its int4 weights timed at the int4 rate");
            }
            // Neither known, or the known format's share alone outlasts the step (tiny
            // models, whose steps are mostly fixed costs).
            _ => combined = slowest(combined, (int8 + int4) / step),
        }
    }
    if combined.is_some() {
        m.rates = DequantRates { int8: m.rates.int8.or(combined), int4: m.rates.int4.or(combined) };
        m.how = m.how.map(|h| h.or(Some("measured on mixed models, one rate for both formats")));
    }
    m
}

/// Dequantisation rates and how each was measured (`None`: not measured).
#[derive(Default)]
struct Measured {
    rates: DequantRates,
    /// For int8 and int4.
    how: [Option<&'static str>; 2],
}

/// The host preset with the cpu device's rates, efficiencies, launch overhead and
/// dequantisation rates replaced by the measured ones (the nominal peak is kept when the
/// fit is below it, so the efficiencies say how much of it agentc's kernels reach; a
/// dequantisation rate not measured keeps the preset's), its cores, and the cores one call
/// keeps busy when measured (within (0, cores]).
fn calibrated_toml(host: &Target, fit: &Fit, dequant: Measured, busy: Option<Busy>, notes: &[String]) -> String {
    let cpu = host.devices.iter().find(|d| d.kind == DeviceKind::Cpu).expect("the host preset has a cpu");
    let peak = cpu.peak_flops.for_dtype(agentc_scheduler::Dtype::F32).max(fit.flops);
    let bandwidth = cpu.mem_bandwidth.max(fit.bandwidth);
    let sig = |x: f64| format!("{x:.4e}");
    let mut out = String::new();
    out.push_str("# The machine running agentc, calibrated by `agentc calibrate --target host`:\n");
    out.push_str("# effective rates of agentc's compiled kernels fitted to traced runs (docs/cost-model.md).\n");
    for note in notes {
        out.push_str(&format!("# {note}\n"));
    }
    out.push_str("name = \"host-calibrated\"\n");
    out.push_str("description = \"the machine running agentc, calibrated with its compiled kernels\"\n\n");
    out.push_str("[[device]]\nname = \"cpu\"\nkind = \"cpu\"\n");
    out.push_str(&format!("model = \"{}, calibrated\"\n", cpu.model.replace('"', "'")));
    out.push_str(&format!("peak_flops = {{ f32 = {} }}\n", sig(peak)));
    out.push_str(&format!("mem_bandwidth = {}\n", sig(bandwidth)));
    out.push_str(&format!("mem_bytes = {}\n", sig(cpu.mem_bytes)));
    out.push_str(&format!("price_per_hour = {}\n", cpu.price_per_hour));
    out.push_str(&format!("# fitted: {:.3} GFLOP/s effective, {:.3} GB/s effective\n", fit.flops / 1e9, fit.bandwidth / 1e9));
    out.push_str("# measured: the decode fragments' time outside their step kernels, per step (median)\n");
    out.push_str(&format!("launch_overhead_s = {}\n", sig(fit.launch)));
    out.push_str(&format!("compute_eff = {}\n", sig((fit.flops / peak).min(1.0))));
    out.push_str(&format!("memory_eff = {}\n", sig((fit.bandwidth / bandwidth).min(1.0))));
    // Each rate measured here, else the host preset's (commented as such).
    let preset = [cpu.dequant.int8, cpu.dequant.int4];
    let measured = [dequant.rates.int8, dequant.rates.int4];
    let mut entries = Vec::new();
    for (i, name) in ["int8", "int4"].into_iter().enumerate() {
        if let Some(rate) = measured[i].or(preset[i]) {
            out.push_str(&format!("# dequant_weights_per_s {name}: {}\n", dequant.how[i].unwrap_or("the host preset's")));
            entries.push(format!("{name} = {}", sig(rate)));
        }
    }
    if !entries.is_empty() {
        out.push_str(&format!("dequant_weights_per_s = {{ {} }}\n", entries.join(", ")));
    }
    if let Some(cores) = cpu.cores {
        out.push_str("# std::thread::available_parallelism (the runtime's default threads)\n");
        out.push_str(&format!("cores = {cores}\n"));
        if let Some(b) = busy {
            let share = |x: f64| sig(x.clamp(1e-3, f64::from(cores)));
            out.push_str("# measured: (CPU - polling) / wall of one call's fragments alone, the largest float model's (median)\n");
            out.push_str(&format!("busy_cores_per_call = {{ prefill = {}, decode = {} }}\n", share(b.prefill), share(b.decode)));
        }
    }
    out
}

/// The before/after table (stderr): each sample's measured time and the planned time on
/// the host preset and on the calibrated target, both through the scheduler's cost function.
fn report(samples: &[Sample], before: &Target, after: &Target) -> String {
    let time = |s: &Sample, target: &Target| {
        let cpu = target.devices.iter().position(|d| d.kind == DeviceKind::Cpu).unwrap_or(0);
        agentc_scheduler::cost::fragment_time(&s.fragment, s.model.as_ref(), target, &[cpu]) * s.share
    };
    let mut out = String::from("| fragment | measured ms | planned ms, host preset | ratio | planned ms, calibrated | ratio |\n|---|---|---|---|---|---|\n");
    for s in samples {
        let (b, a) = (time(s, before), time(s, after));
        out.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.2} | {:.3} | {:.2} |\n",
            s.label,
            s.measured * 1e3,
            b * 1e3,
            b / s.measured,
            a * 1e3,
            a / s.measured
        ));
    }
    out
}
