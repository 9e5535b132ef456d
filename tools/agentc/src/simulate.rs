//! `agentc simulate`: plans and schedules a workflow on a target like `agentc schedule`,
//! then simulates many requests over the placed plan (docs/simulation.md): Poisson
//! arrivals at `--rate` for `--duration`, or a `--trace-file`; a table or `--json`; with
//! `--sweep R1,R2,...` one simulation per rate and, with `--svg`, the latency-vs-rate plot.
//! `--replicas auto` gives each unit of the plan the replicas the rate needs (per rate of
//! a sweep; docs/simulation.md, "Replicas for a rate"); `--replicas fleet` chooses per
//! pool the kinds of unit and their counts for the lowest price (exactly and by a
//! heuristic, with the gap; "A fleet for a rate").

use std::path::PathBuf;
use std::process::ExitCode;

use agentc_scheduler::simulate::{self, Batching, Rng, SimOptions, SimReport, svg};
use agentc_scheduler::{Schedule, Target, Workload, report};
use clap::Args;

use crate::build::TargetArgs;
use crate::output::write_output;
use crate::schedule::{cpu_fallback_warnings, plan_and_schedule};

/// Options of `agentc simulate`.
#[derive(Args)]
pub struct SimulateArgs {
    /// The .agent file (or workflow/fragment MLIR).
    file: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    /// Poisson arrivals at this many requests per second.
    #[arg(long)]
    rate: Option<String>,
    /// How long requests arrive, e.g. `60s`, `10m` (with --rate or --sweep).
    #[arg(long, value_parser = agentc_compiler::parse_duration)]
    duration: Option<f64>,
    /// Arrival times instead of --rate: one per line, seconds, first comma-separated field.
    #[arg(long = "trace-file")]
    trace_file: Option<PathBuf>,
    /// Seeds the arrivals and the branch and trip-count draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The most sequences of one model decoded together on one unit.
    #[arg(long = "max-batch", default_value_t = simulate::DEFAULT_MAX_BATCH)]
    max_batch: usize,
    /// `continuous`: a unit batches the decode steps of its running sequences (vLLM);
    /// `none`: it runs each call at batch 1, all at once, sharing the unit, as agentc's
    /// CPU runtime runs concurrent model calls.
    #[arg(long, value_enum, default_value = "continuous")]
    batching: BatchingArg,
    /// Print the report as JSON (with --sweep: a list, one per rate).
    #[arg(long)]
    json: bool,
    /// Simulate at each of these rates (requests per second, comma-separated).
    #[arg(long)]
    sweep: Option<String>,
    /// With --sweep: write the latency-vs-rate plot to this SVG file.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// `1`: each unit of the plan serves alone (the schedule as placed); `auto`: add
    /// replicas until every unit's utilisation at the rate is at most --max-utilisation;
    /// `fleet`: choose each pool's kinds of unit (device, TP degree, precision) and their
    /// counts for the lowest $/h that carries the rate at --max-utilisation.
    #[arg(long, default_value = "1")]
    replicas: String,
    /// With `--replicas auto` or `fleet`: the highest planned utilisation of each unit, in (0, 1].
    #[arg(long = "max-utilisation")]
    max_utilisation: Option<String>,
    /// With `--replicas fleet`: offer every model at every quantized format the compiler
    /// generates (int8, int4), not only as far as it needs to fit (weight-only
    /// quantization changes the model's numerics: asked for by name).
    #[arg(long)]
    quantize: bool,
}

/// The values of `--batching`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum BatchingArg {
    Continuous,
    None,
}

/// What `--replicas` asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Replicas {
    /// One unit per pool, as placed.
    One,
    /// Replicas of each pool's kind up to this utilisation (`auto`).
    Auto(f64),
    /// The cheapest fleet of any kinds at this utilisation (`fleet`).
    Fleet(f64),
}

/// Reads `--replicas` and `--max-utilisation`; a usage error when they are not a mode
/// and a utilisation in (0, 1].
fn replica_target(args: &SimulateArgs) -> Result<Replicas, ExitCode> {
    fn usage<T>(message: String) -> Result<T, ExitCode> {
        eprintln!("error: {message}");
        Err(ExitCode::from(2))
    }
    let target = |text: &Option<String>| match text {
        None => Ok(simulate::DEFAULT_MAX_UTILISATION),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(t) if t > 0.0 && t <= 1.0 => Ok(t),
            _ => usage(format!("`--max-utilisation {text}`: a utilisation target is a number in (0, 1], e.g. 0.8")),
        },
    };
    match (args.replicas.trim(), &args.max_utilisation) {
        ("1", None) => Ok(Replicas::One),
        ("1", Some(_)) => usage("`--max-utilisation` is the target of `--replicas auto` or `--replicas fleet`: give one of them too".to_string()),
        ("auto", text) => target(text).map(Replicas::Auto),
        ("fleet", text) => target(text).map(Replicas::Fleet),
        (other, _) => usage(format!(
            "`--replicas {other}`: give `1` (one unit per phase, as placed), `auto` (replicas for the rate) or `fleet` (the cheapest fleet for the rate)"
        )),
    }
}

