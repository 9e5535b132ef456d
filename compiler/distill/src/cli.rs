//! `agentc distill FILE.agent --model NAME --calib PROMPTS.txt --budget SPEC -o OUTDIR`
//! (the `agentc-distill` binary, which `agentc distill` runs): shrinks the decoder a program declares to a measured accuracy budget with the
//! distillation engine (compiler/distill, docs/distillation.md) and writes
//! `OUTDIR/student.gguf`, `OUTDIR/report.json` and the program rewritten to use the student.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agentc_frontend::ast::Item;
use agentc_frontend::{CheckMode, CheckOptions, check_bytes, parse};
use clap::Parser;

use crate::checkpoint::Checkpoint;
use crate::forward::{Model, greedy};
use crate::gguf_writer;
use crate::recovery::RecoveryOptions;
use crate::runs::prompts_of_runs;
use crate::search::{Tried, parse_budget, search, table};
use crate::speed::{self, Speed, SpeedOptions, agentc_beside, source_of};
use crate::student::{Student, metadata};

/// Shrink a model a .agent program declares to a measured accuracy budget (weight-only
/// int4 / int8, RTN or GPTQ) and write the student GGUF, a report and the rewritten program.
#[derive(Parser)]
#[command(name = "agentc distill", version)]
#[command(group(clap::ArgGroup::new("measure").args(["speed", "speed_of"])))]
pub struct DistillArgs {
    /// The .agent program that declares the model.
    #[arg(required_unless_present = "speed_of")]
    file: Option<PathBuf>,
    /// The name of the model declaration to shrink (`model NAME = ...`).
    #[arg(long, required_unless_present = "speed_of")]
    model: Option<String>,
    /// A text file of prompts, one per line (blank lines skipped); the last quarter (at
    /// least one) is held out for measuring, the rest calibrates.
    #[arg(long, required_unless_present_any = ["speed_of", "example_args"], conflicts_with = "example_args")]
    calib: Option<PathBuf>,
    /// Instead of `--calib`: example arguments of the program, one run each (repeat the
    /// option; each value split into `main`'s arguments as a shell splits words). The
    /// program is built and run once per value, and the prompts it feeds the model (read
    /// from the run's trace) are the calibration and held-out prompts, in the order made.
    #[arg(long = "args", value_name = "ARGS")]
    example_args: Vec<String>,
    /// What the student must keep, e.g. `agreement>=0.95,kl<=0.05` (figures: agreement,
    /// divergence, kl, ppl_ratio).
    #[arg(long, required_unless_present = "speed_of")]
    budget: Option<String>,
    /// Greedy continuation length for agreement and KL.
    #[arg(long, default_value = "32", value_parser = clap::value_parser!(u32).range(1..=4096))]
    tokens: u32,
    /// Measure every plan (not only up to the first that meets the budget).
    #[arg(long)]
    all_plans: bool,
    /// Also write every measured plan's student to `OUTDIR/plans/PLAN.gguf` (what `agentc
    /// distill --speed` measures).
    #[arg(long)]
    write_plans: bool,
    /// Judge the students as they will run: with their decode steps' activations rounded
    /// to int8 (`gguf(..., activations: "int8")`, docs/language.md §4.1). The budget
    /// figures then come from a forward that rounds as those kernels do, the rewritten
    /// program declares the student with `activations: "int8"`, and `--speed` measures it
    /// so. The teacher keeps its exact kernels.
    #[arg(long, value_parser = ["int8"])]
    activations: Option<String>,
    /// The output folder (created).
    #[arg(short = 'o', long = "output", required_unless_present = "speed_of")]
    output: Option<PathBuf>,
    /// Also try each int4 GPTQ plan with its norms fine-tuned on the teacher's logits over
    /// the calibration prompts (`PLAN+kd`; KL loss, AdamW, candle's autodiff).
    #[arg(long)]
    recover: bool,
    /// AdamW steps of the recovery (each over every calibration prompt).
    #[arg(long, default_value = "20", requires = "recover", value_parser = clap::value_parser!(u32).range(1..=10000))]
    recover_steps: u32,
    /// Also predict (the planner's cost model on `--speed-target`) and measure (an
    /// executable built by `agentc`, its decode steps traced) the decode tokens/s of the
    /// teacher and the students written: the chosen one, or every plan's with
    /// `--write-plans`. Needs `agentc` beside this binary.
    #[arg(long)]
    speed: bool,
    /// Only measure the speeds of an earlier run's output folder (its report.json and
    /// students; `plans/` when it was written with `--write-plans`) and add them to its
    /// report: the search and the speed measurement need not share a quiet machine.
    #[arg(long, value_name = "OUTDIR", conflicts_with_all = ["file", "model", "calib", "example_args", "budget", "output", "speed", "activations"])]
    speed_of: Option<PathBuf>,
    /// The target the prediction plans on: a preset (`host`) or a TOML file (e.g. the
    /// output of `agentc calibrate --target host`).
    #[arg(long, default_value = "host", requires = "measure")]
    speed_target: String,
    /// Runs per model for the measured speed (medians).
    #[arg(long, default_value = "3", requires = "measure", value_parser = clap::value_parser!(u32).range(1..=100))]
    speed_reps: u32,
    /// `--threads` of the measuring executables (default: the runtime's, one per core).
    #[arg(long, requires = "measure", value_parser = clap::value_parser!(u32).range(1..=1024))]
    speed_threads: Option<u32>,
    /// Measure the quantised students with their decode steps' activations rounded to int8
    /// (`gguf(..., activations: "int8")`, integer dot products; docs/language.md §4.1)
    /// instead of the exact kernels. The teacher keeps its own kernels. Default: the
    /// search's `--activations` (recorded in the report).
    #[arg(long, requires = "measure", value_parser = ["int8"])]
    speed_activations: Option<String>,
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// Runs `agentc distill` with parsed options.
pub fn run(args: &DistillArgs) -> ExitCode {
    if let Some(dir) = &args.speed_of {
        return speed_of(args, dir);
    }
    let (Some(file), Some(model_name), Some(budget_spec), Some(output)) = (&args.file, &args.model, &args.budget, &args.output) else {
        return fail("FILE, --model, --calib or --args, --budget and -o are required", 2);
    };
    let budget = match parse_budget(budget_spec) {
        Ok(b) => b,
        Err(e) => return fail(&format!("--budget: {e}"), 2),
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => return fail(&format!("{}: {e}", file.display()), 1),
    };
    let base = file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let checked = check_bytes(&bytes, &CheckOptions { mode: CheckMode::Build, base_dir: base.clone() });
    let source = String::from_utf8_lossy(&bytes).into_owned();
    let Some(module) = checked.module else {
        eprint!("{}", agentc_frontend::diagnostic::render(&checked.diagnostics, &file.display().to_string(), &source));
        return ExitCode::from(1);
    };
    let Some(model) = module.models.iter().find(|m| m.name == *model_name) else {
        let names: Vec<&str> = module.models.iter().map(|m| m.name.as_str()).collect();
        return fail(&format!("{}: no model `{}` is declared (models: {})", file.display(), model_name, if names.is_empty() { "none".into() } else { names.join(", ") }), 1);
    };
    // Where the prompts come from, for messages: the file, or the program's runs.
    let origin = match &args.calib {
        Some(calib) => calib.display().to_string(),
        None => format!("{} (the prompts of its runs)", file.display()),
    };
    let lines: Vec<String> = match &args.calib {
        Some(calib) => match std::fs::read_to_string(calib) {
            Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            Err(e) => return fail(&format!("{}: {e}", calib.display()), 1),
        },
        None => Vec::new(),
    };
    if args.calib.is_some() && lines.is_empty() {
        return fail(&format!("{origin}: no prompts (one per line)"), 1);
    }
    let teacher = match Checkpoint::load(&model.resolved_path) {
        Ok(t) => t,
        Err(e) => return fail(&format!("model `{}`: {e}", model.name), 1),
    };
    let prompts: Vec<Vec<u32>> = if args.calib.is_some() {
        match lines.iter().map(|p| teacher.tokenizer.encode(p).map_err(|e| e.0)).collect() {
            Ok(ids) => ids,
            Err(e) => return fail(&format!("{origin}: {e}"), 1),
        }
    } else {
        let work = std::env::temp_dir().join(format!("agentc-distill-runs-{}", std::process::id()));
        let found = agentc_beside().and_then(|agentc| prompts_of_runs(&agentc, file, model_name, &args.example_args, &work));
        let _ = std::fs::remove_dir_all(&work);
        match found {
            Ok(p) => p,
            Err(e) => return fail(&format!("--args: {e}"), 1),
        }
    };
    // Plan students go to a folder beside OUTDIR while the search runs; it becomes
    // OUTDIR/plans when the search succeeds and is removed otherwise.
    let partial = args.write_plans.then(|| {
        let name = output.file_name().map_or_else(|| "distill".into(), |n| n.to_string_lossy().into_owned());
        output.with_file_name(format!(".{name}.plans-{}", std::process::id()))
    });
    let mut write_plan = |tried: &Tried, student: &Student| -> Result<(), String> {
        let Some(dir) = &partial else { return Ok(()) };
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let md = metadata(&teacher, &student.shape, &format!("{} ({})", model.name, tried.plan))?;
        gguf_writer::write(&dir.join(format!("{}.gguf", tried.plan)), &md, &student.gguf)
    };
    let recovery = args.recover.then(|| RecoveryOptions { steps: args.recover_steps as usize, ..RecoveryOptions::default() });
    let searched = search(&teacher, &prompts, &budget, args.tokens as usize, args.all_plans, args.activations.is_some(), recovery.as_ref(), &mut write_plan);
    let discard = |partial: &Option<PathBuf>| {
        if let Some(dir) = partial {
            let _ = std::fs::remove_dir_all(dir);
        }
    };
    let outcome = match searched {
        Ok(o) => o,
        Err(e) => {
            discard(&partial);
            return fail(&format!("{origin}: {e}"), 1);
        }
    };
    print!("{}", table(&outcome, args.tokens as usize));
    if args.activations.is_some() {
        println!("(students measured with int8 activations, as `activations: \"int8\"` runs them)");
    }
    let Some((index, student)) = &outcome.chosen else {
        discard(&partial);
        return fail(&format!("no plan meets the budget `{}` ({} plans tried; nothing written)", budget_spec, outcome.tried.len()), 1);
    };
    let rewritten = match rewrite(&source, &module.models, model_name, args.activations.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            discard(&partial);
            return fail(&e, 1);
        }
    };
    // The first held-out prompt: its line of the file, or (prompts of runs) its text.
    let first_held = prompts.len() - outcome.split.1;
    let speed_prompt = match lines.get(first_held) {
        Some(line) => line.clone(),
        None => teacher.tokenizer.decode(&prompts[first_held]).unwrap_or_default(),
    };
    let report = serde_json::json!({
        "teacher": model.resolved_path.display().to_string(),
        "budget": budget_spec,
        "tokens": args.tokens,
        "calibration_prompts": outcome.split.0,
        "held_out_prompts": outcome.split.1,
        "teacher_f32_bytes": student.f32_bytes,
        "layer_effect": outcome.layer_effect,
        "plans": outcome.tried,
        "plans_written": partial.is_some(),
        "chosen": outcome.tried[*index].plan,
        "activations": args.activations.as_deref().unwrap_or("f32"),
        // What `--speed` / `--speed-of` measure: the teacher as the program declares it,
        // with the first held-out prompt.
        "teacher_source": source_of(&model.resolved_path, model.dtype.map(|d| d.name())).ok(),
        "speed_prompt": speed_prompt,
        "example_args": args.example_args,
    });
    let stem = file.file_stem().map_or_else(|| "program".into(), |s| s.to_string_lossy().into_owned());
    let written = std::fs::create_dir_all(&output)
        .map_err(|e| format!("{}: {e}", output.display()))
        .and_then(|_| gguf_writer::write(&output.join("student.gguf"), &metadata(&teacher, &student.shape, &format!("{} ({})", model.name, outcome.tried[*index].plan))?, &student.gguf))
        .and_then(|_| {
            std::fs::write(output.join("report.json"), serde_json::to_string_pretty(&report).expect("JSON") + "\n")
                .and_then(|_| std::fs::write(output.join(format!("{stem}.agent")), &rewritten))
                .map_err(|e| format!("{}: {e}", output.display()))
        })
        .and_then(|_| match &partial {
            Some(dir) => {
                let plans = output.join("plans");
                let _ = std::fs::remove_dir_all(&plans);
                std::fs::rename(dir, &plans).map_err(|e| format!("{}: {e}", plans.display()))
            }
            None => Ok(()),
        });
    if let Err(e) = written {
        discard(&partial);
        return fail(&e, 1);
    }
    println!("chosen: {} -> {}", outcome.tried[*index].plan, output.join("student.gguf").display());
    if args.speed {
        let mut report = report;
        if let Err(e) = add_speeds(args, output, &mut report) {
            return fail(&format!("--speed: {e} (the student and report were written without speeds)"), 1);
        }
    }
    ExitCode::SUCCESS
}

