//! Calibration prompts from the workflow itself (`agentc distill --args`): the program is
//! built by `agentc` (beside `agentc-distill`), run once per example argument line with
//! `--trace`, and the token ids of every prompt the model was prefilled with are read from
//! the trace's `prefill kernel MODEL` slices (arg `prompt_ids`, docs/runtime.md "Trace").
//! The runs use `--max-parallel 1`, so a `map`'s calls come in order and the prompts'
//! order (hence which are held out) does not depend on timing.
//! So the student is calibrated and judged on the prompts the program really builds for
//! that model (its chat template rendered, its tools' outputs spliced in), not on a
//! hand-written list.

use std::path::Path;
use std::process::Command;

/// The prompts (token ids, in the order the runs made them, each distinct prompt once)
/// that the program `file` fed the model `model` over one run per entry of `runs` (each
/// entry split into `main`'s arguments as a shell splits words). `work` holds the
/// executable and the traces.
pub fn prompts_of_runs(agentc: &Path, file: &Path, model: &str, runs: &[String], work: &Path) -> Result<Vec<Vec<u32>>, String> {
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let exe = work.join("app");
    eprintln!("distill: building {} to collect the prompts of `{model}`", file.display());
    let built = Command::new(agentc).arg("build").arg(file).arg("-o").arg(&exe).output();
    let built = built.map_err(|e| format!("cannot run {}: {e}", agentc.display()))?;
    if !built.status.success() {
        return Err(format!("`agentc build {}` failed: {}", file.display(), String::from_utf8_lossy(&built.stderr).trim()));
    }
    let mut prompts: Vec<Vec<u32>> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let words = shlex::split(run).ok_or_else(|| format!("--args {run:?}: unbalanced quotes"))?;
        let trace = work.join(format!("trace-{i}.json"));
        eprintln!("distill: running the program with --args {run:?}");
        // One map body at a time: the prompts come in the program's order, every run alike.
        let out = Command::new(&exe).arg("--trace").arg(&trace).arg("--max-parallel").arg("1").arg("--").args(&words).output();
        let out = out.map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!("the program failed with --args {run:?}: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        let found = prompts_in_trace(&trace, model)?;
        if found.is_empty() {
            return Err(format!("the program ran with --args {run:?} without prompting model `{model}`"));
        }
        for p in found {
            if !prompts.contains(&p) {
                prompts.push(p);
            }
        }
    }
    Ok(prompts)
}

/// The `prompt_ids` of the `prefill kernel` slices of model `model` in the Chrome trace
/// `path`, in the trace's order.
pub fn prompts_in_trace(path: &Path, model: &str) -> Result<Vec<Vec<u32>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for event in json["traceEvents"].as_array().into_iter().flatten() {
        if event["cat"] != "prefill_kernel" || event["args"]["model"] != model {
            continue;
        }
        let ids = event["args"]["prompt_ids"].as_str().ok_or_else(|| format!("{}: a prefill slice without `prompt_ids`", path.display()))?;
        let ids = ids.split(',').filter(|s| !s.is_empty()).map(str::parse::<u32>).collect::<Result<Vec<_>, _>>();
        out.push(ids.map_err(|e| format!("{}: bad `prompt_ids`: {e}", path.display()))?);
    }
    Ok(out)
}