/// The most requests one simulation is asked to run (the event queue and the per-request
/// records grow with it).
const MAX_REQUESTS: f64 = 1e7;

/// A positive, finite number of requests per second, or a usage error naming `option`.
fn parse_rate(option: &str, text: &str) -> Result<f64, ExitCode> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => {
            eprintln!("error: `{option} {text}`: a rate must be a positive number of requests per second");
            Err(ExitCode::from(2))
        }
    }
}

/// Checks the combination of options; the rates to simulate (none for a trace).
fn check_usage(args: &SimulateArgs) -> Result<Vec<f64>, ExitCode> {
    let usage = |message: &str| {
        eprintln!("error: {message}");
        Err(ExitCode::from(2))
    };
    let sources = [args.rate.is_some(), args.trace_file.is_some(), args.sweep.is_some()];
    if sources.iter().filter(|&&s| s).count() != 1 {
        return usage("give exactly one of `--rate R`, `--trace-file FILE` or `--sweep R1,R2,...`");
    }
    if args.svg.is_some() && args.sweep.is_none() {
        return usage("`--svg` draws a sweep: give `--sweep R1,R2,...` too");
    }
    if args.trace_file.is_some() && args.duration.is_some() {
        return usage("`--duration` is for `--rate` and `--sweep`; a trace's arrivals set its own duration");
    }
    if args.max_batch == 0 {
        return usage("`--max-batch 0`: at least one sequence must fit a step");
    }
    if args.quantize && !matches!(replica_target(args)?, Replicas::Fleet(_)) {
        return usage("`--quantize` widens the offer of `--replicas fleet`: give that too");
    }
    let rates = if let Some(rate) = &args.rate {
        vec![parse_rate("--rate", rate)?]
    } else if let Some(list) = &args.sweep {
        let rates = list.split(',').map(|r| parse_rate("--sweep", r)).collect::<Result<Vec<f64>, ExitCode>>()?;
        if rates.windows(2).any(|w| w[1] <= w[0]) {
            return usage(&format!("`--sweep {list}`: the rates must increase"));
        }
        rates
    } else {
        Vec::new()
    };
    let Some(duration) = args.duration.or(if rates.is_empty() { Some(0.0) } else { None }) else {
        return usage("`--rate` and `--sweep` need `--duration`, e.g. `--duration 60s`");
    };
    if let Some(&rate) = rates.last()
        && rate * duration > MAX_REQUESTS
    {
        return usage(&format!(
            "`--rate {rate}` over `--duration {duration}s` is about {:.0} requests; at most {MAX_REQUESTS:.0} are simulated",
            rate * duration
        ));
    }
    Ok(rates)
}