/// `--speed-of OUTDIR`: the speeds of an earlier run's output, added to its report.
fn speed_of(args: &DistillArgs, dir: &Path) -> ExitCode {
    let path = dir.join("report.json");
    let report: Result<serde_json::Value, String> = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{}: {e}", path.display())));
    match report.and_then(|mut r| add_speeds(args, dir, &mut r)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("--speed-of: {e}"), 1),
    }
}

/// Measures the speeds of the teacher and the students in `output` (described by its
/// `report`), prints the table, and writes the report back with `speed` added.
fn add_speeds(args: &DistillArgs, output: &Path, report: &mut serde_json::Value) -> Result<(), String> {
    let teacher_source = report["teacher_source"].as_str().ok_or("the report has no `teacher_source`")?.to_string();
    let prompt = report["speed_prompt"].as_str().ok_or("the report has no `speed_prompt`")?.to_string();
    let chosen = report["chosen"].as_str().unwrap_or("");
    let all = report["plans_written"] == true;
    let mut students = Vec::new();
    for plan in report["plans"].as_array().ok_or("the report has no `plans`")? {
        let (Some(name), Some(key)) = (plan["plan"].as_str(), plan["kernel_key"].as_str()) else {
            return Err("a plan of the report has no `plan` or `kernel_key`".into());
        };
        let file = if all { output.join("plans").join(format!("{name}.gguf")) } else { output.join("student.gguf") };
        if all || name == chosen {
            students.push((name.to_string(), key.to_string(), file));
        }
    }
    let tokens = report["tokens"].as_u64().unwrap_or(u64::from(args.tokens)) as usize;
    let activations = match (&args.speed_activations, report["activations"].as_str()) {
        (Some(a), _) => Some(a.clone()),
        (None, Some("int8")) => Some("int8".to_string()),
        _ => None,
    };
    let teacher_path = PathBuf::from(report["teacher"].as_str().ok_or("the report has no `teacher`")?);
    let (speeds, text) = measure_speeds(args, activations.as_deref(), tokens, &teacher_path, &teacher_source, &students, &prompt)?;
    report["speed"] = speeds;
    print!("{text}");
    let path = output.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(report).expect("JSON") + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether the executable's greedy text for `prompt` (`printed`) is the distiller's own
/// forward's (the model file at `path`, with int8 activations when `int8`): `tokens`
/// greedy tokens, cut at the first end-of-sequence token as the runtime stops there, then
/// decoded. A check that the forward the budget figures come from computes what the
/// executable runs; a mismatch is reported (`text_equals_forward: false`), not an error,
/// since two close logits may order differently under another summation order.
fn same_text(path: &Path, int8: bool, prompt: &str, tokens: usize, printed: &str) -> Result<bool, String> {
    let checkpoint = Checkpoint::load(path)?;
    let mut model = Model::new(&checkpoint.shape, &checkpoint.tensors)?;
    if int8 {
        model = model.with_int8_activations(crate::quant::GROUP);
    }
    let ids = checkpoint.tokenizer.encode(prompt).map_err(|e| e.0)?;
    let mut out = greedy(&model, &ids, tokens)?;
    if let Some(end) = out.iter().position(|t| checkpoint.tokenizer.eos_ids().contains(t)) {
        out.truncate(end);
    }
    let text = checkpoint.tokenizer.decode(&out).map_err(|e| e.0)?;
    if text != printed {
        eprintln!("distill: {}: the executable printed {printed:?}, the forward gives {text:?}", path.display());
    }
    Ok(text == printed)
}

/// The teacher's and the students' decode speeds (one measurement per `kernel_key`) as the
/// report's `speed` object, and the table printed.
fn measure_speeds(
    args: &DistillArgs,
    activations: Option<&str>,
    tokens: usize,
    teacher_path: &Path,
    teacher_source: &str,
    students: &[(String, String, PathBuf)],
    prompt: &str,
) -> Result<(serde_json::Value, String), String> {
    let work = std::env::temp_dir().join(format!("agentc-distill-speed-{}", std::process::id()));
    let options = SpeedOptions {
        agentc: agentc_beside()?,
        target: args.speed_target.clone(),
        reps: args.speed_reps as usize,
        tokens,
        threads: args.speed_threads.map(|n| n as usize),
        work: work.clone(),
    };
    let result = (|| {
        eprintln!("distill: measuring the teacher's decode speed");
        let teacher = speed::measure(&options, "teacher", teacher_source, prompt)?;
        let teacher_same = same_text(teacher_path, false, prompt, tokens, &teacher.text)?;
        let mut by_key: std::collections::BTreeMap<&str, (Speed, bool)> = Default::default();
        let mut plans = serde_json::Map::new();
        let mut text = format!(
            "{:<20} {:>22} {:>10} {:>10} {:>8} {:>10}\n",
            "speed", "kernels", "predicted", "measured", "speedup", "pred/meas"
        );
        let row = |name: &str, key: &str, s: &Speed, t: &Speed| {
            format!(
                "{:<20} {:>22} {:>8.1}/s {:>8.1}/s {:>7.2}x {:>10.2}\n",
                name,
                key,
                s.predicted_decode_tokens_per_s,
                s.measured_decode_tokens_per_s,
                s.measured_decode_tokens_per_s / t.measured_decode_tokens_per_s,
                s.predicted_over_measured
            )
        };
        text += &row("teacher", "f32", &teacher, &teacher);
        for (i, (plan, key, path)) in students.iter().enumerate() {
            if !by_key.contains_key(key.as_str()) {
                eprintln!("distill: measuring the decode speed of `{plan}`");
                let mut source = source_of(path, None)?;
                if let Some(activations) = activations
                    && source.starts_with("gguf(")
                {
                    source = format!("{}, activations: \"{activations}\")", source.trim_end_matches(')'));
                }
                let measured = speed::measure(&options, &format!("plan{i}"), &source, prompt)?;
                let same = same_text(path, activations.is_some(), prompt, tokens, &measured.text)?;
                by_key.insert(key, (measured, same));
            }
            let (s, same) = &by_key[key.as_str()];
            text += &row(plan, key, s, &teacher);
            let mut entry = serde_json::to_value(s).expect("JSON");
            entry["text_equals_forward"] = serde_json::json!(same);
            entry["speedup_vs_teacher"] = serde_json::json!(s.measured_decode_tokens_per_s / teacher.measured_decode_tokens_per_s);
            plans.insert(plan.clone(), entry);
        }
        text += &format!(
            "(decode tokens/s: predicted by the cost model on `{}`, measured as 1 / the median decode step over {} runs of {} tokens{})\n",
            options.target,
            options.reps,
            options.tokens,
            if activations.is_some() { "; students with int8 activations" } else { "" }
        );
        let json = serde_json::json!({
            "target": options.target,
            "reps": options.reps,
            "tokens": options.tokens,
            "threads": options.threads,
            "student_activations": activations.unwrap_or("f32"),
            "prompt": prompt,
            "teacher": teacher,
            "teacher_text_equals_forward": teacher_same,
            "plans": plans,
        });
        Ok((json, text))
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// The program with `model NAME` reading `student.gguf` (computed from its quantized blocks
/// by the int8/int4 kernels, with `activations` when given) and every other model's path
/// made absolute, so the rewritten file works from OUTDIR.
fn rewrite(source: &str, models: &[agentc_frontend::hir::Model], name: &str, activations: Option<&str>) -> Result<String, String> {
    let program = parse(source).map_err(|_| "the program does not parse".to_string())?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for item in &program.items {
        let Item::Model(decl) = item else { continue };
        let span = decl.source.span;
        let (start, end) = (span.start as usize, span.end as usize);
        if decl.name.name == name {
            edits.push((start, end, match activations {
                Some(a) => format!("gguf(\"student.gguf\", activations: \"{a}\")"),
                None => "gguf(\"student.gguf\")".into(),
            }));
        } else if let Some(m) = models.iter().find(|m| m.name == decl.name.name) {
            let text = &source[start..end];
            let quoted = format!("\"{}\"", m.path);
            let absolute = std::fs::canonicalize(&m.resolved_path).map_err(|e| format!("{}: {e}", m.resolved_path.display()))?;
            let Some(at) = text.find(&quoted) else { return Err(format!("model `{}`: its path is not a plain literal", m.name)) };
            let new = format!("{:?}", absolute.display().to_string());
            edits.push((start + at, start + at + quoted.len(), new));
        }
    }
    let mut out = source.to_string();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (s, e, text) in edits {
        out.replace_range(s..e, &text);
    }
    Ok(out)
}
