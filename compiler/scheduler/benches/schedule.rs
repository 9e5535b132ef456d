//! Scheduler benchmark (`cargo bench -p agentc-scheduler`): schedule time for generated
//! agent workflows of 1k, 10k and 100k fragments (growth against n log n), schedule
//! quality against HEFT alone, all-on-the-fastest and all-on-the-cheapest placements, and
//! heuristic / optimal on 100 random 8–12-fragment graphs. Prints Markdown tables.

use std::time::Instant;

use agentc_scheduler::llm::DecoderConfig;
use agentc_scheduler::report::to_table;
use agentc_scheduler::synth::{agent_workflow, mixed_fanout, mixed_models, random_dag, single_llm_request};
use agentc_scheduler::*;

fn secs<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter is accepted and ignored.
    let target = preset("h100+a100").expect("preset");
    let quick = std::env::args().any(|a| a == "--quick");
    // `-- --mixed`: only the mixed-fleet section, at its full 200 graphs per family.
    if std::env::args().any(|a| a == "--mixed") {
        mixed_fleets(false);
        return;
    }
    println!(
        "## Sample: Llama 3 70B request (2000-token prompt, 500 generated) on h100+a100, cost objective\n"
    );
    let w = single_llm_request(&DecoderConfig::llama3_70b(), "llama-70b", 2000.0, 500.0);
    let s = schedule(
        &w,
        &target,
        &Options {
            objective: Objective::Cost,
            ..Default::default()
        },
    )
    .expect("schedule");
    println!("```\n{}```\n", to_table(&s, &w));

    println!("## Schedule time (target h100+a100: 18 devices + tensor-parallel groups of every degree)\n");
    println!(
        "| fragments | edges | HEFT only | HEFT + improve (latency) | HEFT + improve (cost) | re-timings (latency / cost) | HEFT time / (n log n), 1k = 1 | one re-timing / (n log n), 1k = 1 |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let sizes: &[usize] = if quick {
        &[1000, 10000]
    } else {
        &[1000, 10000, 100000]
    };
    let mut base: Option<(f64, f64)> = None;
    for &n in sizes {
        let w = agent_workflow(n, 42);
        let nlogn = w.fragments.len() as f64 * (w.fragments.len() as f64).log2();
        let reps = if n <= 1000 { 5 } else { 1 };
        let mut th = f64::INFINITY;
        let mut tl = f64::INFINITY;
        let mut tc = f64::INFINITY;
        for _ in 0..reps {
            th = th.min(
                secs(|| {
                    schedule(
                        &w,
                        &target,
                        &Options {
                            heft_only: true,
                            ..Default::default()
                        },
                    )
                    .unwrap()
                })
                .1,
            );
            tl = tl.min(secs(|| schedule(&w, &target, &Options::default()).unwrap()).1);
            tc = tc.min(
                secs(|| {
                    schedule(
                        &w,
                        &target,
                        &Options {
                            objective: Objective::Cost,
                            ..Default::default()
                        },
                    )
                    .unwrap()
                })
                .1,
            );
        }
        // Re-timing cost on its own: the improvement phase's unit of work.
        let p = cost::Problem::new(&w, &target).unwrap();
        let h = heft::heft(&p).unwrap();
        let (_, ls) = improve::improve_counted(&p, h.clone(), Objective::Latency, None);
        let (_, cs) = improve::improve_counted(&p, h.clone(), Objective::Cost, None);
        let mut tr = f64::INFINITY;
        for _ in 0..reps.max(3) {
            tr = tr.min(secs(|| heft::list_schedule(&p, heft::Mode::Fixed(&h.unit)).unwrap()).1);
        }
        let (bh, br) = *base.get_or_insert((th / nlogn, tr / nlogn));
        println!(
            "| {} | {} | {:.3} s | {:.3} s | {:.3} s | {} / {} | {:.2} | {:.2} |",
            w.fragments.len(),
            w.edges.len(),
            th,
            tl,
            tc,
            ls.evals,
            cs.evals,
            th / nlogn / bh,
            tr / nlogn / br
        );
    }

    println!(
        "\n## Quality against baselines (agent workflows on h100+a100; ratio = ours / baseline, < 1 is better)\n"
    );
    println!("| fragments | objective | vs HEFT only | vs all-on-fastest | vs all-on-cheapest |");
    println!("|---:|---|---:|---:|---:|");
    for &n in &[1000usize, 10000] {
        let w = agent_workflow(n, 42);
        for objective in [Objective::Latency, Objective::Cost] {
            let o = Options {
                objective,
                ..Default::default()
            };
            let measure = |s: &Schedule| {
                if objective == Objective::Latency {
                    s.makespan
                } else {
                    s.total_cost
                }
            };
            let ours = measure(&schedule(&w, &target, &o).unwrap());
            let heft = measure(
                &schedule(
                    &w,
                    &target,
                    &Options {
                        heft_only: true,
                        ..o.clone()
                    },
                )
                .unwrap(),
            );
            let fast =
                measure(&schedule_baseline(&w, &target, Baseline::AllOnFastest, &o).unwrap());
            let cheap =
                measure(&schedule_baseline(&w, &target, Baseline::AllOnCheapest, &o).unwrap());
            println!(
                "| {} | {} | {:.3} | {:.3} | {:.3} |",
                w.fragments.len(),
                if objective == Objective::Latency {
                    "latency (makespan)"
                } else {
                    "cost (USD/request)"
                },
                ours / heft,
                ours / fast,
                ours / cheap
            );
        }
    }

    println!("\n## Heuristic / optimal on 100 random 8–12-fragment graphs (target mixed-small)\n");
    let small = Target::from_toml_str(
        include_str!("../../../examples/targets/mixed-small.toml"),
        "mixed-small",
    )
    .unwrap();
    println!(
        "| objective | schedule | mean ratio | worst ratio | optimal found | oracle time (total) |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for objective in [Objective::Latency, Objective::Cost] {
        let o = Options {
            objective,
            ..Default::default()
        };
        let measure = |s: &Schedule| {
            if objective == Objective::Latency {
                s.makespan
            } else {
                s.total_cost
            }
        };
        let (mut sum, mut worst, mut hsum, mut hworst, mut equal, mut hequal, mut proved) =
            (0.0, 1.0f64, 0.0, 1.0f64, 0, 0, 0);
        let mut oracle_time = 0.0;
        let graphs = 100;
        for g in 0..graphs {
            let w = random_dag(8 + g % 5, 1000 + g as u64);
            let (opt, t) = secs(|| optimal(&w, &small, &o).unwrap());
            oracle_time += t;
            proved += opt.proved_optimal as usize;
            let best = measure(&opt.schedule);
            let heuristic = Options {
                solver: Solver::Heuristic,
                ..o.clone()
            };
            let ours = measure(&schedule(&w, &small, &heuristic).unwrap()) / best;
            let heft = measure(
                &schedule(
                    &w,
                    &small,
                    &Options {
                        heft_only: true,
                        ..o.clone()
                    },
                )
                .unwrap(),
            ) / best;
            sum += ours;
            worst = worst.max(ours);
            hsum += heft;
            hworst = hworst.max(heft);
            equal += (ours <= 1.0 + 1e-9) as usize;
            hequal += (heft <= 1.0 + 1e-9) as usize;
        }
        let name = if objective == Objective::Latency {
            "latency"
        } else {
            "cost"
        };
        println!(
            "| {name} | HEFT + improve | {:.4} | {:.4} | {equal}/{graphs} | {:.2} s ({proved}/{graphs} proved) |",
            sum / graphs as f64,
            worst,
            oracle_time
        );
        println!(
            "| {name} | HEFT only | {:.4} | {:.4} | {hequal}/{graphs} | |",
            hsum / graphs as f64,
            hworst
        );
    }
    mixed_fleets(quick);
}