/// Runs `agentc simulate`.
pub fn run(args: &SimulateArgs) -> ExitCode {
    let rates = match check_usage(args) {
        Ok(rates) => rates,
        Err(code) => return code,
    };
    let trace = match &args.trace_file {
        Some(path) => match read_trace(path) {
            Ok(trace) => Some(trace),
            Err(code) => return code,
        },
        None => None,
    };
    let (workload, schedule, target) = match plan_and_schedule(&args.file, &args.target) {
        Ok(result) => result,
        Err(code) => return code,
    };
    for warning in cpu_fallback_warnings(&workload, &schedule, &target) {
        eprintln!("warning: {warning}");
    }
    let duration = args.duration.unwrap_or(0.0);
    let runs: Vec<(f64, Vec<f64>, f64)> = match trace {
        // A trace's rate (for its replicas) is its arrivals over its window.
        Some(arrivals) => {
            let window = arrivals.last().copied().unwrap_or(0.0) - arrivals.first().copied().unwrap_or(0.0);
            let rate = if window > 0.0 { arrivals.len() as f64 / window } else { 0.0 };
            vec![(rate, arrivals, window)]
        }
        None => rates.iter().map(|&rate| (rate, simulate::poisson(rate, duration, &mut Rng::new(args.seed)), duration)).collect(),
    };
    let mut reports: Vec<(f64, SimReport)> = Vec::new();
    for (rate, arrivals, window) in runs {
        match simulate_one(&workload, &schedule, &target, rate, arrivals, window, args) {
            Ok(report) => reports.push((rate, report)),
            Err(code) => return code,
        }
    }
    if let Some(path) = &args.svg {
        let title = format!("{} on {}", args.file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()), target.name);
        if let Err(error) = write_output(Some(path), &svg::sweep_svg(&title, &reports, schedule.sla_seconds)) {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    let text = if args.sweep.is_some() {
        if args.json {
            simulate::report::sweep_to_json(&reports) + "\n"
        } else {
            sweep_table(&reports, args.replicas.trim() != "1")
        }
    } else if args.json {
        simulate::to_json(&reports[0].1) + "\n"
    } else {
        simulate::to_table(&reports[0].1)
    };
    crate::build::finish(None, &text)
}

/// Chooses the replicas for `rate` and simulates `arrivals` over them.
fn simulate_one(
    workload: &Workload,
    schedule: &Schedule,
    target: &Target,
    rate: f64,
    arrivals: Vec<f64>,
    window: f64,
    args: &SimulateArgs,
) -> Result<SimReport, ExitCode> {
    let fail = |error: simulate::SimError| {
        eprintln!("error: cannot simulate on target `{}`: {error}", target.name);
        ExitCode::from(1)
    };
    let mode = replica_target(args)?;
    let batching = match args.batching {
        BatchingArg::Continuous => Batching::Continuous,
        BatchingArg::None => Batching::Off,
    };
    let mut options = SimOptions { arrivals, seed: args.seed, max_batch: args.max_batch, replicas: None, batching };
    let batch = options.effective_batch();
    let fleet = match mode {
        Replicas::One => {
            options.replicas = Some(simulate::replicas::choose(workload, schedule, target, rate, batch, None).map_err(fail)?);
            None
        }
        Replicas::Auto(t) => {
            options.replicas = Some(simulate::replicas::choose(workload, schedule, target, rate, batch, Some(t)).map_err(fail)?);
            None
        }
        Replicas::Fleet(t) => {
            let choice = simulate::fleet::choose(workload, schedule, target, rate, batch, t, args.quantize).map_err(fail)?;
            options.replicas = Some(choice.plan.clone());
            Some(choice)
        }
    };
    let result = simulate::simulate(workload, schedule, target, &options).map_err(fail)?;
    let mut report = SimReport::new(&result, workload, target, window, schedule.sla_seconds, schedule.sla_basis);
    report.fleet = fleet;
    Ok(report)
}

/// Reads a trace file; errors name the file and line.
fn read_trace(path: &std::path::Path) -> Result<Vec<f64>, ExitCode> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: cannot read trace file `{}`: {error}", path.display());
            return Err(ExitCode::from(1));
        }
    };
    simulate::parse_trace(&text).map_err(|error| {
        eprintln!("error: {}:{}: {}", path.display(), error.line, error.message);
        ExitCode::from(1)
    })
}

/// One line per rate of a sweep; with `replicas`, a column of each pool's replica count
/// (`1+2`: the pools in the order of the line under the table).
fn sweep_table(reports: &[(f64, SimReport)], replicas: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>10}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}  {:>12}  {:>10}  {:>12}",
        "rate/s", "p50 TTFT", "p99 TTFT", "p50 e2e", "p99 e2e", "p99 TPOT", "tokens/s", "SLA att.", "$/1M tokens"
    );
    let _ = writeln!(out, "{}", if replicas { format!("  {:>10}  {:>8}", "fleet $/h", "replicas") } else { String::new() });
    for (rate, r) in reports {
        let attainment = r.sla.as_ref().map_or_else(|| "-".to_string(), |s| format!("{:.4}", s.attainment));
        let cost = r.usd_per_million_tokens.map_or_else(|| "-".to_string(), report::format_usd);
        let _ = write!(
            out,
            "{:>10.3}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}  {:>12.1}  {:>10}  {:>12}",
            rate,
            report::format_seconds(r.ttft.p50),
            report::format_seconds(r.ttft.p99),
            report::format_seconds(r.latency.p50),
            report::format_seconds(r.latency.p99),
            report::format_seconds(r.tpot.p99),
            r.tokens_per_second,
            attainment,
            cost
        );
        let counts = r.replicas.pools.iter().map(|p| p.replicas.to_string()).collect::<Vec<_>>().join("+");
        let _ = writeln!(out, "{}", if replicas { format!("  {:>10}  {:>8}", report::format_usd(r.fleet_usd_per_hour), counts) } else { String::new() });
    }
    if replicas && let Some((_, r)) = reports.first() {
        let pools = r.replicas.pools.iter().map(|p| format!("{} ({})", p.unit, p.serves.join(", "))).collect::<Vec<_>>().join(" + ");
        let target = r.replicas.max_utilisation.unwrap_or(simulate::DEFAULT_MAX_UTILISATION);
        let _ = writeln!(out, "replicas per pool, each chosen for its rate at utilisation target {target}: {pools}");
    }
    out
}
