//! Decode speed of the teacher and the students, predicted and measured, through `agentc`
//! itself (the binary beside `agentc-distill`): for each model file, a measuring program
//! `llm.generate(PROMPT, max_tokens: N)` is
//!
//! - planned with `agentc schedule --json` on a target (the `host` preset or a calibrated
//!   TOML from `agentc calibrate`): the decode fragment's planned time over its tokens gives
//!   the predicted tokens/s of the cost model;
//! - built with `agentc build` and run with `--trace` (fresh processes): the median of the
//!   `decode_step` slices gives the measured tokens/s (docs/runtime.md, Trace).
//!
//! Students that share a `kernel_key` (same formats and layers, different rounding) have
//! the same kernels and bytes and are measured once.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

/// What to measure with.
pub struct SpeedOptions {
    /// `agentc`.
    pub agentc: PathBuf,
    /// The planning target (`host`, a preset or a TOML file).
    pub target: String,
    /// Runs per model (medians over them).
    pub reps: usize,
    /// Tokens generated per run.
    pub tokens: usize,
    /// `--threads` of the executables (`None`: the runtime's default, one per core).
    pub threads: Option<usize>,
    /// A scratch folder (programs, executables, traces).
    pub work: PathBuf,
}

/// The decode speed of one model file.
#[derive(Clone, Debug, Serialize)]
pub struct Speed {
    /// Tokens per second the planner predicts on the target.
    pub predicted_decode_tokens_per_s: f64,
    /// Tokens per second measured (1 / the median decode-step time).
    pub measured_decode_tokens_per_s: f64,
    /// predicted / measured.
    pub predicted_over_measured: f64,
    /// What the executable printed for the prompt (its first run; one trailing newline
    /// removed): greedy text, compared with the distiller's own forward by the caller.
    pub text: String,
}

/// `agentc` beside the running executable.
pub fn agentc_beside() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find agentc-distill itself: {e}"))?;
    let agentc = exe.parent().map(|d| d.join("agentc")).filter(|p| p.is_file());
    agentc.ok_or_else(|| format!("--speed needs `agentc` beside {} (cargo build -p agentc)", exe.display()))
}

/// The model expression of `path` with an optional `dtype:` option: `hf(...)` for a
/// folder, `gguf(...)` for a file (computed from its stored blocks unless `dtype` says
/// otherwise).
pub fn source_of(path: &Path, dtype: Option<&str>) -> Result<String, String> {
    let absolute = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = absolute.to_str().ok_or_else(|| format!("{}: the path is not UTF-8", path.display()))?;
    if text.contains('"') || text.contains('\\') {
        return Err(format!("{}: the path holds a quote or a backslash", path.display()));
    }
    let kind = if absolute.is_dir() { "hf" } else { "gguf" };
    Ok(match dtype {
        Some(d) => format!("{kind}(\"{text}\", dtype: \"{d}\")"),
        None => format!("{kind}(\"{text}\")"),
    })
}

/// Plans and measures the model `source` with `prompt`; `tag` names the scratch files.
pub fn measure(options: &SpeedOptions, tag: &str, source: &str, prompt: &str) -> Result<Speed, String> {
    std::fs::create_dir_all(&options.work).map_err(|e| format!("{}: {e}", options.work.display()))?;
    let quoted = serde_json::to_string(prompt).expect("a string");
    let planned = options.work.join(format!("{tag}-plan.agent"));
    write(&planned, &format!("model llm = {source}\n\nagent main() -> text {{\n    llm.generate({quoted}, max_tokens: {})\n}}\n", options.tokens))?;
    let schedule = run(Command::new(&options.agentc).arg("schedule").arg(&planned).arg("--target").arg(&options.target).arg("--json"))?;
    let plan: serde_json::Value = serde_json::from_slice(&schedule).map_err(|e| format!("`agentc schedule --json`: {e}"))?;
    let decode = plan["placements"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["kind"] == "decode"))
        .ok_or("`agentc schedule` planned no decode fragment")?;
    let seconds = decode["finish"].as_f64().unwrap_or(0.0) - decode["start"].as_f64().unwrap_or(0.0);
    let tokens = plan["generated_tokens"].as_f64().unwrap_or(0.0);
    if seconds <= 0.0 || tokens <= 0.0 {
        return Err("`agentc schedule` planned an empty decode".into());
    }
    let predicted = tokens / seconds;

    let program = options.work.join(format!("{tag}.agent"));
    write(&program, &format!("model llm = {source}\n\nagent main(args: list<text>) -> text {{\n    llm.generate(join(args, \" \"), max_tokens: {})\n}}\n", options.tokens))?;
    let exe = options.work.join(tag);
    run(Command::new(&options.agentc).arg("build").arg(&program).arg("-o").arg(&exe))?;
    let mut steps = Vec::new();
    let mut text = None;
    for _ in 0..options.reps.max(1) {
        let trace = options.work.join(format!("{tag}-trace.json"));
        let mut cmd = Command::new(&exe);
        cmd.arg("--trace").arg(&trace);
        if let Some(n) = options.threads {
            cmd.arg("--threads").arg(n.to_string());
        }
        let out = run(cmd.arg("--").arg(prompt))?;
        text.get_or_insert_with(|| {
            let printed = String::from_utf8_lossy(&out).into_owned();
            printed.strip_suffix('\n').map_or(printed.clone(), str::to_string)
        });
        steps.push(median(decode_steps(&trace)?));
    }
    let step = median(steps);
    let measured = 1.0 / step;
    Ok(Speed { predicted_decode_tokens_per_s: predicted, measured_decode_tokens_per_s: measured, predicted_over_measured: predicted / measured, text: text.unwrap_or_default() })
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `cmd`, its stdout on success, its stderr in the error.
fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let shown = format!("{:?}", cmd);
    let out = cmd.output().map_err(|e| format!("cannot run {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{shown} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(out.stdout)
}

/// The `decode_step` slices' durations in seconds.
fn decode_steps(trace: &Path) -> Result<Vec<f64>, String> {
    let text = std::fs::read_to_string(trace).map_err(|e| format!("{}: {e}", trace.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", trace.display()))?;
    let steps: Vec<f64> = json["traceEvents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["ph"] == "X" && e["cat"] == "decode_step")
        .filter_map(|e| e["dur"].as_f64())
        .map(|us| us / 1e6)
        .collect();
    if steps.is_empty() {
        return Err(format!("{}: no decode_step slices (did the generation stop at once?)", trace.display()));
    }
    Ok(steps)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}
