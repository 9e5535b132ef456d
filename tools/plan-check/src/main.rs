//! `plan-check [--print] FILE|-`: loads a plan (`agentc build --emit=plan`) with the
//! runtime's loader, exactly as an executable will. Valid: prints `plan-check: ok: ...`
//! (or, with `--print`, a listing of every function, one op per line) and exits 0.
//! Invalid: prints `plan-check: FILE: ERROR` to stderr and exits 1. Usage errors exit 2.
//!
//! `plan-check --run FILE [--trace OUT.json] [--max-parallel N] [-- ARGS...]` runs `main`
//! with the runtime's plan interpreter (`agentc_runtime::exec`): a development runner for
//! plans without kernels (executables, `agentc build -o app`, run models too). It prints `main`'s result to stdout followed
//! by one newline; everything else goes to stderr; exit 0, 1 (the workflow failed: a
//! one-line cause naming the source location) or 2 (usage).

use std::io::{Read, Write};
use std::process::ExitCode;

use agentc_runtime::exec::{Options, run_main};
use agentc_runtime::plan::{load, Op, Plan, Value};
use agentc_runtime::trace::Trace;

const USAGE: &str = "usage: plan-check [--print] FILE|-\n       plan-check --run FILE|- [--trace OUT.json] [--max-parallel N] [-- ARGS...]";

const HELP: &str = "Validates an agentc plan (agentc build --emit=plan) with the runtime's loader.

  --print            list the plan, one op per line
  --run              run `main` with ARGS (everything after `--`) and print its result;
                     a development runner for plans without kernels.
                     Model and tensor fragments (prefill, decode, encode, compute) need
                     compiled kernels, which only executables have (agentc build -o app):
                     reaching one is an error.
  --trace OUT.json   with --run: write a Chrome/Perfetto trace, one slice per fragment
                     on its planned device track
  --max-parallel N   with --run: at most N map bodies at once (default: cores)

Exit status: 0 ok; 1 invalid plan or failed workflow (one line on stderr naming the
source location); 2 usage error.";

fn usage(message: &str) -> ExitCode {
    eprintln!("plan-check: {message}\n{USAGE}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut print = false;
    let mut run = false;
    let mut trace_path: Option<String> = None;
    let mut max_parallel = 0usize;
    let mut files = Vec::new();
    let mut run_args: Vec<String> = Vec::new();
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--print" => print = true,
            "--run" => run = true,
            "--trace" => match argv.next() {
                Some(path) => trace_path = Some(path),
                None => return usage("--trace needs a file"),
            },
            "--max-parallel" => match argv.next().and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0) {
                Some(n) => max_parallel = n,
                None => return usage("--max-parallel needs a positive integer"),
            },
            "--" => {
                run_args.extend(argv.by_ref());
            }
            "-h" | "--help" => {
                println!("{USAGE}\n\n{HELP}");
                return ExitCode::SUCCESS;
            }
            flag if flag.starts_with("--") => return usage(&format!("unknown option `{flag}`")),
            _ => files.push(arg),
        }
    }
    if !run && (trace_path.is_some() || max_parallel != 0 || !run_args.is_empty()) {
        return usage("--trace, --max-parallel and `-- ARGS` go with --run");
    }
    if run && print {
        return usage("--run and --print do not go together");
    }
    let [file] = files.as_slice() else {
        return usage("expected one plan file");
    };
    let text = if file == "-" {
        let mut text = String::new();
        if let Err(error) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("plan-check: cannot read stdin: {error}");
            return ExitCode::from(1);
        }
        text
    } else {
        match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("plan-check: cannot read `{file}`: {error}");
                return ExitCode::from(1);
            }
        }
    };
    let plan = match load(&text) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("plan-check: {file}: {error}");
            return ExitCode::from(1);
        }
    };
    if run {
        return run_plan(&plan, &run_args, max_parallel, trace_path.as_deref());
    }
    if print {
        print!("{}", listing(&plan));
    } else {
        let ops: usize = plan.functions.iter().map(|f| count(&f.body)).sum();
        println!("plan-check: ok: {} functions, {ops} ops, {} models, {} fns", plan.functions.len(), plan.models.len(), plan.fns.len());
    }
    ExitCode::SUCCESS
}

fn run_plan(plan: &Plan, args: &[String], max_parallel: usize, trace_path: Option<&str>) -> ExitCode {
    let trace = trace_path.map(|_| Trace::new(if plan.source.is_empty() { "plan".to_string() } else { plan.source.clone() }));
    let result = run_main(plan, args, &Options { max_parallel, trace: trace.as_ref(), ..Options::default() });
    if let (Some(trace), Some(path)) = (&trace, trace_path) {
        if let Err(error) = trace.write(std::path::Path::new(path)) {
            eprintln!("plan-check: cannot write the trace `{path}`: {error}");
        }
    }
    match result {
        Ok(value) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", value.to_text());
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

fn count(ops: &[Op]) -> usize {
    ops.iter().map(|op| 1 + op.regions.iter().map(|r| count(&r.body)).sum::<usize>()).sum()
}

fn values(values: &[Value]) -> String {
    values.iter().map(|v| format!("%{}: {}", v.id, v.ty)).collect::<Vec<_>>().join(", ")
}

/// One line per op: `%ID: TYPE = OPCODE(%A, %B) {attrs} @DEVICE [start..finish] at LOC`.
fn listing(plan: &Plan) -> String {
    let mut out = format!("plan v{} source={}\n", plan.format_version, plan.source);
    if let Some(t) = &plan.target {
        out.push_str(&format!("target {} objective={}\n", t.name, t.objective));
    }
    for m in &plan.models {
        out.push_str(&format!("model {} kind={} path={} dtype={}", m.name, m.kind, m.path, m.dtype));
        for (role, kernel) in &m.kernels {
            out.push_str(&format!(" {role}={kernel}"));
        }
        if m.chat.is_some() {
            out.push_str(" chat_template");
        }
        out.push('\n');
    }
    for f in &plan.fns {
        let types = |t: &[agentc_runtime::plan::Type]| t.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        out.push_str(&format!("fn {}({}) -> ({})\n", f.name, types(&f.params), types(&f.results)));
    }
    for f in &plan.functions {
        let results = f.results.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        out.push_str(&format!("{:?} {}({}) -> ({}) at {}\n", f.kind, f.name, values(&f.params), results, f.loc).to_lowercase().replacen(&f.name.to_lowercase(), &f.name, 1));
        ops(&mut out, &f.body, 1);
    }
    out
}

fn ops(out: &mut String, body: &[Op], depth: usize) {
    for op in body {
        let indent = "  ".repeat(depth);
        let results = if op.results.is_empty() { String::new() } else { format!("{} = ", values(&op.results)) };
        let operands = op.operands.iter().map(|id| format!("%{id}")).collect::<Vec<_>>().join(", ");
        out.push_str(&format!("{indent}{results}{}({operands})", op.op));
        if !op.attrs.is_empty() {
            let attrs = op.attrs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
            out.push_str(&format!(" {{{attrs}}}"));
        }
        if let Some(p) = &op.placement {
            out.push_str(&format!(" @{}", p.device));
            if let (Some(s), Some(e)) = (p.start, p.finish) {
                out.push_str(&format!(" [{s:.6}..{e:.6}]"));
            }
        }
        if !op.loc.is_empty() {
            out.push_str(&format!(" at {}", op.loc));
        }
        out.push('\n');
        for (i, region) in op.regions.iter().enumerate() {
            out.push_str(&format!("{indent}  region {i}({}):\n", values(&region.params)));
            ops(out, &region.body, depth + 2);
        }
    }
}