/// Graphs with a branch: a mixed-model graph whose last two calls are the arms of one
/// `if` (probabilities 0.7 / 0.3; both arms are in the graph at their weights).
fn with_branch(mut w: Workload) -> Workload {
    let calls: Vec<usize> = (0..w.fragments.len())
        .filter(|&f| w.fragments[f].kind == FragmentKind::Prefill)
        .collect();
    if calls.len() < 2 {
        return w;
    }
    let arms = [calls[calls.len() - 2], calls[calls.len() - 1]];
    let probabilities = [0.7, 0.3];
    let mut branch = Branch {
        name: "if".into(),
        probabilities,
        ..Default::default()
    };
    for (a, &prefill) in arms.iter().enumerate() {
        for f in [prefill, prefill + 1] {
            w.fragments[f].weight = probabilities[a];
            branch.arms[a].push(f);
        }
    }
    w.branches.push(branch);
    w
}

/// Issue 11's families: mixed 70B + 8B graphs on mixed-small, the same graphs on a
/// memory-bound fleet (two 48 GB L40S and a host: 70B only as an int8 pair), and graphs
/// with a branch; HEFT + improve against the exact MILP on each.
fn mixed_fleets(quick: bool) {
    let small = Target::from_toml_str(
        include_str!("../../../examples/targets/mixed-small.toml"),
        "mixed-small",
    )
    .unwrap();
    let tight = preset("gpu+cpu").expect("preset");
    println!("\n## Mixed 70B + 8B fan-out on mixed-small (issue 11)\n");
    let w = mixed_fanout(2, 2, 1000.0, 256.0);
    println!("| objective | solver | latency | cost | schedule time |");
    println!("|---|---|---:|---:|---:|");
    for objective in [Objective::Latency, Objective::Cost] {
        for solver in [Solver::Heuristic, Solver::Auto] {
            let o = Options { objective, solver, ..Default::default() };
            let (s, t) = secs(|| schedule(&w, &small, &o).unwrap());
            println!(
                "| {objective:?} | {} | {:.3} s | ${:.4e} | {:.3} s |",
                report::solver_line(&s),
                s.makespan,
                s.total_cost,
                t
            );
        }
    }
    let graphs = if quick { 50 } else { 200 };
    println!(
        "\n## Heuristic / exact (MILP) on {graphs} mixed-model graphs per family (2–4 calls of 70B or 8B)\n"
    );
    println!("| family | target | objective | mean ratio | worst ratio | exact found | MILP proved | MILP time (total) |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    let families: [(&str, &Target, fn(u64) -> Workload); 3] = [
        ("mixed fan-out (50% 70B)", &small, |seed| mixed_models(seed, 0.5)),
        ("memory-bound fleet", &tight, |seed| mixed_models(seed, 0.5)),
        ("with a branch", &small, |seed| with_branch(mixed_models(seed, 0.5))),
    ];
    for (family, target, make) in families {
        for objective in [Objective::Latency, Objective::Cost] {
            let measure = |t: &heft::Timing| {
                if objective == Objective::Latency { t.makespan } else { t.cost }
            };
            let (mut sum, mut worst, mut equal, mut proved, mut n) = (0.0, 1.0f64, 0, 0, 0);
            let mut milp_time = 0.0;
            for g in 0..graphs {
                let w = make(7000 + g as u64);
                let p = cost::Problem::new(&w, target).unwrap();
                let o = Options { objective, solver: Solver::Heuristic, ..Default::default() };
                let h = schedule(&w, target, &o).unwrap();
                let ours = if objective == Objective::Latency { h.makespan } else { h.total_cost };
                let (r, t) = secs(|| milp::solve(&p, objective, None, None, 10.0));
                milp_time += t;
                let Ok(r) = r else { continue };
                proved += r.proved_optimal as usize;
                let ratio = ours / measure(&r.timing);
                sum += ratio;
                worst = worst.max(ratio);
                equal += (ratio <= 1.0 + 1e-9) as usize;
                n += 1;
            }
            println!(
                "| {family} | {} | {objective:?} | {:.4} | {:.4} | {equal}/{n} | {proved}/{n} | {:.2} s |",
                target.name,
                sum / n.max(1) as f64,
                worst,
                milp_time
            );
        }
    }
}
