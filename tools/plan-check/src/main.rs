//! `plan-check [--print] FILE|-`: loads a plan (`agentc build --emit=plan`) with the
//! runtime's loader, exactly as an executable will. Valid: prints `plan-check: ok: ...`
//! (or, with `--print`, a listing of every function, one op per line) and exits 0.
//! Invalid: prints `plan-check: FILE: ERROR` to stderr and exits 1. Usage errors exit 2.

use std::io::Read;
use std::process::ExitCode;

use agentc_runtime::plan::{load, Op, Plan, Value};

fn main() -> ExitCode {
    let mut print = false;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--print" => print = true,
            "-h" | "--help" => {
                println!("usage: plan-check [--print] FILE|-\nValidates an agentc plan with the runtime's loader.");
                return ExitCode::SUCCESS;
            }
            _ => files.push(arg),
        }
    }
    let [file] = files.as_slice() else {
        eprintln!("usage: plan-check [--print] FILE|-");
        return ExitCode::from(2);
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
    match load(&text) {
        Ok(plan) => {
            if print {
                print!("{}", listing(&plan));
            } else {
                let ops: usize = plan.functions.iter().map(|f| count(&f.body)).sum();
                println!("plan-check: ok: {} functions, {ops} ops, {} models, {} fns", plan.functions.len(), plan.models.len(), plan.fns.len());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("plan-check: {file}: {error}");
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
