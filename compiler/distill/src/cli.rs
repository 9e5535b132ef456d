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
use crate::gguf_writer;
use crate::search::{parse_budget, search, table};
use crate::student::metadata;

/// Shrink a model a .agent program declares to a measured accuracy budget (weight-only
/// int4 / int8, RTN or GPTQ) and write the student GGUF, a report and the rewritten program.
#[derive(Parser)]
#[command(name = "agentc distill", version)]
pub struct DistillArgs {
    /// The .agent program that declares the model.
    file: PathBuf,
    /// The name of the model declaration to shrink (`model NAME = ...`).
    #[arg(long)]
    model: String,
    /// A text file of prompts, one per line (blank lines skipped); the last quarter (at
    /// least one) is held out for measuring, the rest calibrates.
    #[arg(long)]
    calib: PathBuf,
    /// What the student must keep, e.g. `agreement>=0.95,kl<=0.05` (figures: agreement,
    /// divergence, kl, ppl_ratio).
    #[arg(long)]
    budget: String,
    /// Greedy continuation length for agreement and KL.
    #[arg(long, default_value = "32", value_parser = clap::value_parser!(u32).range(1..=4096))]
    tokens: u32,
    /// Measure every plan (not only up to the first that meets the budget).
    #[arg(long)]
    all_plans: bool,
    /// The output folder (created).
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// Runs `agentc distill` with parsed options.
pub fn run(args: &DistillArgs) -> ExitCode {
    let budget = match parse_budget(&args.budget) {
        Ok(b) => b,
        Err(e) => return fail(&format!("--budget: {e}"), 2),
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => return fail(&format!("{}: {e}", args.file.display()), 1),
    };
    let base = args.file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let checked = check_bytes(&bytes, &CheckOptions { mode: CheckMode::Build, base_dir: base.clone() });
    let source = String::from_utf8_lossy(&bytes).into_owned();
    let Some(module) = checked.module else {
        eprint!("{}", agentc_frontend::diagnostic::render(&checked.diagnostics, &args.file.display().to_string(), &source));
        return ExitCode::from(1);
    };
    let Some(model) = module.models.iter().find(|m| m.name == args.model) else {
        let names: Vec<&str> = module.models.iter().map(|m| m.name.as_str()).collect();
        return fail(&format!("{}: no model `{}` is declared (models: {})", args.file.display(), args.model, if names.is_empty() { "none".into() } else { names.join(", ") }), 1);
    };
    let prompts: Vec<String> = match std::fs::read_to_string(&args.calib) {
        Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
        Err(e) => return fail(&format!("{}: {e}", args.calib.display()), 1),
    };
    if prompts.is_empty() {
        return fail(&format!("{}: no prompts (one per line)", args.calib.display()), 1);
    }
    let teacher = match Checkpoint::load(&model.resolved_path) {
        Ok(t) => t,
        Err(e) => return fail(&format!("model `{}`: {e}", model.name), 1),
    };
    let outcome = match search(&teacher, &prompts, &budget, args.tokens as usize, args.all_plans) {
        Ok(o) => o,
        Err(e) => return fail(&format!("{}: {e}", args.calib.display()), 1),
    };
    print!("{}", table(&outcome, args.tokens as usize));
    let Some((index, student)) = &outcome.chosen else {
        return fail(&format!("no plan meets the budget `{}` ({} plans tried; nothing written)", args.budget, outcome.tried.len()), 1);
    };
    let rewritten = match rewrite(&source, &module.models, &args.model) {
        Ok(r) => r,
        Err(e) => return fail(&e, 1),
    };
    let report = serde_json::json!({
        "teacher": model.resolved_path.display().to_string(),
        "budget": args.budget,
        "tokens": args.tokens,
        "calibration_prompts": outcome.split.0,
        "held_out_prompts": outcome.split.1,
        "teacher_f32_bytes": student.f32_bytes,
        "plans": outcome.tried,
        "chosen": outcome.tried[*index].plan,
        "predicted_decode_tokens_per_s": null,
    });
    let stem = args.file.file_stem().map_or_else(|| "program".into(), |s| s.to_string_lossy().into_owned());
    let written = std::fs::create_dir_all(&args.output)
        .map_err(|e| format!("{}: {e}", args.output.display()))
        .and_then(|_| gguf_writer::write(&args.output.join("student.gguf"), &metadata(&teacher, &format!("{} ({})", model.name, outcome.tried[*index].plan))?, &student.gguf))
        .and_then(|_| {
            std::fs::write(args.output.join("report.json"), serde_json::to_string_pretty(&report).expect("JSON") + "\n")
                .and_then(|_| std::fs::write(args.output.join(format!("{stem}.agent")), &rewritten))
                .map_err(|e| format!("{}: {e}", args.output.display()))
        });
    if let Err(e) = written {
        return fail(&e, 1);
    }
    println!("chosen: {} -> {}", outcome.tried[*index].plan, args.output.join("student.gguf").display());
    ExitCode::SUCCESS
}

/// The program with `model NAME` reading `student.gguf` (computed from its quantized blocks
/// by the int8/int4 kernels) and every other model's path made absolute, so the rewritten
/// file works from OUTDIR.
fn rewrite(source: &str, models: &[agentc_frontend::hir::Model], name: &str) -> Result<String, String> {
    let program = parse(source).map_err(|_| "the program does not parse".to_string())?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for item in &program.items {
        let Item::Model(decl) = item else { continue };
        let span = decl.source.span;
        let (start, end) = (span.start as usize, span.end as usize);
        if decl.name.name == name {
            edits.push((start, end, "gguf(\"student.gguf\")".into()));
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
